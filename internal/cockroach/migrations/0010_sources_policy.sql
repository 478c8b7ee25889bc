-- A hospital's policy as its administrator sets it (issue 14): each change
-- takes effect at its time and is kept, so the rows are the history. Until
-- the first takes effect, the hospital row's own columns hold.
CREATE TABLE IF NOT EXISTS hospital_policies (
    id              UUID PRIMARY KEY,
    hospital_id     UUID NOT NULL REFERENCES hospitals (id),
    effective_from  TIMESTAMPTZ NOT NULL,
    per_day         INT NOT NULL CHECK (per_day >= 1),
    per_week        INT NOT NULL CHECK (per_week >= per_day),
    per_month       INT NOT NULL CHECK (per_month >= per_week),
    cancel_deadline TEXT NOT NULL,
    reason          TEXT NOT NULL,
    set_by          UUID,
    set_at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS hospital_policies_by_time ON hospital_policies (hospital_id, effective_from);
