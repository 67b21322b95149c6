-- keygate schema version 4: enforcement. Workspaces and their members, API keys (stored as
-- SHA-256 only), subscriptions with two keys, route policies of APIs, per-API rate limits. Every
-- change a /verify decision depends on bumps config_stamp, so every node's caches drop it on
-- the next request (last_used_at of a key is not such a change).
ALTER TABLE apis ADD COLUMN rate_limit INTEGER NOT NULL DEFAULT 0;
CREATE TABLE workspaces (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (tenant_id, name)
);
CREATE TABLE members (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    principal_id TEXT NOT NULL,
    principal_type TEXT NOT NULL,
    role_id TEXT NOT NULL REFERENCES roles(id),
    PRIMARY KEY (workspace_id, principal_id)
);
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    role_id TEXT NOT NULL REFERENCES roles(id),
    hash TEXT NOT NULL UNIQUE,
    hint TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    rate_limit INTEGER NOT NULL
);
CREATE INDEX api_keys_workspace ON api_keys(tenant_id, workspace_id);
CREATE TABLE subscriptions (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    api_id TEXT NOT NULL REFERENCES apis(id),
    name TEXT NOT NULL,
    primary_hash TEXT NOT NULL UNIQUE,
    secondary_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);
CREATE TABLE routes (
    api_id TEXT NOT NULL REFERENCES apis(id),
    position INTEGER NOT NULL,
    method TEXT NOT NULL,
    pattern TEXT NOT NULL,
    permission TEXT NOT NULL,
    workspace_param TEXT NOT NULL,
    PRIMARY KEY (api_id, position)
);
CREATE TRIGGER workspaces_ins AFTER INSERT ON workspaces BEGIN UPDATE config_stamp SET v = v + 1; END;
CREATE TRIGGER workspaces_del AFTER DELETE ON workspaces BEGIN UPDATE config_stamp SET v = v + 1; END;
CREATE TRIGGER members_ins AFTER INSERT ON members BEGIN UPDATE config_stamp SET v = v + 1; END;
CREATE TRIGGER members_upd AFTER UPDATE ON members BEGIN UPDATE config_stamp SET v = v + 1; END;
CREATE TRIGGER members_del AFTER DELETE ON members BEGIN UPDATE config_stamp SET v = v + 1; END;
CREATE TRIGGER api_keys_ins AFTER INSERT ON api_keys BEGIN UPDATE config_stamp SET v = v + 1; END;
CREATE TRIGGER api_keys_upd AFTER UPDATE OF role_id, expires_at, revoked_at, rate_limit, workspace_id ON api_keys BEGIN UPDATE config_stamp SET v = v + 1; END;
CREATE TRIGGER api_keys_del AFTER DELETE ON api_keys BEGIN UPDATE config_stamp SET v = v + 1; END;
CREATE TRIGGER subs_ins AFTER INSERT ON subscriptions BEGIN UPDATE config_stamp SET v = v + 1; END;
CREATE TRIGGER subs_upd AFTER UPDATE ON subscriptions BEGIN UPDATE config_stamp SET v = v + 1; END;
CREATE TRIGGER subs_del AFTER DELETE ON subscriptions BEGIN UPDATE config_stamp SET v = v + 1; END;
CREATE TRIGGER routes_ins AFTER INSERT ON routes BEGIN UPDATE config_stamp SET v = v + 1; END;
CREATE TRIGGER routes_del AFTER DELETE ON routes BEGIN UPDATE config_stamp SET v = v + 1; END;
CREATE TRIGGER revoked_ins AFTER INSERT ON revoked_jti BEGIN UPDATE config_stamp SET v = v + 1; END;
