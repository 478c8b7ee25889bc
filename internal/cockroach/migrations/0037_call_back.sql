-- Who is rung (callback15): not only a stop's notice reaches a person no
-- account lists by a call back. A returned slot their phone waitlist place
-- became a booking with, a phone lottery entry drawn or not, a booking
-- cancelled after a review, all happen while they are not on the line, and
-- a booking they never hear of becomes their no-show. The domain marks each
-- notice that needs a call (call_back); the list and its outcomes go by it.
-- What the person heard in the call itself (a booking made while on the
-- line) is not marked.
ALTER TABLE notifications ADD COLUMN IF NOT EXISTS call_back BOOL NOT NULL DEFAULT false;
UPDATE notifications SET call_back = true WHERE kind = 'session_stopped' AND account_id IS NULL;
DROP INDEX IF EXISTS notifications_to_call;
CREATE INDEX IF NOT EXISTS notifications_to_call_back ON notifications (hospital_id, created_at)
 WHERE delivered_at IS NULL AND call_back;
