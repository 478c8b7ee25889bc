package web

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"fairslot/internal/booking"
	"fairslot/internal/booking/bookingtest"
	"fairslot/internal/cockroach"
	"fairslot/internal/identity"
	"fairslot/internal/testenv"
	"fairslot/internal/testenv/stack"
)

// These tests run the console over a real Service: the admission gate on the
// test Redis and the store on a PostgreSQL database of the test's own, as
// cmd/fairslot wires them. They fail, never skip, without those services.

var shanghai = testenv.Shanghai

// site is the console served on a loopback port over a real Service and a
// seeded schedule.
type site struct {
	t    *testing.T
	svc  *booking.Service
	db   *cockroach.DB
	base string
	logs *testenv.LogBuffer
	// detector is the Service's scalper detector: a fake that returns the
	// flags a test sets (the real one, internal/detect, is tested there).
	detector *bookingtest.Detector
	// offset moves the Service's clock (not the console's), so a test can
	// let a lottery's draw time come.
	offset atomic.Int64

	hospital    booking.Hospital
	cardiology  booking.Department
	dermatology booking.Department
	doctors     []booking.Doctor // 李明 and 陈静 in cardiology, 王芳 in dermatology
	tomorrow    string
	// open is tomorrow morning's cardiology session, released an hour ago;
	// closed is tomorrow afternoon's, whose online pool opens in two days.
	open, closed booking.Session
}

func newSite(t *testing.T) *site {
	t.Helper()
	return newSiteWith(t, Options{})
}

// newSiteWith is newSite with console options (random keys when opts has
// none). A returned slot reaches the waitlist's line at once: no rounds
// (newSiteRounds has them).
func newSiteWith(t *testing.T, opts Options) *site {
	t.Helper()
	return newSiteOf(t, opts, -1)
}

// newSiteRounds is newSite whose waitlist joins are held in rounds of the
// given length (booking.Config.ReturnRound).
func newSiteRounds(t *testing.T, round time.Duration) *site {
	t.Helper()
	return newSiteOf(t, Options{}, round)
}

func newSiteOf(t *testing.T, opts Options, round time.Duration) *site {
	t.Helper()
	ctx := t.Context()
	detector := &bookingtest.Detector{}
	s := &site{t: t, detector: detector}
	st := stack.New(t, booking.Config{Detector: detector.Detect, Now: s.now, ReturnRound: round}, nil)
	svc, db, logs, log := st.Service, st.DB, st.Logs, st.Log
	s.svc, s.db, s.logs = svc, db, logs
	s.seed(ctx)

	console := New(svc, log.With("component", "web"), opts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	testenv.Must(t, err, "listen")
	srv := &fasthttp.Server{Handler: console.Handler, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.ShutdownWithContext(ctx); err != nil {
			t.Errorf("shut down the console: %v", err)
		}
		// fasthttp's Shutdown closes only the listeners Serve has
		// registered: a test that ends before the Serve goroutine ran (one
		// that makes no request, on a loaded machine) would leave it
		// accepting forever. Closing the listener ends it either way.
		_ = ln.Close()
		<-done
	})
	s.base = "http://" + ln.Addr().String()
	return s
}

