package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestBlockedAccountAppeal: an account blocked by a confirmed scalper flag
// learns why only with its right password, appeals with the single-use
// token that answer carries, and the platform administrator's answer lifts
// the block, audited and notified; the account signs in again.
func TestBlockedAccountAppeal(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 2)
	svc := startService(t, sch, nil)
	p := svc.newPatient(4501)
	creds := map[string]string{"phone": p.phone, "password": "password-" + p.phone}
	admin := svc.staffLoginAt(booking.RoleAdmin, 4510, "")
	hospitalAdmin := svc.staffLoginAt(booking.RoleAdmin, 4511, sch.Hospitals[0].ID)
	// The administrator who confirmed the flag does not uphold its appeal
	// (review21 M3): a second one does.
	second := svc.staffLoginAt(booking.RoleAdmin, 4512, "")

	// A flag naming p's account, confirmed by the administrator.
	var accountID string
	testenv.Must(t, svc.pool.QueryRow(context.Background(), `SELECT account_id::TEXT FROM patients WHERE id = $1`, p.patientID).Scan(&accountID), "account")
	_, err := svc.pool.Exec(context.Background(), `INSERT INTO flags (id, score, status, reasons, account_ids, patient_ids, created_at, updated_at)
		VALUES ('flg_appeal', 3, 'open', '[]', to_jsonb(ARRAY[$1::TEXT]), to_jsonb(ARRAY[$2::TEXT]), now(), now())`, accountID, p.patientID)
	testenv.Must(t, err, "write the flag")
	if r := svc.do("POST", "/v1/admin/flags/flg_appeal/decision", admin, map[string]string{"action": "confirm", "note": "resold slots"}); r.status != 200 {
		t.Fatalf("confirm the flag = %d %s", r.status, r.body)
	}

	// A wrong password says nothing of the block.
	if r := svc.do("POST", "/v1/auth/login", "", map[string]string{"phone": p.phone, "password": "wrong password 1"}); r.status != 401 ||
		r.code != "invalid_credentials" || strings.Contains(string(r.body), "blocked") || strings.Contains(string(r.body), "停用") {
		t.Errorf("wrong password of a blocked account = %d %s, want the plain 401 invalid_credentials", r.status, r.body)
	}
	login := func() (int, string, struct {
		Reason      string `json:"reason"`
		Until       string `json:"until"`
		AppealToken string `json:"appeal_token"`
		Due         int    `json:"appeal_due_working_days"`
	}) {
		var out struct {
			Blocked struct {
				Reason      string `json:"reason"`
				Until       string `json:"until"`
				AppealToken string `json:"appeal_token"`
				Due         int    `json:"appeal_due_working_days"`
			} `json:"blocked"`
		}
		r := svc.do("POST", "/v1/auth/login", "", creds)
		if r.status != 200 {
			r.decode(t, &out)
		}
		return r.status, r.code, out.Blocked
	}
	status, code, b := login()
	if status != 403 || code != "account_blocked" || b.AppealToken == "" || b.Until == "" || b.Due != 5 ||
		!strings.Contains(b.Reason, "号贩子") || !strings.Contains(b.Reason, "停用至 "+b.Until[:10]) && !strings.Contains(b.Reason, "停用至") {
		t.Fatalf("right password of a blocked account = %d %s %+v, want 403 account_blocked with the reason, the end and a token", status, code, b)
	}
	if !strings.HasSuffix(b.Until, "+08:00") {
		t.Errorf("blocked until %q; want China Standard Time's +08:00, as the reason's date (review15 L7 read UTC)", b.Until)
	}
	if strings.Contains(b.Reason, "flg_appeal") || strings.Contains(b.Reason, accountID) {
		t.Errorf("the reason names the flag or the account: %q", b.Reason)
	}

	if r := svc.do("POST", "/v1/appeals", "", map[string]string{"appeal_token": b.AppealToken + "x", "text": "我没有倒号"}); r.status != 401 || r.code != "invalid_appeal_token" {
		t.Errorf("a forged token = %d %s, want 401 invalid_appeal_token", r.status, r.body)
	}
	r := svc.do("POST", "/v1/appeals", "", map[string]string{"appeal_token": b.AppealToken, "text": "我没有倒号，这些都是家人的预约。 These were my family's bookings."})
	var appeal struct {
		ID     string `json:"appeal_id"`
		Kind   string `json:"kind"`
		Status string `json:"status"`
		DueAt  string `json:"due_at"`
	}
	r.decode(t, &appeal)
	if r.status != 201 || appeal.ID == "" || appeal.Kind != "appeal" || appeal.Status != "open" || appeal.DueAt == "" {
		t.Fatalf("appeal = %d %s", r.status, r.body)
	}
	if r := svc.do("POST", "/v1/appeals", "", map[string]string{"appeal_token": b.AppealToken, "text": "again"}); r.status != 401 || r.code != "invalid_appeal_token" {
		t.Errorf("the same token again = %d %s, want 401 invalid_appeal_token (single use)", r.status, r.body)
	}
	_, _, b2 := login()
	if r := svc.do("POST", "/v1/appeals", "", map[string]string{"appeal_token": b2.AppealToken, "text": "再申诉一次"}); r.status != 409 || r.code != "appeal_pending" {
		t.Errorf("a second appeal while the first waits = %d %s, want 409 appeal_pending", r.status, r.body)
	}

	// The platform administrator's queue has it, with the flag; a
	// hospital's administrator's does not.
	queue := svc.appealQueue(admin)
	if len(queue) != 1 || queue[0].ID != appeal.ID || queue[0].FlagID != "flg_appeal" {
		t.Errorf("the platform queue = %+v, want the appeal with its flag", queue)
	}
	svc.do("GET", "/v1/admin/cases", hospitalAdmin, nil).decode(t, &queue)
	if len(queue) != 0 {
		t.Errorf("a hospital administrator's queue = %+v, want no appeal", queue)
	}
	if r := svc.do("POST", "/v1/admin/cases/"+appeal.ID+"/answer", hospitalAdmin, map[string]any{"answer": "解除", "lift_block": true}); r.status != 403 {
		t.Errorf("a hospital administrator lifts the block = %d %s, want 403", r.status, r.body)
	}
	if r := svc.do("POST", "/v1/admin/cases/"+appeal.ID+"/answer", second, map[string]any{"answer": "经复核，确为家人预约。", "lift_block": true, "close": true}); r.status != 200 {
		t.Fatalf("answer and lift = %d %s", r.status, r.body)
	}
	if n := svc.count(`SELECT count(*) FROM audit_log WHERE action = 'block_lifted' AND target = $1`, "account:"+accountID); n != 1 {
		t.Errorf("block_lifted audit entries = %d, want 1", n)
	}
	if n := svc.count(`SELECT count(*) FROM notifications WHERE account_id = $1 AND case_id = $2 AND body LIKE '%block is lifted%'`, accountID, appeal.ID); n != 1 {
		t.Errorf("the patient's notification of the lifted block: %d, want 1", n)
	}
	if status, code, _ := login(); status != 200 {
		t.Errorf("sign-in after the block is lifted = %d %s, want 200", status, code)
	}
	if n := svc.count(`SELECT count(*) FROM identity_blocks WHERE until > now()`); n != 0 {
		t.Errorf("%d identity blocks still in force, want none", n)
	}
}

// queuedAppeal is an appeal as the administrators' case queue lists it.
type queuedAppeal struct {
	ID       string `json:"case_id"`
	Kind     string `json:"kind"`
	FlagID   string `json:"flag_id"`
	PersonID string `json:"person_id"`
}

// appealQueue reads the appeals in admin's case queue.
func (s *service) appealQueue(admin string) []queuedAppeal {
	s.t.Helper()
	var queue []queuedAppeal
	s.do("GET", "/v1/admin/cases?kind=appeal", admin, nil).decode(s.t, &queue)
	return queue
}
