package main

import (
	"context"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestDismissalTakesTwo is review25 M1 through the real API: a flag whose
// evidence a family does not produce by chance (here transfer: a slot
// handed to a stranger) is dismissed by two administrators. The first one's
// dismissal leaves it open (held as before) with the dismissal pending; the
// same one cannot finish it (second_admin_required, the appeal's rule); a
// second one does, and the flag list says who asked and who decided. A
// second administrator may instead confirm the flag (the dismissal
// reversed). A flag of only a family's look (burst and fresh persons, the
// reviewer's 1.13) is still one administrator's to dismiss, but with a
// reason code; "other" wants a note that says something.
func TestDismissalTakesTwo(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 3, 3, 3)
	svc := startService(t, sch, nil)
	ctx := context.Background()
	admin1 := svc.staffLoginAt(booking.RoleAdmin, 4710, "")
	admin2 := svc.staffLoginAt(booking.RoleAdmin, 4711, "")
	a, b, c := svc.newPatient(4701), svc.newPatient(4702), svc.newPatient(4703)
	accountOf := func(p patient) string {
		var id string
		testenv.Must(t, svc.pool.QueryRow(ctx, `SELECT account_id::TEXT FROM patients WHERE id = $1`, p.patientID).Scan(&id), "account")
		return id
	}
	write := func(id string, score float64, reasons string, p patient) {
		_, err := svc.pool.Exec(ctx, `INSERT INTO flags (id, score, status, reasons, account_ids, patient_ids, created_at, updated_at, explanation)
			VALUES ($1, $2, 'open', $3::JSONB, to_jsonb(ARRAY[$4::TEXT]), '[]'::JSONB, now(), now(), '{"threshold":1.0,"en":"","zh":""}'::JSONB)`,
			id, score, reasons, accountOf(p))
		testenv.Must(t, err, "write a flag")
	}
	write("flg_transfer25", 1.13, `[{"signal":"fresh_persons","kind":"scale","detail":"x","points":0.63},
		{"signal":"handoff_linked","kind":"transfer","detail":"x","points":0.5}]`, a)
	write("flg_reverse25", 1.13, `[{"signal":"fresh_persons","kind":"scale","detail":"x","points":0.63},
		{"signal":"insider","kind":"insider","detail":"x","points":0.5}]`, b)
	write("flg_family25", 1.13, `[{"signal":"fresh_persons","kind":"scale","detail":"x","points":0.63},
		{"signal":"burst","kind":"automation","detail":"x","points":0.5}]`, c)
	decide := func(tok, id string, body map[string]any) reply {
		return svc.do("POST", "/v1/admin/flags/"+id+"/decision", tok, body)
	}
	type flagRow struct {
		ID             string `json:"flag_id"`
		Status         string `json:"status"`
		DecidedBy      string `json:"decided_by"`
		DismissPending bool   `json:"dismiss_pending"`
		SecondAdmin    bool   `json:"second_admin_to_dismiss"`
		Dismissal      *struct {
			ReasonCode  string `json:"reason_code"`
			RequestedBy string `json:"requested_by"`
		} `json:"dismissal"`
	}
	list := func(status string) map[string]flagRow {
		var rows []flagRow
		svc.do("GET", "/v1/admin/flags?status="+status, admin1, nil).decode(t, &rows)
		m := map[string]flagRow{}
		for _, r := range rows {
			m[r.ID] = r
		}
		return m
	}
	// A reason code is wanted; "other" wants a note that says something.
	if r := decide(admin1, "flg_family25", map[string]any{"action": "dismiss", "note": "家属代约"}); r.status != 400 || r.code != "invalid_field" {
		t.Errorf("a dismissal without a reason code = %d %s, want 400 invalid_field", r.status, r.body)
	}
	if r := decide(admin1, "flg_family25", map[string]any{"action": "dismiss", "note": "家属代约", "reason_code": "other"}); r.status != 400 || r.code != "invalid_field" {
		t.Errorf("a dismissal for 'other' with a 4-character note = %d %s, want 400 invalid_field", r.status, r.body)
	}
	// A family's look: one administrator dismisses.
	if r := decide(admin1, "flg_family25", map[string]any{"action": "dismiss", "note": "家属代约", "reason_code": "family"}); r.status != 200 {
		t.Fatalf("dismiss a family's look = %d %s, want 200", r.status, r.body)
	}
	if f, ok := list("dismissed")["flg_family25"]; !ok || f.DecidedBy == "" || f.Dismissal == nil || f.Dismissal.ReasonCode != "family" {
		t.Errorf("the dismissed family flag on the list = %+v, want decided_by and the reason code", f)
	}

	// Transfer: the first dismissal is pending, the group still held.
	if f := list("open")["flg_transfer25"]; !f.SecondAdmin {
		t.Errorf("the transfer flag on the open list = %+v, want second_admin_to_dismiss", f)
	}
	if r := decide(admin1, "flg_transfer25", map[string]any{"action": "dismiss", "note": "一家人", "reason_code": "family"}); r.status != 200 {
		t.Fatalf("the first dismissal = %d %s, want 200 (pending)", r.status, r.body)
	}
	f, ok := list("open")["flg_transfer25"]
	if !ok || f.Status != "open" || !f.DismissPending || f.Dismissal == nil || f.Dismissal.RequestedBy == "" {
		t.Errorf("after the first dismissal the flag = %+v (listed %v), want open with its dismissal pending and who asked", f, ok)
	}
	if n := svc.count(`SELECT count(*) FROM audit_log WHERE action = 'flag_dismiss_requested' AND target = 'flag:flg_transfer25'`); n != 1 {
		t.Errorf("flag_dismiss_requested audit entries: %d, want 1", n)
	}
	if r := decide(admin1, "flg_transfer25", map[string]any{"action": "dismiss", "note": "确认驳回", "reason_code": "family"}); r.status != 403 || r.code != "second_admin_required" {
		t.Errorf("the same administrator finishes the dismissal = %d %s, want 403 second_admin_required", r.status, r.body)
	}
	if r := decide(admin2, "flg_transfer25", map[string]any{"action": "dismiss", "note": "复核同意：一家人", "reason_code": "family"}); r.status != 200 {
		t.Fatalf("a second administrator's dismissal = %d %s, want 200", r.status, r.body)
	}
	f = list("dismissed")["flg_transfer25"]
	if f.Status != "dismissed" || f.DecidedBy == "" || f.Dismissal == nil || f.DecidedBy == f.Dismissal.RequestedBy {
		t.Errorf("the dismissed transfer flag = %+v, want decided by a second administrator, the first one named", f)
	}
	if n := svc.count(`SELECT count(*) FROM audit_log WHERE action = 'flag_dismiss' AND target = 'flag:flg_transfer25'`); n != 1 {
		t.Errorf("flag_dismiss audit entries: %d, want 1", n)
	}

	// Insider: the second administrator reverses the dismissal by confirming.
	if r := decide(admin1, "flg_reverse25", map[string]any{"action": "dismiss", "note": "熟人", "reason_code": "family"}); r.status != 200 {
		t.Fatalf("the first dismissal = %d %s", r.status, r.body)
	}
	if r := decide(admin2, "flg_reverse25", map[string]any{"action": "confirm", "note": "内部人员证据充分"}); r.status != 200 {
		t.Fatalf("a second administrator confirms = %d %s", r.status, r.body)
	}
	if n := svc.count(`SELECT count(*) FROM flags WHERE id = 'flg_reverse25' AND status = 'confirmed'`); n != 1 {
		t.Errorf("the reversed flag is not confirmed")
	}
}
