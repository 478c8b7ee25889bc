package main

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
)

// loginFrom logs in from a client address (the test's proxy says so in
// X-Forwarded-For), with a device token when not empty.
func (s *service) loginFrom(ip, phone, password, device string) reply {
	s.t.Helper()
	body := map[string]string{"phone": phone, "password": password}
	if device != "" {
		body["device_token"] = device
	}
	return s.do("POST", "/v1/auth/login", "", body, "X-Forwarded-For", ip)
}

// TestStrangerCannotLockTheOwnerOut (review18b High): a stranger who knows
// a patient's phone made 21 wrong logins, then four rounds of five, and the
// owner's right password got 429 for up to 24 hours. Failures now count
// per device for a client that logged in to the account before (its
// device token) and per phone and source for the others: the owner's known
// device is judged by its own failures only, while a client without one —
// the stranger, or the owner on a new device — still meets the limits, so
// guessing is no faster than before.
func TestStrangerCannotLockTheOwnerOut(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 1)
	svc := startService(t, sch, map[string]string{"FAIRSLOT_TRUSTED_PROXIES": "127.0.0.0/8"})
	alice, bob := svc.newPatient(181), svc.newPatient(182)
	pw := func(p patient) string { return "password-" + p.phone }
	const home, stranger = "198.51.100.7", "203.0.113.9"

	// The owner logs in once at home: the answer carries a device token.
	var first struct {
		Token       string `json:"token"`
		DeviceToken string `json:"device_token"`
	}
	svc.loginFrom(home, alice.phone, pw(alice), "").decode(t, &first)
	if first.Token == "" || first.DeviceToken == "" {
		t.Fatalf("the owner's login answered no token or no device token: %+v", first)
	}
	var bobs struct {
		DeviceToken string `json:"device_token"`
	}
	svc.loginFrom(home, bob.phone, pw(bob), "").decode(t, &bobs)

	// The reviewer's case: 21 wrong passwords from one address.
	var got []int
	for range 21 {
		got = append(got, svc.loginFrom(stranger, alice.phone, "wrong password", "").status)
	}
	want := []int{401, 401, 401, 401, 401}
	for range 16 {
		want = append(want, 429)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("the stranger's 21 wrong passwords answered %v, want %v", got, want)
	}
	if r := svc.loginFrom(stranger, alice.phone, pw(alice), ""); r.status != 429 || r.code != "rate_limited" {
		t.Errorf("the right password from the stranger's address: %d %s, want 429 rate_limited (still limited)", r.status, r.body)
	}
	// One address alone never reaches the phone's shared limit: the owner
	// on a new device elsewhere still gets in.
	var newDevice struct {
		DeviceToken string `json:"device_token"`
	}
	r := svc.loginFrom("192.0.2.40", alice.phone, pw(alice), "")
	if r.status != 200 {
		t.Fatalf("the owner on a new device after one address's failures: %d %s, want 200", r.status, r.body)
	}
	r.decode(t, &newDevice)
	// Then two addresses, five each: ten failures on the phone within 15
	// minutes, the shared limit of every client without a device token.
	for i := range 2 {
		for range 5 {
			if r := svc.loginFrom("203.0.113."+strconv.Itoa(20+i), alice.phone, "wrong password", ""); r.status != 401 {
				t.Fatalf("a wrong password from another address: %d %s, want 401", r.status, r.body)
			}
		}
	}

	for _, tt := range []struct {
		name, ip, device string
		want             int
	}{
		{"the owner's known device", home, first.DeviceToken, 200},
		{"the owner's known device on another network", "192.0.2.44", first.DeviceToken, 200},
		{"the device the owner logged in with after the attack", "192.0.2.40", newDevice.DeviceToken, 200},
		{"a client with no device token", "192.0.2.45", "", 429},
		{"another account's device token", "192.0.2.46", bobs.DeviceToken, 429},
		{"a forged device token", "192.0.2.47", first.DeviceToken[:len(first.DeviceToken)-2] + "AA", 429},
		{"a device token that is no token", "192.0.2.48", "not-a-device-token", 429},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := svc.loginFrom(tt.ip, alice.phone, pw(alice), tt.device)
			if r.status != tt.want {
				t.Errorf("the right password: %d %s, want %d", r.status, r.body, tt.want)
			}
			if tt.want == 429 {
				if ra, _ := strconv.Atoi(r.header.Get("Retry-After")); ra <= 0 || ra > 24*3600 {
					t.Errorf("Retry-After = %q, want a wait of up to a day", r.header.Get("Retry-After"))
				}
			}
		})
	}

	// The known device's own failures still count: five wrong, then wait.
	for i := range 6 {
		r := svc.loginFrom(home, alice.phone, "wrong password", first.DeviceToken)
		if want := map[bool]int{true: 401, false: 429}[i < 5]; r.status != want {
			t.Errorf("the known device's wrong password %d: %d, want %d", i+1, r.status, want)
		}
	}
	if r := svc.loginFrom(home, alice.phone, pw(alice), first.DeviceToken); r.status != 429 {
		t.Errorf("the known device past its own limit: %d %s, want 429", r.status, r.body)
	}
	// Bob's device is untouched by all of it.
	if r := svc.loginFrom(home, bob.phone, pw(bob), bobs.DeviceToken); r.status != 200 {
		t.Errorf("another account's known device: %d %s, want 200", r.status, r.body)
	}
}

