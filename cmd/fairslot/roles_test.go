package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// staffLogin creates a staff account with the CLI and logs it in: a clerk
// or an operator of the schedule's first hospital, a platform-wide admin.
func (s *service) staffLogin(role booking.Role, n int) string {
	s.t.Helper()
	hospital := s.hospital
	if role == booking.RoleAdmin {
		hospital = ""
	}
	return s.staffLoginAt(role, n, hospital)
}

// staffLoginAt creates a staff account of a hospital ("" for none) with the
// CLI and logs it in.
func (s *service) staffLoginAt(role booking.Role, n int, hospital string) string {
	s.t.Helper()
	phone, password := fmt.Sprintf("135%08d", n), "staff-password-1"
	args := []string{"staff", "add", "--role", string(role), "--phone", phone}
	if hospital != "" {
		args = append(args, "--hospital", hospital)
	}
	s.runWith(map[string]string{"FAIRSLOT_STAFF_PASSWORD": password}, args...)
	var tok struct{ Token string }
	s.do("POST", "/v1/auth/login", "", map[string]string{"phone": phone, "password": password}).decode(s.t, &tok)
	if tok.Token == "" {
		s.t.Fatalf("%s login failed", role)
	}
	return tok.Token
}

// todaySession adds to sch a session of today that started an hour ago and
// ends in three, with an on-site pool: what the desk works on.
func todaySession(t *testing.T, sch *booking.Schedule) booking.Session {
	t.Helper()
	now := time.Now()
	s, err := booking.BuildSession(booking.SessionSpec{
		HospitalID: sch.Hospitals[0].ID, DepartmentID: sch.Departments[0].ID, DoctorID: sch.Doctors[0].ID,
		VisitDate: now.In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly), Period: "evening",
		StartsAt: now.Add(-time.Hour), EndsAt: now.Add(3 * time.Hour),
		Quotas: []booking.ChannelQuota{
			{Channel: booking.ChannelOnline, Quota: 2, ReleaseAt: now.Add(-24 * time.Hour)},
			{Channel: booking.ChannelOnsite, Quota: 4, ReleaseAt: now.Add(-24 * time.Hour)},
		},
	})
	testenv.Must(t, err, "build today's session")
	sch.Sessions = append(sch.Sessions, s)
	return s
}

