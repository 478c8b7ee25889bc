package main

import (
	"testing"
	"time"

	"fairslot/internal/booking"
)

// TestChangeAccountPhone: patients change numbers, and carriers recycle
// the old ones (运营商回收号码). There was no way to change an account's
// number: its holder could not move to a new one, and whoever got the old
// number could never register with it (409 phone_taken). An account
// changes its own number with its password: the other sessions end (the
// answer carries a fresh token for this one), the old number logs in no
// more and is free to register, the new one logs in. A number another
// account logs in with is taken; a wrong password changes nothing. A
// family member the account gave its own number follows it to the new one.
func TestChangeAccountPhone(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 2)
	svc := startService(t, sch, nil)
	alice, bob := svc.newPatient(71), svc.newPatient(72)
	if r := svc.do("POST", "/v1/bookings", alice.token, map[string]string{"session_id": sch.Sessions[0].ID, "patient_id": alice.patientID}); r.status != 201 {
		t.Fatalf("alice books = %d %s", r.status, r.body)
	}
	password := "password-" + alice.phone
	r := svc.do("POST", "/v1/patients", alice.token, map[string]any{"id_type": "resident_id", "id_number": residentID(171),
		"name": "测试丁", "relationship": "parent", "phone": alice.phone})
	var parent struct {
		ID string `json:"patient_id"`
	}
	if r.decode(t, &parent); r.status != 201 {
		t.Fatalf("add a parent with alice's number: %d %s", r.status, r.body)
	}
	var other struct{ Token string }
	svc.do("POST", "/v1/auth/login", "", map[string]string{"phone": alice.phone, "password": password}).decode(t, &other)
	stranger := map[string]string{"phone": alice.phone, "password": "stranger password 1"}
	if r := svc.do("POST", "/v1/accounts", "", stranger); r.status != 409 || r.code != "phone_taken" {
		t.Fatalf("the number's next holder registers = %d %s, want 409 phone_taken while alice holds it", r.status, r.body)
	}

	const newNumber = "13900000071"
	for _, tc := range []struct {
		what         string
		body         map[string]string
		status       int
		code         string
		stillAllowed bool
	}{
		{"a wrong password", map[string]string{"password": "wrong password 1", "phone": newNumber}, 401, "invalid_credentials", true},
		{"no password", map[string]string{"phone": newNumber}, 400, "invalid_field", true},
		{"not a mobile number", map[string]string{"password": password, "phone": "12345"}, 400, "invalid_phone", true},
		{"bob's number", map[string]string{"password": password, "phone": bob.phone}, 409, "phone_taken", true},
	} {
		if r := svc.do("POST", "/v1/auth/phone", alice.token, tc.body); r.status != tc.status || r.code != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.what, r.status, r.body, tc.status, tc.code)
		}
	}
	if r := svc.do("GET", "/v1/patients", other.Token, nil); r.status != 200 {
		t.Fatalf("a refused change ended the other session: %d %s", r.status, r.body)
	}

	r = svc.do("POST", "/v1/auth/phone", alice.token, map[string]string{"password": password, "phone": newNumber})
	var changed struct {
		Token string
	}
	if r.decode(t, &changed); r.status != 200 || changed.Token == "" {
		t.Fatalf("change the number = %d %s, want 200 with a token", r.status, r.body)
	}
	if r := svc.do("GET", "/v1/patients", other.Token, nil); r.status != 401 {
		t.Errorf("the other session after the change = %d, want 401", r.status)
	}
	if r := svc.do("GET", "/v1/bookings", changed.Token, nil); r.status != 200 {
		t.Errorf("the new token = %d %s, want 200", r.status, r.body)
	}
	if r := svc.do("POST", "/v1/auth/login", "", map[string]string{"phone": alice.phone, "password": password}); r.status != 401 {
		t.Errorf("login with the old number = %d, want 401", r.status)
	}
	if r := svc.do("POST", "/v1/auth/login", "", map[string]string{"phone": newNumber, "password": password}); r.status != 200 {
		t.Errorf("login with the new number = %d %s, want 200", r.status, r.body)
	}
	if r := svc.do("POST", "/v1/accounts", "", stranger); r.status != 201 {
		t.Errorf("the old number's next holder registers = %d %s, want 201", r.status, r.body)
	}
	// The parent given alice's number follows her to the new one.
	var list []struct {
		ID    string `json:"patient_id"`
		Phone string `json:"phone"`
	}
	svc.do("GET", "/v1/patients", changed.Token, nil).decode(t, &list)
	for _, p := range list {
		if p.ID == parent.ID && p.Phone != "139****0071" {
			t.Errorf("the parent given alice's old number has %q after the change, want 139****0071", p.Phone)
		}
	}
	if n := svc.count(`SELECT count(*) FROM audit_log WHERE action = 'account_phone_changed' AND target LIKE 'account:%' AND reason NOT LIKE '%'||$1||'%'`, newNumber); n != 1 {
		t.Errorf("%d audit rows of the change without the number in clear, want 1", n)
	}
}