// TestStrangerCannotBlockTheOwnersChanges (review18c): a stranger's wrong
// passwords for the number, from many addresses, lock the phone's shared
// count; the owner, logged in on their known device, still changes the
// password (and so could the number) with the login's device token, as
// they log in with it. Without it, the change meets the shared count (the
// near miss).
func TestStrangerCannotBlockTheOwnersChanges(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 1)
	svc := startService(t, sch, map[string]string{"FAIRSLOT_TRUSTED_PROXIES": "127.0.0.0/8"})
	alice := svc.newPatient(183)
	pw := "password-" + alice.phone
	var login struct {
		Token       string `json:"token"`
		DeviceToken string `json:"device_token"`
	}
	svc.loginFrom("198.51.100.8", alice.phone, pw, "").decode(t, &login)
	if login.DeviceToken == "" {
		t.Fatal("the owner's login answered no device token")
	}
	for i := range 15 {
		svc.loginFrom(fmt.Sprintf("203.0.113.%d", 20+i/4), alice.phone, "wrong password", "")
	}
	change := func(device string) reply {
		body := map[string]string{"current_password": pw, "new_password": "a new password 183"}
		if device != "" {
			body["device_token"] = device
		}
		return svc.do("POST", "/v1/auth/password", login.Token, body, "X-Forwarded-For", "198.51.100.8")
	}
	if r := change(""); r.status != 429 {
		t.Errorf("the change without the device token: %d %s, want 429 (the phone's shared count)", r.status, r.body)
	}
	if r := change(login.DeviceToken); r.status != 200 {
		t.Errorf("the owner's change from the known device: %d %s, want 200", r.status, r.body)
	}
}

