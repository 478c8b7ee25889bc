package web

import (
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

func TestLoginSetsSessionCookie(t *testing.T) {
	s := newSite(t)
	phone, password := newPhone(), "correct horse battery"
	if _, err := s.svc.CreateAccount(t.Context(), phone, password, "", booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, booking.Origin{}); err != nil {
		t.Fatalf("create account: %v", err)
	}

	t.Run("wrong password", func(t *testing.T) {
		c := s.client()
		a := c.post("/patient/login", url.Values{"csrf": {c.csrf("/patient/login")}, "phone": {phone}, "password": {"wrong password"}})
		if a.status != 401 || !strings.Contains(a.body, "invalid_credentials") || !strings.Contains(a.body, "手机号或密码错误") {
			t.Errorf("got %d without the invalid_credentials error, want 401 with it\n%s", a.status, a.body)
		}
		if ck := cookie(a.cookies, sessionCookie); ck != nil && ck.Value != "" {
			t.Errorf("got session cookie %q, want none", ck.Value)
		}
	})

	t.Run("right password", func(t *testing.T) {
		c := s.client()
		a := c.post("/patient/login", url.Values{"csrf": {c.csrf("/patient/login")}, "phone": {phone}, "password": {password}})
		if a.status != 303 || a.location != "/patient" {
			t.Fatalf("got %d → %q, want 303 → /patient\n%s", a.status, a.location, a.body)
		}
		ck := cookie(a.cookies, sessionCookie)
		if ck == nil || ck.Value == "" {
			t.Fatalf("got no %s cookie, want one", sessionCookie)
		}
		if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" || ck.Secure {
			t.Errorf("got cookie HttpOnly=%v SameSite=%v Path=%q Secure=%v, want HttpOnly, Strict, /, not Secure over plain HTTP",
				ck.HttpOnly, ck.SameSite, ck.Path, ck.Secure)
		}
		if _, err := s.svc.Authenticate([]byte(ck.Value)); err != nil {
			t.Errorf("the cookie's token does not authenticate: %v", err)
		}
		if a := c.get("/patient"); a.status != 200 || !strings.Contains(a.body, "Welcome") {
			t.Errorf("GET /patient with the cookie: %d, want 200 with the home page\n%s", a.status, a.body)
		}

		// Logging out clears the cookie; the console then asks to log in.
		a = c.post("/patient/logout", url.Values{"csrf": {c.csrf("/patient")}})
		if gone := cookie(a.cookies, sessionCookie); a.status != 303 || gone == nil || gone.Value != "" || !gone.Expires.Before(time.Now()) {
			t.Errorf("logout: %d, cookies %v; want 303 and the session cookie deleted", a.status, a.cookies)
		}
		if a := c.get("/patient"); a.status != 303 || a.location != "/patient/login" {
			t.Errorf("GET /patient after logout: %d → %q, want 303 → /patient/login", a.status, a.location)
		}
	})

	t.Run("no session", func(t *testing.T) {
		c := s.client()
		for _, path := range []string{"/patient", "/patient/family", "/patient/sessions", "/patient/bookings"} {
			if a := c.get(path); a.status != 303 || a.location != "/patient/login" {
				t.Errorf("GET %s: %d → %q, want 303 → /patient/login", path, a.status, a.location)
			}
		}
	})

	t.Run("forged cookie", func(t *testing.T) {
		c := s.client()
		a := c.do("GET", "/patient", nil, "Cookie", sessionCookie+"=not-a-token")
		if a.status != 303 || a.location != "/patient/login?m=expired" {
			t.Errorf("got %d → %q, want 303 → /patient/login?m=expired", a.status, a.location)
		}
	})

	t.Run("staff account", func(t *testing.T) {
		clerk := newPhone()
		if _, err := s.svc.CreateStaff(t.Context(), booking.StaffRequest{Phone: clerk, Password: password, Role: booking.RoleClerk, HospitalID: s.hospital.ID}); err != nil {
			t.Fatalf("create clerk: %v", err)
		}
		c := s.client()
		a := c.post("/patient/login", url.Values{"csrf": {c.csrf("/patient/login")}, "phone": {clerk}, "password": {password}})
		if a.status != 403 || !strings.Contains(a.body, "wrong_console") {
			t.Errorf("got %d, want 403 wrong_console\n%s", a.status, a.body)
		}
		if ck := cookie(a.cookies, sessionCookie); ck != nil && ck.Value != "" {
			t.Errorf("got a session cookie for a clerk on the patient console, want none")
		}
	})
}

