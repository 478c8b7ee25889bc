package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"fairslot/internal/booking"
	"fairslot/internal/cockroach"
	"fairslot/internal/identity"
	"fairslot/internal/testenv"
)

// service is the real fairslot binary's run() serving on a free loopback
// port, over a database and a Redis key prefix of the test's own.
type service struct {
	t      testing.TB
	base   string
	env    map[string]string
	pool   *pgxpool.Pool
	client *http.Client
	logs   *testenv.LogBuffer
	stdout *testenv.LogBuffer // what serve printed after its first line
	// stopServe stops the serve of serve() before the test ends.
	stopServe func()
	// hospital is the schedule's first hospital: where staffLogin's clerks
	// and operators work.
	hospital string
}

// startService migrates a fresh database, stores sch, and runs `fairslot
// serve` until the test ends; the test fails if serve does not shut down
// cleanly.
func startService(t testing.TB, sch booking.Schedule, extraEnv map[string]string) *service {
	t.Helper()
	return startServiceVia(t, sch, extraEnv, nil)
}

// startServiceVia is startService with the service's database URL (not the
// owner's, which migrates) passed through via: a forwarder in front of SQL
// (testenv.Outage).
func startServiceVia(t testing.TB, sch booking.Schedule, extraEnv map[string]string, via func(dbURL string) string) *service {
	t.Helper()
	_, prefix := testenv.Redis(t)
	// As under `make run`: the owner migrates, the service runs as a login
	// that may not rewrite the audit log.
	s := &service{t: t, logs: &testenv.LogBuffer{}, stdout: &testenv.LogBuffer{}, env: toolEnv(t, prefix)}
	maps.Copy(s.env, map[string]string{
		"FAIRSLOT_RATE_IP":      "1000000-S",
		"FAIRSLOT_RATE_ACCOUNT": "1000000-S",
		"FAIRSLOT_ADMIN_ADDR":   "off",
		"FAIRSLOT_HTTP_ADDR":    "127.0.0.1:0",
	})
	for k, v := range extraEnv {
		s.env[k] = v
	}
	if via != nil {
		s.env["FAIRSLOT_DATABASE_URL"] = via(s.env["FAIRSLOT_DATABASE_URL"])
	}
	if len(sch.Hospitals) > 0 {
		s.hospital = sch.Hospitals[0].ID
	}
	ctx := context.Background()
	s.run("migrate")

	db, err := cockroach.Open(ctx, s.env["FAIRSLOT_MIGRATE_DATABASE_URL"], nil)
	testenv.Must(t, err, "open database")
	t.Cleanup(db.Close)
	s.pool = db.Pool()
	testenv.Must(t, cockroach.NewStore(db).SaveSchedule(ctx, sch), "save schedule")
	s.serve()
	return s
}

// another runs a second `fairslot serve` on s's database and Redis: another
// instance of the same deployment, with caches of its own.
func (s *service) another() *service {
	s.t.Helper()
	o := &service{t: s.t, logs: &testenv.LogBuffer{}, stdout: &testenv.LogBuffer{}, env: s.env, pool: s.pool, hospital: s.hospital}
	o.serve()
	return o
}

// serve runs `fairslot serve` with s's environment until the test ends;
// stopServe stops it before the test ends (once).
func (s *service) serve() {
	s.stopServe = s.start()
	s.t.Cleanup(s.stopServe)
}

// start runs `fairslot serve` with s's environment and returns what stops
// it, failing the test if it does not shut down cleanly; a second call of
// the stop does nothing.
func (s *service) start() func() {
	t := s.t
	ctx := context.Background()
	sctx, stop := context.WithCancel(ctx)
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(sctx, []string{"serve"}, s.getenv, pw, s.logs)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		stop()
		t.Fatalf("serve did not start: %v\n%s", err, s.logs)
	}
	go func() { _, _ = io.Copy(s.stdout, pr) }()
	_, addr, ok := strings.Cut(strings.TrimSpace(line), "http://")
	if !ok {
		t.Fatalf("serve printed %q, want the API address", line)
	}
	s.base = "http://" + addr
	s.client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}}
	var once sync.Once
	return func() {
		once.Do(func() { s.stop(stop, done) })
	}
}

