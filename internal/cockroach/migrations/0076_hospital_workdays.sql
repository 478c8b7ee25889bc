-- 调休: a day of the holiday calendar may be a make-up working day instead
-- of a day off — a Saturday or Sunday the State Council's holiday notice
-- makes a working day, on which the hospital runs the clinics of the
-- weekday it stands in for (works_as, ISO 1 Monday … 5 Friday; 0 a day
-- off, as every day before this migration). booking.Calendar.
ALTER TABLE hospital_holidays ADD COLUMN IF NOT EXISTS works_as INT NOT NULL DEFAULT 0;
