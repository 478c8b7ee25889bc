package main

import (
	"testing"
	"time"

	"fairslot/internal/booking"
)

// TestStaffTextRefusesNumbers (review21 M4): staff free text that reaches a
// patient's notification or the append-only audit — a case's answer and its
// closing note, a flag's decision note, a catalog change's reason — is
// refused with 400 invalid_field when it holds a phone or an ID number, as
// a call-back note is: the record has the numbers, and the audit keeps its
// text for good. Near misses: a date and a time, a short local number and a
// record's id pass. Afterwards no table holds the numbers in clear.
func TestStaffTextRefusesNumbers(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 5, 5)
	svc := startService(t, sch, nil)
	h := sch.Hospitals[0].ID
	admin := svc.staffLoginAt(booking.RoleAdmin, 561, h)
	platform := svc.staffLoginAt(booking.RoleAdmin, 563, "")
	p, scalper := svc.newPatient(564), svc.newPatient(565)
	const id, mobile = "32010219520303002X", "13822220002"
	clear := []string{id, mobile, "138 2222 0002"}

	var com caseReply
	r := svc.do("POST", "/v1/complaints", p.token, map[string]any{"text": "我的预约被取消了", "category": "booking", "hospital_id": h})
	r.decode(t, &com)
	if r.status != 201 {
		t.Fatalf("complaint: %d %s", r.status, r.body)
	}
	texts := []string{"已核实患者（身份证 " + id + "）情况", "请回电 138 2222 0002 处理", "电话" + mobile}
	for _, text := range texts {
		if r := svc.do("POST", "/v1/admin/cases/"+com.ID+"/answer", admin, map[string]any{"answer": text}); r.status != 400 || r.code != "invalid_field" {
			t.Errorf("answer %q = %d %s, want 400 invalid_field", text, r.status, r.body)
		}
	}
	if r := svc.do("POST", "/v1/admin/cases/"+com.ID+"/answer", admin, map[string]any{"answer": "已于 2026-12-05 14:30 核实，分机 6543 2100，预约 " + com.ID}); r.status != 200 {
		t.Errorf("an answer with a date, a short number and a record id = %d %s, want 200", r.status, r.body)
	}
	for _, text := range texts {
		if r := svc.do("POST", "/v1/admin/cases/"+com.ID+"/close", admin, map[string]any{"note": text}); r.status != 400 || r.code != "invalid_field" {
			t.Errorf("close note %q = %d %s, want 400 invalid_field", text, r.status, r.body)
		}
	}

	// A flag opened from a report: its decision note.
	clerk := svc.staffLoginAt(booking.RoleClerk, 566, h)
	made := svc.resell(scalper, p, 564, clerk, sch.Sessions[0].ID)
	var rep caseReply
	r = svc.do("POST", "/v1/reports", p.token, map[string]any{"text": "有人加价卖号给我", "booking_id": made})
	r.decode(t, &rep)
	if r.status != 201 {
		t.Fatalf("report: %d %s", r.status, r.body)
	}
	var fl struct {
		FlagID string `json:"flag_id"`
	}
	r = svc.do("POST", "/v1/admin/cases/"+rep.ID+"/flag", platform, map[string]any{"reason": "代抢号后加价转卖"})
	r.decode(t, &fl)
	if r.status != 201 && r.status != 200 {
		t.Fatalf("open a flag: %d %s", r.status, r.body)
	}
	if r := svc.do("POST", "/v1/admin/flags/"+fl.FlagID+"/decision", platform, map[string]any{"action": "dismiss",
		"note": "家属 " + id + " 电话" + mobile + " 来电解释，系家庭"}); r.status != 400 || r.code != "invalid_field" {
		t.Errorf("a decision note with numbers = %d %s, want 400 invalid_field", r.status, r.body)
	}
	if r := svc.do("POST", "/v1/admin/departments", admin, map[string]any{"hospital_id": h, "name": "新科室",
		"reason": "联系人 " + mobile}); r.status != 400 || r.code != "invalid_field" {
		t.Errorf("a department's reason with a phone = %d %s, want 400 invalid_field", r.status, r.body)
	}
	for _, c := range clear {
		for _, q := range []string{
			"SELECT count(*) FROM audit_log WHERE reason LIKE '%'||$1||'%'",
			"SELECT count(*) FROM patient_cases WHERE answer LIKE '%'||$1||'%' OR close_note LIKE '%'||$1||'%'",
			"SELECT count(*) FROM flags WHERE note LIKE '%'||$1||'%'",
			"SELECT count(*) FROM notifications WHERE body LIKE '%'||$1||'%'",
		} {
			if n := svc.count(q, c); n != 0 {
				t.Errorf("%s: %d rows hold %q in clear", q, n, c)
			}
		}
	}
}
