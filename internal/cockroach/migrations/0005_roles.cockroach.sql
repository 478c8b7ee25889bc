-- The role the service runs as (docs/security.md, and
-- 0005_roles.postgres.sql): the same rights on CockroachDB.
CREATE ROLE IF NOT EXISTS fairslot_service;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO fairslot_service;
REVOKE ALL ON TABLE schema_migrations FROM fairslot_service;
REVOKE UPDATE, DELETE ON TABLE audit_log FROM fairslot_service;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO fairslot_service;
