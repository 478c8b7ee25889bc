-- The notification kinds of issue 13 (0014_a): CockroachDB named the inline
-- check of 0010 check_kind.
ALTER TABLE notifications DROP CONSTRAINT IF EXISTS check_kind;
-- Under PostgreSQL's name too, should the server name it so; and its own,
-- so that the file can run again (a statement at a time: migrate.go).
ALTER TABLE notifications DROP CONSTRAINT IF EXISTS notifications_kind_check;
ALTER TABLE notifications DROP CONSTRAINT IF EXISTS notifications_kind_known;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_known CHECK (kind IN ('session_stopped', 'case_answered', 'case_closed'));
