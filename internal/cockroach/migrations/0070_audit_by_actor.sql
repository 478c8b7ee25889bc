-- A staff member's own audit entries of the last hour or day, read at each
-- desk lookup (how many persons a clerk looked up without the card:
-- staff_lookups_since, review21 L2) and each number released
-- (staff_actions_since); without it both read every entry of the window.
CREATE INDEX IF NOT EXISTS audit_log_by_actor ON audit_log (actor_id, ts);
