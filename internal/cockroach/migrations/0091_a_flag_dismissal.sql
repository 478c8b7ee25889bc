-- review25 M1: a dismissal of a flag whose evidence a family does not
-- produce by chance is two administrators' act. The first one's dismissal
-- is recorded here while the flag stays open (held as before); the second
-- one's decision (dismiss or confirm) closes it. Also the dismissal's
-- reason code, for every dismissal. JSON: {reason_code, note,
-- requested_by, requested_at}; NULL on a flag nobody asked to dismiss, and
-- again when a dismissed flag reopens.
ALTER TABLE flags ADD COLUMN IF NOT EXISTS dismissal JSONB;
