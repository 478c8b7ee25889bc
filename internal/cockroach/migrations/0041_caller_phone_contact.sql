-- How a call back's number was kept (lows16): the number a caller rang
-- from, or the contact number a walk-in left at the desk. The call-back
-- list labelled it by the booking's channel, so a phone caller's waitlist
-- place served with an on-site slot read as a walk-in's contact number.
-- Rows kept before: a walk-in's is on an on-site booking or entry that is
-- no waitlist place (a served place's booking has the place's id).
ALTER TABLE caller_phones ADD COLUMN IF NOT EXISTS contact BOOL NOT NULL DEFAULT false;
UPDATE caller_phones SET contact = true
 WHERE item_id NOT IN (SELECT id FROM waitlist)
   AND (item_id IN (SELECT id FROM bookings WHERE channel = 'onsite')
        OR item_id IN (SELECT id FROM lottery_entries WHERE channel = 'onsite'));
