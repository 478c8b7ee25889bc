package web

import (
	"testing"
	"time"

	"fairslot/internal/testenv"
)

// TestAuditFiltersInBrowser is review25 M3 on the console: the audit page
// filters by actor (a staff account id), action and session, as the API
// does, the filters kept across the day chips, and "show all" clears them.
// An inspector reads one clerk's desk bookings among another clerk's.
func TestAuditFiltersInBrowser(t *testing.T) {
	s := newSite(t)
	password := "admin password 1"
	adminPhone := s.newAdmin(password)
	clerkA, clerkB := "00000000-0000-4000-8000-0000000025a1", "00000000-0000-4000-8000-0000000025b1"
	for _, row := range [][3]string{
		{clerkA, "desk_booking", "booking:00000000-0000-4000-8000-00000000b001"},
		{clerkA, "desk_booking", "booking:00000000-0000-4000-8000-00000000b002"},
		{clerkA, "checkin", "booking:00000000-0000-4000-8000-00000000b001"},
		{clerkB, "desk_booking", "booking:00000000-0000-4000-8000-00000000b003"},
	} {
		_, err := s.db.Pool().Exec(t.Context(), `INSERT INTO audit_log (id, ts, actor_id, actor_role, action, target, reason)
			VALUES (gen_random_uuid(), now(), $1::UUID, 'clerk', $2, $3, 'test')`, row[0], row[1], row[2])
		testenv.Must(t, err, "insert an audit row")
	}
	b := newBrowser(t, s.base, 3*time.Minute)
	b.open("/admin/login")
	b.fill("#login-form input[name=phone]", adminPhone)
	b.fill("#login-form input[name=password]", password)
	b.click("#login-form button[type=submit]", "/admin")
	b.open("/admin/audit")
	b.count("#audit tbody tr.a-desk_booking", 3)
	b.fill("#audit-filter input[name=actor]", clerkA)
	b.set("#audit-filter select[name=action]", "desk_booking")
	b.click("#audit-filter button[type=submit]", "/admin/audit?")
	b.count("#audit tbody tr", 2)
	b.count("#audit tbody tr.a-desk_booking", 2)
	b.shot("audit-25-filtered")
	b.phoneShot("audit-25-filtered-390")
	b.click(`#days a[href*="days=30"]`, "/admin/audit?")
	b.count("#audit tbody tr", 2)                     // the filters stay with the period
	b.click("#clear-filters", "/admin/audit?days=30") // the period stays
	b.count("#audit tbody tr.a-desk_booking", 3)
}
