package booking_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"fairslot/internal/admission"
	"fairslot/internal/booking"
	"fairslot/internal/cockroach"
	"fairslot/internal/identity"
	"fairslot/internal/testenv"
	"fairslot/internal/testenv/stack"
)

// These tests run the Service over the real admission.Gate (Redis) and
// cockroach.Store (PostgreSQL) that `make test` starts, wired as
// cmd/fairslot/config.go wires them. Each test has a database and a Redis key
// prefix of its own. After every test that books, Check must find Redis and
// SQL in agreement.

var shanghai = testenv.Shanghai

const password = "correct horse battery"

// clock is the Service's controllable clock: the real time plus an offset,
// or a fixed time while frozen.
type clock struct{ offset, frozen atomic.Int64 }

func (c *clock) Now() time.Time {
	if f := c.frozen.Load(); f != 0 {
		return time.Unix(0, f)
	}
	return time.Now().Add(time.Duration(c.offset.Load()))
}
func (c *clock) freeze(t time.Time)    { c.frozen.Store(t.UnixNano()) }
func (c *clock) set(t time.Time)       { c.offset.Store(int64(time.Until(t))) }
func (c *clock) reset()                { c.offset.Store(0) }
func (c *clock) at(t time.Time) func() { c.set(t); return c.reset }

type harnessConfig struct {
	holdFor time.Duration
	// wrap puts a test double around the real store.
	wrap func(*cockroach.Store) booking.Store
	// detector is the scalper detector Service.Detect runs.
	detector booking.Detector
	// soldOutFor is booking.Config.SoldOutFor (negative: no fast reject).
	soldOutFor time.Duration
	// verifier is the identity verifier (DeskOnly when nil).
	verifier booking.IdentityVerifier
	// loginGuard is the per-phone login failure limit (none when nil).
	loginGuard booking.LoginGuard
	// claimGuard and claimIPGuard are booking.Config's (none when nil).
	claimGuard, claimIPGuard booking.LoginGuard
	// realNameGuard and realNameAccountGuard are booking.Config's (none
	// when nil).
	realNameGuard, realNameAccountGuard booking.LoginGuard
	// reportIPGuard is booking.Config's (none when nil).
	reportIPGuard booking.LoginGuard
	// refusalBuffer is booking.Config.RefusalBuffer.
	refusalBuffer int
	// metrics receives bookings and refusals (none when nil).
	metrics booking.Metrics
	// bookingWriters is booking.Config.BookingWriters.
	bookingWriters int
	// sender delivers notifications (ConsoleSender when nil).
	sender booking.Sender
	// drawPage is booking.Config.DrawPage.
	drawPage int
	// closingPage is booking.Config.ClosingPage.
	closingPage int
	// returnRound and returnDelay are booking.Config.ReturnRound and the
	// fixed return delay (none and 1 ns, due at once, when zero).
	returnRound, returnDelay time.Duration
	// policy is the hospital's (DefaultPolicy when nil).
	policy *booking.Policy
	// cancelDeadline is the hospital's cancellation deadline ("15:00" when
	// empty).
	cancelDeadline string
	// operatorActsPerHour is booking.Config.OperatorActsPerHour.
	operatorActsPerHour int
	// onlyReadsVerify is booking.Config.OnlyReadsVerify.
	onlyReadsVerify bool
}

type harness struct {
	t      *testing.T
	ctx    context.Context
	svc    *booking.Service
	store  *cockroach.Store // the real one, below any wrapper
	gate   *admission.Gate
	rdb    *redis.Client
	prefix string
	clock  *clock
	stack  *stack.Stack
	hosp   booking.Hospital
	day    time.Time // midnight at the start of tomorrow in Asia/Shanghai
	date   string    // tomorrow, YYYY-MM-DD

	seq   atomic.Int64
	mu    sync.Mutex
	depts map[string]booking.Department
}

// newHarness wires a Service as cmd/fairslot/config.go does, over this
// test's own database and Redis prefix, and a hospital with no sessions yet.
func newHarness(t *testing.T, cfg harnessConfig) *harness {
	t.Helper()
	ctx := t.Context()
	clk := &clock{}
	st := stack.New(t, booking.Config{
		HoldFor: cfg.holdFor,
		Now:     clk.Now,
		// Returned slots are due at once; placeReturned places them.
		ReturnDelayMin:       cmp.Or(cfg.returnDelay, time.Nanosecond),
		ReturnDelayMax:       cmp.Or(cfg.returnDelay, time.Nanosecond),
		ReturnRound:          cmp.Or(cfg.returnRound, -1),
		Detector:             cfg.detector,
		SoldOutFor:           cfg.soldOutFor,
		Verifier:             cfg.verifier,
		LoginGuard:           cfg.loginGuard,
		ClaimGuard:           cfg.claimGuard,
		ClaimIPGuard:         cfg.claimIPGuard,
		RealNameGuard:        cfg.realNameGuard,
		ReportIPGuard:        cfg.reportIPGuard,
		RealNameAccountGuard: cfg.realNameAccountGuard,
		RefusalBuffer:        cfg.refusalBuffer,
		Metrics:              cfg.metrics,
		BookingWriters:       cfg.bookingWriters,
		Sender:               cfg.sender,
		DrawPage:             cfg.drawPage,
		ClosingPage:          cfg.closingPage,
		OperatorActsPerHour:  cfg.operatorActsPerHour,
		OnlyReadsVerify:      cfg.onlyReadsVerify,
	}, cfg.wrap)
	svc, store, gate, rdb, prefix := st.Service, st.Store, st.Gate, st.Redis, st.Prefix

	tomorrow := time.Now().In(shanghai).AddDate(0, 0, 1)
	policy := booking.DefaultPolicy
	if cfg.policy != nil {
		policy = *cfg.policy
	}
	h := &harness{
		t: t, ctx: ctx, svc: svc, store: store, gate: gate, rdb: rdb, prefix: prefix, clock: clk, stack: st,
		hosp: booking.Hospital{ID: booking.NewID(), Name: "Test Hospital " + testenv.Token(),
			TimeZone: "Asia/Shanghai", Policy: policy, CancelDeadline: cfg.cancelDeadline},
		day:   time.Date(tomorrow.Year(), tomorrow.Month(), tomorrow.Day(), 0, 0, 0, 0, shanghai),
		depts: map[string]booking.Department{},
	}
	h.date = h.day.Format(time.DateOnly)
	testenv.Must(t, svc.SaveSchedule(ctx, booking.Schedule{Hospitals: []booking.Hospital{h.hosp}}), "save hospital")
	return h
}

func (h *harness) department(name string) booking.Department {
	h.mu.Lock()
	defer h.mu.Unlock()
	d, ok := h.depts[name]
	if !ok {
		d = booking.Department{ID: booking.NewID(), HospitalID: h.hosp.ID, Name: name}
		h.depts[name] = d
	}
	return d
}

type sessionOpts struct {
	dept    string    // department name; "Cardiology" when empty
	period  string    // morning (08-12), afternoon (14-18) or evening (18-21); morning when empty
	online  int       // slots of the online pool
	phone   int       // slots of the phone pool
	release time.Time // release time of every pool; an hour ago when zero
	mode    booking.ReleaseMode
	day     time.Time // the visit day; tomorrow when zero
}

// session stores a session tomorrow, with a doctor of its own, through
// Service.SaveSchedule, and returns it as the catalog holds it.
func (h *harness) session(o sessionOpts) *booking.Session {
	h.t.Helper()
	if o.release.IsZero() {
		o.release = time.Now().Add(-time.Hour)
	}
	if o.day.IsZero() {
		o.day = h.day
	}
	var quotas []booking.ChannelQuota
	if o.online > 0 {
		quotas = append(quotas, booking.ChannelQuota{Channel: booking.ChannelOnline, Quota: o.online, ReleaseAt: o.release})
	}
	if o.phone > 0 {
		quotas = append(quotas, booking.ChannelQuota{Channel: booking.ChannelPhone, Quota: o.phone, ReleaseAt: o.release})
	}
	return h.saveSession(o.dept, o.period, "chief physician", o.day, o.mode, quotas)
}

// saveSession stores a session on day in department deptName ("Cardiology"
// when empty) and period (morning when empty), with a new doctor of title
// and these pools, through Service.SaveSchedule, and returns it as the
// catalog holds it.
func (h *harness) saveSession(deptName, period, title string, day time.Time, mode booking.ReleaseMode, quotas []booking.ChannelQuota) *booking.Session {
	h.t.Helper()
	if deptName == "" {
		deptName = "Cardiology"
	}
	if period == "" {
		period = "morning"
	}
	hours := map[string][2]time.Duration{"morning": {8, 12}, "afternoon": {14, 18}, "evening": {18, 21}}[period]
	dept := h.department(deptName)
	doc := booking.Doctor{ID: booking.NewID(), HospitalID: h.hosp.ID, DepartmentID: dept.ID,
		Name: fmt.Sprintf("Dr %d", h.seq.Add(1)), Title: title}
	s, err := booking.BuildSession(booking.SessionSpec{
		HospitalID: h.hosp.ID, DepartmentID: dept.ID, DoctorID: doc.ID, VisitDate: day.Format(time.DateOnly), Period: period,
		StartsAt: day.Add(hours[0] * time.Hour), EndsAt: day.Add(hours[1] * time.Hour), Mode: mode, Quotas: quotas,
	})
	testenv.Must(h.t, err, "build session")
	testenv.Must(h.t, h.svc.SaveSchedule(h.ctx, booking.Schedule{
		Hospitals: []booking.Hospital{h.hosp}, Departments: []booking.Department{dept},
		Doctors: []booking.Doctor{doc}, Sessions: []booking.Session{s},
	}), "save schedule")
	got, ok := h.svc.Catalog().Session(s.ID)
	if !ok {
		h.t.Fatalf("session %s is not in the catalog after SaveSchedule", s.ID)
	}
	return got
}

