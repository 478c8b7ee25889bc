-- The least notice, in hours, of a published release time moved earlier
-- (review19b H2; booking.Policy.ReleaseNoticeHours). 0: the service's
-- default (booking.DefaultReleaseNoticeHours, 24).
ALTER TABLE hospital_policies ADD COLUMN IF NOT EXISTS release_notice_hours INT NOT NULL DEFAULT 0 CHECK (release_notice_hours >= 0);