// stop ends a serve start began and waits for it.
func (s *service) stop(stop context.CancelFunc, done <-chan error) {
	t := s.t
	stop()
	defer func() {
		if t.Failed() {
			t.Logf("service log:\n%s", s.logs)
		}
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve returned %v, want a clean shutdown\n%s", err, s.logs)
		}
	case <-time.After(30 * time.Second):
		t.Errorf("serve did not shut down within 30s")
	}
}

func (s *service) getenv(k string) string { return s.env[k] }

// getenvWith is getenv with env's variables over the service's own: what a
// command given its secrets in the environment reads.
func (s *service) getenvWith(env map[string]string) func(string) string {
	return func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		return s.env[k]
	}
}

// run runs a fairslot command against the test's database and Redis.
func (s *service) run(args ...string) string {
	s.t.Helper()
	return s.runWith(nil, args...)
}

// runWith is run with env's variables over the service's own.
func (s *service) runWith(env map[string]string, args ...string) string {
	s.t.Helper()
	var out bytes.Buffer
	if err := run(context.Background(), args, s.getenvWith(env), &out, s.logs); err != nil {
		s.t.Fatalf("fairslot %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), s.logs)
	}
	return out.String()
}

// reply is an HTTP answer with its decoded error code, if any.
type reply struct {
	status int
	body   []byte
	code   string
	field  string // the error's field, when it names one
	header http.Header
}

func (r reply) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// do sends one request; body is JSON-encoded unless it is a string. A
// sign-up or an added person whose body does not say privacy_consent
// agrees to the current privacy notice, as every client must (review21
// H3); a test of the consent itself gives the key (empty: none given).
// A child under 14 still needs its guardian_consent written out.
func (s *service) do(method, path, token string, body any, headers ...string) reply {
	s.t.Helper()
	body = withConsent(method, path, body)
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		testenv.Must(s.t, err, "encode body")
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, s.base+path, rd)
	testenv.Must(s.t, err, "new request")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := s.client.Do(req)
	if err != nil {
		s.t.Errorf("%s %s: %v", method, path, err)
		return reply{}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, body: b, header: resp.Header}
	var e struct {
		Error struct{ Code, Field string } `json:"error"`
	}
	if json.Unmarshal(b, &e) == nil {
		r.code, r.field = e.Error.Code, e.Error.Field
	}
	return r
}

// patient is an account with one patient on it.
type patient struct {
	phone, token, patientID string
}

// newPatient registers an account, logs in and adds the holder as a patient.
// It reports failures with Errorf, so it may run on any goroutine.
func (s *service) newPatient(n int) patient {
	s.t.Helper()
	p := patient{phone: fmt.Sprintf("137%08d", n)}
	creds := map[string]string{"phone": p.phone, "password": "password-" + p.phone}
	if r := s.do("POST", "/v1/accounts", "", creds); r.status != 201 {
		s.t.Errorf("create account: %d %s", r.status, r.body)
		return p
	}
	r := s.do("POST", "/v1/auth/login", "", creds)
	var tok struct{ Token string }
	if json.Unmarshal(r.body, &tok) != nil || tok.Token == "" {
		s.t.Errorf("login: %d %s", r.status, r.body)
		return p
	}
	p.token = tok.Token
	r = s.do("POST", "/v1/patients", p.token, map[string]any{
		"id_type": "resident_id", "id_number": residentID(n), "name": "测试" + string(rune('甲'+n%10)), "self": true,
	})
	if r.status != 201 {
		s.t.Errorf("add patient: %d %s", r.status, r.body)
		return p
	}
	var pt struct {
		PatientID string `json:"patient_id"`
	}
	_ = json.Unmarshal(r.body, &pt)
	p.patientID = pt.PatientID
	return p
}