// residentID returns a valid 18-character mainland resident ID: region
// 110105, a birth date from 1950 to 2000, a sequence number, and the GB 11643
// check character. Different n give different IDs.
func residentID(n int) string {
	birth := time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n%18000)
	first17 := "110105" + birth.Format("20060102") + fmt.Sprintf("%03d", n%1000)
	return first17 + string(identity.CheckDigit(first17))
}

func TestResidentIDGenerator(t *testing.T) {
	seen := map[string]bool{}
	for n := range 2000 {
		id := residentID(n)
		if _, err := identity.Parse(string(identity.ResidentID), id); err != nil {
			t.Fatalf("residentID(%d) = %s: %v", n, id, err)
		}
		if seen[id] {
			t.Fatalf("residentID(%d) = %s repeats", n, id)
		}
		seen[id] = true
	}
	// Published examples with known check characters.
	for _, id := range []string{"11010519491231002X", "110105194912310029"} {
		_, err := identity.Parse(string(identity.ResidentID), id)
		if got, want := err == nil, id == "11010519491231002X"; got != want {
			t.Errorf("Parse(%s) valid = %v, want %v", id, got, want)
		}
	}
}

// user is a patient account with its token's actor, its phone and its
// patients.
type user struct {
	actor    booking.Actor
	phone    string
	patients []booking.Patient
}

func (h *harness) phone() string { return fmt.Sprintf("139%08d", h.seq.Add(1)) }

// login logs in and authenticates the token, as the HTTP layer does.
func (h *harness) login(phone string) booking.Actor {
	h.t.Helper()
	tok, err := h.svc.Login(h.ctx, phone, password, booking.Origin{IP: "203.0.113.5"})
	testenv.Must(h.t, err, "login")
	a, err := h.svc.Authenticate([]byte(tok.Token))
	testenv.Must(h.t, err, "authenticate")
	return a
}

// user creates an account with n patients, the first one its holder.
func (h *harness) user(n int) user {
	h.t.Helper()
	phone := h.phone()
	id, err := h.svc.CreateAccount(h.ctx, phone, password, "", booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, booking.Origin{IP: "203.0.113.5", DeviceID: "dv-1"})
	testenv.Must(h.t, err, "create account")
	u := user{actor: h.login(phone), phone: phone}
	if u.actor.AccountID != id || u.actor.Role != booking.RolePatient {
		h.t.Fatalf("Authenticate = %+v, want account %s with role patient", u.actor, id)
	}
	for i := range n {
		p, err := h.svc.AddPatient(h.ctx, u.actor, booking.AddPatientRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion},
			IDType: "resident_id", IDNumber: residentID(int(h.seq.Add(1))), Name: "张伟", IsSelf: i == 0,
		}, booking.Origin{})
		testenv.Must(h.t, err, "add patient")
		u.patients = append(u.patients, p)
	}
	return u
}

// users creates n accounts of per patients each, several at a time.
func (h *harness) users(n, per int) []user {
	h.t.Helper()
	out := make([]user, n)
	errs := make(chan error, n)
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			u, err := h.newUser(per)
			out[i] = u
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		testenv.Must(h.t, err, "create user")
	}
	return out
}

// newUser is user without t.Fatal, for other goroutines.
func (h *harness) newUser(n int) (user, error) {
	phone := h.phone()
	if _, err := h.svc.CreateAccount(h.ctx, phone, password, "", booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, booking.Origin{}); err != nil {
		return user{}, err
	}
	tok, err := h.svc.Login(h.ctx, phone, password, booking.Origin{})
	if err != nil {
		return user{}, err
	}
	u := user{}
	if u.actor, err = h.svc.Authenticate([]byte(tok.Token)); err != nil {
		return user{}, err
	}
	for i := range n {
		p, err := h.svc.AddPatient(h.ctx, u.actor, booking.AddPatientRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion},
			IDType: "resident_id", IDNumber: residentID(int(h.seq.Add(1))), Name: "李娜", IsSelf: i == 0,
		}, booking.Origin{})
		if err != nil {
			return user{}, err
		}
		u.patients = append(u.patients, p)
	}
	return u, nil
}

// staffHospital is the hospital a staff account of role works for: the
// test's, but none for an administrator (platform-wide).
func (h *harness) staffHospital(role booking.Role) string {
	if role == booking.RoleAdmin {
		return ""
	}
	return h.hosp.ID
}

// staff creates a staff account of the given role and logs it in.
func (h *harness) staff(role booking.Role) booking.Actor {
	h.t.Helper()
	phone := h.phone()
	_, err := h.svc.CreateStaff(h.ctx, booking.StaffRequest{Phone: phone, Password: password, Role: role, HospitalID: h.staffHospital(role)})
	testenv.Must(h.t, err, "create staff")
	a := h.login(phone)
	if a.Role != role {
		h.t.Fatalf("staff actor role = %s, want %s", a.Role, role)
	}
	return a
}

func (h *harness) book(u user, patient int, s *booking.Session, key string) (booking.Booking, error) {
	return h.svc.Book(h.ctx, u.actor, booking.BookRequest{SessionID: s.ID, PatientID: u.patients[patient].ID,
		Channel: booking.ChannelOnline, IdempotencyKey: key, Origin: booking.Origin{IP: "203.0.113.7"}})
}

func (h *harness) mustBook(u user, patient int, s *booking.Session, key string) booking.Booking {
	h.t.Helper()
	b, err := h.book(u, patient, s, key)
	if err != nil {
		h.t.Fatalf("Book(session %s, patient %d, key %q): %v", s.ID, patient, key, err)
	}
	return b
}

// remaining is the live count of free slots of a session, per channel, as
// patients see it.
func (h *harness) remaining(s *booking.Session) map[booking.Channel]int {
	h.t.Helper()
	views, err := h.svc.Sessions(h.ctx, s.HospitalID, s.VisitDate, s.DepartmentID)
	testenv.Must(h.t, err, "sessions")
	for _, v := range views {
		if v.ID == s.ID {
			return v.Remaining
		}
	}
	h.t.Fatalf("session %s is not listed", s.ID)
	return nil
}

func (h *harness) online(s *booking.Session) int {
	h.t.Helper()
	return h.remaining(s)[booking.ChannelOnline]
}

// placeReturned places the returned slots whose (here: nanosecond) delay is
// over, as the background job does every few seconds.
func (h *harness) placeReturned() {
	h.t.Helper()
	_, err := h.svc.PlaceDelayed(h.ctx)
	testenv.Must(h.t, err, "place returned slots")
}

func (h *harness) wantOnline(s *booking.Session, want int) {
	h.t.Helper()
	if got := h.online(s); got != want {
		h.t.Errorf("session %s: %d online slots remain, want %d", s.ID, got, want)
	}
}

// discrepancies is what Check reports, one line each, once the booking
// batches' confirms have run (settle).
func (h *harness) discrepancies() []string {
	h.t.Helper()
	h.settle()
	d, err := h.svc.Check(h.ctx)
	testenv.Must(h.t, err, "check")
	out := make([]string, len(d))
	for i, dr := range d {
		out[i] = dr.String()
	}
	return out
}

// checkClean fails the test unless Redis and SQL agree.
func (h *harness) checkClean() {
	h.t.Helper()
	if d := h.discrepancies(); len(d) > 0 {
		h.t.Errorf("Check found %d discrepancies between Redis and SQL:\n%s", len(d), strings.Join(d, "\n"))
	}
}

// settle waits until no booking batch is written or followed up: a
// batch's confirm runs after its answers (the writer's too), so a hold may
// be pending for a moment after Book returns.
func (h *harness) settle() {
	h.t.Helper()
	eventually(h.t, 10*time.Second, "the booking batches and their confirms are done", h.svc.BookingsSettled)
}

// pending lists the booking ids whose holds still wait for their commit,
// once the booking batches' confirms have run (settle).
func (h *harness) pending() []string {
	h.t.Helper()
	h.settle()
	holds, err := h.gate.Expired(h.ctx, h.hosp.ID, time.Now().Add(24*time.Hour), 10_000)
	testenv.Must(h.t, err, "pending holds")
	var ids []string
	for _, hd := range holds {
		ids = append(ids, hd.BookingID)
	}
	return ids
}

