-- The role the service runs as (docs/security.md): it reads and writes the
-- tables it needs, and may only add to and read the audit log. The owner
-- runs the migrations; `fairslot migrate` makes the login of the serving URL
-- a member of this role. Roles are the server's, not the database's: a
-- second database on the same server finds the role there already.
DO $$ BEGIN CREATE ROLE fairslot_service NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
GRANT USAGE ON SCHEMA public TO fairslot_service;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO fairslot_service;
REVOKE ALL ON schema_migrations FROM fairslot_service;
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM fairslot_service;
-- Tables later migrations create get the same rights; one that must be
-- append-only revokes them as audit_log does.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO fairslot_service;
