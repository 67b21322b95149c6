-- keygate PostgreSQL schema version 1: everything SQLite's migrations 001-004 make (tenants,
-- APIs, applications and secrets, users, roles, signing keys, refresh families, revoked access
-- tokens, sign-in state, enforcement), the audit trail in its own schema, and the configuration
-- stamp. Every change to what nodes cache bumps config_stamp and notifies channel
-- keygate_config with the new value, so that every node drops its caches at once (LISTEN), and
-- a node that missed the notification sees the new stamp at its next periodic read.
CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    signing_alg TEXT NOT NULL,
    token_lifetime BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE apis (
    id TEXT PRIMARY KEY,
    identifier TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    permissions TEXT NOT NULL,
    scopes TEXT NOT NULL,
    require_caller_id BIGINT NOT NULL,
    require_subscription_key BIGINT NOT NULL,
    tenant_header TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    rate_limit BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE applications (
    client_id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    is_public BIGINT NOT NULL,
    auth_method TEXT NOT NULL,
    grants TEXT NOT NULL,
    redirect_uris TEXT NOT NULL,
    sp_oid TEXT NOT NULL UNIQUE,
    token_lifetime BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX applications_tenant ON applications(tenant_id);
CREATE TABLE client_secrets (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES applications(client_id),
    hash TEXT NOT NULL,
    hint TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX client_secrets_client ON client_secrets(client_id);
CREATE TABLE app_grants (
    client_id TEXT NOT NULL REFERENCES applications(client_id),
    api_id TEXT NOT NULL REFERENCES apis(id),
    permission TEXT NOT NULL,
    PRIMARY KEY (client_id, api_id, permission)
);
CREATE TABLE users (
    oid TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    username TEXT NOT NULL,
    username_key TEXT NOT NULL,
    email TEXT NOT NULL,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (tenant_id, username_key)
);
CREATE TABLE roles (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    permissions TEXT NOT NULL,
    builtin BIGINT NOT NULL,
    UNIQUE (tenant_id, name)
);
CREATE TABLE role_assignments (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    principal_id TEXT NOT NULL,
    role_id TEXT NOT NULL REFERENCES roles(id),
    PRIMARY KEY (principal_id, role_id)
);
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    alg TEXT NOT NULL,
    status TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    private_sealed BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT NOT NULL
);
CREATE INDEX signing_keys_tenant ON signing_keys(tenant_id);
CREATE TABLE refresh_families (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    client_id TEXT NOT NULL,
    user_oid TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT NOT NULL
);
CREATE TABLE refresh_tokens (
    hash TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    family_id TEXT NOT NULL REFERENCES refresh_families(id),
    client_id TEXT NOT NULL,
    user_oid TEXT NOT NULL,
    scope TEXT NOT NULL,
    access_jti TEXT NOT NULL,
    access_exp BIGINT NOT NULL,
    auth_time BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT NOT NULL,
    grace BYTEA
);
CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);
CREATE TABLE revoked_jti (
    jti TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE TABLE sessions (
    hash TEXT PRIMARY KEY,
    sid TEXT NOT NULL UNIQUE,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    user_oid TEXT NOT NULL,
    auth_time BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    ended_at BIGINT NOT NULL
);
CREATE TABLE consents (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    user_oid TEXT NOT NULL,
    client_id TEXT NOT NULL,
    scopes TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, user_oid, client_id)
);
CREATE TABLE auth_codes (
    hash TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    client_id TEXT NOT NULL,
    user_oid TEXT NOT NULL,
    sid TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    challenge TEXT NOT NULL,
    scope TEXT NOT NULL,
    nonce TEXT NOT NULL,
    auth_time BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT NOT NULL,
    access_jti TEXT NOT NULL,
    access_exp BIGINT NOT NULL,
    family_id TEXT NOT NULL
);
CREATE TABLE device_codes (
    hash TEXT PRIMARY KEY,
    user_code TEXT NOT NULL UNIQUE,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    client_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    status TEXT NOT NULL,
    user_oid TEXT NOT NULL,
    auth_time BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    poll_interval BIGINT NOT NULL,
    last_poll_ms BIGINT NOT NULL,
    access_jti TEXT NOT NULL,
    access_exp BIGINT NOT NULL,
    family_id TEXT NOT NULL
);
CREATE TABLE workspaces (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
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
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    rate_limit BIGINT NOT NULL
);
CREATE INDEX api_keys_workspace ON api_keys(tenant_id, workspace_id);
CREATE TABLE subscriptions (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    api_id TEXT NOT NULL REFERENCES apis(id),
    name TEXT NOT NULL,
    primary_hash TEXT NOT NULL UNIQUE,
    secondary_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);
CREATE TABLE routes (
    api_id TEXT NOT NULL REFERENCES apis(id),
    position BIGINT NOT NULL,
    method TEXT NOT NULL,
    pattern TEXT NOT NULL,
    permission TEXT NOT NULL,
    workspace_param TEXT NOT NULL,
    PRIMARY KEY (api_id, position)
);
CREATE SCHEMA audit;
CREATE TABLE audit.audit_events (
    seq BIGSERIAL PRIMARY KEY,
    time_ms BIGINT NOT NULL,
    tenant_id TEXT NOT NULL,
    actor_type TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    caller_id TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    outcome TEXT NOT NULL,
    client_ip TEXT NOT NULL,
    trace_id TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL DEFAULT '',
    hash TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_tenant_time ON audit.audit_events(tenant_id, time_ms);
CREATE INDEX audit_events_tenant_seq ON audit.audit_events(tenant_id, seq);
CREATE TABLE config_stamp (v BIGINT NOT NULL);
INSERT INTO config_stamp (v) VALUES (1);
CREATE FUNCTION keygate_config_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    nv BIGINT;
BEGIN
    UPDATE config_stamp SET v = v + 1 RETURNING v INTO nv;
    PERFORM pg_notify('keygate_config', nv::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER tenants_changed AFTER INSERT OR UPDATE OR DELETE ON tenants FOR EACH STATEMENT EXECUTE FUNCTION keygate_config_changed();
CREATE TRIGGER apis_changed AFTER INSERT OR UPDATE OR DELETE ON apis FOR EACH STATEMENT EXECUTE FUNCTION keygate_config_changed();
CREATE TRIGGER applications_changed AFTER INSERT OR UPDATE OR DELETE ON applications FOR EACH STATEMENT EXECUTE FUNCTION keygate_config_changed();
CREATE TRIGGER client_secrets_changed AFTER INSERT OR UPDATE OR DELETE ON client_secrets FOR EACH STATEMENT EXECUTE FUNCTION keygate_config_changed();
CREATE TRIGGER app_grants_changed AFTER INSERT OR UPDATE OR DELETE ON app_grants FOR EACH STATEMENT EXECUTE FUNCTION keygate_config_changed();
CREATE TRIGGER users_changed AFTER INSERT OR UPDATE OR DELETE ON users FOR EACH STATEMENT EXECUTE FUNCTION keygate_config_changed();
CREATE TRIGGER roles_changed AFTER INSERT OR UPDATE OR DELETE ON roles FOR EACH STATEMENT EXECUTE FUNCTION keygate_config_changed();
CREATE TRIGGER role_assignments_changed AFTER INSERT OR UPDATE OR DELETE ON role_assignments FOR EACH STATEMENT EXECUTE FUNCTION keygate_config_changed();
CREATE TRIGGER signing_keys_changed AFTER INSERT OR UPDATE OR DELETE ON signing_keys FOR EACH STATEMENT EXECUTE FUNCTION keygate_config_changed();
CREATE TRIGGER workspaces_changed AFTER INSERT OR UPDATE OR DELETE ON workspaces FOR EACH STATEMENT EXECUTE FUNCTION keygate_config_changed();
CREATE TRIGGER members_changed AFTER INSERT OR UPDATE OR DELETE ON members FOR EACH STATEMENT EXECUTE FUNCTION keygate_config_changed();
CREATE TRIGGER subscriptions_changed AFTER INSERT OR UPDATE OR DELETE ON subscriptions FOR EACH STATEMENT EXECUTE FUNCTION keygate_config_changed();
CREATE TRIGGER routes_changed AFTER INSERT OR UPDATE OR DELETE ON routes FOR EACH STATEMENT EXECUTE FUNCTION keygate_config_changed();
CREATE TRIGGER api_keys_changed AFTER INSERT OR DELETE ON api_keys FOR EACH STATEMENT EXECUTE FUNCTION keygate_config_changed();
CREATE TRIGGER api_keys_updated AFTER UPDATE OF role_id, expires_at, revoked_at, rate_limit, workspace_id ON api_keys FOR EACH STATEMENT EXECUTE FUNCTION keygate_config_changed();
CREATE TRIGGER revoked_jti_changed AFTER INSERT ON revoked_jti FOR EACH STATEMENT EXECUTE FUNCTION keygate_config_changed();
