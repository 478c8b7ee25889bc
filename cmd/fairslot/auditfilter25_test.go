package main

import (
	"context"
	"net/url"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestAuditFiltersForAnInspector is review25 M3: GET /v1/admin/audit
// filters by actor (a staff account), action and session (the session's
// own rows and those of its bookings), so an inspector finds one clerk's
// desk acts among a day's tens of thousands. A hospital's administrator
// reads their hospital's rows only, filtered or not; a malformed actor or
// session is 400 invalid_field.
func TestAuditFiltersForAnInspector(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 3, 3)
	svc := startService(t, sch, nil)
	ctx := context.Background()
	h := sch.Hospitals[0].ID
	admin := svc.staffLoginAt(booking.RoleAdmin, 2520, h)
	p1, p2 := svc.newPatient(2521), svc.newPatient(2522)
	book := func(p patient, i int) string {
		var b struct {
			ID string `json:"booking_id"`
		}
		r := svc.do("POST", "/v1/bookings", p.token, map[string]string{"session_id": sch.Sessions[i].ID, "patient_id": p.patientID, "channel": "online"})
		r.decode(t, &b)
		if r.status != 201 {
			t.Fatalf("book = %d %s", r.status, r.body)
		}
		return b.ID
	}
	b1, b2 := book(p1, 0), book(p2, 1)
	clerkA, clerkB := "00000000-0000-4000-8000-0000000025a1", "00000000-0000-4000-8000-0000000025b1"
	s0, s1 := sch.Sessions[0].ID, sch.Sessions[1].ID
	for _, row := range [][3]string{
		{clerkA, "desk_booking", "booking:" + b1},
		{clerkA, "checkin", "booking:" + b1},
		{clerkB, "desk_booking", "booking:" + b2},
		{clerkB, "session_stop", "session:" + s0},
		{clerkA, "extra_slots", "session:" + s1},
	} {
		_, err := svc.pool.Exec(ctx, `INSERT INTO audit_log (id, ts, actor_id, actor_role, action, target, reason, hospital_id)
			VALUES (gen_random_uuid(), now(), $1::UUID, 'clerk', $2, $3, 'test', $4::UUID)`, row[0], row[1], row[2], h)
		testenv.Must(t, err, "insert an audit row")
	}
	read := func(q url.Values) (int, []string, reply) {
		r := svc.do("GET", "/v1/admin/audit?"+q.Encode(), admin, nil)
		var page []struct {
			Action string `json:"action"`
			Actor  string `json:"actor_id"`
		}
		if r.status == 200 {
			r.decode(t, &page)
		}
		var acts []string
		for _, e := range page {
			acts = append(acts, e.Action)
		}
		return r.status, acts, r
	}
	for _, c := range []struct {
		name string
		q    url.Values
		want int
	}{
		{"clerk A", url.Values{"actor": {clerkA}}, 3},
		{"clerk A's desk bookings", url.Values{"actor": {clerkA}, "action": {"desk_booking"}}, 1},
		{"session 0", url.Values{"session": {s0}}, 3},
		{"clerk B in session 0", url.Values{"session": {s0}, "actor": {clerkB}}, 1},
	} {
		st, acts, r := read(c.q)
		if st != 200 || len(acts) != c.want {
			t.Errorf("%s: %d %v, want 200 with %d rows (%s)", c.name, st, acts, c.want, r.body)
		}
	}
	for _, bad := range []url.Values{{"actor": {"clerk-a"}}, {"session": {"s0"}}} {
		if st, _, r := read(bad); st != 400 || r.code != "invalid_field" {
			t.Errorf("%v: %d %s, want 400 invalid_field", bad, st, r.body)
		}
	}
}
