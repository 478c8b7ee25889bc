-- review20 M1's last part: when a pool's rules — its release mode, release
-- time and lottery window — became public: set when the session is
-- published and again when an edit changes any of them (an edit of its
-- quota alone keeps it; booking.StampPublished). The public draw record
-- says it (published_at), so anyone can check the notice the public had
-- before a lottery's window opened. NULL for pools published before this
-- migration: not known, not shown (the session's created_at would be a
-- claim for a pool whose window an edit moved since).
ALTER TABLE session_channels ADD COLUMN IF NOT EXISTS published_at TIMESTAMPTZ;