// holds lists the holds of a session in Redis.
func (h *harness) holds(s *booking.Session) []booking.Hold {
	h.t.Helper()
	holds, err := h.gate.Holds(h.ctx, s.HospitalID, []string{s.ID})
	testenv.Must(h.t, err, "holds")
	return holds
}

// activeInSQL counts the session's active bookings in SQL.
func (h *harness) activeInSQL(s *booking.Session) []booking.Booking {
	h.t.Helper()
	all, err := h.store.ActiveBookings(h.ctx, s.HospitalID, s.VisitDate)
	testenv.Must(h.t, err, "active bookings")
	var out []booking.Booking
	for _, b := range all {
		if b.SessionID == s.ID {
			out = append(out, b)
		}
	}
	return out
}

// reservation is the Reservation Service.Book makes for an online booking.
func (h *harness) reservation(s *booking.Session, p booking.Patient, holdFor time.Duration) booking.Reservation {
	now := h.clock.Now()
	week, month := booking.PeriodKeys(s.VisitDate)
	keep := now.Add(24 * time.Hour)
	if end := s.EndsAt.Add(24 * time.Hour); end.After(keep) {
		keep = end
	}
	hosp, _ := h.svc.Catalog().Hospital(s.HospitalID)
	return booking.Reservation{
		BookingID: booking.NewID(), Nonce: testenv.Token(), HospitalID: s.HospitalID, SessionID: s.ID,
		Channel: booking.ChannelOnline, IdentityKey: p.IdentityKey, VisitDate: s.VisitDate,
		DepartmentID: s.DepartmentID, Week: week, Month: month,
		Today: now.In(hosp.Location()).Format(time.DateOnly), Policy: hosp.Policy,
		HoldFor: holdFor, KeepUntil: keep,
	}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached within %s", what, timeout)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func wantErr(t *testing.T, what string, err error, want *booking.Error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: got error %v, want %v", what, err, want)
	}
}

// wantCode checks the code a client would be told for err.
func wantCode(t *testing.T, what string, err error, want string) {
	t.Helper()
	if e, ok := booking.Public(err); !ok || e.Code != want {
		t.Errorf("%s: a client is told %v, want code %s", what, e, want)
	}
}

// wantMessage checks the text a client would be shown for err.
func wantMessage(t *testing.T, what string, err error, want string) {
	t.Helper()
	if e, ok := booking.Public(err); !ok || !strings.Contains(e.Message, want) {
		t.Errorf("%s: a client is told %v, want a message with %q", what, e, want)
	}
}