func cookie(cs []*http.Cookie, name string) *http.Cookie {
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// bookingForm is a patient signed in with one family member, and the form
// that books tomorrow's open session for them.
func bookingForm(t *testing.T, s *site) (*client, url.Values) {
	t.Helper()
	c := s.client()
	c.signUpHolder(newPhone(), "correct horse battery", residentID(7), "赵六")
	ps, err := s.svc.Patients(t.Context(), booking.Actor{AccountID: accountOf(t, s, c), Role: booking.RolePatient})
	if err != nil || len(ps) != 1 {
		t.Fatalf("patients: %v, %v; want one", ps, err)
	}
	return c, url.Values{"session_id": {s.open.ID}, "patient_id": {ps[0].ID}, "idem": {booking.NewID()},
		"hospital": {s.hospital.ID}, "department": {s.cardiology.ID}}
}

// accountOf reads the account id from the client's session cookie.
func accountOf(t *testing.T, s *site, c *client) string {
	t.Helper()
	u, _ := url.Parse(s.base)
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == sessionCookie {
			a, err := s.svc.Authenticate([]byte(ck.Value))
			if err != nil {
				t.Fatalf("authenticate the session cookie: %v", err)
			}
			return a.AccountID
		}
	}
	t.Fatalf("no session cookie")
	return ""
}

func TestPostWithoutCSRFTokenIsRefused(t *testing.T) {
	s := newSite(t)
	c, form := bookingForm(t, s)
	other := s.client()
	other.signUp(newPhone(), "another password")
	otherToken := other.csrf("/patient/sessions")

	for _, tc := range []struct {
		name  string
		token string
	}{
		{"missing", ""},
		{"garbage", "bm90LWEtdG9rZW4"},
		{"another session's", otherToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			if tc.token != "" {
				f.Set("csrf", tc.token)
			}
			a := c.post("/patient/bookings", f)
			if a.status != 403 || !strings.Contains(a.body, "csrf_failed") {
				t.Errorf("got %d, want 403 csrf_failed\n%s", a.status, a.body)
			}
			if n := s.count(`SELECT count(*) FROM bookings`); n != 0 {
				t.Errorf("got %d bookings in SQL, want 0", n)
			}
		})
	}

	t.Run("cancel without token", func(t *testing.T) {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		f.Set("csrf", c.csrf("/patient/sessions"))
		a := c.post("/patient/bookings", f)
		if a.status != 303 || !strings.HasPrefix(a.location, "/patient/bookings?") {
			t.Fatalf("book with the token: %d → %q, want 303 → /patient/bookings?…\n%s", a.status, a.location, a.body)
		}
		id := mustQuery(t, a.location, "id")
		if a := c.post("/patient/bookings/"+id+"/cancel", url.Values{}); a.status != 403 {
			t.Errorf("cancel without a token: %d, want 403", a.status)
		}
		if n := s.count(`SELECT count(*) FROM bookings WHERE status = 'confirmed'`); n != 1 {
			t.Errorf("got %d confirmed bookings, want the one booked", n)
		}
	})

	t.Run("login without token", func(t *testing.T) {
		a := s.client().post("/patient/login", url.Values{"phone": {"13900000000"}, "password": {"whatever1"}})
		if a.status != 403 {
			t.Errorf("got %d, want 403", a.status)
		}
	})
}

// keptRE finds the values a failed family form keeps in its fields.
var keptRE = regexp.MustCompile(`(<input name="(?:id_number|name|phone)"[^>]*? value=")([^"]*)(")`)

func mustQuery(t *testing.T, location, key string) string {
	t.Helper()
	u, err := url.Parse(location)
	if err != nil || u.Query().Get(key) == "" {
		t.Fatalf("location %q has no %s", location, key)
	}
	return u.Query().Get(key)
}

