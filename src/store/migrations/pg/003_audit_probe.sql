-- keygate PostgreSQL schema version 3: one row that /readyz rewrites after a failed audit
-- commit, to learn whether the audit trail takes writes again (server/commit.c), so that a node
-- recovers without token traffic. Never read as an event.
CREATE TABLE audit.audit_probe (id INTEGER PRIMARY KEY, at_ms BIGINT NOT NULL);