// TestOthersMembersCannotBlockTheHoldersNumber (review18c L4): a number
// listed as a family member's contact on the most accounts allowed (3)
// refused its holder's own move of their login to it (422 phone_limit),
// though registering with it was allowed: three throw-away accounts that
// give a victim's new number to made-up members kept the victim on the
// old one. A login number is its holder's; the accounts-per-phone rule
// limits how many accounts list a number for their members, and it still
// does after the move.
func TestOthersMembersCannotBlockTheHoldersNumber(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 2)
	svc := startService(t, sch, nil)
	alice := svc.newPatient(91)
	const crowded = "13900000097"
	for n := 92; n < 95; n++ {
		p := svc.newPatient(n)
		if r := svc.do("POST", "/v1/patients", p.token, map[string]any{"id_type": "resident_id", "id_number": residentID(n + 100),
			"name": "测试乙", "relationship": "parent", "phone": crowded}); r.status != 201 {
			t.Fatalf("add a member with the crowded number: %d %s", r.status, r.body)
		}
	}
	r := svc.do("POST", "/v1/auth/phone", alice.token, map[string]string{"password": "password-" + alice.phone, "phone": crowded})
	if r.status != 200 {
		t.Fatalf("alice moves her login to the number three strangers listed = %d %s, want 200", r.status, r.body)
	}
	if r := svc.do("POST", "/v1/auth/login", "", map[string]string{"phone": crowded, "password": "password-" + alice.phone}); r.status != 200 {
		t.Errorf("login with the new number = %d %s, want 200", r.status, r.body)
	}
	// The rule still holds for members: a fourth account may not list it.
	p := svc.newPatient(95)
	if r := svc.do("POST", "/v1/patients", p.token, map[string]any{"id_type": "resident_id", "id_number": residentID(195),
		"name": "测试乙", "relationship": "parent", "phone": crowded}); r.status != 422 || r.code != "phone_limit" {
		t.Errorf("a fourth account lists the number = %d %s, want 422 phone_limit", r.status, r.body)
	}
}

// TestChangeMemberPhone: a family member's contact number changes in
// place, bookings pending or not. It used to change only by removing the
// member and adding them again, which a pending booking refuses, so a
// parent's old number (recycled, or someone else's now) kept its say
// until every booking was over.
func TestChangeMemberPhone(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 2)
	svc := startService(t, sch, nil)
	alice := svc.newPatient(81)
	r := svc.do("POST", "/v1/patients", alice.token, map[string]any{"id_type": "resident_id", "id_number": residentID(181),
		"name": "测试丙", "relationship": "parent", "phone": "13900000081"})
	var parent struct {
		ID string `json:"patient_id"`
	}
	if r.decode(t, &parent); r.status != 201 {
		t.Fatalf("add the parent: %d %s", r.status, r.body)
	}
	if r := svc.do("POST", "/v1/bookings", alice.token, map[string]string{"session_id": sch.Sessions[0].ID, "patient_id": parent.ID}); r.status != 201 {
		t.Fatalf("book the parent = %d %s", r.status, r.body)
	}
	const crowded = "13900000087"
	for n := 83; n < 86; n++ {
		p := svc.newPatient(n)
		if r := svc.do("POST", "/v1/patients", p.token, map[string]any{"id_type": "resident_id", "id_number": residentID(n + 100),
			"name": "测试乙", "relationship": "parent", "phone": crowded}); r.status != 201 {
			t.Fatalf("add a member with the crowded number: %d %s", r.status, r.body)
		}
	}
	path := "/v1/patients/" + parent.ID
	pw := "password-" + alice.phone
	for _, tc := range []struct {
		what   string
		body   map[string]any
		status int
		code   string
	}{
		// The password re-entered (review19c L6): a borrowed session
		// gave a member's say on the phone to its borrower.
		{"a number without the password", map[string]any{"phone": "13900000089"}, 400, "invalid_field"},
		{"a number with a wrong password", map[string]any{"phone": "13900000089", "password": "not-the-password"}, 401, "invalid_credentials"},
		{"not a mobile number", map[string]any{"phone": "12345", "password": pw}, 400, "invalid_phone"},
		{"a number on 3 accounts", map[string]any{"phone": crowded, "password": pw}, 422, "phone_limit"},
		{"nothing to change", map[string]any{}, 400, "invalid_field"},
		// All or nothing: a relationship beside a number refused is not
		// applied either (it was, and the number refused after it).
		{"a relationship and not a mobile number", map[string]any{"relationship": "spouse", "phone": "12345", "password": pw}, 400, "invalid_phone"},
		{"a relationship and a number on 3 accounts", map[string]any{"relationship": "spouse", "phone": crowded, "password": pw}, 422, "phone_limit"},
		{"a number and a relationship refused", map[string]any{"relationship": "self", "phone": "13900000089", "password": pw}, 409, "patient_is_self"},
	} {
		if r := svc.do("PATCH", path, alice.token, tc.body); r.status != tc.status || r.code != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.what, r.status, r.body, tc.status, tc.code)
		}
	}
	if n := svc.count(`SELECT count(*) FROM patients WHERE id = $1 AND relationship = 'parent' AND phone_masked = '139****0081'`, parent.ID); n != 1 {
		t.Errorf("the member was changed by refused edits")
	}
	if n := svc.count(`SELECT count(*) FROM audit_log WHERE action IN ('patient_edited', 'patient_phone_changed') AND target = $1`,
		"patient:"+parent.ID); n != 0 {
		t.Errorf("%d audit rows of refused edits, want none", n)
	}
	r = svc.do("PATCH", path, alice.token, map[string]any{"relationship": "spouse", "phone": "13900000088", "password": pw})
	if n := svc.count(`SELECT count(*) FROM patients WHERE id = $1 AND relationship = 'spouse' AND phone_masked = '139****0088'`, parent.ID); r.status != 200 || n != 1 {
		t.Errorf("change both = %d %s, and %d rows changed, want 200 and both changed", r.status, r.body, n)
	}
	svc.do("PATCH", path, alice.token, map[string]any{"relationship": "parent"})
	var got struct {
		PhoneMasked string `json:"phone"`
	}
	r = svc.do("PATCH", path, alice.token, map[string]any{"phone": "13900000082", "password": pw})
	if r.decode(t, &got); r.status != 200 || got.PhoneMasked != "139****0082" {
		t.Fatalf("change the parent's number while a booking is pending = %d %s, want 200 with 139****0082", r.status, r.body)
	}
	if n := svc.count(`SELECT count(*) FROM bookings WHERE patient_id = $1 AND status = 'confirmed'`, parent.ID); n != 1 {
		t.Errorf("the parent's booking after the change: %d confirmed, want 1", n)
	}
	r = svc.do("PATCH", path, alice.token, map[string]any{"phone": "", "password": pw})
	got.PhoneMasked = ""
	if r.decode(t, &got); r.status != 200 || got.PhoneMasked != "" {
		t.Errorf("clear the parent's number = %d %s, want 200 without a number", r.status, r.body)
	}
	if n := svc.count(`SELECT count(*) FROM audit_log WHERE action = 'patient_phone_changed' AND target = $1 AND reason NOT LIKE '%13900000082%' AND reason NOT LIKE '%13900000081%' AND reason NOT LIKE '%13900000088%'`,
		"patient:"+parent.ID); n != 3 {
		t.Errorf("%d audit rows of the member's number changes without the number in clear, want 3", n)
	}
}

