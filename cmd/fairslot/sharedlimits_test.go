package main

import (
	"testing"
	"time"

	"fairslot/internal/testenv"
)

// TestBookingAttemptCountsTheSharedLimits: a booking attempt's shared rate
// limits are counted by admission with the reservation (reserve.lua, one
// Redis round trip), under the same counters as every other request's,
// across instances: once, not twice, and an attempt over the shared limit is
// refused 429 with Retry-After, where the instance's own (in-memory) limit
// would let it through.
func TestBookingAttemptCountsTheSharedLimits(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 5)
	sess := sch.Sessions[0]
	a := startService(t, sch, map[string]string{"FAIRSLOT_RATE_ACCOUNT": "4-M"})
	b := a.another()

	p := a.newPatient(1) // the account's first request (shared count 1)
	for i, s := range []*service{a, b} {
		// The waiting room: each instance caches the patient (2, 3).
		if r := s.do("GET", "/v1/patients", p.token, nil); r.status != 200 {
			t.Fatalf("list patients on instance %d = %d %s", i, r.status, r.body)
		}
	}
	body := map[string]any{"session_id": sess.ID, "patient_id": p.patientID}
	if r := a.do("POST", "/v1/bookings", p.token, body); r.status != 201 {
		t.Fatalf("booking attempt (shared count 4 of 4) = %d %s, want 201 (429: counted twice)", r.status, r.body)
	}
	// On the other instance, its second request of the account: its own
	// limit lets it through, the shared count (5 of 4) does not.
	r := b.do("POST", "/v1/bookings", p.token, body)
	if r.status != 429 || r.code != "rate_limited" {
		t.Fatalf("a repeat over the shared limit = %d %s, want 429 rate_limited (409: the attempt was not counted)", r.status, r.body)
	}
	if ra := r.header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Errorf("Retry-After = %q, want a positive number of seconds", ra)
	}
	var n int
	testenv.Must(t, a.pool.QueryRow(t.Context(), `SELECT count(*) FROM bookings WHERE session_id = $1`, sess.ID).Scan(&n), "count bookings")
	if n != 1 {
		t.Errorf("bookings stored = %d, want 1", n)
	}
}
