-- Retention of what is kept only to call a person back (booking/retention.go):
-- the retention job deletes, oldest first in bounded batches, the call-back
-- rows (notifications marked call_back, told or over) and the numbers kept
-- to call back (caller_phones) past their need and a grace. Each scan goes
-- by the time its rows were written, so a batch reads what it deletes (and
-- the few old rows still needed), never the whole table.
CREATE INDEX IF NOT EXISTS notifications_call_back_by_time ON notifications (created_at) WHERE call_back;
CREATE INDEX IF NOT EXISTS caller_phones_by_kept ON caller_phones (kept_at);