func TestPostFromForeignOriginIsRefused(t *testing.T) {
	s := newSite(t)
	c, form := bookingForm(t, s)
	form.Set("csrf", c.csrf("/patient/sessions"))
	host := strings.TrimPrefix(s.base, "http://")

	for _, tc := range []struct {
		origin string
		want   int
	}{
		{"http://evil.example", 403},
		{"https://" + host + ".evil.example", 403},
		{"null", 403},
		{"http://" + host, 303}, // the same host books
	} {
		t.Run(tc.origin, func(t *testing.T) {
			before := s.count(`SELECT count(*) FROM bookings`)
			a := c.post("/patient/bookings", form, "Origin", tc.origin)
			if a.status != tc.want {
				t.Fatalf("got %d, want %d\n%s", a.status, tc.want, a.body)
			}
			after := s.count(`SELECT count(*) FROM bookings`)
			if tc.want == 403 && (after != before || !strings.Contains(a.body, "foreign_origin")) {
				t.Errorf("got %d bookings after (%d before) and body without foreign_origin, want no new booking", after, before)
			}
			if tc.want == 303 && after != before+1 {
				t.Errorf("got %d bookings after (%d before), want one more", after, before)
			}
		})
	}
}

// TestPagesNeverShowClearIdentity enters an ID number, a name and a phone,
// then searches every page the patient can reach, including the pages of
// failed forms, and the logs: only the masked forms may appear.
func TestPagesNeverShowClearIdentity(t *testing.T) {
	s := newSite(t)
	c := s.client()
	c.signUp(newPhone(), "correct horse battery")
	idNumber, name, phone := residentID(42), "欧阳娜娜", "13712345678"
	clear := []string{idNumber, name, phone, idNumber[6:14] /* the birth date */, "阳娜"}

	if a := c.addFamily(idNumber, name, phone, true); a.status != 303 || a.location != "/patient/family?ok=added" {
		t.Fatalf("add family member: %d → %q\n%s", a.status, a.location, a.body)
	}
	var pages []answer
	add := func(a answer) { pages = append(pages, a) }
	family := c.get("/patient/family?ok=added")
	add(family)
	for _, want := range []string{"欧**娜", "110***********" + idNumber[14:], "137****5678"} {
		if !strings.Contains(family.body, want) {
			t.Errorf("family page lacks the masked %q", want)
		}
	}
	// The same identity again, and a valid one with a bad phone: the
	// failed form is shown again with what was typed in its fields (so a
	// patient fixes a character instead of retyping 18), and nowhere else
	// on the page: not in the message, not in the list.
	failed := func(a answer) answer {
		kept := keptRE.FindAllStringSubmatch(a.body, -1)
		if len(kept) == 0 {
			t.Errorf("the failed family form (status %d) kept nothing that was typed", a.status)
		}
		a.body = keptRE.ReplaceAllString(a.body, `$1$3`)
		return a
	}
	again := c.addFamily(idNumber, name, phone, false)
	if again.status != 409 || !strings.Contains(again.body, "patient_exists") {
		t.Errorf("adding the same identity again: %d, want 409 patient_exists", again.status)
	}
	add(failed(again))
	badPhone := c.addFamily(residentID(43), name, "12345", false)
	if badPhone.status != 400 || !strings.Contains(badPhone.body, "invalid_phone") {
		t.Errorf("adding with a bad phone: %d, want 400 invalid_phone", badPhone.status)
	}
	add(failed(badPhone))
	add(failed(c.addFamily(idNumber[:17]+"0", name, phone, false))) // a wrong check digit

	sessions := c.get("/patient/sessions?" + url.Values{"hospital": {s.hospital.ID}, "department": {s.cardiology.ID}}.Encode())
	add(sessions)
	pid := regexp.MustCompile(`<option value="([0-9a-f-]{36})">`).FindStringSubmatch(sessions.body)
	if pid == nil {
		t.Fatalf("sessions page has no family member to book for\n%s", sessions.body)
	}
	booked := c.post("/patient/bookings", url.Values{"csrf": {c.csrf("/patient/sessions")}, "session_id": {s.open.ID},
		"patient_id": {pid[1]}, "idem": {"x"}})
	if booked.status != 303 {
		t.Fatalf("book: %d\n%s", booked.status, booked.body)
	}
	// Booking the closed session fails: its error page too.
	add(c.post("/patient/bookings", url.Values{"csrf": {c.csrf("/patient/sessions")}, "session_id": {s.closed.ID},
		"patient_id": {pid[1]}, "idem": {"y"}, "hospital": {s.hospital.ID}, "department": {s.cardiology.ID}}))
	add(c.get(booked.location))
	add(c.get("/patient"))
	add(c.get("/patient/bookings"))

	for i, p := range pages {
		for _, v := range clear {
			if strings.Contains(p.body, v) {
				t.Errorf("page %d (status %d) shows %q in clear", i, p.status, v)
			}
		}
	}
	for _, v := range clear[:3] {
		if strings.Contains(s.logs.String(), v) {
			t.Errorf("the log shows %q in clear", v)
		}
	}
}

