-- The notification kinds of issue 13 (0014_a): PostgreSQL named the inline
-- check of 0010 notifications_kind_check.
ALTER TABLE notifications DROP CONSTRAINT IF EXISTS notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_known CHECK (kind IN ('session_stopped', 'case_answered', 'case_closed'));
