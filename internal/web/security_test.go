package web

import (
	"errors"
	"net/netip"
	"net/url"
	"testing"

	"fairslot/internal/booking"
)

// TestSecureCookieAndHSTSBehindATLSProxy: behind a trusted proxy that
// terminates TLS (X-Forwarded-Proto: https), the session cookie is Secure
// and answers carry Strict-Transport-Security; the same console over plain
// HTTP, or a client that only claims TLS, gets neither.
func TestSecureCookieAndHSTSBehindATLSProxy(t *testing.T) {
	s := newSiteWith(t, Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	phone, password := newPhone(), "correct horse battery"
	if _, err := s.svc.CreateAccount(t.Context(), phone, password, "", booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, booking.Origin{}); err != nil {
		t.Fatalf("create account: %v", err)
	}
	for _, tt := range []struct {
		name    string
		headers []string
		secure  bool
	}{
		{"through the TLS proxy", []string{"X-Forwarded-Proto", "https", "X-Forwarded-For", "203.0.113.5"}, true},
		{"plain HTTP", nil, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := s.client()
			form := url.Values{"csrf": {c.csrf("/patient/login")}, "phone": {phone}, "password": {password}}
			resp, err := c.http.Do(c.request("POST", "/patient/login", form, tt.headers...))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			ck := cookie(resp.Cookies(), sessionCookie)
			if resp.StatusCode != 303 || ck == nil || ck.Value == "" {
				t.Fatalf("login = %d with cookie %v, want 303 with a session cookie", resp.StatusCode, ck)
			}
			if ck.Secure != tt.secure {
				t.Errorf("session cookie Secure = %v, want %v", ck.Secure, tt.secure)
			}
			if got := resp.Header.Get("Strict-Transport-Security"); (got != "") != tt.secure {
				t.Errorf("Strict-Transport-Security = %q, want it set: %v", got, tt.secure)
			}
		})
	}
}

// TestLogoutEndsTheCookiesLogin (M6): after logging out, the session
// cookie's token no longer works, even sent again by a browser (or a thief)
// that kept it.
func TestLogoutEndsTheCookiesLogin(t *testing.T) {
	s := newSite(t)
	phone, password := newPhone(), "correct horse battery"
	if _, err := s.svc.CreateAccount(t.Context(), phone, password, "", booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, booking.Origin{}); err != nil {
		t.Fatalf("create account: %v", err)
	}
	c := s.client()
	a := c.post("/patient/login", url.Values{"csrf": {c.csrf("/patient/login")}, "phone": {phone}, "password": {password}})
	ck := cookie(a.cookies, sessionCookie)
	if a.status != 303 || ck == nil || ck.Value == "" {
		t.Fatalf("login = %d, want 303 with a session cookie", a.status)
	}
	c.post("/patient/logout", url.Values{"csrf": {c.csrf("/patient")}})
	kept := s.client().do("GET", "/patient", nil, "Cookie", sessionCookie+"="+ck.Value)
	if kept.status != 303 || kept.location != "/patient/login?m=expired" {
		t.Errorf("the kept cookie after logout: %d → %q, want 303 → /patient/login?m=expired", kept.status, kept.location)
	}
	if _, err := s.svc.Authenticate([]byte(ck.Value)); !errors.Is(err, booking.ErrTokenRevoked) {
		t.Errorf("the logged-out token: %v, want token_revoked", err)
	}
}
