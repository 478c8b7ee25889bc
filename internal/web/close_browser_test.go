package web

import (
	"net/url"
	"testing"
	"time"
)

// TestCloseAccountInBrowser (review18b M5): the patient console closes the
// account (注销账号) from a home tile. The page says what closing does; a
// wrong password is refused on the same page with nothing changed; the
// right one closes it, ends this browser's session (the login page says
// the account is closed) and the number logs in no more — until someone
// registers it again, which works at once. The page passes axe-core.
func TestCloseAccountInBrowser(t *testing.T) {
	s := newSite(t)
	b := newBrowser(t, s.base, 2*time.Minute)
	phone := newPhone()
	b.register(phone, "correct horse battery")
	b.open("/patient")
	b.click("#close-link", "/patient/close")
	b.contains("main", "爽约")
	b.axeClean(axeSource(t), "close the account")

	b.fill("#close-form input[name=password]", "not my password")
	b.click("#close-form button[type=submit]", "/patient/close")
	b.contains("#error", "wrong")
	b.open("/patient/bookings") // still signed in
	b.contains("h1", "我的预约")

	b.open("/patient/close")
	b.fill("#close-form input[name=password]", "correct horse battery")
	b.click("#close-form button[type=submit]", "/patient/login?m=closed")
	b.contains("#flash", "账号已注销")

	c := s.client()
	if a := c.get("/patient/bookings"); a.status != 303 || a.location == "/patient/bookings" {
		t.Errorf("a fresh client's bookings page: %d → %q, want a redirect to the login", a.status, a.location)
	}
	a := c.post("/patient/login", url.Values{"phone": {phone}, "password": {"correct horse battery"}, "csrf": {c.csrf("/patient/login")}})
	if a.status != 401 {
		t.Errorf("log in to the closed account: %d → %q, want 401", a.status, a.location)
	}
	a = c.post("/patient/register", url.Values{"phone": {phone}, "password": {"a new holder's pw"}, "password2": {"a new holder's pw"}, "csrf": {c.csrf("/patient/register")}})
	if a.status != 303 {
		t.Errorf("register the freed number again: %d → %q %s, want 303", a.status, a.location, a.body)
	}
}
