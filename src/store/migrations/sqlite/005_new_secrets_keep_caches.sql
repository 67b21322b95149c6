-- keygate schema version 5: creating an API key or a subscription no longer moves the config
-- stamp. Nothing any node caches can depend on a row that did not exist: lookups by a secret's
-- hash remember only what they found (store/cache.c), so a new key is found on first use
-- without every node dropping every cache. Changing or removing one still moves the stamp.
DROP TRIGGER api_keys_ins;
DROP TRIGGER subs_ins;
