package main

import (
	"bytes"
	"context"
	"maps"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestBookingThroughAStaleInstanceAfterAMove (review22 H1): an instance
// learns of another's move (改期) of a clinic only at its next catalog watch,
// and meanwhile booked into the moved clinic with the old day: the booking
// went in on the day the clinic no longer has, its patient told that day and
// never the move, free to book the department again on the real day. SQL is
// the day's authority now: such a booking is refused (409 session_moved,
// nothing booked), its slot comes back, and a booking on the new day stands.
// The stale instance here learns of changes only after an hour, which makes
// the window of up to --catalog-watch (1 s) every instance has one that a
// test can hit.
func TestBookingThroughAStaleInstanceAfterAMove(t *testing.T) {
	sch := schedule(t, time.Now().Add(time.Hour), 3)
	a := startService(t, sch, nil)
	admin := a.staffLogin(booking.RoleAdmin, 1)
	id, start := publishEarlyPool(t, a, admin, sch.Doctors[0].ID, 10)

	env := maps.Clone(a.env)
	env["FAIRSLOT_CATALOG_WATCH"], env["FAIRSLOT_REFRESH_EVERY"] = "1h", "1h"
	stale := &service{t: t, logs: &testenv.LogBuffer{}, stdout: &testenv.LogBuffer{}, env: env, pool: a.pool, hospital: a.hospital}
	stale.serve()

	to := start.AddDate(0, 0, 2).Add(time.Hour)
	r := a.moveTo(admin, id, to, "morning", a.sessionVersion(admin, id))
	if r.status != 200 {
		t.Fatalf("move the clinic = %d %s", r.status, r.body)
	}

	p := a.newPatient(1)
	r = stale.do("POST", "/v1/bookings", p.token, map[string]string{"session_id": id, "patient_id": p.patientID})
	if r.status != 409 || r.code != "session_moved" {
		t.Errorf("a booking through the instance that has not seen the move = %d %s, want 409 session_moved", r.status, r.body)
	}
	if n := a.count(`SELECT count(*) FROM bookings b JOIN clinic_sessions cs ON cs.id = b.session_id
	                  WHERE b.session_id = $1 AND b.visit_date <> cs.visit_date`, id); n != 0 {
		t.Errorf("%d booking(s) of the moved clinic are on a day it no longer has", n)
	}
	// Nothing was lost: the slot is back, and the patient books it on the
	// new day through an instance that knows it.
	r = a.do("POST", "/v1/bookings", p.token, map[string]string{"session_id": id, "patient_id": p.patientID})
	if r.status != 201 {
		t.Fatalf("the same booking through the instance that moved it = %d %s, want 201", r.status, r.body)
	}
	var b struct {
		Date string `json:"visit_date"`
	}
	r.decode(t, &b)
	if b.Date != to.Format(time.DateOnly) {
		t.Errorf("booked on %q, want the new day %s", b.Date, to.Format(time.DateOnly))
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"reconcile", "--check"}, a.getenv, &out, &testenv.LogBuffer{}); err != nil {
		t.Errorf("reconcile --check after the refused booking: %v\n%s", err, out.String())
	}
}