// resell is the resale a report is about: scalper adds the person of
// newPatient(n), victim, to its own list and books sessionID for them, and
// the desk (clerk) then verifies that person as victim's own self, so
// victim sees the booking. headers go with the scalper's requests (an
// X-Device-Id). It answers the booking's id.
func (s *service) resell(scalper, victim patient, n int, clerk, sessionID string, headers ...string) string {
	s.t.Helper()
	name := "测试" + string(rune('甲'+n%10))
	r := s.do("POST", "/v1/patients", scalper.token, map[string]any{"id_type": "resident_id", "id_number": residentID(n),
		"name": name, "relationship": "other"}, headers...)
	var pt struct {
		PatientID string `json:"patient_id"`
	}
	r.decode(s.t, &pt)
	if r.status != 201 {
		s.t.Fatalf("the scalper adds the victim: %d %s", r.status, r.body)
	}
	var made struct {
		ID string `json:"booking_id"`
	}
	r = s.do("POST", "/v1/bookings", scalper.token, map[string]string{"session_id": sessionID, "patient_id": pt.PatientID}, headers...)
	r.decode(s.t, &made)
	if r.status != 201 {
		s.t.Fatalf("the scalper books for the victim: %d %s", r.status, r.body)
	}
	if r := s.do("POST", "/v1/desk/identities/verify", clerk, map[string]any{"id_type": "resident_id", "id_number": residentID(n),
		"name": name, "account_phone": victim.phone, "number_rung": true}); r.status != 200 {
		s.t.Fatalf("verify the victim: %d %s", r.status, r.body)
	}
	return made.ID
}

// residentID makes the n-th valid 18-character resident ID (GB 11643).
func residentID(n int) string {
	birth := time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n/900)
	body := fmt.Sprintf("110105%s%03d", birth.Format("20060102"), n%900+100)
	return body + string(identity.CheckDigit(body))
}

// schedule is one hospital with one department, one doctor and sessions
// tomorrow (Asia/Shanghai) with the given online quotas, released at release.
func schedule(t testing.TB, release time.Time, onlineQuotas ...int) booking.Schedule {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	testenv.Must(t, err, "load zone")
	tag := testenv.Token()
	h := booking.Hospital{ID: booking.NameID(tag, "h"), Name: "Test Hospital " + tag, TimeZone: "Asia/Shanghai", Policy: booking.DefaultPolicy}
	sch := booking.Schedule{Hospitals: []booking.Hospital{h}}
	now := time.Now().In(loc)
	periods := []string{"morning", "afternoon", "evening"}
	for i, quota := range onlineQuotas {
		dept := booking.Department{ID: booking.NameID(tag, "dept", fmt.Sprint(i)), HospitalID: h.ID, Name: fmt.Sprintf("Dept %d", i)}
		doc := booking.Doctor{ID: booking.NameID(tag, "doc", fmt.Sprint(i)), HospitalID: h.ID, DepartmentID: dept.ID, Name: fmt.Sprintf("Doctor %d", i)}
		day := time.Date(now.Year(), now.Month(), now.Day()+1, 8, 0, 0, 0, loc)
		s, err := booking.BuildSession(booking.SessionSpec{
			HospitalID: h.ID, DepartmentID: dept.ID, DoctorID: doc.ID, VisitDate: day.Format(time.DateOnly),
			Period: periods[i%len(periods)], StartsAt: day, EndsAt: day.Add(4 * time.Hour),
			Quotas: []booking.ChannelQuota{
				{Channel: booking.ChannelOnline, Quota: quota, ReleaseAt: release},
				{Channel: booking.ChannelPhone, Quota: 5, ReleaseAt: release},
			},
		})
		testenv.Must(t, err, "build session")
		sch.Departments = append(sch.Departments, dept)
		sch.Doctors = append(sch.Doctors, doc)
		sch.Sessions = append(sch.Sessions, s)
	}
	return sch
}

// freeAddr is a loopback address nothing listens on now: for a service's
// admin address a test scrapes.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	testenv.Must(t, err, "find a free port")
	defer ln.Close()
	return ln.Addr().String()
}

// count runs a counting query.
func (s *service) count(query string, args ...any) int {
	s.t.Helper()
	var n int
	testenv.Must(s.t, s.pool.QueryRow(context.Background(), query, args...).Scan(&n), "count: %s", query)
	return n
}

// withConsent adds privacy_consent, the current notice's version, to a
// sign-up's or an added person's body that does not give the key.
func withConsent(method, path string, body any) any {
	if method != "POST" || (path != "/v1/accounts" && path != "/v1/patients") {
		return body
	}
	switch b := body.(type) {
	case map[string]string:
		if _, ok := b["privacy_consent"]; !ok {
			c := maps.Clone(b)
			c["privacy_consent"] = booking.PrivacyNoticeVersion
			return c
		}
	case map[string]any:
		if _, ok := b["privacy_consent"]; !ok {
			c := maps.Clone(b)
			c["privacy_consent"] = booking.PrivacyNoticeVersion
			return c
		}
	}
	return body
}
