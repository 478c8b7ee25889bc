package main

import (
	"testing"
	"time"

	"fairslot/internal/testenv"
)

// TestBookingAnswersSayUntilWhenCancellingIsFree: every confirmed booking
// the API answers (GET /v1/bookings, GET /v1/bookings/{id}) carries
// free_cancel_until, in the hospital's zone as every other time: for a
// booking the person chose, the hospital's deadline; for one the service
// allotted (here a waitlist promotion, made after the deadline), 2 hours
// after it was made. Before, only the consoles and the notices said it.
func TestBookingAnswersSayUntilWhenCancellingIsFree(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 1)
	// Midnight of the day before the visit: past whenever the test runs,
	// so the promotion is made after the deadline.
	sch.Hospitals[0].CancelDeadline = "00:00"
	// No waitlist rounds: the returned slot goes to the waiting place at once.
	svc := startService(t, sch, map[string]string{"FAIRSLOT_RETURN_ROUND": "0s"})
	sess := sch.Sessions[0]
	loc, err := time.LoadLocation("Asia/Shanghai")
	testenv.Must(t, err, "load zone")
	visit, err := time.ParseInLocation(time.DateOnly, sess.VisitDate, loc)
	testenv.Must(t, err, "parse visit date")
	deadline := visit.AddDate(0, 0, -1).Format(time.RFC3339)

	type view struct {
		ID              string `json:"booking_id"`
		Status          string `json:"status"`
		CreatedAt       string `json:"created_at"`
		FreeCancelUntil string `json:"free_cancel_until"`
	}
	alice, bob := svc.newPatient(1), svc.newPatient(2)
	var own view
	if r := svc.do("POST", "/v1/bookings", alice.token, map[string]string{"session_id": sess.ID, "patient_id": alice.patientID}); r.status != 201 {
		t.Fatalf("alice books = %d %s, want 201", r.status, r.body)
	} else {
		r.decode(t, &own)
	}
	if own.FreeCancelUntil != deadline {
		t.Errorf("the booking's answer says free_cancel_until %q, want the deadline %q", own.FreeCancelUntil, deadline)
	}
	if r := svc.do("POST", "/v1/waitlist", bob.token, map[string]string{"session_id": sess.ID, "patient_id": bob.patientID}); r.status != 201 {
		t.Fatalf("bob joins the waitlist = %d %s, want 201", r.status, r.body)
	}
	if r := svc.do("DELETE", "/v1/bookings/"+own.ID, alice.token, nil); r.status != 200 {
		t.Fatalf("alice cancels = %d %s, want 200", r.status, r.body)
	}

	var promoted view
	poll(t, "bob's place promoted", func() bool {
		var list []view
		svc.do("GET", "/v1/bookings", bob.token, nil).decode(t, &list)
		if len(list) == 1 && list[0].Status == "confirmed" {
			promoted = list[0]
		}
		return promoted.ID != ""
	})
	made, err := time.Parse(time.RFC3339Nano, promoted.CreatedAt)
	testenv.Must(t, err, "parse created_at %q", promoted.CreatedAt)
	want := made.Add(2 * time.Hour).In(loc).Truncate(time.Second)
	if promoted.FreeCancelUntil != want.Format(time.RFC3339) {
		t.Errorf("the promoted booking lists free_cancel_until %q, want 2 h after it was made %q", promoted.FreeCancelUntil, want.Format(time.RFC3339))
	}
	var one view
	svc.do("GET", "/v1/bookings/"+promoted.ID, bob.token, nil).decode(t, &one)
	if one.FreeCancelUntil != promoted.FreeCancelUntil {
		t.Errorf("GET /v1/bookings/{id} says free_cancel_until %q, the list %q: want one value", one.FreeCancelUntil, promoted.FreeCancelUntil)
	}
	var gone view
	svc.do("GET", "/v1/bookings/"+own.ID, alice.token, nil).decode(t, &gone)
	if gone.Status != "cancelled" || gone.FreeCancelUntil != "" {
		t.Errorf("alice's cancelled booking reads status %q free_cancel_until %q, want cancelled and none", gone.Status, gone.FreeCancelUntil)
	}
}