// seed stores one hospital with two departments: tomorrow's sessions in
// cardiology (one open for online booking, one not yet released) and in
// dermatology, and one the day after.
func (s *site) seed(ctx context.Context) {
	t := s.t
	tag := testenv.Token()
	s.hospital = booking.Hospital{ID: booking.NewID(), Name: "测试医院 Test Hospital " + tag, TimeZone: "Asia/Shanghai", Policy: booking.DefaultPolicy}
	s.cardiology = booking.Department{ID: booking.NewID(), HospitalID: s.hospital.ID, Name: "心内科 Cardiology"}
	s.dermatology = booking.Department{ID: booking.NewID(), HospitalID: s.hospital.ID, Name: "皮肤科 Dermatology"}
	doctors := []booking.Doctor{
		{ID: booking.NewID(), HospitalID: s.hospital.ID, DepartmentID: s.cardiology.ID, Name: "李明 Li Ming", Title: "主任医师 Chief physician"},
		{ID: booking.NewID(), HospitalID: s.hospital.ID, DepartmentID: s.cardiology.ID, Name: "陈静 Chen Jing", Title: "副主任医师 Associate chief"},
		{ID: booking.NewID(), HospitalID: s.hospital.ID, DepartmentID: s.dermatology.ID, Name: "王芳 Wang Fang", Title: "主治医师 Attending"},
	}
	s.doctors = doctors
	now := time.Now()
	day := time.Date(now.In(shanghai).Year(), now.In(shanghai).Month(), now.In(shanghai).Day()+1, 0, 0, 0, 0, shanghai)
	s.tomorrow = day.Format(time.DateOnly)
	released, later := now.Add(-time.Hour), now.Add(48*time.Hour)
	build := func(doc booking.Doctor, day time.Time, period string, from, to time.Duration, online time.Time) booking.Session {
		ss, err := booking.BuildSession(booking.SessionSpec{
			HospitalID: s.hospital.ID, DepartmentID: doc.DepartmentID, DoctorID: doc.ID,
			VisitDate: day.Format(time.DateOnly), Period: period, StartsAt: day.Add(from), EndsAt: day.Add(to),
			Quotas: []booking.ChannelQuota{
				{Channel: booking.ChannelOnline, Quota: 6, ReleaseAt: online},
				{Channel: booking.ChannelPhone, Quota: 4, ReleaseAt: released},
				{Channel: booking.ChannelOnsite, Quota: 4, ReleaseAt: day.Add(7 * time.Hour)},
			},
		})
		testenv.Must(t, err, "build session")
		return ss
	}
	s.open = build(doctors[0], day, "morning", 8*time.Hour, 12*time.Hour, released)
	s.closed = build(doctors[1], day, "afternoon", 14*time.Hour, 17*time.Hour, later)
	sch := booking.Schedule{
		Hospitals:   []booking.Hospital{s.hospital},
		Departments: []booking.Department{s.cardiology, s.dermatology},
		Doctors:     doctors,
		Sessions: []booking.Session{
			s.open, s.closed,
			build(doctors[2], day, "morning", 8*time.Hour, 12*time.Hour, released),
			build(doctors[0], day.AddDate(0, 0, 1), "morning", 8*time.Hour, 12*time.Hour, released),
		},
	}
	testenv.Must(t, s.svc.SaveSchedule(ctx, sch), "save schedule")
}

// now is the Service's clock: the real time, moved by offset.
func (s *site) now() time.Time { return time.Now().Add(time.Duration(s.offset.Load())) }

// addSession stores one more session of doc on visitDate (a civil date in
// Shanghai) from start to end, with the given pools, and returns it.
func (s *site) addSession(doc booking.Doctor, visitDate string, start, end time.Time, quotas ...booking.ChannelQuota) booking.Session {
	s.t.Helper()
	period := "morning"
	switch h := start.In(shanghai).Hour(); {
	case h >= 18:
		period = "evening"
	case h >= 12:
		period = "afternoon"
	}
	ss, err := booking.BuildSession(booking.SessionSpec{
		HospitalID: s.hospital.ID, DepartmentID: doc.DepartmentID, DoctorID: doc.ID,
		VisitDate: visitDate, Period: period, StartsAt: start.Truncate(time.Second), EndsAt: end.Truncate(time.Second), Quotas: quotas,
	})
	testenv.Must(s.t, err, "build session")
	testenv.Must(s.t, s.svc.SaveSchedule(s.t.Context(), booking.Schedule{Sessions: []booking.Session{ss}}), "save session")
	return ss
}

// addToday stores a cardiology session of today (in Shanghai) that starts
// in 30 minutes and ends in 4 hours: online booking is open now (it closes
// at the start), and so is check-in (the visit day, until the end). Online
// and phone slots were released yesterday, on-site ones an hour ago.
func (s *site) addToday() booking.Session {
	s.t.Helper()
	doc := booking.Doctor{ID: booking.NewID(), HospitalID: s.hospital.ID, DepartmentID: s.cardiology.ID, Name: "张伟 Zhang Wei", Title: "主治医师 Attending"}
	testenv.Must(s.t, s.svc.SaveSchedule(s.t.Context(), booking.Schedule{Doctors: []booking.Doctor{doc}}), "save doctor")
	now := s.now()
	yesterday := now.Add(-24 * time.Hour)
	return s.addSession(doc, now.In(shanghai).Format(time.DateOnly), now.Add(30*time.Minute), now.Add(4*time.Hour),
		booking.ChannelQuota{Channel: booking.ChannelOnline, Quota: 4, ReleaseAt: yesterday},
		booking.ChannelQuota{Channel: booking.ChannelPhone, Quota: 2, ReleaseAt: yesterday},
		booking.ChannelQuota{Channel: booking.ChannelOnsite, Quota: 4, ReleaseAt: now.Add(-time.Hour)},
	)
}