// TestOperatorCancelsForTheCallerOverTheAPI is review18b's widening over
// the API: an operator booked 钱桂英 on a call from one number; a call from
// another with her ID number and name was refused (already_booked). The
// second number has no say in the booking (403), nor has a caller who
// gives another name (404, as if there were none); an operator's DELETE
// names no caller (403); the first number, with her ID number and name,
// cancels it.
func TestOperatorCancelsForTheCallerOverTheAPI(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 1)
	svc := startService(t, sch, nil)
	operator := svc.staffLogin(booking.RoleOperator, 91)
	const first, second = "13644440001", "13655550002"
	who := map[string]string{"id_type": "resident_id", "id_number": residentID(191), "name": "钱桂英"}
	r := svc.do("POST", "/v1/phone/bookings", operator, with(who, "caller_phone", first, "session_id", sch.Sessions[0].ID, "privacy_consent", booking.PrivacyNoticeVersion))
	var b struct {
		ID string `json:"booking_id"`
	}
	if r.decode(t, &b); r.status != 201 {
		t.Fatalf("book on a call from the first number = %d %s", r.status, r.body)
	}
	if r := svc.do("POST", "/v1/phone/bookings", operator, with(who, "caller_phone", second, "session_id", sch.Sessions[0].ID)); r.status != 409 || r.code != "already_booked" {
		t.Fatalf("the second number's attempt = %d %s, want 409 already_booked", r.status, r.body)
	}
	for _, tc := range []struct {
		what   string
		body   map[string]string
		status int
		code   string
	}{
		{"from the second number", with(who, "caller_phone", second, "booking_id", b.ID), 403, "forbidden"},
		{"another name", with(who, "caller_phone", first, "booking_id", b.ID, "name", "钱某某"), 404, "booking_not_found"},
	} {
		if r := svc.do("POST", "/v1/phone/cancellations", operator, tc.body); r.status != tc.status || r.code != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.what, r.status, r.body, tc.status, tc.code)
		}
	}
	if r := svc.do("DELETE", "/v1/bookings/"+b.ID, operator, nil); r.status != 403 || r.code != "forbidden" {
		t.Errorf("an operator's DELETE = %d %s, want 403 forbidden", r.status, r.body)
	}
	if n := svc.count(`SELECT count(*) FROM bookings WHERE id = $1 AND status = 'confirmed'`, b.ID); n != 1 {
		t.Fatalf("the booking was cancelled without its number")
	}
	if r := svc.do("POST", "/v1/phone/cancellations", operator, with(who, "caller_phone", first, "booking_id", b.ID)); r.status != 200 {
		t.Errorf("from the first number = %d %s, want 200", r.status, r.body)
	}
	if n := svc.count(`SELECT count(*) FROM bookings WHERE id = $1 AND status = 'cancelled'`, b.ID); n != 1 {
		t.Errorf("the booking is not cancelled from the number it was made from")
	}
}
