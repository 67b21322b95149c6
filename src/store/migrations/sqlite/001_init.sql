-- keygate schema version 1: tenants, APIs, applications and secrets, users, roles, signing keys,
-- refresh token families, revoked access tokens. Portable SQL: TEXT, INTEGER and BLOB columns.
-- Audit events live in their own file (audit.db, see sqlite.c).
CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    signing_alg TEXT NOT NULL,
    token_lifetime INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE apis (
    id TEXT PRIMARY KEY,
    identifier TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    permissions TEXT NOT NULL,
    scopes TEXT NOT NULL,
    require_caller_id INTEGER NOT NULL,
    require_subscription_key INTEGER NOT NULL,
    tenant_header TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE applications (
    client_id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    is_public INTEGER NOT NULL,
    auth_method TEXT NOT NULL,
    grants TEXT NOT NULL,
    redirect_uris TEXT NOT NULL,
    sp_oid TEXT NOT NULL UNIQUE,
    token_lifetime INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX applications_tenant ON applications(tenant_id);
CREATE TABLE client_secrets (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES applications(client_id),
    hash TEXT NOT NULL,
    hint TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
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
    disabled INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (tenant_id, username_key)
);
CREATE TABLE roles (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    permissions TEXT NOT NULL,
    builtin INTEGER NOT NULL,
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
    private_sealed BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    retired_at INTEGER NOT NULL
);
CREATE INDEX signing_keys_tenant ON signing_keys(tenant_id);
CREATE TABLE refresh_families (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    client_id TEXT NOT NULL,
    user_oid TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER NOT NULL
);
CREATE TABLE refresh_tokens (
    hash TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    family_id TEXT NOT NULL REFERENCES refresh_families(id),
    client_id TEXT NOT NULL,
    user_oid TEXT NOT NULL,
    scope TEXT NOT NULL,
    access_jti TEXT NOT NULL,
    access_exp INTEGER NOT NULL,
    auth_time INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER NOT NULL,
    grace BLOB
);
CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);
CREATE TABLE revoked_jti (
    jti TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