// addTiny stores a dermatology session the day after tomorrow with a
// single online slot (released an hour ago), to sell out.
func (s *site) addTiny() booking.Session {
	s.t.Helper()
	now := time.Now()
	day := time.Date(now.In(shanghai).Year(), now.In(shanghai).Month(), now.In(shanghai).Day()+2, 0, 0, 0, 0, shanghai)
	return s.addSession(s.doctors[2], day.Format(time.DateOnly), day.Add(14*time.Hour), day.Add(17*time.Hour),
		booking.ChannelQuota{Channel: booking.ChannelOnline, Quota: 1, ReleaseAt: now.Add(-time.Hour)},
		booking.ChannelQuota{Channel: booking.ChannelOnsite, Quota: 2, ReleaseAt: day.Add(7 * time.Hour)},
	)
}

// count runs a counting query on the test's database.
func (s *site) count(query string, args ...any) int {
	s.t.Helper()
	var n int
	testenv.Must(s.t, s.db.Pool().QueryRow(context.Background(), query, args...).Scan(&n), "count: %s", query)
	return n
}

// client is a browser without a browser: a cookie jar, and redirects left
// for the test to see.
type client struct {
	t    *testing.T
	base string
	http *http.Client
}

func (s *site) client() *client {
	jar, err := cookiejar.New(nil)
	testenv.Must(s.t, err, "cookie jar")
	return &client{t: s.t, base: s.base, http: &http.Client{
		Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// page is one answer: status, body, and where a redirect points.
type answer struct {
	status   int
	body     string
	location string
	cookies  []*http.Cookie
}

// request builds a request to the site: a form body when form is set, and
// headers as name, value pairs.
func (c *client) request(method, path string, form url.Values, headers ...string) *http.Request {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.base+path, body)
	testenv.Must(c.t, err, "new request")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return req
}

func (c *client) do(method, path string, form url.Values, headers ...string) answer {
	c.t.Helper()
	req := c.request(method, path, form, headers...)
	resp, err := c.http.Do(req)
	testenv.Must(c.t, err, "%s %s", method, path)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	testenv.Must(c.t, err, "read %s %s", method, path)
	return answer{status: resp.StatusCode, body: string(b), location: resp.Header.Get("Location"), cookies: resp.Cookies()}
}

func (c *client) get(path string) answer { return c.do("GET", path, nil) }

// post sends a form; headers are name, value pairs.
func (c *client) post(path string, form url.Values, headers ...string) answer {
	return c.do("POST", path, form, headers...)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf loads a page and returns the CSRF token of its forms.
func (c *client) csrf(path string) string {
	c.t.Helper()
	a := c.get(path)
	m := csrfRE.FindStringSubmatch(a.body)
	if a.status != 200 || m == nil {
		c.t.Fatalf("GET %s: %d, want 200 with a CSRF token\n%s", path, a.status, a.body)
	}
	return m[1]
}

// signUp creates an account through the register form, which also logs in.
func (c *client) signUp(phone, password string) {
	c.t.Helper()
	tok := c.csrf("/patient/register")
	a := c.post("/patient/register", url.Values{"csrf": {tok}, "phone": {phone}, "password": {password}, "password2": {password}, "idem": {"k-" + phone}, "privacy_consent": {PrivacyNoticeVersion}})
	if a.status != 303 || a.location != "/patient/family?ok=welcome" {
		c.t.Fatalf("register: %d → %q, want 303 → /patient/family?ok=welcome\n%s", a.status, a.location, a.body)
	}
}

// addFamily adds a family member through the form.
func (c *client) addFamily(idNumber, name, phone string, self bool) answer {
	c.t.Helper()
	f := url.Values{"csrf": {c.csrf("/patient/family")}, "id_type": {"resident_id"}, "id_number": {idNumber}, "name": {name}, "phone": {phone}, "idem": {booking.NewID()}, "privacy_consent": {PrivacyNoticeVersion}}
	if self {
		f.Set("self", "1")
	}
	return c.post("/patient/family", f)
}

// signUpHolder creates an account through the register form and adds its
// holder (本人), idNumber and name, through the family form.
func (c *client) signUpHolder(phone, password, idNumber, name string) {
	c.t.Helper()
	c.signUp(phone, password)
	if a := c.addFamily(idNumber, name, "", true); a.status != 303 {
		c.t.Fatalf("add the holder: %d\n%s", a.status, a.body)
	}
}

// newClerk creates a registration clerk's account and returns its phone.
func (s *site) newClerk(password string) string {
	s.t.Helper()
	return s.newStaff(booking.RoleClerk, password)
}

// newStaff creates a staff account of role at the site's hospital and
// returns its phone.
func (s *site) newStaff(role booking.Role, password string) string {
	s.t.Helper()
	phone := newPhone()
	_, err := s.svc.CreateStaff(s.t.Context(), booking.StaffRequest{Phone: phone, Password: password, Role: role, HospitalID: s.hospital.ID})
	testenv.Must(s.t, err, "create %s", role)
	return phone
}

// deskLogin signs a client in on the desk console.
func (c *client) deskLogin(phone, password string) {
	c.t.Helper()
	a := c.post("/desk/login", url.Values{"csrf": {c.csrf("/desk/login")}, "phone": {phone}, "password": {password}})
	if a.status != 303 || a.location != "/desk" {
		c.t.Fatalf("desk login: %d → %q, want 303 → /desk\n%s", a.status, a.location, a.body)
	}
}

// newAdmin creates an administrator's account and returns its phone.
func (s *site) newAdmin(password string) string {
	s.t.Helper()
	phone := newPhone()
	_, err := s.svc.CreateStaff(s.t.Context(), booking.StaffRequest{Phone: phone, Password: password, Role: booking.RoleAdmin, HospitalID: ""})
	testenv.Must(s.t, err, "create admin")
	return phone
}

// adminLogin signs a client in on the admin console.
func (c *client) adminLogin(phone, password string) {
	c.t.Helper()
	a := c.post("/admin/login", url.Values{"csrf": {c.csrf("/admin/login")}, "phone": {phone}, "password": {password}})
	if a.status != 303 || a.location != "/admin" {
		c.t.Fatalf("admin login: %d → %q, want 303 → /admin\n%s", a.status, a.location, a.body)
	}
}

var phoneSeq struct {
	mu sync.Mutex
	n  int
}

// newPhone returns a mainland mobile number not used by another test of
// this run (each test has its own database; this keeps logs readable).
func newPhone() string {
	phoneSeq.mu.Lock()
	defer phoneSeq.mu.Unlock()
	phoneSeq.n++
	return fmt.Sprintf("139%08d", time.Now().UnixNano()%1e6*100+int64(phoneSeq.n%100))
}

// residentID makes the n-th valid 18-character resident ID (GB 11643).
func residentID(n int) string {
	birth := time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n%9000)
	body := fmt.Sprintf("110105%s%03d", birth.Format("20060102"), n%900+100)
	return body + string(identity.CheckDigit(body))
}

// newHospitalAdmin creates an administrator of the site's hospital (not a
// platform-wide one) and returns its phone.
func (s *site) newHospitalAdmin(password string) string {
	s.t.Helper()
	return s.newStaff(booking.RoleAdmin, password)
}

// actor signs phone in through the Service and returns who its token
// authenticates: a test's way to act as that account besides the browser.
func (s *site) actor(phone, password string) booking.Actor {
	s.t.Helper()
	tok, err := s.svc.Login(s.t.Context(), phone, password, booking.Origin{})
	testenv.Must(s.t, err, "login %s", phone)
	a, err := s.svc.Authenticate([]byte(tok.Token))
	testenv.Must(s.t, err, "authenticate %s", phone)
	return a
}
