package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestFlagDecisionDeadline is review21 M1 through the real API: an open
// flag has a decision deadline (--flag-decision-within, 7 days), the
// review queue shows it and whether it passed, and /metrics counts the
// overdue flags (fairslot_flags_overdue, refreshed by each detection run)
// for an alert.
func TestFlagDecisionDeadline(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 2)
	admin := freeAddr(t)
	svc := startService(t, sch, map[string]string{"FAIRSLOT_ADMIN_ADDR": admin})
	p, q := svc.newPatient(4701), svc.newPatient(4702)
	platform := svc.staffLoginAt(booking.RoleAdmin, 4710, "")
	ctx := context.Background()
	for i, x := range []struct {
		id, patient string
		age         time.Duration
	}{{"flg_old", p.patientID, 8 * 24 * time.Hour}, {"flg_new", q.patientID, time.Hour}} {
		var account string
		testenv.Must(t, svc.pool.QueryRow(ctx, `SELECT account_id::TEXT FROM patients WHERE id = $1`, x.patient).Scan(&account), "account")
		_, err := svc.pool.Exec(ctx, `INSERT INTO flags (id, score, status, reasons, account_ids, patient_ids, created_at, updated_at)
			VALUES ($1, $2, 'open', '[]', to_jsonb(ARRAY[$3::TEXT]), '[]', now() - $4::INTERVAL, now())`,
			x.id, 2+float64(i), account, x.age.String())
		testenv.Must(t, err, "write flag %s", x.id)
	}
	var flags []struct {
		ID      string `json:"flag_id"`
		DueAt   string `json:"due_at"`
		Overdue bool   `json:"overdue"`
	}
	svc.do("GET", "/v1/admin/flags", platform, nil).decode(t, &flags)
	got := map[string]bool{}
	for _, f := range flags {
		if f.DueAt == "" {
			t.Errorf("flag %s has no due_at", f.ID)
		}
		got[f.ID] = f.Overdue
	}
	if len(got) != 2 || !got["flg_old"] || got["flg_new"] {
		t.Errorf("the open flags' overdue = %v, want flg_old overdue and flg_new not", got)
	}
	if r := svc.do("POST", "/v1/admin/detect", platform, nil); r.status != 200 {
		t.Fatalf("run detection = %d %s", r.status, r.body)
	}
	if !strings.Contains(string(svc.scrapeText(admin)), "\nfairslot_flags_overdue 1\n") {
		t.Errorf("/metrics does not say fairslot_flags_overdue 1")
	}
}