func sameBooking(t *testing.T, what string, got, want booking.Booking) {
	t.Helper()
	if got.ID != want.ID || got.SessionID != want.SessionID || got.SlotNo != want.SlotNo ||
		got.PatientID != want.PatientID || got.AccountID != want.AccountID || got.IdentityKey != want.IdentityKey ||
		got.Channel != want.Channel || got.Status != want.Status || got.VisitDate != want.VisitDate ||
		!got.SlotStart.Equal(want.SlotStart) || !got.SlotEnd.Equal(want.SlotEnd) || !got.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

func TestBookCancelRebook(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	s := h.session(sessionOpts{online: 5, phone: 2})
	alice, bob := h.user(1), h.user(1)
	clerk := h.staff(booking.RoleClerk)

	b := h.mustBook(alice, 0, s, "")
	slot1, _ := s.Slot(1)
	want := booking.Booking{ID: b.ID, SessionID: s.ID, SlotNo: 1, PatientID: alice.patients[0].ID,
		AccountID: alice.actor.AccountID, IdentityKey: alice.patients[0].IdentityKey, Channel: booking.ChannelOnline,
		Status: booking.StatusConfirmed, VisitDate: h.date, SlotStart: slot1.StartsAt, SlotEnd: slot1.EndsAt, CreatedAt: b.CreatedAt}
	sameBooking(t, "Book", b, want)
	if b.HospitalID != s.HospitalID || b.DepartmentID != s.DepartmentID || b.DoctorID != s.DoctorID {
		t.Errorf("Book = hospital %s, department %s, doctor %s; want the session's %s, %s, %s",
			b.HospitalID, b.DepartmentID, b.DoctorID, s.HospitalID, s.DepartmentID, s.DoctorID)
	}
	if got := h.remaining(s); got[booking.ChannelOnline] != 4 || got[booking.ChannelPhone] != 2 {
		t.Errorf("remaining after one booking = %v, want online 4, phone 2", got)
	}
	h.checkClean()

	list, err := h.svc.Bookings(h.ctx, alice.actor)
	testenv.Must(t, err, "bookings")
	if len(list) != 1 {
		t.Fatalf("Bookings(alice) = %d bookings, want 1", len(list))
	}
	sameBooking(t, "Bookings(alice)[0]", list[0], b)
	got, err := h.svc.Booking(h.ctx, alice.actor, b.ID)
	testenv.Must(t, err, "booking by id")
	sameBooking(t, "Booking(alice)", got, b)
	if list, _ := h.svc.Bookings(h.ctx, bob.actor); len(list) != 0 {
		t.Errorf("Bookings(bob) = %d bookings, want 0", len(list))
	}
	_, err = h.svc.Booking(h.ctx, bob.actor, b.ID)
	wantErr(t, "Booking by another account", err, booking.ErrBookingNotFound)
	got, err = h.svc.Booking(h.ctx, clerk, b.ID)
	testenv.Must(t, err, "booking read by a clerk")
	sameBooking(t, "Booking(clerk)", got, b)

	c, err := h.svc.Cancel(h.ctx, alice.actor, b.ID, booking.Origin{})
	testenv.Must(t, err, "cancel")
	h.placeReturned()
	if c.ID != b.ID || c.Status != booking.StatusCancelled || c.CancelledAt.IsZero() {
		t.Errorf("Cancel = id %s, status %s, cancelled at %v; want %s, cancelled, a time", c.ID, c.Status, c.CancelledAt, b.ID)
	}
	h.wantOnline(s, 5)
	if got, _ := h.svc.Booking(h.ctx, alice.actor, b.ID); got.Status != booking.StatusCancelled {
		t.Errorf("status read back after cancel = %s, want cancelled", got.Status)
	}
	h.checkClean()

	again := h.mustBook(alice, 0, s, "")
	if again.ID == b.ID || again.SlotNo != 1 {
		t.Errorf("rebook = id %s slot %d; want a new booking on the freed slot 1", again.ID, again.SlotNo)
	}
	h.wantOnline(s, 4)
	if list, _ := h.svc.Bookings(h.ctx, alice.actor); len(list) != 2 {
		t.Errorf("Bookings(alice) after rebooking = %d, want 2 (the cancelled one and the new one)", len(list))
	}
	h.checkClean()
}

// snapshot is what a refused request must leave unchanged.
type snapshot struct {
	Remaining map[string]map[booking.Channel]int
	Bookings  map[string][]string // account → "id status"
}

func (h *harness) snapshot(users ...user) snapshot {
	h.t.Helper()
	views, err := h.svc.Sessions(h.ctx, h.hosp.ID, "", "")
	testenv.Must(h.t, err, "sessions")
	sn := snapshot{Remaining: map[string]map[booking.Channel]int{}, Bookings: map[string][]string{}}
	for _, v := range views {
		sn.Remaining[v.ID] = v.Remaining
	}
	for _, u := range users {
		list, err := h.svc.Bookings(h.ctx, u.actor)
		testenv.Must(h.t, err, "bookings")
		sn.Bookings[u.actor.AccountID] = []string{}
		for _, b := range list {
			sn.Bookings[u.actor.AccountID] = append(sn.Bookings[u.actor.AccountID], b.ID+" "+string(b.Status))
		}
	}
	return sn
}

func TestBookRefusals(t *testing.T) {
	// The refusals in admission's order; the fast reject path, which answers
	// sold_out before admission's already_booked, is TestFastRejectPath's.
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	release := time.Now().Add(time.Hour).Truncate(time.Second)
	open := h.session(sessionOpts{online: 3, phone: 2})
	sameDept := h.session(sessionOpts{online: 2, period: "afternoon"})
	deptB := h.session(sessionOpts{online: 2, dept: "Surgery"})
	deptC := h.session(sessionOpts{online: 2, dept: "Dermatology"})
	unreleased := h.session(sessionOpts{online: 2, dept: "Neurology", release: release})
	soldOut := h.session(sessionOpts{online: 1, dept: "Ophthalmology"})
	lottery := h.session(sessionOpts{online: 2, dept: "Pediatrics", mode: booking.Lottery, release: time.Now().Add(-time.Minute)})
	alice, bob := h.user(2), h.user(1)
	clerk := h.staff(booking.RoleClerk)

	// alice's first patient books twice that day, in two departments.
	booked := h.mustBook(alice, 0, open, "")
	h.mustBook(alice, 0, deptB, "")
	h.mustBook(bob, 0, soldOut, "")
	cancelled := h.mustBook(alice, 1, deptC, "")
	_, err := h.svc.Cancel(h.ctx, alice.actor, cancelled.ID, booking.Origin{})
	testenv.Must(t, err, "cancel")
	h.placeReturned()

	bookAs := func(a booking.Actor, patientID string, s *booking.Session, c booking.Channel) func() error {
		return func() error {
			_, err := h.svc.Book(h.ctx, a, booking.BookRequest{SessionID: s.ID, PatientID: patientID, Channel: c})
			return err
		}
	}
	bookID := func(a booking.Actor, patientID, sessionID string) func() error {
		return func() error {
			_, err := h.svc.Book(h.ctx, a, booking.BookRequest{SessionID: sessionID, PatientID: patientID, Channel: booking.ChannelOnline})
			return err
		}
	}
	cancel := func(a booking.Actor, id string) func() error {
		return func() error {
			_, err := h.svc.Cancel(h.ctx, a, id, booking.Origin{})
			return err
		}
	}
	a0, a1, b0 := alice.patients[0].ID, alice.patients[1].ID, bob.patients[0].ID
	tests := []struct {
		name   string
		at     time.Time // the Service's clock; now when zero
		do     func() error
		want   *booking.Error
		detail string // the message must say this
	}{
		{name: "before release", do: bookAs(alice.actor, a1, unreleased, booking.ChannelOnline),
			want: booking.ErrNotReleased, detail: release.In(shanghai).Format(time.RFC3339)},
		{name: "session ended", at: open.EndsAt.Add(time.Minute), do: bookAs(alice.actor, a1, open, booking.ChannelOnline),
			want: booking.ErrSessionClosed},
		{name: "at the end of the session", at: open.EndsAt, do: bookAs(alice.actor, a1, open, booking.ChannelOnline),
			want: booking.ErrSessionClosed},
		{name: "lottery session", do: bookAs(alice.actor, a1, lottery, booking.ChannelOnline), want: booking.ErrLotteryOnly},
		{name: "patient on the phone channel", do: bookAs(alice.actor, a1, open, booking.ChannelPhone), want: booking.ErrChannelForbidden},
		{name: "patient on the onsite channel", do: bookAs(alice.actor, a1, open, booking.ChannelOnsite), want: booking.ErrChannelForbidden},
		{name: "patient on the referral channel", do: bookAs(alice.actor, a1, open, booking.ChannelReferral), want: booking.ErrChannelForbidden},
		{name: "clerk on the online channel", do: bookAs(clerk, a1, open, booking.ChannelOnline), want: booking.ErrChannelForbidden},
		{name: "patient of another account", do: bookAs(bob.actor, a1, open, booking.ChannelOnline), want: booking.ErrPatientNotFound},
		{name: "malformed session id", do: bookID(alice.actor, a1, "s1' OR '1'='1"), want: booking.ErrSessionNotFound},
		{name: "unknown session id", do: bookID(alice.actor, a1, booking.NewID()), want: booking.ErrSessionNotFound},
		{name: "malformed patient id", do: bookID(alice.actor, "p-1", open.ID), want: booking.ErrPatientNotFound},
		{name: "unknown patient id", do: bookID(alice.actor, booking.NewID(), open.ID), want: booking.ErrPatientNotFound},
		{name: "same session twice", do: bookAs(alice.actor, a0, open, booking.ChannelOnline), want: booking.ErrAlreadyBooked},
		{name: "same day and department", do: bookAs(alice.actor, a0, sameDept, booking.ChannelOnline), want: booking.ErrQuotaDayDept},
		{name: "third booking that day", do: bookAs(alice.actor, a0, deptC, booking.ChannelOnline), want: booking.ErrQuotaDay},
		{name: "sold out", do: bookAs(alice.actor, a1, soldOut, booking.ChannelOnline), want: booking.ErrSoldOut},
		{name: "sold out for the holder too", do: bookAs(bob.actor, b0, soldOut, booking.ChannelOnline), want: booking.ErrAlreadyBooked},
		{name: "read by another account", do: func() error { _, err := h.svc.Booking(h.ctx, bob.actor, booked.ID); return err },
			want: booking.ErrBookingNotFound},
		{name: "read a malformed id", do: func() error { _, err := h.svc.Booking(h.ctx, alice.actor, "../etc"); return err },
			want: booking.ErrBookingNotFound},
		{name: "cancel by another account", do: cancel(bob.actor, booked.ID), want: booking.ErrBookingNotFound},
		{name: "cancel a malformed id", do: cancel(alice.actor, "not-a-uuid"), want: booking.ErrBookingNotFound},
		{name: "cancel an unknown id", do: cancel(alice.actor, booking.NewID()), want: booking.ErrBookingNotFound},
		{name: "cancel twice", do: cancel(alice.actor, cancelled.ID), want: booking.ErrBookingNotActive},
		{name: "cancel after the session started", at: open.StartsAt.Add(time.Minute), do: cancel(alice.actor, booked.ID),
			want: booking.ErrSessionClosed},
		{name: "cancel as the session starts", at: open.StartsAt, do: cancel(alice.actor, booked.ID),
			want: booking.ErrSessionClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := h.snapshot(alice, bob)
			if !tt.at.IsZero() {
				defer h.clock.at(tt.at)()
			}
			err := tt.do()
			if !errors.Is(err, tt.want) {
				t.Fatalf("got error %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.detail) {
				t.Errorf("error %q does not say %q", err, tt.detail)
			}
			if after := h.snapshot(alice, bob); !reflect.DeepEqual(after, before) {
				t.Errorf("a refused request changed state:\n before %+v\n after  %+v", before, after)
			}
		})
	}
	h.checkClean()

	// The refusals left nothing behind: the second patient still books.
	b := h.mustBook(alice, 1, open, "")
	if b.SlotNo != 2 {
		t.Errorf("booking after the refusals got slot %d, want 2", b.SlotNo)
	}
	h.checkClean()
}

func TestIdempotencyKey(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	s := h.session(sessionOpts{online: 5})
	other := h.session(sessionOpts{online: 5, dept: "Surgery"})
	alice, bob := h.user(2), h.user(1)

	first := h.mustBook(alice, 0, s, "key-1")
	second := h.mustBook(alice, 0, s, "key-1")
	sameBooking(t, "repeat with the same key", second, first)
	if first.Replayed || !second.Replayed {
		t.Errorf("Replayed = %v then %v, want false for the booking and true for its repeat", first.Replayed, second.Replayed)
	}
	h.wantOnline(s, 4)
	if list, _ := h.svc.Bookings(h.ctx, alice.actor); len(list) != 1 {
		t.Errorf("Bookings(alice) = %d, want 1", len(list))
	}

	before := h.snapshot(alice, bob)
	_, err := h.book(alice, 0, other, "key-1")
	wantErr(t, "same key, another session", err, booking.ErrIdempotencyReuse)
	_, err = h.book(alice, 1, s, "key-1")
	wantErr(t, "same key, another patient", err, booking.ErrIdempotencyReuse)
	if after := h.snapshot(alice, bob); !reflect.DeepEqual(after, before) {
		t.Errorf("a reused key changed state:\n before %+v\n after  %+v", before, after)
	}

	theirs := h.mustBook(bob, 0, s, "key-1")
	if theirs.ID == first.ID || theirs.AccountID != bob.actor.AccountID || theirs.SlotNo != 2 {
		t.Errorf("another account's booking with the same key = id %s, account %s, slot %d; want its own booking on slot 2",
			theirs.ID, theirs.AccountID, theirs.SlotNo)
	}
	h.wantOnline(s, 3)

	// A key names its booking even after cancellation: the repeat returns
	// the first answer and takes nothing.
	_, err = h.svc.Cancel(h.ctx, alice.actor, first.ID, booking.Origin{})
	testenv.Must(t, err, "cancel")
	h.placeReturned()
	third := h.mustBook(alice, 0, s, "key-1")
	if third.ID != first.ID || third.Status != booking.StatusCancelled {
		t.Errorf("repeat after cancel = id %s status %s; want %s cancelled", third.ID, third.Status, first.ID)
	}
	h.wantOnline(s, 4)
	fresh := h.mustBook(alice, 0, s, "key-2")
	if fresh.ID == first.ID || fresh.SlotNo != 1 {
		t.Errorf("a new key after cancel = id %s slot %d; want a new booking on slot 1", fresh.ID, fresh.SlotNo)
	}
	h.checkClean()
}

// faultyStore is the real store with InsertBookings, Booking and
// ActiveBookings open to interference.
type faultyStore struct {
	*cockroach.Store
	mu       sync.Mutex
	insert   func(ctx context.Context, b booking.Booking, ev booking.Event) error                  // nil: the real one
	readBack error                                                                                 // returned by Booking when set
	batch    func(ctx context.Context, bs []booking.Booking, evs []booking.Event) ([]error, error) // nil: insert, or the real one
	inserted []booking.Booking                                                                     // every booking InsertBookings was given
	batches  []int                                                                                 // the size of every batch it was given
	gate     chan struct{}                                                                         // the next ActiveBookings waits for it to close
	entered  chan struct{}                                                                         // that call signals it is waiting
}

// InsertBookings answers each booking of the batch with insert when set
// (the batch's own error with batch when set), else as the real store.
func (f *faultyStore) InsertBookings(ctx context.Context, bs []booking.Booking, evs []booking.Event) ([]error, error) {
	f.mu.Lock()
	fn, batch := f.insert, f.batch
	f.inserted = append(f.inserted, bs...)
	f.batches = append(f.batches, len(bs))
	f.mu.Unlock()
	switch {
	case batch != nil:
		return batch(ctx, bs, evs)
	case fn != nil:
		errs := make([]error, len(bs))
		for i := range bs {
			errs[i] = fn(ctx, bs[i], evs[i])
		}
		return errs, nil
	}
	return f.Store.InsertBookings(ctx, bs, evs)
}

func (f *faultyStore) Booking(ctx context.Context, id string) (booking.Booking, error) {
	f.mu.Lock()
	err := f.readBack
	f.mu.Unlock()
	if err != nil {
		return booking.Booking{}, err
	}
	return f.Store.Booking(ctx, id)
}

func (f *faultyStore) ActiveBookings(ctx context.Context, hospitalID, fromDate string) ([]booking.Booking, error) {
	f.mu.Lock()
	gate, entered := f.gate, f.entered
	f.gate, f.entered = nil, nil // only one caller waits
	f.mu.Unlock()
	if gate != nil {
		select {
		case entered <- struct{}{}:
		default:
		}
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return f.Store.ActiveBookings(ctx, hospitalID, fromDate)
}

func (f *faultyStore) set(insert func(context.Context, booking.Booking, booking.Event) error, readBack error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.insert, f.readBack = insert, readBack
}

func (f *faultyStore) setBatch(batch func(context.Context, []booking.Booking, []booking.Event) ([]error, error)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.batch = batch
}

func (f *faultyStore) last() booking.Booking {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.inserted[len(f.inserted)-1]
}

// holdReconciliation makes the next call of ActiveBookings wait until the
// returned function is called; entered receives once that call waits.
func (f *faultyStore) holdReconciliation(t *testing.T) (entered <-chan struct{}, resume func()) {
	gate, ent := make(chan struct{}), make(chan struct{}, 1)
	f.mu.Lock()
	f.gate, f.entered = gate, ent
	f.mu.Unlock()
	var once sync.Once
	resume = func() {
		once.Do(func() {
			f.mu.Lock()
			if f.gate == gate {
				f.gate, f.entered = nil, nil
			}
			f.mu.Unlock()
			close(gate)
		})
	}
	t.Cleanup(resume)
	return ent, resume
}

func TestCommitFailureGivesHoldBack(t *testing.T) {
	var fs *faultyStore
	h := newHarness(t, harnessConfig{holdFor: 50 * time.Millisecond, wrap: func(s *cockroach.Store) booking.Store {
		fs = &faultyStore{Store: s}
		return fs
	}})
	plain := func(context.Context, booking.Booking, booking.Event) error {
		return errors.New("connection reset by peer")
	}
	unknown := func(context.Context, booking.Booking, booking.Event) error {
		return fmt.Errorf("insert_booking: commit: %w: %w", booking.ErrOutcomeUnknown, io.ErrUnexpectedEOF)
	}
	committedThenLost := func(ctx context.Context, b booking.Booking, ev booking.Event) error {
		if err := h.store.InsertBooking(ctx, b, ev); err != nil {
			return err
		}
		return fmt.Errorf("insert_booking: commit: %w: %w", booking.ErrOutcomeUnknown, io.ErrUnexpectedEOF)
	}
	slotTaken := func(context.Context, booking.Booking, booking.Event) error {
		return fmt.Errorf("insert booking: %w", booking.ErrSlotTaken)
	}
	const quota = 3

	t.Run("plain error", func(t *testing.T) {
		s := h.session(sessionOpts{online: quota, dept: "Plain"})
		u := h.user(1)
		fs.set(plain, nil)
		_, err := h.book(u, 0, s, "retry-me")
		fs.set(nil, nil)
		wantErr(t, "Book", err, booking.ErrUnavailable)
		wantMessage(t, "Book", err, "nothing was booked")
		h.wantOnline(s, quota)
		h.checkClean()
		if p := h.pending(); slices.Contains(p, fs.last().ID) {
			t.Errorf("the failed booking %s is still pending", fs.last().ID)
		}
		// The booking id was forgotten, so the retry runs again.
		b := h.mustBook(u, 0, s, "retry-me")
		if b.SlotNo != 1 {
			t.Errorf("retry got slot %d, want the returned slot 1", b.SlotNo)
		}
		h.wantOnline(s, quota-1)
		h.checkClean()
	})

	t.Run("outcome unknown, not written", func(t *testing.T) {
		s := h.session(sessionOpts{online: quota, dept: "Unknown"})
		u := h.user(1)
		fs.set(unknown, nil)
		_, err := h.book(u, 0, s, "")
		fs.set(nil, nil)
		wantCode(t, "Book", err, "unavailable")
		wantMessage(t, "Book", err, "nothing was booked")
		_, err = h.store.Booking(h.ctx, fs.last().ID)
		wantErr(t, "the booking in SQL", err, booking.ErrBookingNotFound)
		h.wantOnline(s, quota)
		h.checkClean()
		if b := h.mustBook(u, 0, s, ""); b.SlotNo != 1 {
			t.Errorf("next booking got slot %d, want the returned slot 1", b.SlotNo)
		}
		h.checkClean()
	})

	t.Run("outcome unknown, committed", func(t *testing.T) {
		s := h.session(sessionOpts{online: quota, dept: "Committed"})
		u := h.user(1)
		fs.set(committedThenLost, nil)
		b, err := h.book(u, 0, s, "")
		fs.set(nil, nil)
		if err != nil {
			t.Fatalf("Book: %v; want the booking that did commit", err)
		}
		if b.ID != fs.last().ID || b.SlotNo != 1 {
			t.Errorf("Book = id %s slot %d, want id %s slot 1", b.ID, b.SlotNo, fs.last().ID)
		}
		got, err := h.svc.Booking(h.ctx, u.actor, b.ID)
		testenv.Must(t, err, "booking by id")
		sameBooking(t, "read back", got, b)
		if slices.Contains(h.pending(), b.ID) {
			t.Errorf("booking %s is still pending; Book must confirm it", b.ID)
		}
		h.wantOnline(s, quota-1)
		h.checkClean()
		_, err = h.book(u, 0, s, "")
		wantErr(t, "booking again", err, booking.ErrAlreadyBooked)
	})

	t.Run("outcome unknown, read-back fails", func(t *testing.T) {
		s := h.session(sessionOpts{online: quota, dept: "Unreadable"})
		u := h.user(1)
		fs.set(unknown, errors.New("read back: connection refused"))
		_, err := h.book(u, 0, s, "")
		fs.set(nil, nil)
		// Its own code, not unavailable's "nothing was booked" (API.md):
		// a client tells the two apart without reading the message.
		wantCode(t, "Book", err, "outcome_unknown")
		wantMessage(t, "Book", err, "the outcome is unknown; retry with the same Idempotency-Key")
		if wait, ok := booking.RetryAfter(err); !ok || wait <= 0 {
			t.Errorf("RetryAfter = %v, %v; want a wait: a repeat with the same key is the advice", wait, ok)
		}
		id := fs.last().ID
		// Cannot tell: the hold stays pending for the sweeper.
		if !slices.Contains(h.pending(), id) {
			t.Errorf("booking %s is not pending; an unknown outcome must be left to the sweeper", id)
		}
		h.wantOnline(s, quota-1)
		eventually(t, 10*time.Second, "the sweeper releases the hold", func() bool {
			n, err := h.svc.Sweep(h.ctx)
			testenv.Must(t, err, "sweep")
			return n >= 1
		})
		h.wantOnline(s, quota)
		h.checkClean()
	})

	// The database refuses connections (down, unreachable): nothing was
	// sent, so the answer is that nothing was booked, not that the outcome
	// is unknown (review15 L4), and the slot is back at once.
	t.Run("database refuses connections", func(t *testing.T) {
		down := cockroach.NewStore(testenv.GoneDB(t))
		_, readErr := down.Booking(h.ctx, testenv.Token())
		if readErr == nil || errors.Is(readErr, booking.ErrBookingNotFound) {
			t.Fatalf("a read through the refusing database = %v; want it to fail", readErr)
		}
		s := h.session(sessionOpts{online: quota, dept: "Refused"})
		u := h.user(1)
		fs.setBatch(down.InsertBookings)
		fs.set(nil, readErr) // the read-back meets the same outage
		_, err := h.book(u, 0, s, "")
		fs.setBatch(nil)
		fs.set(nil, nil)
		wantErr(t, "Book", err, booking.ErrUnavailable)
		wantMessage(t, "Book", err, "nothing was booked")
		if p := h.pending(); slices.Contains(p, fs.last().ID) {
			t.Errorf("the refused booking %s is still pending", fs.last().ID)
		}
		h.wantOnline(s, quota)
		h.checkClean()
	})

	t.Run("slot taken in SQL", func(t *testing.T) {
		s := h.session(sessionOpts{online: quota, dept: "Taken"})
		u := h.user(1)
		entered, resume := fs.holdReconciliation(t)
		fs.set(slotTaken, nil)
		_, err := h.book(u, 0, s, "")
		fs.set(nil, nil)
		wantErr(t, "Book", err, booking.ErrUnavailable)
		select {
		case <-entered:
		case <-time.After(10 * time.Second):
			t.Fatal("Book did not start reconciling the session")
		}
		// Until reconciliation the slot is neither free nor held: Redis
		// must not hand out again a slot SQL says is taken.
		h.wantOnline(s, quota-1)
		if got := h.holds(s); len(got) != 0 {
			t.Errorf("holds after the refused commit = %+v, want none", got)
		}
		if slices.Contains(h.pending(), fs.last().ID) {
			t.Errorf("booking %s is still pending", fs.last().ID)
		}
		want := fmt.Sprintf("session %s slot 1 lost_slot: free in SQL, but in no pool and not waiting out a return delay", s.ID)
		if d := h.discrepancies(); !slices.Contains(d, want) {
			t.Errorf("Check = %q, want it to say %q", d, want)
		}
		resume()
		// SQL has no booking for the slot after all, so reconciliation
		// frees it.
		eventually(t, 10*time.Second, "reconciliation returns the slot", func() bool { return h.online(s) == quota })
		h.checkClean()
	})

	t.Run("slot taken in SQL, real drift", func(t *testing.T) {
		s := h.session(sessionOpts{online: quota, dept: "Drift"})
		u, v := h.user(1), h.user(1)
		first := h.mustBook(u, 0, s, "")
		// Redis loses the hold (say, a failover lost the write): it thinks
		// slot 1 is free while SQL has it booked.
		testenv.Must(t, h.gate.Release(h.ctx, booking.HoldOf(first), booking.Release{ReturnSlot: true, Forget: true}), "release")
		h.wantOnline(s, quota)
		_, err := h.book(v, 0, s, "")
		wantErr(t, "Book on the drifted slot", err, booking.ErrUnavailable)
		eventually(t, 10*time.Second, "reconciliation restores SQL's booking", func() bool {
			return len(h.discrepancies()) == 0
		})
		h.wantOnline(s, quota-1)
		if b := h.mustBook(v, 0, s, ""); b.SlotNo != 2 {
			t.Errorf("retry got slot %d, want 2", b.SlotNo)
		}
		_, err = h.book(u, 0, s, "")
		wantErr(t, "the first patient again", err, booking.ErrAlreadyBooked)
		if got := len(h.activeInSQL(s)); got != 2 {
			t.Errorf("%d active bookings in SQL, want 2", got)
		}
		h.checkClean()
	})
}

func TestSweepAfterCrashBetweenAdmitAndCommit(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	const quota = 4

	t.Run("hold without a row is released", func(t *testing.T) {
		s := h.session(sessionOpts{online: quota, dept: "Abandoned"})
		u := h.user(1)
		r := h.reservation(s, u.patients[0], 5*time.Millisecond)
		slot, replay, err := h.gate.Reserve(h.ctx, r)
		testenv.Must(t, err, "reserve")
		if slot != 1 || replay {
			t.Fatalf("Reserve = slot %d, replay %v; want slot 1, false", slot, replay)
		}
		h.wantOnline(s, quota-1)
		_, err = h.book(u, 0, s, "")
		// A hold with no row is not shown to be the account's own: the
		// uniform refusal (byothers.go).
		wantUniform(t, "booking while the abandoned hold counts", err)
		if d := h.discrepancies(); !slices.ContainsFunc(d, func(l string) bool { return strings.Contains(l, r.BookingID) }) {
			t.Errorf("Check does not name the hold without a row, %s:\n%s", r.BookingID, strings.Join(d, "\n"))
		}

		eventually(t, 10*time.Second, "the sweeper releases the abandoned hold", func() bool {
			n, err := h.svc.Sweep(h.ctx)
			testenv.Must(t, err, "sweep")
			return n >= 1
		})
		h.wantOnline(s, quota)
		if slices.Contains(h.pending(), r.BookingID) {
			t.Errorf("booking %s is still pending after the sweep", r.BookingID)
		}
		h.checkClean()
		b := h.mustBook(u, 0, s, "")
		if b.SlotNo != 1 {
			t.Errorf("booking after the sweep got slot %d, want the released slot 1", b.SlotNo)
		}
		h.checkClean()
	})

	t.Run("hold with a row is confirmed", func(t *testing.T) {
		s := h.session(sessionOpts{online: quota, dept: "Committed"})
		u := h.user(1)
		p := u.patients[0]
		r := h.reservation(s, p, 5*time.Millisecond)
		slot, _, err := h.gate.Reserve(h.ctx, r)
		testenv.Must(t, err, "reserve")
		sl, _ := s.Slot(slot)
		now := time.Now().Truncate(time.Microsecond)
		b := booking.Booking{ID: r.BookingID, SessionID: s.ID, HospitalID: s.HospitalID, DepartmentID: s.DepartmentID,
			DoctorID: s.DoctorID, VisitDate: s.VisitDate, SlotNo: slot, SlotStart: sl.StartsAt, SlotEnd: sl.EndsAt,
			PatientID: p.ID, IdentityID: p.IdentityID, IdentityKey: p.IdentityKey, AccountID: u.actor.AccountID,
			Channel: booking.ChannelOnline, Status: booking.StatusConfirmed, CreatedAt: now}
		ev := booking.Event{ID: booking.NewID(), TS: now, Type: booking.EventBooked, AccountID: u.actor.AccountID,
			PatientID: p.ID, BookingID: b.ID, SessionID: s.ID, HospitalID: s.HospitalID, DepartmentID: s.DepartmentID,
			DoctorID: s.DoctorID, Channel: booking.ChannelOnline}
		testenv.Must(t, h.store.InsertBooking(h.ctx, b, ev), "insert booking")

		eventually(t, 10*time.Second, "the sweeper confirms the hold", func() bool {
			n, err := h.svc.Sweep(h.ctx)
			testenv.Must(t, err, "sweep")
			if n != 0 {
				t.Fatalf("Sweep released %d holds; a hold whose booking is in SQL must be confirmed", n)
			}
			return !slices.Contains(h.pending(), b.ID)
		})
		h.wantOnline(s, quota-1)
		if got := h.holds(s); len(got) != 1 || got[0].BookingID != b.ID || got[0].SlotNo != slot {
			t.Errorf("holds = %+v, want booking %s on slot %d", got, b.ID, slot)
		}
		got, err := h.svc.Booking(h.ctx, u.actor, b.ID)
		testenv.Must(t, err, "booking by id")
		sameBooking(t, "swept booking", got, b)
		_, err = h.book(u, 0, s, "")
		wantErr(t, "booking again", err, booking.ErrAlreadyBooked)
		h.checkClean()
	})

	t.Run("reconciliation releases an abandoned hold and forgets it", func(t *testing.T) {
		s := h.session(sessionOpts{online: quota, dept: "Reconciled"})
		u := h.user(1)
		r := h.reservation(s, u.patients[0], 5*time.Millisecond)
		slot, _, err := h.gate.Reserve(h.ctx, r)
		testenv.Must(t, err, "reserve")
		eventually(t, 10*time.Second, "the hold's deadline passes", func() bool {
			expired, err := h.gate.Expired(h.ctx, s.HospitalID, time.Now(), 100)
			testenv.Must(t, err, "expired")
			return slices.ContainsFunc(expired, func(hd booking.Hold) bool { return hd.BookingID == r.BookingID })
		})
		testenv.Must(t, h.svc.Reconcile(h.ctx), "reconcile")
		h.wantOnline(s, quota)
		h.checkClean()
		// The booking id is forgotten: a retry of that request is admitted
		// afresh instead of being told it is still in progress.
		r.Nonce = testenv.Token()
		again, replay, err := h.gate.Reserve(h.ctx, r)
		testenv.Must(t, err, "reserve again")
		if replay || again != slot {
			t.Errorf("Reserve again = slot %d, replay %v; want slot %d afresh", again, replay, slot)
		}
		testenv.Must(t, h.gate.Release(h.ctx, booking.Hold{HospitalID: s.HospitalID, SessionID: s.ID, BookingID: r.BookingID,
			SlotNo: again, Channel: booking.ChannelOnline, IdentityKey: r.IdentityKey},
			booking.Release{ReturnSlot: true, Forget: true}), "release")
		h.checkClean()
	})
}

// dropRedis deletes every key of the gate, as if Redis lost its data.
func (h *harness) dropRedis() int {
	h.t.Helper()
	var keys []string
	iter := h.rdb.Scan(h.ctx, 0, h.prefix+":*", 1000).Iterator()
	for iter.Next(h.ctx) {
		keys = append(keys, iter.Val())
	}
	testenv.Must(h.t, iter.Err(), "scan")
	for _, k := range keys {
		testenv.Must(h.t, h.rdb.Del(h.ctx, k).Err(), "del %s", k)
	}
	return len(keys)
}

func TestReconcileAfterRedisLoss(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	const quota = 6
	s := h.session(sessionOpts{online: quota})
	other := h.session(sessionOpts{online: 2, dept: "Surgery"})
	users := []user{h.user(1), h.user(1), h.user(1), h.user(1)}
	var active []booking.Booking
	for i, u := range users[:3] {
		active = append(active, h.mustBook(u, 0, s, fmt.Sprintf("key-%d", i)))
	}
	gone := h.mustBook(users[3], 0, s, "key-gone")
	_, err := h.svc.Cancel(h.ctx, users[3].actor, gone.ID, booking.Origin{})
	testenv.Must(t, err, "cancel")
	h.placeReturned()
	h.mustBook(users[0], 0, other, "")
	h.checkClean()

	if n := h.dropRedis(); n == 0 {
		t.Fatal("no Redis keys under the gate's prefix")
	}
	d := h.discrepancies()
	for _, b := range active {
		if !slices.ContainsFunc(d, func(line string) bool { return strings.Contains(line, b.ID) }) {
			t.Errorf("Check after Redis loss does not name booking %s:\n%s", b.ID, strings.Join(d, "\n"))
		}
	}
	h.wantOnline(s, 0)

	testenv.Must(t, h.svc.Reconcile(h.ctx), "reconcile")
	// The loss's reload (the heal job's) sends the cancelled booking's slot
	// through the return path again; placed, it is free.
	testenv.Must(t, h.svc.Heal(h.ctx), "heal")
	eventually(t, healBound, "the state whole again", func() bool { return h.svc.Ready(h.ctx) == nil })
	h.placeReturned()
	h.checkClean()
	h.wantOnline(s, quota-len(active))
	h.wantOnline(other, 1)
	for i, u := range users[:3] {
		_, err := h.book(u, 0, s, "")
		wantErr(t, fmt.Sprintf("patient %d again", i), err, booking.ErrAlreadyBooked)
	}
	// The Idempotency-Key of a booking still answers with it.
	again := h.mustBook(users[1], 0, s, "key-1")
	sameBooking(t, "repeat after reconciliation", again, active[1])
	// So does the key of the cancelled booking, whose record reconciliation
	// does not restore: the first answer, and nothing taken.
	before := h.online(s)
	repeat, err := h.book(users[3], 0, s, "key-gone")
	if err != nil || repeat.ID != gone.ID || repeat.Status != booking.StatusCancelled {
		t.Errorf("repeat of the cancelled booking's key = %s %s, %v; want %s cancelled", repeat.ID, repeat.Status, err, gone.ID)
	}
	_, err = h.book(users[3], 0, other, "key-gone")
	wantErr(t, "the cancelled booking's key on another session", err, booking.ErrIdempotencyReuse)
	h.wantOnline(s, before)
	h.wantOnline(other, 1)
	h.checkClean()
	// The cancelled patient books the lowest free slot, not a held one.
	b := h.mustBook(users[3], 0, s, "")
	taken := map[int]bool{}
	for _, a := range active {
		taken[a.SlotNo] = true
	}
	if taken[b.SlotNo] {
		t.Errorf("booking after reconciliation got slot %d, which is held by another booking", b.SlotNo)
	}
	h.wantOnline(s, quota-len(active)-1)
	h.checkClean()
}

func TestConcurrentBooking(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	const (
		slots    = 50
		accounts = 60
		per      = 5 // patients per account: the most allowed
		attempts = 4
	)
	s := h.session(sessionOpts{online: slots})
	users := h.users(accounts, per)
	type patientRef struct {
		u     user
		p     booking.Patient
		keyed bool
	}
	var patients []patientRef
	for _, u := range users {
		for _, p := range u.patients {
			patients = append(patients, patientRef{u: u, p: p, keyed: len(patients)%2 == 0})
		}
	}
	if len(patients) != accounts*per {
		t.Fatalf("%d patients, want %d", len(patients), accounts*per)
	}

	type result struct {
		patient int
		b       booking.Booking
		err     error
	}
	results := make(chan result, len(patients)*attempts)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, pr := range patients {
		key := ""
		if pr.keyed {
			key = "k-" + pr.p.ID
		}
		for range attempts {
			wg.Go(func() {
				<-start
				b, err := h.svc.Book(h.ctx, pr.u.actor, booking.BookRequest{SessionID: s.ID, PatientID: pr.p.ID,
					Channel: booking.ChannelOnline, IdempotencyKey: key})
				results <- result{patient: i, b: b, err: err}
			})
		}
	}
	close(start)
	wg.Wait()
	close(results)

	byID := map[string]booking.Booking{}
	byPatient := map[int]string{}
	failures := map[string]int{}
	for r := range results {
		if r.err != nil {
			failures[codeOf(r.err)]++
			if errors.Is(r.err, booking.ErrUnavailable) {
				continue // judged below, by their number
			}
			// A duplicate refused while the patient's booking is being
			// committed, or past the explanations' budget, is not shown to
			// be the account's own: person_booked_elsewhere (byothers.go).
			allowed := []*booking.Error{booking.ErrSoldOut, booking.ErrAlreadyBooked, booking.ErrBookedElsewhere}
			if patients[r.patient].keyed {
				allowed = []*booking.Error{booking.ErrSoldOut, booking.ErrInProgress}
			}
			if !slices.ContainsFunc(allowed, func(e *booking.Error) bool { return errors.Is(r.err, e) }) {
				t.Errorf("patient %d (keyed %v): %v; want one of %v", r.patient, patients[r.patient].keyed, r.err, allowed)
			}
			continue
		}
		if r.b.PatientID != patients[r.patient].p.ID {
			t.Errorf("patient %d got a booking of patient %s", r.patient, r.b.PatientID)
		}
		if prev, ok := byPatient[r.patient]; ok && prev != r.b.ID {
			t.Errorf("patient %d got two bookings: %s and %s", r.patient, prev, r.b.ID)
		}
		byPatient[r.patient] = r.b.ID
		if prev, ok := byID[r.b.ID]; ok {
			sameBooking(t, "a repeat of "+r.b.ID, r.b, prev)
		}
		byID[r.b.ID] = r.b
	}
	t.Logf("%d bookings; failures by code: %v", len(byID), failures)
	// 1,200 attempts on 256 connections under -race on two busy cores: a
	// CI run saw one reservation's answer outlast the harness's 1 s read
	// timeout. "Nothing was booked, retry later" is an honest answer, and
	// the checks below still hold the rest to exactly the quota; up to one
	// in a hundred is a machine's stall, more would be a fault.
	if n := failures[codeOf(booking.ErrUnavailable)]; n > len(patients)*attempts/100 {
		t.Errorf("%d attempts answered unavailable, want at most 1 in 100", n)
	}

	if len(byID) != slots {
		t.Errorf("%d bookings succeeded, want exactly %d", len(byID), slots)
	}
	bySlot := map[int]string{}
	for _, b := range byID {
		if b.SlotNo < 1 || b.SlotNo > slots {
			t.Errorf("booking %s has slot %d, outside 1..%d", b.ID, b.SlotNo, slots)
		}
		if prev, ok := bySlot[b.SlotNo]; ok {
			t.Errorf("slot %d booked twice: %s and %s", b.SlotNo, prev, b.ID)
		}
		bySlot[b.SlotNo] = b.ID
	}
	for i, id := range byPatient {
		got, err := h.svc.Booking(h.ctx, patients[i].u.actor, id)
		if err != nil {
			t.Errorf("booking %s of patient %d: %v", id, i, err)
			continue
		}
		if got.Status != booking.StatusConfirmed || got.SlotNo != byID[id].SlotNo {
			t.Errorf("booking %s in SQL = status %s slot %d; want confirmed slot %d", id, got.Status, got.SlotNo, byID[id].SlotNo)
		}
	}
	inSQL := h.activeInSQL(s)
	if len(inSQL) != slots {
		t.Errorf("%d active bookings in SQL, want %d", len(inSQL), slots)
	}
	for _, b := range inSQL {
		if _, ok := byID[b.ID]; !ok {
			t.Errorf("SQL has active booking %s on slot %d, which no Book call returned", b.ID, b.SlotNo)
		}
	}
	h.wantOnline(s, 0)
	if p := h.pending(); len(p) != 0 {
		t.Errorf("%d holds still pending after every request returned", len(p))
	}
	h.checkClean()
}

func codeOf(err error) string {
	if e, ok := booking.AsError(err); ok {
		return e.Code
	}
	return err.Error()
}

// newOneWriterHarness is a harness whose bookings are written one batch at
// a time (bookingWriters: 1), through a faultyStore.
func newOneWriterHarness(t *testing.T) (*harness, *faultyStore) {
	var fs *faultyStore
	h := newHarness(t, harnessConfig{bookingWriters: 1, wrap: func(s *cockroach.Store) booking.Store {
		fs = &faultyStore{Store: s}
		return fs
	}})
	return h, fs
}

// TestBookingBatch: bookings that arrive while a batch is being written
// are committed together in the next, and whatever becomes of that batch
// each booking gets its own answer. The first batch is held in its write
// until the others have queued, so the batches are known exactly.
func TestBookingBatch(t *testing.T) {
	h, fs := newOneWriterHarness(t)
	const quota, behind = 6, 3
	badValue := booking.Errorf(booking.ErrInvalidField, "a value is not acceptable (22P05)")
	for _, tt := range []struct {
		name string
		// second is the second batch's write (its last booking: last).
		second    func(ctx context.Context, bs []booking.Booking, evs []booking.Event) ([]error, error)
		wantSizes []int
		lostErr   *booking.Error
		lostSays  string
	}{
		{
			// Each booking is read back on its own: the ones SQL has are
			// confirmed (201), the one it has not is answered "nothing was
			// booked" and its slot returned; nothing is left pending.
			name: "its answer lost after committing all but one",
			second: func(ctx context.Context, bs []booking.Booking, evs []booking.Event) ([]error, error) {
				n := len(bs) - 1
				if errs, err := h.store.InsertBookings(ctx, bs[:n], evs[:n]); err != nil || slices.ContainsFunc(errs, func(e error) bool { return e != nil }) {
					t.Errorf("the batch's commit: %v, %v", errs, err)
				}
				return nil, fmt.Errorf("insert_bookings: %w: %w", booking.ErrOutcomeUnknown, io.ErrUnexpectedEOF)
			},
			wantSizes: []int{1, behind},
			lostErr:   booking.ErrUnavailable, lostSays: "nothing was booked",
		},
		{
			// A batch refused whole for a value one row carries is written
			// again row by row: the others commit, the bad one is refused.
			name: "refused whole for one row's value",
			second: func(ctx context.Context, bs []booking.Booking, evs []booking.Event) ([]error, error) {
				return nil, badValue
			},
			wantSizes: []int{1, behind, 1, 1, 1},
			lostErr:   booking.ErrInvalidField, lostSays: "not acceptable",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := h.session(sessionOpts{online: quota, dept: "Batch " + tt.name})
			users := make([]user, 1+behind)
			for i := range users {
				users[i] = h.user(1)
			}
			hold, holding := make(chan struct{}), make(chan struct{})
			fs.mu.Lock()
			fs.inserted, fs.batches = nil, nil
			fs.mu.Unlock()
			var lost string // the account of the second batch's last booking
			calls := 0      // batches are written one at a time (bookingWriters: 1)
			fs.setBatch(func(ctx context.Context, bs []booking.Booking, evs []booking.Event) ([]error, error) {
				switch calls++; {
				case calls == 1:
					close(holding)
					<-hold
				case calls == 2:
					lost = bs[len(bs)-1].AccountID
					return tt.second(ctx, bs, evs)
				case len(bs) == 1 && bs[0].AccountID == lost:
					return nil, badValue // the row by row writes: the bad row
				}
				return h.store.InsertBookings(ctx, bs, evs)
			})
			type answer struct {
				b   booking.Booking
				err error
			}
			answers := make([]answer, len(users))
			var wg sync.WaitGroup
			wg.Go(func() { answers[0].b, answers[0].err = h.book(users[0], 0, s, "") })
			<-holding
			for i := 1; i <= behind; i++ {
				wg.Go(func() { answers[i].b, answers[i].err = h.book(users[i], 0, s, "") })
			}
			eventually(t, 10*time.Second, "the bookings queue behind the first batch", func() bool { return h.svc.QueuedBookings() == behind })
			close(hold)
			wg.Wait()
			fs.setBatch(nil)

			if !slices.Equal(fs.batches, tt.wantSizes) {
				t.Fatalf("batches = %v, want %v", fs.batches, tt.wantSizes)
			}
			for i, a := range answers {
				if users[i].actor.AccountID == lost {
					wantErr(t, "the booking its batch did not commit", a.err, tt.lostErr)
					wantMessage(t, "the booking its batch did not commit", a.err, tt.lostSays)
					continue
				}
				if a.err != nil {
					t.Errorf("user %d: Book = %v; want the booking its batch committed", i, a.err)
					continue
				}
				got, err := h.store.Booking(h.ctx, a.b.ID)
				testenv.Must(t, err, "read back user %d's booking", i)
				sameBooking(t, "read back", got, a.b)
			}
			if n := len(h.activeInSQL(s)); n != behind {
				t.Errorf("active bookings in SQL = %d, want %d", n, behind)
			}
			if p := h.pending(); len(p) != 0 {
				t.Errorf("pending holds = %v, want none", p)
			}
			h.wantOnline(s, quota-behind)
			h.checkClean()
		})
	}
}

// TestBatchAnsweredBeforeItsConfirm: a batch's bookings are answered as
// soon as SQL has their rows, before the Redis confirm that takes their
// holds off the pending list. Redis's writes are paused (CLIENT PAUSE
// WRITE) from the moment the second batch's rows are committed, so that
// batch's confirm cannot run: its other bookings are answered meanwhile,
// each with its row in SQL and its hold still pending. One of them is
// cancelled in that window (its SQL update goes in, its slot's return waits
// for Redis, like the confirm); once Redis takes writes again nothing is
// left pending, the cancelled booking's slot comes back once, and Redis
// agrees with SQL.
func TestBatchAnsweredBeforeItsConfirm(t *testing.T) {
	h, fs := newOneWriterHarness(t)
	const quota, behind = 6, 3
	s := h.session(sessionOpts{online: quota, dept: "Answered before the confirm"})
	users := make([]user, 1+behind)
	for i := range users {
		users[i] = h.user(1)
	}
	unpause := func() {
		if err := h.rdb.Do(context.WithoutCancel(h.ctx), "CLIENT", "UNPAUSE").Err(); err != nil {
			t.Errorf("client unpause: %v", err)
		}
	}
	t.Cleanup(unpause) // whatever becomes of the test
	hold, holding := make(chan struct{}), make(chan struct{})
	calls := 0 // batches are written one at a time (bookingWriters: 1)
	fs.setBatch(func(ctx context.Context, bs []booking.Booking, evs []booking.Event) ([]error, error) {
		calls++
		if calls == 1 {
			close(holding)
			<-hold
		}
		errs, err := h.store.InsertBookings(ctx, bs, evs)
		if calls == 2 {
			testenv.Must(t, h.rdb.Do(ctx, "CLIENT", "PAUSE", "30000", "WRITE").Err(), "client pause write")
		}
		return errs, err
	})
	defer fs.setBatch(nil)

	type answer struct {
		b    booking.Booking
		err  error
		done atomic.Bool
	}
	answers := make([]answer, len(users))
	var wg sync.WaitGroup
	book := func(i int) {
		answers[i].b, answers[i].err = h.book(users[i], 0, s, "")
		answers[i].done.Store(true)
	}
	wg.Go(func() { book(0) })
	<-holding
	for i := 1; i <= behind; i++ {
		wg.Go(func() { book(i) })
	}
	eventually(t, 10*time.Second, "the bookings queue behind the first batch", func() bool { return h.svc.QueuedBookings() == behind })
	close(hold)

	// No booking of the second batch waits for its confirm, its writer's
	// included (it did until 2026-12-04).
	var answered []int
	eventually(t, 10*time.Second, "the batch's bookings, its writer's too, are answered while its confirm waits for Redis", func() bool {
		answered = answered[:0]
		for i := 1; i <= behind; i++ {
			if answers[i].done.Load() {
				answered = append(answered, i)
			}
		}
		return len(answered) == behind
	})
	pendingKey := h.prefix + ":{" + h.hosp.ID + "}:pending"
	for _, i := range answered {
		a := &answers[i]
		if a.err != nil {
			t.Fatalf("user %d: Book = %v; want the booking its batch committed", i, a.err)
		}
		got, err := h.store.Booking(h.ctx, a.b.ID)
		testenv.Must(t, err, "read back user %d's booking before its confirm", i)
		sameBooking(t, "answered before the confirm", got, a.b)
		if err := h.rdb.ZScore(h.ctx, pendingKey, a.b.ID).Err(); err != nil {
			t.Errorf("user %d's hold: ZSCORE = %v; want it still pending while the confirm waits", i, err)
		}
	}

	// Cancelled in the window: SQL first, then the slot's return, which
	// waits for Redis as the confirm does.
	cancelled := answers[answered[0]].b
	var cancelErr error
	wg.Go(func() { _, cancelErr = h.svc.Cancel(h.ctx, users[answered[0]].actor, cancelled.ID, booking.Origin{}) })
	eventually(t, 10*time.Second, "the cancellation is in SQL", func() bool {
		got, err := h.store.Booking(h.ctx, cancelled.ID)
		return err == nil && got.Status == booking.StatusCancelled
	})
	unpause()
	wg.Wait()
	if cancelErr != nil {
		t.Fatalf("Cancel: %v", cancelErr)
	}
	for i := range answers {
		if i != answered[0] && answers[i].err != nil {
			t.Errorf("user %d: Book = %v", i, answers[i].err)
		}
	}
	if !slices.Equal(fs.batches, []int{1, behind}) {
		t.Errorf("batches = %v, want [1 %d]", fs.batches, behind)
	}
	if p := h.pending(); len(p) != 0 {
		t.Errorf("pending holds = %v, want none", p)
	}
	if n := len(h.activeInSQL(s)); n != behind {
		t.Errorf("active bookings in SQL = %d, want %d", n, behind)
	}
	h.placeReturned()
	h.wantOnline(s, quota-behind)
	h.checkClean()
}
