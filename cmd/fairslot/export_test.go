package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
)

// TestExportMine: a patient's copy of their data (GET /v1/me/export) holds
// their account, people, bookings (a cancelled one too), waitlist places,
// complaints and notifications, each as their own views show it — and no
// other account's, no clear phone, ID number or name.
func TestExportMine(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 1, 3)
	// Cancelling tomorrow's visit is late from 00:00 today: whatever the
	// hour the test runs at (with the default 15:00 it was late only in the
	// Shanghai afternoon and evening, and failed the rest of the day).
	sch.Hospitals[0].CancelDeadline = "00:00"
	svc := startService(t, sch, nil)
	full, other := sch.Sessions[0], sch.Sessions[1]
	alice, bob := svc.newPatient(1), svc.newPatient(2)
	book := func(p patient, sessionID string) string {
		r := svc.do("POST", "/v1/bookings", p.token, map[string]string{"session_id": sessionID, "patient_id": p.patientID})
		var b struct {
			BookingID string `json:"booking_id"`
		}
		if r.status != 201 || json.Unmarshal(r.body, &b) != nil {
			t.Fatalf("book: %d %s", r.status, r.body)
		}
		return b.BookingID
	}
	book(bob, full.ID)
	kept, cancelled := book(alice, other.ID), ""
	if r := svc.do("DELETE", "/v1/bookings/"+kept, alice.token, nil); r.status != 200 {
		t.Fatalf("cancel: %d %s", r.status, r.body)
	}
	cancelled, kept = kept, book(alice, other.ID)
	if r := svc.do("POST", "/v1/waitlist", alice.token, map[string]string{"session_id": full.ID, "patient_id": alice.patientID}); r.status != 201 {
		t.Fatalf("join the waitlist: %d %s", r.status, r.body)
	}
	r := svc.do("POST", "/v1/complaints", alice.token, map[string]any{"category": "service", "hospital_id": sch.Hospitals[0].ID, "text": "窗口排队太久 the queue was too long"})
	var complaint struct {
		CaseID string `json:"case_id"`
	}
	if r.status != 201 || json.Unmarshal(r.body, &complaint) != nil {
		t.Fatalf("complain: %d %s", r.status, r.body)
	}
	admin := svc.staffLogin(booking.RoleAdmin, 1)
	if r := svc.do("POST", "/v1/admin/cases/"+complaint.CaseID+"/answer", admin, map[string]string{"answer": "已增加窗口 we opened a window"}); r.status != 200 {
		t.Fatalf("answer the complaint: %d %s", r.status, r.body)
	}

	r = svc.do("GET", "/v1/me/export", alice.token, nil)
	if r.status != 200 {
		t.Fatalf("export = %d %s, want 200", r.status, r.body)
	}
	if cd := r.header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") {
		t.Errorf("Content-Disposition = %q, want an attachment", cd)
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	var x struct {
		ExportedAt string `json:"exported_at"`
		Account    struct {
			Phone string `json:"phone"`
		} `json:"account"`
		Patients []struct {
			PatientID string `json:"patient_id"`
		} `json:"patients"`
		Records []struct {
			PatientID string `json:"patient_id"`
			NoShows   int    `json:"no_shows"`
		} `json:"no_show_records"`
		Bookings []struct {
			BookingID  string `json:"booking_id"`
			Status     string `json:"status"`
			LateCancel bool   `json:"late_cancel"`
		} `json:"bookings"`
		Waitlist      []json.RawMessage `json:"waitlist"`
		Cases         []json.RawMessage `json:"cases"`
		Notifications []json.RawMessage `json:"notifications"`
	}
	r.decode(t, &x)
	if !strings.HasSuffix(x.ExportedAt, "+08:00") {
		t.Errorf("exported_at = %q, want China Standard Time", x.ExportedAt)
	}
	if x.Account.Phone == "" || x.Account.Phone == alice.phone || !strings.Contains(x.Account.Phone, "*") {
		t.Errorf("account phone = %q, want alice's masked", x.Account.Phone)
	}
	if len(x.Patients) != 1 || x.Patients[0].PatientID != alice.patientID {
		t.Errorf("patients = %+v, want alice's one", x.Patients)
	}
	// The cancellation came after the deadline the day before the visit: late,
	// counted in the record, as the booking says.
	if len(x.Records) != 1 || x.Records[0].PatientID != alice.patientID || x.Records[0].NoShows != 1 {
		t.Errorf("no-show records = %+v, want alice's, her late cancellation counted", x.Records)
	}
	got := map[string]string{}
	for _, b := range x.Bookings {
		got[b.BookingID] = b.Status
		if b.LateCancel {
			got[b.BookingID] += " late"
		}
	}
	if len(got) != 2 || got[kept] != "confirmed" || got[cancelled] != "cancelled late" {
		t.Errorf("bookings = %v, want %s confirmed and %s cancelled late, nothing of bob's", got, kept, cancelled)
	}
	if len(x.Waitlist) != 1 || len(x.Cases) != 1 || len(x.Notifications) != 1 {
		t.Errorf("waitlist %d, cases %d, notifications %d; want 1 each (the place, the complaint, its answer)", len(x.Waitlist), len(x.Cases), len(x.Notifications))
	}
	if r := svc.do("GET", "/v1/me/export", svc.staffLogin(booking.RoleClerk, 2), nil); r.status != 403 || r.code != "forbidden" {
		t.Errorf("a clerk's export = %d %q, want 403 forbidden", r.status, r.code)
	}
	for _, clear := range []string{alice.phone, residentID(1), bob.phone, residentID(2), "测试"} {
		if strings.Contains(string(r.body), clear) {
			t.Errorf("the export holds %q in clear", clear)
		}
	}
}
