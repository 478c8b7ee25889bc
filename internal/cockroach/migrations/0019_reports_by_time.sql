-- The detection job reads the scalper reports of its window
-- (ReportsSince): kind and filing time, so it never scans the complaints.
CREATE INDEX IF NOT EXISTS patient_cases_by_kind_time ON patient_cases (kind, created_at);
