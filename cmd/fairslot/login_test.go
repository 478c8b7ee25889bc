package main

import (
	"fmt"
	"strconv"
	"testing"
	"time"
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
