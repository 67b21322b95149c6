-- keygate schema version 2: a configuration stamp that changes with every change to what nodes
-- cache (tenants, APIs, applications, secrets, grants, users, roles, signing keys), so that a
-- running server sees a change made by the CLI or another node on its very next request.
CREATE TABLE config_stamp (v INTEGER NOT NULL);
INSERT INTO config_stamp (v) VALUES (1);
CREATE TRIGGER tenants_ins AFTER INSERT ON tenants BEGIN UPDATE config_stamp SET v = v + 1; END;
CREATE TRIGGER tenants_upd AFTER UPDATE ON tenants BEGIN UPDATE config_stamp SET v = v + 1; END;
CREATE TRIGGER tenants_del AFTER DELETE ON tenants BEGIN UPDATE config_stamp SET v = v + 1; END;
CREATE TRIGGER apis_ins AFTER INSERT ON apis BEGIN UPDATE config_stamp SET v = v + 1; END;
CREATE TRIGGER apis_upd AFTER UPDATE ON apis BEGIN UPDATE config_stamp SET v = v + 1; END;
CREATE TRIGGER apis_del AFTER DELETE ON apis BEGIN UPDATE config_stamp SET v = v + 1; END;
CREATE TRIGGER apps_ins AFTER INSERT ON applications BEGIN UPDATE config_stamp SET v = v + 1; END;
CREATE TRIGGER apps_upd AFTER UPDATE ON applications BEGIN UPDATE config_stamp SET v = v + 1; END;
CREATE TRIGGER apps_del AFTER DELETE ON applications BEGIN UPDATE config_stamp SET v = v + 1; END;
CREATE TRIGGER secrets_ins AFTER INSERT ON client_secrets BEGIN UPDATE config_stamp SET v = v + 1; END;
CREATE TRIGGER secrets_upd AFTER UPDATE ON client_secrets BEGIN UPDATE config_stamp SET v = v + 1; END;
CREATE TRIGGER secrets_del AFTER DELETE ON client_secrets BEGIN UPDATE config_stamp SET v = v + 1; END;
CREATE TRIGGER grants_ins AFTER INSERT ON app_grants BEGIN UPDATE config_stamp SET v = v + 1; END;
CREATE TRIGGER grants_del AFTER DELETE ON app_grants BEGIN UPDATE config_stamp SET v = v + 1; END;
CREATE TRIGGER users_ins AFTER INSERT ON users BEGIN UPDATE config_stamp SET v = v + 1; END;
CREATE TRIGGER users_upd AFTER UPDATE ON users BEGIN UPDATE config_stamp SET v = v + 1; END;
CREATE TRIGGER users_del AFTER DELETE ON users BEGIN UPDATE config_stamp SET v = v + 1; END;
CREATE TRIGGER roles_ins AFTER INSERT ON roles BEGIN UPDATE config_stamp SET v = v + 1; END;
CREATE TRIGGER roles_upd AFTER UPDATE ON roles BEGIN UPDATE config_stamp SET v = v + 1; END;
CREATE TRIGGER roles_del AFTER DELETE ON roles BEGIN UPDATE config_stamp SET v = v + 1; END;
CREATE TRIGGER assign_ins AFTER INSERT ON role_assignments BEGIN UPDATE config_stamp SET v = v + 1; END;
CREATE TRIGGER assign_del AFTER DELETE ON role_assignments BEGIN UPDATE config_stamp SET v = v + 1; END;
CREATE TRIGGER keys_ins AFTER INSERT ON signing_keys BEGIN UPDATE config_stamp SET v = v + 1; END;
CREATE TRIGGER keys_upd AFTER UPDATE ON signing_keys BEGIN UPDATE config_stamp SET v = v + 1; END;
CREATE TRIGGER keys_del AFTER DELETE ON signing_keys BEGIN UPDATE config_stamp SET v = v + 1; END;
