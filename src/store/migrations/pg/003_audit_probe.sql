-- keygate PostgreSQL schema version 3: one row the audit writer rewrites to learn that a
-- failing audit trail takes writes again (server/commit.c), so that /readyz recovers without
-- traffic. Never read as an event.
CREATE TABLE audit.audit_probe (id INTEGER PRIMARY KEY, at_ms BIGINT NOT NULL);