// TestDeskAppealForAPerson is review21 H1 c at the desk: a barred person
// with no account of their own appeals at a registration desk with their
// card; the name must be the card's; the appeal reaches the platform
// administrators' queue naming the person and the flag.
func TestDeskAppealForAPerson(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 2)
	svc := startService(t, sch, nil)
	ctx := context.Background()
	dan := svc.newPatient(4801)
	admin1 := svc.staffLoginAt(booking.RoleAdmin, 4810, "")
	clerk := svc.staffLoginAt(booking.RoleClerk, 4811, sch.Hospitals[0].ID)
	mother := map[string]any{"id_type": "resident_id", "id_number": residentID(4803), "name": "周桂兰", "relationship": "parent"}
	var m struct {
		PatientID string `json:"patient_id"`
	}
	svc.do("POST", "/v1/patients", dan.token, mother).decode(t, &m)
	var account, motherID string
	testenv.Must(t, svc.pool.QueryRow(ctx, `SELECT account_id::TEXT, (SELECT identity_id::TEXT FROM patients WHERE id = $2)
		FROM patients WHERE id = $1`, dan.patientID, m.PatientID).Scan(&account, &motherID), "ids")
	_, err := svc.pool.Exec(ctx, `INSERT INTO flags (id, score, status, reasons, account_ids, patient_ids, created_at, updated_at)
		VALUES ('flg_desk', 2, 'open', '[]', to_jsonb(ARRAY[$1::TEXT]), to_jsonb(ARRAY[$2::TEXT]), now(), now())`, account, motherID)
	testenv.Must(t, err, "write the flag")
	if r := svc.do("POST", "/v1/admin/flags/flg_desk/decision", admin1, map[string]any{"action": "confirm", "note": "resold slots"}); r.status != 200 {
		t.Fatalf("confirm = %d %s", r.status, r.body)
	}
	card := func(name, text string) map[string]string {
		return map[string]string{"id_type": "resident_id", "id_number": residentID(4803), "name": name, "text": text}
	}
	if r := svc.do("POST", "/v1/desk/appeals", clerk, card("周桂芳", "我不认识这个账号")); r.status != 422 || r.code != "identity_mismatch" {
		t.Errorf("a desk appeal under another name = %d %s, want 422 identity_mismatch", r.status, r.body)
	}
	if r := svc.do("POST", "/v1/desk/appeals", dan.token, card("周桂兰", "我不认识这个账号")); r.status != 403 {
		t.Errorf("a patient on the desk's route = %d %s, want 403", r.status, r.body)
	}
	r := svc.do("POST", "/v1/desk/appeals", clerk, card("周桂兰", "我不认识这个账号，从未委托他人挂号。"))
	var appeal struct {
		ID string `json:"appeal_id"`
	}
	r.decode(t, &appeal)
	if r.status != 201 || appeal.ID == "" {
		t.Fatalf("the desk appeal = %d %s, want 201", r.status, r.body)
	}
	queue := svc.appealQueue(admin1)
	if len(queue) != 1 || queue[0].ID != appeal.ID || queue[0].FlagID != "flg_desk" || queue[0].PersonID != motherID {
		t.Errorf("the platform queue = %+v, want the desk appeal with its flag and person", queue)
	}
	if n := svc.count(`SELECT count(*) FROM audit_log WHERE action = 'appeal_filed_at_desk' AND target = $1`, "case:"+appeal.ID); n != 1 {
		t.Errorf("appeal_filed_at_desk audit entries: %d, want 1", n)
	}

	// The person learns the answer at the desk, with the card (session 23).
	type atDesk struct {
		Status string `json:"status"`
		Words  string `json:"words"`
		Answer string `json:"answer"`
		DueAt  string `json:"due_at"`
	}
	ask := func(name string) (atDesk, reply) {
		var got atDesk
		r := svc.do("POST", "/v1/desk/appeals/lookup", clerk, map[string]string{"id_type": "resident_id", "id_number": residentID(4803), "name": name})
		if r.status == 200 {
			r.decode(t, &got)
		}
		return got, r
	}
	if _, r := ask("周桂芳"); r.status != 422 || r.code != "identity_mismatch" {
		t.Errorf("asking under another name = %d %s, want 422 identity_mismatch", r.status, r.body)
	}
	if r := svc.do("POST", "/v1/desk/appeals/lookup", dan.token, map[string]string{"id_type": "resident_id", "id_number": residentID(4803), "name": "周桂兰"}); r.status != 403 {
		t.Errorf("a patient on the desk's read = %d %s, want 403", r.status, r.body)
	}
	got, r := ask("周桂兰")
	if got.Status != "open" || !strings.Contains(got.Words, "正在复核") || got.DueAt == "" {
		t.Errorf("the appeal at the desk = %d %s, want open, under review, with its date", r.status, r.body)
	}
	for _, never := range []string{"flg_desk", account, motherID, clerk} {
		if strings.Contains(string(r.body), never) {
			t.Errorf("the desk's answer %s names %q", r.body, never)
		}
	}
	// The case's JSON read says it was filed at a desk, for a person with
	// no account, its answer given at the desk (session 24: the console
	// said so, the API did not).
	var view struct {
		Filer *struct {
			Person         bool   `json:"person"`
			AtDesk         bool   `json:"at_desk"`
			DeskHospitalID string `json:"desk_hospital_id"`
			Account        string `json:"account"`
			AnswerTo       string `json:"answer_to"`
		} `json:"filer"`
	}
	if r := svc.do("GET", "/v1/admin/cases/"+appeal.ID, admin1, nil); r.status != 200 {
		t.Errorf("read the case = %d %s", r.status, r.body)
	} else if r.decode(t, &view); view.Filer == nil || !view.Filer.AtDesk || !view.Filer.Person ||
		view.Filer.DeskHospitalID != sch.Hospitals[0].ID || view.Filer.Account != "" || view.Filer.AnswerTo != "desk" {
		t.Errorf("the case's filer = %s, want a person's appeal filed at the desk of %s, no account, answered at the desk", r.body, sch.Hospitals[0].ID)
	}
	admin2 := svc.staffLoginAt(booking.RoleAdmin, 4812, "")
	if r := svc.do("POST", "/v1/admin/cases/"+appeal.ID+"/answer", admin2, map[string]any{"answer": "经复核，申诉成立。", "lift_block": true}); r.status != 200 {
		t.Fatalf("uphold = %d %s", r.status, r.body)
	}
	// The appeal is in the clerk's name (the person has no account): the
	// answer is told at the desk, never in the clerk's notifications.
	if n := svc.count(`SELECT count(*) FROM notifications WHERE case_id = $1`, appeal.ID); n != 0 {
		t.Errorf("notifications of the desk appeal's answer: %d, want none (the clerk is not the appellant)", n)
	}
	if got, r := ask("周桂兰"); got.Status != "answered" || !strings.Contains(got.Answer, "申诉成立") || !strings.Contains(got.Answer, "可以重新预约") {
		t.Errorf("the answered appeal at the desk = %d %s, want answered with the answer and the lifted bar", r.status, r.body)
	}
}
