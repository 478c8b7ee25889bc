package main

import (
	"context"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestDeskReleasesARecycledNumber runs the release of a recycled number
// through the API (the console's path is TestDeskReleasesRecycledNumberInBrowser):
// a clerk with the new holder's card and the carrier's document seen takes
// the number off the account that still logs in with it, whose tokens end;
// the new holder registers with it; the old account's holder gets a new
// number at the desk with their own card and logs in with it. Refused: no
// document seen, the holder's own card, a non-clerk, and a restore for an
// account that has its number.
func TestDeskReleasesARecycledNumber(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 1)
	svc := startService(t, sch, nil)
	clerk, operator := svc.staffLogin(booking.RoleClerk, 193), svc.staffLogin(booking.RoleOperator, 194)
	alice, bob := svc.newPatient(191), svc.newPatient(192)
	card := func(n int, kv ...any) map[string]any {
		m := map[string]any{"id_type": "resident_id", "id_number": residentID(n), "name": "测试" + string(rune('甲'+n%10))}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	newHolder := map[string]string{"phone": alice.phone, "password": "new holder password 1"}
	if r := svc.do("POST", "/v1/accounts", "", newHolder); r.status != 409 || r.code != "phone_taken" {
		t.Fatalf("the new holder registers before the release = %d %s, want 409 phone_taken", r.status, r.body)
	}
	// A number whose account was used lately is still its holder's: a
	// carrier recycles a number only after months without use (review19c M1).
	if r := svc.do("POST", "/v1/desk/phone-releases", clerk, card(192, "phone", alice.phone, "carrier_proof_seen", true)); r.status != 409 || r.code != "number_in_use" {
		t.Errorf("release the number of an account used today = %d %s, want 409 number_in_use", r.status, r.body)
	}
	if r := svc.do("GET", "/v1/patients", alice.token, nil); r.status != 200 {
		t.Fatalf("a release refused as in use ended alice's session: %d %s", r.status, r.body)
	}
	// unused moves everything that says an account was used 100 days back.
	unused := func(p patient) {
		t.Helper()
		for _, q := range []string{
			`UPDATE booking_events SET ts = ts - INTERVAL '100 days' WHERE account_id = (SELECT account_id FROM patients WHERE id = $1)`,
			`UPDATE accounts SET created_at = created_at - INTERVAL '100 days', tokens_revoked_at = tokens_revoked_at - INTERVAL '100 days'
			  WHERE id = (SELECT account_id FROM patients WHERE id = $1)`,
		} {
			_, err := svc.pool.Exec(context.Background(), q, p.patientID)
			testenv.Must(t, err, "age the account")
		}
	}
	unused(alice)

	for _, tc := range []struct {
		what, token string
		body        map[string]any
		status      int
		code        string
	}{
		{"no carrier's document", clerk, card(192, "phone", alice.phone), 400, "invalid_field"},
		{"the holder's own card", clerk, card(191, "phone", alice.phone, "carrier_proof_seen", true), 422, "release_own_number"},
		{"an operator", operator, card(192, "phone", alice.phone, "carrier_proof_seen", true), 403, "forbidden"},
		{"a patient", bob.token, card(192, "phone", alice.phone, "carrier_proof_seen", true), 403, "forbidden"},
	} {
		if r := svc.do("POST", "/v1/desk/phone-releases", tc.token, tc.body); r.status != tc.status || r.code != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.what, r.status, r.body, tc.status, tc.code)
		}
	}
	if r := svc.do("GET", "/v1/patients", alice.token, nil); r.status != 200 {
		t.Fatalf("a refused release ended alice's session: %d %s", r.status, r.body)
	}

	// A blocked account's number stays where it is: released, it would be
	// free for a new, unblocked account of the same person (review19c M2).
	carol := svc.newPatient(196)
	_, err := svc.pool.Exec(context.Background(), `UPDATE accounts SET blocked = true, blocked_until = NULL
		WHERE id = (SELECT account_id FROM patients WHERE id = $1)`, carol.patientID)
	testenv.Must(t, err, "block carol's account")
	if r := svc.do("POST", "/v1/desk/phone-releases", clerk, card(192, "phone", carol.phone, "carrier_proof_seen", true)); r.status != 403 || r.code != "account_blocked" {
		t.Errorf("release a blocked account's number = %d %s, want 403 account_blocked", r.status, r.body)
	}
	if r := svc.do("POST", "/v1/accounts", "", map[string]string{"phone": carol.phone, "password": "new holder password 2"}); r.status != 409 || r.code != "phone_taken" {
		t.Errorf("register with the blocked account's number after the refusal = %d %s, want 409 phone_taken", r.status, r.body)
	}

	// One clerk releases at most 5 numbers in 24 hours.
	busy := svc.staffLogin(booking.RoleClerk, 197)
	for i := 0; i < 6; i++ {
		p := svc.newPatient(200 + i)
		unused(p)
		status, code := 200, ""
		if i == 5 {
			status, code = 429, "releases_limited"
		}
		if r := svc.do("POST", "/v1/desk/phone-releases", busy, card(192, "phone", p.phone, "carrier_proof_seen", true)); r.status != status || r.code != code {
			t.Errorf("the clerk's release #%d today = %d %s, want %d %s", i+1, r.status, r.body, status, code)
		}
	}

	r := svc.do("POST", "/v1/desk/phone-releases", clerk, card(192, "phone", alice.phone, "carrier_proof_seen", true))
	var released struct {
		Phone    string `json:"phone"`
		Released bool   `json:"released"`
	}
	if r.decode(t, &released); r.status != 200 || !released.Released || released.Phone == alice.phone || released.Phone == "" {
		t.Fatalf("release = %d %s, want 200 released with the number masked", r.status, r.body)
	}
	if r := svc.do("GET", "/v1/patients", alice.token, nil); r.status != 401 {
		t.Errorf("alice's session after the release = %d, want 401", r.status)
	}
	if r := svc.do("POST", "/v1/accounts", "", newHolder); r.status != 201 {
		t.Fatalf("the new holder registers after the release = %d %s, want 201", r.status, r.body)
	}
	if r := svc.do("POST", "/v1/auth/login", "", map[string]string{"phone": alice.phone, "password": "password-" + alice.phone}); r.status != 401 {
		t.Errorf("alice's password with the released number = %d, want 401", r.status)
	}

	const next = "13700000195"
	if r := svc.do("POST", "/v1/desk/phone-restores", clerk, card(192, "phone", next)); r.status != 422 || r.code != "account_not_released" {
		t.Errorf("restore bob's account, which has its number = %d %s, want 422 account_not_released", r.status, r.body)
	}
	if r := svc.do("POST", "/v1/desk/phone-restores", clerk, card(191, "phone", next)); r.status != 200 {
		t.Fatalf("restore alice's account = %d %s, want 200", r.status, r.body)
	}
	var tok struct{ Token string }
	r = svc.do("POST", "/v1/auth/login", "", map[string]string{"phone": next, "password": "password-" + alice.phone})
	if r.decode(t, &tok); r.status != 200 {
		t.Fatalf("alice logs in with the new number = %d %s", r.status, r.body)
	}
	if r := svc.do("GET", "/v1/patients", tok.Token, nil); r.status != 200 {
		t.Errorf("alice's account after the restore = %d %s", r.status, r.body)
	}
}