func TestErrorsShowTheDomainMessage(t *testing.T) {
	s := newSite(t)
	c, form := bookingForm(t, s)
	form.Set("csrf", c.csrf("/patient/sessions"))
	form.Set("session_id", s.closed.ID)
	a := c.post("/patient/bookings", form)
	for _, want := range []string{"not_released", "this channel opens at", "号源尚未开放", `id="s-` + s.open.ID + `"`} {
		if !strings.Contains(a.body, want) {
			t.Errorf("booking an unreleased session: page lacks %q", want)
		}
	}
	if a.status != 422 {
		t.Errorf("got status %d, want 422", a.status)
	}

	for _, tc := range []struct {
		path   string
		status int
		code   string
	}{
		{"/no/such/page", 404, "page_not_found"},
		{"/patient/bookings/not-a-uuid/cancel", 405, "method_not_allowed"},
	} {
		a := c.get(tc.path)
		if a.status != tc.status || !strings.Contains(a.body, tc.code) {
			t.Errorf("GET %s: %d, want %d with %s", tc.path, a.status, tc.status, tc.code)
		}
	}
	a = c.post("/patient/bookings/not-a-uuid/cancel", url.Values{"csrf": {c.csrf("/patient/bookings")}})
	if a.status != 404 || !strings.Contains(a.body, "booking_not_found") {
		t.Errorf("cancel an unknown booking: %d, want 404 booking_not_found\n%s", a.status, a.body)
	}
}

func TestLandingAndStylesheet(t *testing.T) {
	s := newSite(t)
	c := s.client()
	a := c.get("/")
	if a.status != 200 || !strings.Contains(a.body, `href="/patient"`) || !strings.Contains(a.body, `href="/desk" id="console-desk"`) ||
		!strings.Contains(a.body, `href="/admin" id="console-admin"`) || strings.Contains(a.body, "Coming soon") {
		t.Fatalf("GET /: %d, want 200 linking /patient, /desk and /admin, none of them coming soon", a.status)
	}
	css := regexp.MustCompile(`href="(/static/style\.css\?v=[0-9a-f]+)"`).FindStringSubmatch(a.body)
	if css == nil {
		t.Fatalf("landing page links no stylesheet")
	}
	if a := c.get(css[1]); a.status != 200 || !strings.Contains(a.body, ".chip") {
		t.Errorf("GET %s: %d, want the stylesheet", css[1], a.status)
	}
}

// TestPanicBecomesErrorPage: fasthttp does not recover panics; the console
// must, answering 500 with its generic page and logging the detail once.
func TestPanicBecomesErrorPage(t *testing.T) {
	logs := &testenv.LogBuffer{}
	c := New(nil, slog.New(slog.NewTextHandler(logs, nil)), Options{})
	c.routes = append(c.routes, route{method: "GET", pattern: "/boom", public: true, h: func(*request) error { panic("boom") }})
	var rc fasthttp.RequestCtx
	rc.Request.SetRequestURI("/boom")
	c.Handler(&rc)
	if got := rc.Response.StatusCode(); got != 500 {
		t.Errorf("status = %d, want 500", got)
	}
	if body := string(rc.Response.Body()); !strings.Contains(body, "系统出错") || strings.Contains(body, "boom") {
		t.Errorf("body = %.300s, want the generic error page without the panic value", body)
	}
	if n := strings.Count(logs.String(), "panic in web handler"); n != 1 {
		t.Errorf("logged the panic %d times, want once:\n%s", n, logs)
	}
}
