-- keygate schema version 3: interactive sign-in. Browser sessions, remembered consent,
-- authorization codes and device codes. Secrets (session cookie values, codes, device codes)
-- are stored only as SHA-256 hashes (SPEC 9); every row names its tenant (SPEC 12.5).
CREATE TABLE sessions (
    hash TEXT PRIMARY KEY,
    sid TEXT NOT NULL UNIQUE,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    user_oid TEXT NOT NULL,
    auth_time INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    ended_at INTEGER NOT NULL
);
CREATE TABLE consents (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    user_oid TEXT NOT NULL,
    client_id TEXT NOT NULL,
    scopes TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
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
    auth_time INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER NOT NULL,
    access_jti TEXT NOT NULL,
    access_exp INTEGER NOT NULL,
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
    auth_time INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    poll_interval INTEGER NOT NULL,
    last_poll_ms INTEGER NOT NULL,
    access_jti TEXT NOT NULL,
    access_exp INTEGER NOT NULL,
    family_id TEXT NOT NULL
);
