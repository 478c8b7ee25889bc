-- The service's login may read (only read) which migrations are applied, so
-- serve and every command of the service's login refuse a database that
-- lacks one of their build's (CheckMigrations) rather than meet the missing
-- column in a request. 0005_roles revoked it all; writing stays the owner's.
GRANT SELECT ON TABLE schema_migrations TO fairslot_service;
