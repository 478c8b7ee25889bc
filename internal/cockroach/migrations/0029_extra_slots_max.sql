-- The most extra slots (加号) the desk may add to one session, all its
-- requests together, from the change's time on like the rest of the policy;
-- 0: the service's default (booking.DefaultExtraSlotsMax, 20).
ALTER TABLE hospital_policies ADD COLUMN IF NOT EXISTS extra_slots_max INT NOT NULL DEFAULT 0 CHECK (extra_slots_max >= 0);