// TestRoles checks every endpoint against the roles that must not use it,
// and that a patient never sees or touches another account's patients,
// bookings or waitlist entries.
func TestRoles(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 1)
	today := todaySession(t, &sch)
	tomorrow := sch.Sessions[0]
	svc := startService(t, sch, nil)
	alice, bob, carol := svc.newPatient(1), svc.newPatient(2), svc.newPatient(3)
	operator := svc.staffLogin(booking.RoleOperator, 1)
	clerk := svc.staffLogin(booking.RoleClerk, 2)
	admin := svc.staffLogin(booking.RoleAdmin, 3)

	// bob takes tomorrow's only online slot; carol waits for it.
	var bobs struct {
		ID string `json:"booking_id"`
	}
	svc.do("POST", "/v1/bookings", bob.token, map[string]string{"session_id": tomorrow.ID, "patient_id": bob.patientID}).decode(t, &bobs)
	var carols struct {
		ID string `json:"waitlist_id"`
	}
	r := svc.do("POST", "/v1/waitlist", carol.token, map[string]string{"session_id": tomorrow.ID, "patient_id": carol.patientID})
	if r.status != 201 {
		t.Fatalf("carol joins the waitlist = %d %s, want 201", r.status, r.body)
	}
	r.decode(t, &carols)

	walkIn := map[string]string{"privacy_consent": booking.PrivacyNoticeVersion, "id_type": "resident_id", "id_number": residentID(50), "name": "周七", "session_id": today.ID}
	r = svc.do("POST", "/v1/desk/bookings", clerk, walkIn)
	if r.status != 201 {
		t.Fatalf("walk-in = %d %s, want 201", r.status, r.body)
	}
	var walk struct {
		ID string `json:"booking_id"`
	}
	r.decode(t, &walk)
	caller := map[string]string{"privacy_consent": booking.PrivacyNoticeVersion, "caller_phone": "13700000099", "id_type": "resident_id", "id_number": residentID(51), "name": "吴八", "session_id": tomorrow.ID}
	checkIn := map[string]string{"booking_id": walk.ID, "id_type": "resident_id", "id_number": residentID(50), "name": "周七"}
	reissue := map[string]string{"booking_id": walk.ID, "reason": "did not come"}
	extra := map[string]any{"count": 1, "reason": "urgent", "authorised_by": "Dr Wang"}
	pools := map[string]any{"from": "online", "to": "onsite", "count": 1, "reason": "unsold"}
	lookup := map[string]string{"id_type": "resident_id", "id_number": residentID(50), "identity_check": "card_read"}

	tests := []struct {
		name         string
		token        string
		method, path string
		body         any
		status       int
		code         string
	}{
		// Another account's things are invisible: 404, never 403.
		{"alice reads bob's booking", alice.token, "GET", "/v1/bookings/" + bobs.ID, nil, 404, "booking_not_found"},
		{"alice cancels bob's booking", alice.token, "DELETE", "/v1/bookings/" + bobs.ID, nil, 404, "booking_not_found"},
		{"alice books with bob's patient", alice.token, "POST", "/v1/bookings", map[string]string{"session_id": tomorrow.ID, "patient_id": bob.patientID}, 404, "patient_not_found"},
		{"alice waitlists bob's patient", alice.token, "POST", "/v1/waitlist", map[string]string{"session_id": tomorrow.ID, "patient_id": bob.patientID}, 404, "patient_not_found"},
		{"alice leaves carol's waitlist entry", alice.token, "DELETE", "/v1/waitlist/" + carols.ID, nil, 404, "waitlist_not_found"},
		// Patients use no staff endpoint.
		{"patient books by phone", alice.token, "POST", "/v1/phone/bookings", caller, 403, "channel_forbidden"},
		{"patient books a walk-in", alice.token, "POST", "/v1/desk/bookings", walkIn, 403, "channel_forbidden"},
		{"patient books a stranger online through the desk", alice.token, "POST", "/v1/desk/bookings", map[string]string{"id_type": "resident_id", "id_number": residentID(53), "name": "冯十", "session_id": today.ID, "channel": "online"}, 400, "invalid_channel"},
		{"operator books on the phone channel through the desk", operator, "POST", "/v1/desk/bookings", map[string]string{"id_type": "resident_id", "id_number": residentID(53), "name": "冯十", "session_id": tomorrow.ID, "channel": "phone"}, 400, "invalid_channel"},
		{"patient checks in", alice.token, "POST", "/v1/desk/checkins", checkIn, 403, "forbidden"},
		{"patient reissues", alice.token, "POST", "/v1/desk/reissue", reissue, 403, "forbidden"},
		{"patient adds slots", alice.token, "POST", "/v1/desk/sessions/" + today.ID + "/extra-slots", extra, 403, "forbidden"},
		{"patient looks people up", alice.token, "POST", "/v1/desk/lookup", lookup, 403, "forbidden"},
		{"patient moves pools", alice.token, "POST", "/v1/admin/sessions/" + today.ID + "/pools", pools, 403, "forbidden"},
		// An operator books by phone, nothing at the desk.
		{"operator checks in", operator, "POST", "/v1/desk/checkins", checkIn, 403, "forbidden"},
		{"operator books a walk-in", operator, "POST", "/v1/desk/bookings", walkIn, 403, "channel_forbidden"},
		{"operator reissues", operator, "POST", "/v1/desk/reissue", reissue, 403, "forbidden"},
		{"operator adds slots", operator, "POST", "/v1/desk/sessions/" + today.ID + "/extra-slots", extra, 403, "forbidden"},
		{"operator moves pools", operator, "POST", "/v1/admin/sessions/" + today.ID + "/pools", pools, 403, "forbidden"},
		{"operator books online", operator, "POST", "/v1/bookings", map[string]string{"session_id": today.ID, "patient_id": alice.patientID}, 403, "channel_forbidden"},
		{"operator adds a patient", operator, "POST", "/v1/patients", map[string]string{"id_type": "resident_id", "id_number": residentID(52), "name": "郑九"}, 403, "forbidden"},
		{"operator cancels a walk-in", operator, "DELETE", "/v1/bookings/" + walk.ID, nil, 403, "forbidden"},
		// A clerk works the desk, not the phone or the admin console.
		{"clerk books by phone", clerk, "POST", "/v1/phone/bookings", caller, 403, "channel_forbidden"},
		{"clerk moves pools", clerk, "POST", "/v1/admin/sessions/" + today.ID + "/pools", pools, 403, "forbidden"},
		{"clerk joins a waitlist", clerk, "POST", "/v1/waitlist", map[string]string{"session_id": tomorrow.ID, "patient_id": alice.patientID}, 403, "forbidden"},
		// An admin decides policy, not desk work.
		{"admin checks in", admin, "POST", "/v1/desk/checkins", checkIn, 403, "forbidden"},
		{"admin books by phone", admin, "POST", "/v1/phone/bookings", caller, 403, "channel_forbidden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := svc.do(tt.method, tt.path, tt.token, tt.body)
			if r.status != tt.status || r.code != tt.code {
				t.Errorf("%s %s = %d %q, want %d %q (%s)", tt.method, tt.path, r.status, r.code, tt.status, tt.code, r.body)
			}
		})
	}

	// Lists show only one's own.
	var list []map[string]any
	svc.do("GET", "/v1/bookings", alice.token, nil).decode(t, &list)
	if len(list) != 0 {
		t.Errorf("alice's bookings = %v, want none", list)
	}
	svc.do("GET", "/v1/patients", alice.token, nil).decode(t, &list)
	if len(list) != 1 || list[0]["patient_id"] != alice.patientID {
		t.Errorf("alice's patients = %v, want only her own", list)
	}
	svc.do("GET", "/v1/waitlist", alice.token, nil).decode(t, &list)
	if len(list) != 0 {
		t.Errorf("alice's waitlist = %v, want none", list)
	}

	// And each role's own work succeeds.
	if r := svc.do("POST", "/v1/phone/bookings", operator, caller); r.status != 201 {
		t.Errorf("operator phone booking = %d %s, want 201", r.status, r.body)
	}
	mismatch := map[string]string{"booking_id": walk.ID, "id_type": "resident_id", "id_number": residentID(50), "name": "周八"}
	// The walk-in verified 周七: another name is not the verified one.
	if r := svc.do("POST", "/v1/desk/checkins", clerk, mismatch); r.status != 409 || r.code != "verified_name_differs" {
		t.Errorf("check-in with the wrong name = %d %q, want 409 verified_name_differs", r.status, r.code)
	}
	if r := svc.do("POST", "/v1/desk/checkins", clerk, checkIn); r.status != 200 {
		t.Errorf("check-in = %d %s, want 200", r.status, r.body)
	}
	if r := svc.do("POST", "/v1/desk/sessions/"+today.ID+"/extra-slots", clerk, extra); r.status != 201 {
		t.Errorf("extra slots = %d %s, want 201", r.status, r.body)
	}
	if r := svc.do("POST", "/v1/admin/sessions/"+today.ID+"/pools", admin, pools); r.status != 200 {
		t.Errorf("pool move = %d %s, want 200", r.status, r.body)
	}
	if r := svc.do("POST", "/v1/desk/lookup", clerk, lookup); r.status != 200 {
		t.Errorf("lookup = %d %s, want 200", r.status, r.body)
	}
	if n := svc.count(`SELECT count(*) FROM audit_log WHERE action IN ('checkin_refused', 'extra_slots', 'move_pool')`); n != 3 {
		t.Errorf("%d audit rows for the refused check-in, the extra slots and the pool move, want 3", n)
	}
	// A repeat of an extra-slots request with the same key adds nothing.
	first := svc.do("POST", "/v1/desk/sessions/"+today.ID+"/extra-slots", clerk, extra, "Idempotency-Key", "extra-1")
	again := svc.do("POST", "/v1/desk/sessions/"+today.ID+"/extra-slots", clerk, extra, "Idempotency-Key", "extra-1")
	if first.status != 201 || string(first.body) != string(again.body) {
		t.Errorf("extra slots twice with one key = %d %s then %d %s, want the same answer", first.status, first.body, again.status, again.body)
	}
	if n := svc.count(`SELECT count(*) FROM slots WHERE session_id = $1`, today.ID); n != 6+2 {
		t.Errorf("%d slots in today's session, want 8 (6 + one extra + one keyed extra)", n)
	}
	// A desk cancellation takes an Idempotency-Key too: a repeat of one that
	// committed answers the booking, cancelled, not booking_not_active.
	var withdrawn struct {
		ID string `json:"booking_id"`
	}
	svc.do("POST", "/v1/desk/bookings", clerk, map[string]string{"privacy_consent": booking.PrivacyNoticeVersion, "id_type": "resident_id", "id_number": residentID(54), "name": "陈十一",
		"session_id": today.ID}).decode(t, &withdrawn)
	bad := svc.do("POST", "/v1/desk/cancellations", clerk, map[string]string{"booking_id": withdrawn.ID, "reason_code": "no_show", "reason": "withdraws"})
	if bad.status != 400 || bad.code != "invalid_field" {
		t.Errorf("a desk cancellation with an unknown reason_code = %d %s, want 400 invalid_field", bad.status, bad.body)
	}
	deskCancel := map[string]string{"booking_id": withdrawn.ID, "reason_code": "registration_error", "reason": "booked on the wrong doctor"}
	var answers [2]struct {
		Booking struct {
			ID     string `json:"booking_id"`
			Status string `json:"status"`
		} `json:"booking"`
	}
	for i := range answers {
		r := svc.do("POST", "/v1/desk/cancellations", clerk, deskCancel, "Idempotency-Key", "cancel-1")
		if r.status != 200 {
			t.Fatalf("desk cancellation %d with one key = %d %s, want 200", i+1, r.status, r.body)
		}
		r.decode(t, &answers[i])
	}
	if answers[1] != answers[0] || answers[0].Booking.Status != "cancelled" || answers[0].Booking.ID != withdrawn.ID {
		t.Errorf("desk cancellation twice with one key answered %+v then %+v, want the walk-in cancelled both times", answers[0], answers[1])
	}
	if r := svc.do("POST", "/v1/desk/cancellations", clerk, deskCancel); r.status != 409 || r.code != "booking_not_active" {
		t.Errorf("a repeat without the key = %d %s, want 409 booking_not_active", r.status, r.body)
	}
	svc.run("reconcile", "--check")
}

