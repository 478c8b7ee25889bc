-- Stored weekly templates (出诊模板, issue 14): a doctor's rota as the
-- hospital keeps it, applied to a week to publish its sessions. The layout
-- (days, pools, release rules) is one JSON document: it is read and written
-- whole, never queried inside.
CREATE TABLE IF NOT EXISTS doctor_templates (
    id          UUID PRIMARY KEY,
    hospital_id UUID NOT NULL REFERENCES hospitals (id),
    doctor_id   UUID NOT NULL REFERENCES doctors (id),
    name        TEXT NOT NULL,
    body        JSONB NOT NULL,
    updated_by  UUID,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS doctor_templates_by_doctor ON doctor_templates (doctor_id, name);
