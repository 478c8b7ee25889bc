package web

import (
	"net/url"
	"strings"
	"testing"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestResetPasswordWithDeskCode: a patient who forgot the password sets a
// new one on the console's reset page (linked from the login page) with
// the code the registration desk issued against the ID card. The page
// signs the browser in and keeps a login device token; the code works
// once; a wrong code is refused on the same page, the phone kept and no
// password or code echoed; the new password logs in, the old one not.
func TestResetPasswordWithDeskCode(t *testing.T) {
	s := newSite(t)
	c := s.client()
	phone, id := newPhone(), bornIn(1975, 41)
	c.signUpHolder(phone, "forgotten password 1", id, "林静")
	if a := s.client().get("/patient/login"); !strings.Contains(a.body, `href="/patient/reset"`) {
		t.Errorf("the login page does not link the reset page")
	}
	clerkPhone := s.newClerk("clerk password 1")
	tok, err := s.svc.Login(t.Context(), clerkPhone, "clerk password 1", booking.Origin{})
	testenv.Must(t, err, "clerk login")
	clerk, err := s.svc.Authenticate([]byte(tok.Token))
	testenv.Must(t, err, "clerk token")
	code, err := s.svc.IssueResetCode(t.Context(), clerk, booking.ResetCodeRequest{
		IdentityRequest: booking.IdentityRequest{IDType: "resident_id", IDNumber: id, Name: "林静"}, AccountPhone: phone})
	testenv.Must(t, err, "issue a reset code")

	b := s.client()
	reset := func(code string) answer {
		t.Helper()
		return b.post("/patient/reset", url.Values{"csrf": {b.csrf("/patient/reset")}, "phone": {phone}, "code": {code},
			"new_password": {"a fresh password 2"}, "new_password2": {"a fresh password 2"}})
	}
	a := reset("ZZZZ-ZZZZ-ZZZZ")
	if a.status != 401 || !strings.Contains(a.body, "invalid_reset_code") || !strings.Contains(a.body, phone) || strings.Contains(a.body, "a fresh password 2") {
		t.Errorf("a wrong code: %d, want 401 invalid_reset_code on the page with the phone kept and no password\n%s", a.status, a.body)
	}
	a = reset(code.Code)
	if a.status != 303 || a.location != "/patient?ok=password" {
		t.Fatalf("the desk's code: %d → %q, want 303 → /patient?ok=password\n%s", a.status, a.location, a.body)
	}
	var device bool
	for _, ck := range a.cookies {
		device = device || ck.Name == loginDeviceCookie && ck.Value != "" && ck.HttpOnly
	}
	if !device {
		t.Errorf("the reset set no HttpOnly %s cookie: %v", loginDeviceCookie, a.cookies)
	}
	if home := b.get("/patient"); home.status != 200 {
		t.Errorf("the console after the reset: %d, want 200 (signed in)", home.status)
	}
	if a := reset(code.Code); a.status != 401 || !strings.Contains(a.body, "invalid_reset_code") {
		t.Errorf("the code a second time: %d, want 401 invalid_reset_code", a.status)
	}
	// A client each: a login that succeeds signs its client in, and a
	// signed-in client's login page is a redirect, not a form.
	for password, want := range map[string]int{"forgotten password 1": 401, "a fresh password 2": 303} {
		n := s.client()
		a := n.post("/patient/login", url.Values{"phone": {phone}, "password": {password}, "csrf": {n.csrf("/patient/login")}})
		if a.status != want {
			t.Errorf("log in with %q: %d, want %d", password, a.status, want)
		}
	}
}