// TestDeskResetsAForgottenPassword: a patient who forgot the password (or
// whom a stranger keeps locked out on every new device) goes to the
// registration desk with the ID card. The clerk checks the card against
// the account's holder (本人) and issues a one-time code; the patient sets
// a new password with it over the API. The reset ends the account's
// tokens, clears the phone's lockout and answers a device token. The code
// is single-use, expires, and works for its own account only; a card that
// is not the holder's, an account that names no holder, and a patient's
// own token are refused; the code is in no log and no audit row.
func TestDeskResetsAForgottenPassword(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 1)
	svc := startService(t, sch, map[string]string{"FAIRSLOT_TRUSTED_PROXIES": "127.0.0.0/8"})
	clerk := svc.staffLogin(booking.RoleClerk, 183)
	alice, bob := svc.newPatient(183), svc.newPatient(184)
	card := func(n int) map[string]string {
		return map[string]string{"id_type": "resident_id", "id_number": residentID(n), "name": "测试" + string(rune('甲'+n%10))}
	}
	issue := func(token string, n int, phone string) reply {
		t.Helper()
		body := card(n)
		body["account_phone"] = phone
		return svc.do("POST", "/v1/desk/password-resets", token, body)
	}
	type code struct {
		Code      string `json:"code"`
		ExpiresAt string `json:"expires_at"`
	}
	redeem := func(phone, c, password string) reply {
		t.Helper()
		return svc.do("POST", "/v1/auth/password-reset", "", map[string]string{"phone": phone, "code": c, "new_password": password},
			"X-Forwarded-For", "192.0.2.80")
	}

	// The owner, who forgot the password, tries five at an address of hers
	// (its count is used up), then a stranger five more: every client
	// without a device token is kept out of the phone.
	for range 5 {
		svc.loginFrom("192.0.2.83", alice.phone, "my old password?", "")
	}
	for range 5 {
		svc.loginFrom("203.0.113.30", alice.phone, "wrong password", "")
	}
	if r := svc.loginFrom("192.0.2.81", alice.phone, "password-"+alice.phone, ""); r.status != 429 {
		t.Fatalf("the owner on a new device after the strangers: %d %s, want 429", r.status, r.body)
	}

	// Refusals first: none issues a code.
	noSelf := "13700000999"
	if r := svc.do("POST", "/v1/accounts", "", map[string]string{"phone": noSelf, "password": "password-" + noSelf}); r.status != 201 {
		t.Fatalf("create an account with no holder: %d %s", r.status, r.body)
	}
	for _, tt := range []struct {
		name, token string
		card        int
		phone       string
		status      int
		code        string
	}{
		{"another person's card", clerk, 184, alice.phone, 403, "not_account_holder"},
		{"an account that names no holder", clerk, 183, noSelf, 422, "reset_needs_holder"},
		{"a patient's token", alice.token, 183, alice.phone, 403, "forbidden"},
		{"an unknown phone", clerk, 183, "13700000998", 404, "patient_not_found"},
	} {
		t.Run("refused: "+tt.name, func(t *testing.T) {
			if r := issue(tt.token, tt.card, tt.phone); r.status != tt.status || r.code != tt.code {
				t.Errorf("issue a reset code: %d %s, want %d %s", r.status, r.body, tt.status, tt.code)
			}
		})
	}

	var aliceCode, bobCode code
	issue(clerk, 183, alice.phone).decode(t, &aliceCode)
	issue(clerk, 184, bob.phone).decode(t, &bobCode)
	if len(aliceCode.Code) < 12 || aliceCode.ExpiresAt == "" || bobCode.Code == "" {
		t.Fatalf("the codes issued: %+v, %+v; want a code of 12 or more characters and its expiry", aliceCode, bobCode)
	}
	for name, r := range map[string]reply{
		"another account's code": redeem(alice.phone, bobCode.Code, "a-new-password-1"),
		"a wrong code":           redeem(alice.phone, "ABCD-EFGH-JKMN", "a-new-password-1"),
		"an unknown phone":       redeem("13700000998", aliceCode.Code, "a-new-password-1"),
	} {
		if r.status != 401 || r.code != "invalid_reset_code" {
			t.Errorf("%s: %d %s, want 401 invalid_reset_code", name, r.status, r.body)
		}
	}
	if r := redeem(alice.phone, aliceCode.Code, "short"); r.status != 400 || r.code != "weak_password" {
		t.Errorf("a weak new password: %d %s, want 400 weak_password", r.status, r.body)
	}

	// The code, typed in lower case with spaces: the new password is set.
	typed := strings.ToLower(strings.ReplaceAll(aliceCode.Code, "-", " "))
	var reset struct {
		Token       string `json:"token"`
		DeviceToken string `json:"device_token"`
	}
	r := redeem(alice.phone, typed, "a-new-password-1")
	if r.status != 200 {
		t.Fatalf("redeem the code: %d %s, want 200", r.status, r.body)
	}
	r.decode(t, &reset)
	if reset.Token == "" || reset.DeviceToken == "" {
		t.Errorf("the reset answered %s, want a token and a device token", r.body)
	}
	if r := redeem(alice.phone, aliceCode.Code, "a-new-password-2"); r.status != 401 || r.code != "invalid_reset_code" {
		t.Errorf("the code a second time: %d %s, want 401 invalid_reset_code (single use)", r.status, r.body)
	}
	if r := svc.do("GET", "/v1/bookings", alice.token, nil); r.status != 401 {
		t.Errorf("the token from before the reset: %d, want 401 (revoked)", r.status)
	}
	if r := svc.do("GET", "/v1/bookings", reset.Token, nil); r.status != 200 {
		t.Errorf("the token the reset answered: %d %s", r.status, r.body)
	}
	if r := svc.loginFrom("192.0.2.82", alice.phone, "password-"+alice.phone, ""); r.status != 401 {
		t.Errorf("the old password after the reset: %d %s, want 401", r.status, r.body)
	}
	if r := svc.loginFrom("192.0.2.83", alice.phone, "a-new-password-1", ""); r.status != 200 {
		t.Errorf("the new password from the owner's address (its count and the phone's cleared): %d %s, want 200", r.status, r.body)
	}

	// An expired code is refused.
	if _, err := svc.pool.Exec(t.Context(), `UPDATE password_reset_codes SET expires_at = now() - INTERVAL '1 second'`); err != nil {
		t.Fatal(err)
	}
	if r := redeem(bob.phone, bobCode.Code, "a-new-password-1"); r.status != 401 || r.code != "invalid_reset_code" {
		t.Errorf("an expired code: %d %s, want 401 invalid_reset_code", r.status, r.body)
	}

	if n := svc.count(`SELECT count(*) FROM audit_log WHERE action = 'password_reset_code_issued' AND actor_role = 'clerk' AND hospital_id = $1`, svc.hospital); n != 2 {
		t.Errorf("password_reset_code_issued audit rows of the clerk = %d, want 2", n)
	}
	if n := svc.count(`SELECT count(*) FROM audit_log WHERE action = 'password_reset_with_code'`); n != 1 {
		t.Errorf("password_reset_with_code audit rows = %d, want 1", n)
	}
	if n := svc.count(`SELECT count(*) FROM audit_log WHERE reason LIKE '%' || $1 || '%'`, aliceCode.Code); n != 0 {
		t.Errorf("%d audit rows hold the code in clear", n)
	}
	for _, secret := range []string{aliceCode.Code, typed, alice.phone, "a-new-password-1", reset.DeviceToken} {
		if strings.Contains(svc.logs.String(), secret) {
			t.Errorf("the service log holds %q in clear", secret)
		}
	}
}
