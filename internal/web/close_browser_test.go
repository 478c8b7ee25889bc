package web

import (
	"context"
	"net/url"
	"testing"
	"time"
)

// TestCloseAccountInBrowser (review18b M5, review19c M6): the patient
// console asks for the account's closing (注销账号) from a home tile. The
// page says what closing does and how long it waits; a wrong password is
// refused on the same page with nothing changed; the right one ends this
// browser's session and the login page says a login cancels it. During the
// cooling-off the number is still the account's (not registered again);
// logging in cancels the closing and the home page says so. Asked again
// and left, it completes after the cooling-off (the job): the number logs
// in no more, and registering it works at once. The page passes axe-core.
func TestCloseAccountInBrowser(t *testing.T) {
	s := newSite(t)
	b := newBrowser(t, s.base, 2*time.Minute)
	phone := newPhone()
	b.register(phone, "correct horse battery")
	b.open("/patient")
	b.click("#close-link", "/patient/close")
	b.contains("main", "爽约")
	b.contains("main", "冷静期 7 天")
	b.axeClean(axeSource(t), "close the account")

	b.fill("#close-form input[name=password]", "not my password")
	b.click("#close-form button[type=submit]", "/patient/close")
	b.contains("#error", "wrong")
	b.open("/patient/bookings") // still signed in
	b.contains("h1", "我的预约")

	b.open("/patient/close")
	b.fill("#close-form input[name=password]", "correct horse battery")
	b.click("#close-form button[type=submit]", "/patient/login?m=closing")
	b.contains("#flash", "已申请注销")

	c := s.client()
	if a := c.get("/patient/bookings"); a.status != 303 || a.location == "/patient/bookings" {
		t.Errorf("a fresh client's bookings page: %d → %q, want a redirect to the login", a.status, a.location)
	}
	a := c.post("/patient/register", url.Values{"phone": {phone}, "password": {"a new holder's pw"}, "password2": {"a new holder's pw"}, "csrf": {c.csrf("/patient/register")}, "privacy_consent": {PrivacyNoticeVersion}})
	if a.status == 303 {
		t.Errorf("register the number during the cooling-off: %d → %q, want it refused (still the account's)", a.status, a.location)
	}

	// A login during the cooling-off cancels the closing, and says so.
	b.signInAt("patient", phone, "correct horse battery", "/patient?ok=closing_cancelled")
	b.contains("#flash", "已取消本账号的注销申请")

	// Asked again and left: the job completes it after the cooling-off.
	b.open("/patient/close")
	b.fill("#close-form input[name=password]", "correct horse battery")
	b.click("#close-form button[type=submit]", "/patient/login?m=closing")
	s.offset.Store(int64(8 * 24 * time.Hour))
	if n, err := s.svc.CompleteClosings(context.Background()); err != nil || n != 1 {
		t.Fatalf("the job after the cooling-off: %d, %v; want 1 closed", n, err)
	}
	a = c.post("/patient/login", url.Values{"phone": {phone}, "password": {"correct horse battery"}, "csrf": {c.csrf("/patient/login")}})
	if a.status != 401 {
		t.Errorf("log in to the closed account: %d → %q, want 401", a.status, a.location)
	}
	a = c.post("/patient/register", url.Values{"phone": {phone}, "password": {"a new holder's pw"}, "password2": {"a new holder's pw"}, "csrf": {c.csrf("/patient/register")}, "privacy_consent": {PrivacyNoticeVersion}})
	if a.status != 303 {
		t.Errorf("register the freed number again: %d → %q %s, want 303", a.status, a.location, a.body)
	}
}