// TestAuditTimesInHospitalZone: GET /v1/admin/audit gives each row's time
// in its hospital's zone with the offset (+08:00 for Asia/Shanghai), as
// every session and booking time is, a platform-wide row too; review9 read
// "…Z" there. The time is still the instant written: within the test's run.
func TestAuditTimesInHospitalZone(t *testing.T) {
	before := time.Now().Add(-time.Second)
	svc := startService(t, schedule(t, time.Now().Add(time.Hour), 1), nil)
	svc.staffLoginAt(booking.RoleAdmin, 1, svc.hospital) // a row in the hospital
	platform := svc.staffLogin(booking.RoleAdmin, 2)     // a platform-wide row
	after := time.Now().Add(time.Second)
	r := svc.do("GET", "/v1/admin/audit", platform, nil)
	if r.status != 200 {
		t.Fatalf("audit: %d %s", r.status, r.body)
	}
	var rows []struct {
		TS     string `json:"ts"`
		Action string `json:"action"`
		Target string `json:"target"`
	}
	r.decode(t, &rows)
	if len(rows) < 2 {
		t.Fatalf("audit rows %d, want the two staff_added at least: %s", len(rows), r.body)
	}
	for _, row := range rows {
		ts, err := time.Parse(time.RFC3339, row.TS)
		if err != nil {
			t.Errorf("%s %s: ts %q is not RFC 3339: %v", row.Action, row.Target, row.TS, err)
			continue
		}
		if _, offset := ts.Zone(); offset != 8*3600 || !strings.HasSuffix(row.TS, "+08:00") {
			t.Errorf("%s %s: ts %q, want the hospital's +08:00", row.Action, row.Target, row.TS)
		}
		if ts.Before(before) || ts.After(after) {
			t.Errorf("%s %s: ts %s, want between %s and %s", row.Action, row.Target, ts, before, after)
		}
	}
}

