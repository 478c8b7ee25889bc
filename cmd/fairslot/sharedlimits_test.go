package main

import (
	"testing"
	"time"

	"fairslot/internal/booking"
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
	a := sharedLimitAcrossInstances(t, sch, nil, 201, "booking attempt")
	var n int
	testenv.Must(t, a.pool.QueryRow(t.Context(), `SELECT count(*) FROM bookings WHERE session_id = $1`, sess.ID).Scan(&n), "count bookings")
	if n != 1 {
		t.Errorf("bookings stored = %d, want 1", n)
	}
}

// sharedLimitAcrossInstances runs sch on two instances with an account
// limit of 4 a minute, a patient's account making its first request (1),
// the waiting room on each instance (2, 3), then an attempt on the first
// session's online pool on the first instance (4 of 4), which must be
// answered first (201, 202), and the same attempt on the other instance,
// whose own limit would let it through and the shared count (5 of 4) must
// not: 429 with Retry-After. ready, when set, runs once the first instance
// is up. It returns the first instance.
func sharedLimitAcrossInstances(t *testing.T, sch booking.Schedule, ready func(a *service), first int, what string) *service {
	t.Helper()
	sess := sch.Sessions[0]
	a := startService(t, sch, map[string]string{"FAIRSLOT_RATE_ACCOUNT": "4-M"})
	b := a.another()
	if ready != nil {
		ready(a)
	}
	p := a.newPatient(1) // the account's first request (shared count 1)
	for i, s := range []*service{a, b} {
		// The waiting room: each instance caches the patient (2, 3).
		if r := s.do("GET", "/v1/patients", p.token, nil); r.status != 200 {
			t.Fatalf("list patients on instance %d = %d %s", i, r.status, r.body)
		}
	}
	body := map[string]any{"session_id": sess.ID, "patient_id": p.patientID}
	if r := a.do("POST", "/v1/bookings", p.token, body); r.status != first {
		t.Fatalf("%s (shared count 4 of 4) = %d %s, want %d (429: counted twice)", what, r.status, r.body, first)
	}
	// On the other instance, its second request of the account: its own
	// limit lets it through, the shared count (5 of 4) does not.
	r := b.do("POST", "/v1/bookings", p.token, body)
	if r.status != 429 || r.code != "rate_limited" {
		t.Fatalf("a repeat over the shared limit = %d %s, want 429 rate_limited (409: the %s was not counted)", r.status, r.body, what)
	}
	if ra := r.header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Errorf("Retry-After = %q, want a positive number of seconds", ra)
	}
	return a
}
