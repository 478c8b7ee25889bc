package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"fairslot/internal/booking"
	"fairslot/internal/clientip"
)

// The cookies. The session cookie holds the bearer token Service.Login
// mints; it is HttpOnly (no script reads it) and SameSite=Strict (no other
// site's page makes the browser send it). The device cookie is a random id
// that goes into booking events as the device id, for scalper detection,
// and is what a form's CSRF token binds to before sign-in. It is Lax, so a
// link from the hospital's own website keeps it, while another site's POST
// still arrives without it.
const (
	sessionCookie = "fairslot_session"
	deviceCookie  = "fairslot_device"
	// loginDeviceCookie holds the device token of the browser's last login
	// (setSession).
	loginDeviceCookie = "fairslot_login_device"
	csrfField         = "csrf"
)

// identify reads who is asking: the client address, the device cookie
// (made on first sight), and the session cookie, verified with
// Service.Authenticate. An expired or invalid session cookie is dropped and
// the request goes on as anonymous; the pages that need a session then send
// the browser to log in.
func (c *Console) identify(r *request) {
	rc := r.rc
	var proxied bool
	r.origin.IP, proxied = clientip.Proxies(c.opts.TrustedProxies).ClientIP(rc)
	r.secure = clientip.Secure(rc, proxied)
	if r.secure {
		rc.Response.Header.Set("Strict-Transport-Security", clientip.HSTS)
	}

	r.device = string(rc.Request.Header.Cookie(deviceCookie))
	if !validDevice(r.device) {
		var b [16]byte
		_, _ = rand.Read(b[:])
		r.device = hex.EncodeToString(b[:])
		c.setCookie(r, deviceCookie, r.device, time.Now().AddDate(1, 0, 0), fasthttp.CookieSameSiteLaxMode)
	}
	r.origin.DeviceID = "web:" + r.device

	tok := rc.Request.Header.Cookie(sessionCookie)
	if len(tok) == 0 {
		return
	}
	actor, err := c.svc.Authenticate(tok)
	if err != nil {
		c.clearSession(r)
		r.expired, r.blocked = true, errors.Is(err, booking.ErrAccountBlocked)
		return
	}
	r.actor, r.session = actor, string(tok)
}

func validDevice(s string) bool {
	if len(s) != 32 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// csrfToken is the token every form of this response carries: an HMAC of
// the session token, or of the device id before sign-in. Another site can
// neither read it nor compute it.
func (c *Console) csrfToken(r *request) string {
	m := hmac.New(sha256.New, c.csrfKey)
	if r.signedIn() {
		m.Write([]byte("session\x00" + r.session))
	} else {
		m.Write([]byte("device\x00" + r.device))
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkPost refuses a POST that another site may have made: one whose
// Origin header, when present, is not this host, or whose CSRF token does
// not match the session (or, before sign-in, the device).
func (c *Console) checkPost(r *request) error {
	if o := r.rc.Request.Header.Peek("Origin"); len(o) > 0 {
		u, err := url.Parse(string(o))
		if err != nil || u.Host == "" || !strings.EqualFold(u.Host, string(r.rc.Host())) {
			return errForeignOrigin
		}
	}
	got := r.rc.PostArgs().Peek(csrfField)
	if len(got) == 0 || !hmac.Equal(got, []byte(c.csrfToken(r))) {
		return errBadCSRF
	}
	return nil
}

// setSession keeps a fresh login's token in the session cookie until the
// token expires, and its device token (when it has one) in the login
// device cookie: the browser's next login to the account presents it, so
// a stranger's wrong passwords elsewhere never lock this browser out
// (booking.LoginDevice). Logging out keeps it: it is no login, and the
// browser stays the owner's known device.
func (c *Console) setSession(r *request, tok booking.Token) {
	c.setCookie(r, sessionCookie, tok.Token, tok.ExpiresAt, fasthttp.CookieSameSiteStrictMode)
	if tok.DeviceToken != "" {
		c.setCookie(r, loginDeviceCookie, tok.DeviceToken, time.Now().Add(booking.DeviceTTL), fasthttp.CookieSameSiteStrictMode)
	}
}

// loginDevice is the device token the browser keeps from its last login.
func (r *request) loginDevice() string {
	d := r.rc.Request.Header.Cookie(loginDeviceCookie)
	return string(d[:min(len(d), 128)])
}

// clearSession tells the browser to forget the session cookie.
func (c *Console) clearSession(r *request) {
	c.setCookie(r, sessionCookie, "", fasthttp.CookieExpireDelete, fasthttp.CookieSameSiteStrictMode)
	r.session, r.actor = "", booking.Actor{}
}

func (c *Console) setCookie(r *request, name, value string, expires time.Time, sameSite fasthttp.CookieSameSite) {
	c.setCookieAt(r, "/", name, value, expires, sameSite)
}

// setCookieAt sets an HttpOnly cookie for the paths under path.
func (c *Console) setCookieAt(r *request, path, name, value string, expires time.Time, sameSite fasthttp.CookieSameSite) {
	ck := fasthttp.AcquireCookie()
	defer fasthttp.ReleaseCookie(ck)
	ck.SetKey(name)
	ck.SetValue(value)
	ck.SetPath(path)
	ck.SetHTTPOnly(true)
	ck.SetSameSite(sameSite)
	ck.SetSecure(r.secure)
	ck.SetExpire(expires)
	r.rc.Response.Header.SetCookie(ck)
}