// TestOperatorLooksUpCallersOverTheAPI: over the API an operator looks a
// person up as the phone console does, as a caller — the number they ring
// from and their name beside the ID number — and hears of the bookings
// those have a say in. The lookup used to take the ID number alone from an
// operator and list every booking of the person, those their own account
// made online included: what the phone console had been fixed to hide
// (review10a's H3) came back to a call centre built on the API.
func TestOperatorLooksUpCallersOverTheAPI(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 1)
	svc := startService(t, sch, nil)
	alice := svc.newPatient(61)
	r := svc.do("POST", "/v1/bookings", alice.token, map[string]string{"session_id": sch.Sessions[0].ID, "patient_id": alice.patientID})
	if r.status != 201 {
		t.Fatalf("alice books online = %d %s", r.status, r.body)
	}
	var booked struct {
		ID string `json:"booking_id"`
	}
	r.decode(t, &booked)
	operator := svc.staffLogin(booking.RoleOperator, 61)
	clerk := svc.staffLogin(booking.RoleClerk, 62)
	card := map[string]string{"id_type": "resident_id", "id_number": residentID(61)}
	name := "测试" + string(rune('甲'+61%10))

	lists := func(r reply) bool { return strings.Contains(string(r.body), booked.ID) }
	if r := svc.do("POST", "/v1/desk/lookup", operator, card); r.status != 400 || r.code != "invalid_field" {
		t.Errorf("an operator's lookup by the ID number alone = %d %s, want 400 invalid_field", r.status, r.body)
	}
	for _, c := range []struct {
		what, from string
		lists      bool
	}{
		{"from another phone", "13700009999", false},
		{"from the account's phone", alice.phone, true},
	} {
		r := svc.do("POST", "/v1/desk/lookup", operator, with(card, "name", name, "caller_phone", c.from))
		if r.status != 200 || lists(r) != c.lists {
			t.Errorf("an operator's lookup of the caller %s = %d, lists the online booking %v, want 200 and %v\n%s", c.what, r.status, lists(r), c.lists, r.body)
		}
	}
	// The desk has the card in hand: the ID number is enough.
	if r := svc.do("POST", "/v1/desk/lookup", clerk, with(card, "identity_check", "card_shown")); r.status != 200 || !lists(r) {
		t.Errorf("the desk's lookup = %d, lists the online booking %v, want 200 and true\n%s", r.status, lists(r), r.body)
	}
}
