package web

import (
	"net/url"
	"testing"
	"time"
)

// TestChangePasswordInBrowser (review18b): the patient console had no page
// to change the password (the API has one). From the home page's link, a
// signed-in patient changes it: a wrong current password or two new ones
// that differ are refused on the same page, with nothing changed; the
// right one sets the new password, keeps this browser signed in, and the
// old password no longer logs in. The page passes axe-core.
func TestChangePasswordInBrowser(t *testing.T) {
	s := newSite(t)
	b := newBrowser(t, s.base, 2*time.Minute)
	phone := newPhone()
	b.register(phone, "correct horse battery")
	b.open("/patient")
	b.click("#password-link", "/patient/password")
	b.axeClean(axeSource(t), "change password")

	change := func(current, new1, new2, want string) {
		t.Helper()
		b.fill("#password-form input[name=current_password]", current)
		b.fill("#password-form input[name=new_password]", new1)
		b.fill("#password-form input[name=new_password2]", new2)
		b.click("#password-form button[type=submit]", want)
	}
	change("not my password", "a brand new secret", "a brand new secret", "/patient/password")
	b.contains("#error", "wrong")
	change("correct horse battery", "a brand new secret", "another new secret", "/patient/password")
	b.contains("#error", "differ")
	change("correct horse battery", "a brand new secret", "a brand new secret", "/patient?ok=password")
	b.contains("#flash", "密码已修改")
	b.open("/patient/bookings") // still signed in with the fresh login
	b.contains("h1", "我的预约")

	// A client each: a login that succeeds signs its client in, and a
	// signed-in client's login page is a redirect, not a form.
	for password, want := range map[string]int{"correct horse battery": 401, "a brand new secret": 303} {
		c := s.client()
		a := c.post("/patient/login", url.Values{"phone": {phone}, "password": {password}, "csrf": {c.csrf("/patient/login")}})
		if a.status != want || want == 303 && a.location != "/patient" {
			t.Errorf("log in with %q: %d → %q, want %d", password, a.status, a.location, want)
		}
	}
}
