-- A hospital's holiday calendar (review19b M7; booking.SetHoliday): the
-- days its weekly templates publish no clinic on (国庆, 春节, a closure of
-- its own). Adding a day withdraws that day's sessions with nothing booked,
-- entered or waitlisted; those with patients are left for a stop, which
-- tells them. A clinic published one by one on such a day (a holiday
-- clinic, 节假日门诊) is the hospital's choice and stays allowed.
CREATE TABLE IF NOT EXISTS hospital_holidays (
    hospital_id UUID NOT NULL REFERENCES hospitals (id),
    day         DATE NOT NULL,
    name        TEXT NOT NULL,
    set_by      UUID,
    set_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (hospital_id, day)
);
