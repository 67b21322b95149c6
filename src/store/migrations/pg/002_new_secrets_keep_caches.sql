-- keygate PostgreSQL schema version 2 (SQLite's 005): creating an API key or a subscription no
-- longer moves the config stamp. Nothing any node caches can depend on a row that did not
-- exist: lookups by a secret's hash remember only what they found (store/cache.c), so a new key
-- is found on first use without every node dropping every cache. Changing or removing one
-- still moves the stamp.
DROP TRIGGER api_keys_changed ON api_keys;
CREATE TRIGGER api_keys_deleted AFTER DELETE ON api_keys FOR EACH STATEMENT EXECUTE FUNCTION keygate_config_changed();
DROP TRIGGER subscriptions_changed ON subscriptions;
CREATE TRIGGER subscriptions_changed AFTER UPDATE OR DELETE ON subscriptions FOR EACH STATEMENT EXECUTE FUNCTION keygate_config_changed();
