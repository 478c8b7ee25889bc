package booking_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/booking/bookingtest"
	"fairslot/internal/cockroach"
	"fairslot/internal/testenv"
)

// Lottery release over the real Redis and PostgreSQL: entries, the quota
// they hold, the draw (exactly once, resumable, through the common booking
// path), its verification, and screening.

type lotteryOpts struct {
	dept, period string
	online       int
	phone        int       // a lottery pool too, when > 0
	phoneFirst   int       // a first-come phone pool released at opens, when > 0 (phone 0)
	opens, draw  time.Time // default: opened a minute ago, draws in ten minutes
}

// lotterySession stores a session tomorrow whose pools are lotteries, then
// runs the lottery job once so that its seeds are committed and it takes
// entries.
func (h *harness) lotterySession(o lotteryOpts) *booking.Session {
	h.t.Helper()
	if o.dept == "" {
		o.dept = "Cardiology"
	}
	if o.period == "" {
		o.period = "morning"
	}
	if o.opens.IsZero() {
		o.opens = time.Now().Add(-time.Minute)
	}
	if o.draw.IsZero() {
		o.draw = time.Now().Add(10 * time.Minute)
	}
	hours := map[string][2]time.Duration{"morning": {8, 12}, "afternoon": {14, 18}, "evening": {18, 21}}[o.period]
	dept := h.department(o.dept)
	doc := booking.Doctor{ID: booking.NewID(), HospitalID: h.hosp.ID, DepartmentID: dept.ID,
		Name: fmt.Sprintf("Dr %d", h.seq.Add(1)), Title: "chief physician"}
	pool := func(ch booking.Channel, n int) booking.ChannelQuota {
		return booking.ChannelQuota{Channel: ch, Quota: n, ReleaseAt: o.opens, Mode: booking.Lottery, OpensAt: o.opens, DrawAt: o.draw}
	}
	quotas := []booking.ChannelQuota{pool(booking.ChannelOnline, o.online)}
	if o.phone > 0 {
		quotas = append(quotas, pool(booking.ChannelPhone, o.phone))
	}
	if o.phoneFirst > 0 {
		quotas = append(quotas, booking.ChannelQuota{Channel: booking.ChannelPhone, Quota: o.phoneFirst, ReleaseAt: o.opens, Mode: booking.FirstCome})
	}
	s, err := booking.BuildSession(booking.SessionSpec{
		HospitalID: h.hosp.ID, DepartmentID: dept.ID, DoctorID: doc.ID, VisitDate: h.date, Period: o.period,
		StartsAt: h.day.Add(hours[0] * time.Hour), EndsAt: h.day.Add(hours[1] * time.Hour), Quotas: quotas,
	})
	testenv.Must(h.t, err, "build session")
	testenv.Must(h.t, h.svc.SaveSchedule(h.ctx, booking.Schedule{
		Hospitals: []booking.Hospital{h.hosp}, Departments: []booking.Department{dept},
		Doctors: []booking.Doctor{doc}, Sessions: []booking.Session{s},
	}), "save schedule")
	_, err = h.svc.RunLottery(h.ctx)
	testenv.Must(h.t, err, "commit the seeds")
	got, ok := h.svc.Catalog().Session(s.ID)
	if !ok {
		h.t.Fatalf("session %s is not in the catalog", s.ID)
	}
	if q, _ := got.Channel(booking.ChannelOnline); q.Draw == nil || len(q.Draw.Commitment) != 32 {
		h.t.Fatalf("lottery pool of session %s has no commitment after the lottery job: %+v", s.ID, q.Draw)
	}
	return got
}

func (h *harness) enter(u user, patient int, s *booking.Session, key string) (booking.Entry, error) {
	r, err := h.svc.Attempt(h.ctx, u.actor, booking.BookRequest{SessionID: s.ID, PatientID: u.patients[patient].ID,
		Channel: booking.ChannelOnline, IdempotencyKey: key, Origin: booking.Origin{IP: "203.0.113.9"}})
	if err == nil && !r.Entered {
		return booking.Entry{}, fmt.Errorf("attempt booked %s instead of entering", r.Booking.ID)
	}
	return r.Entry, err
}

func (h *harness) mustEnter(u user, patient int, s *booking.Session) booking.Entry {
	h.t.Helper()
	e, err := h.enter(u, patient, s, "")
	testenv.Must(h.t, err, "enter session %s", s.ID)
	return e
}

// drawAll moves the clock past every draw time of the given sessions and
// runs the lottery job; it returns how many pools were drawn.
func (h *harness) drawAll(svc *booking.Service, sessions ...*booking.Session) int {
	h.t.Helper()
	var last time.Time
	for _, s := range sessions {
		for _, q := range s.Channels {
			if q.DrawAt.After(last) {
				last = q.DrawAt
			}
		}
	}
	defer h.clock.at(last.Add(3 * time.Second))()
	n, err := svc.RunLottery(h.ctx)
	testenv.Must(h.t, err, "run the lottery")
	return n
}

// drawn reads a session's published draws, as anyone may.
func (h *harness) drawn(s *booking.Session) []booking.PublishedDraw {
	h.t.Helper()
	ds, err := h.svc.LotteryDraws(h.ctx, booking.Actor{}, s.ID)
	testenv.Must(h.t, err, "lottery draws of %s", s.ID)
	return ds
}

// booked is the set of ids among a draw's entries that have a booking.
func (h *harness) booked(d booking.PublishedDraw) map[string]bool {
	h.t.Helper()
	ids := make([]string, len(d.Entries))
	for i, e := range d.Entries {
		ids[i] = e.ID
	}
	st, err := h.store.BookingStatuses(h.ctx, ids)
	testenv.Must(h.t, err, "booking statuses")
	out := map[string]bool{}
	for id := range st {
		out[id] = true
	}
	return out
}

// auditCount counts the audit rows of an action.
func (h *harness) auditCount(action string) int {
	h.t.Helper()
	var n int
	testenv.Must(h.t, h.stack.DB.Pool().QueryRow(h.ctx, `SELECT count(*) FROM audit_log WHERE action = $1`, action).Scan(&n), "count audit")
	return n
}

// checkDraw checks what every draw must give: min(slots, eligible)
// winners, each booked once under its entry's id with its entry's person,
// no person twice, and a published record that verifies.
func (h *harness) checkDraw(s *booking.Session, slots, eligible int) booking.PublishedDraw {
	h.t.Helper()
	ds := h.drawn(s)
	if len(ds) == 0 {
		h.t.Fatalf("session %s has no published draw", s.ID)
	}
	d := ds[0]
	if d.Status != booking.DrawDrawn {
		h.t.Fatalf("draw of %s is %s, want drawn", s.ID, d.Status)
	}
	want := min(slots, eligible)
	active := h.activeInSQL(s)
	if len(active) != want || d.Winners != want {
		h.t.Errorf("draw of %s: %d active bookings, %d winners recorded; want %d (slots %d, eligible %d)",
			s.ID, len(active), d.Winners, want, slots, eligible)
	}
	byEntry := map[string]booking.Entry{}
	for _, e := range d.Entries {
		byEntry[e.ID] = e
	}
	people := map[string]bool{}
	for _, b := range active {
		e, ok := byEntry[b.ID]
		if !ok || e.Status != booking.EntryWon {
			h.t.Errorf("booking %s is not a won entry of the draw (%+v)", b.ID, e)
		}
		full, err := h.store.Entry(h.ctx, b.ID)
		testenv.Must(h.t, err, "entry %s", b.ID)
		if full.IdentityID != b.IdentityID {
			h.t.Errorf("booking %s is for identity %s, its entry for %s", b.ID, b.IdentityID, full.IdentityID)
		}
		if people[b.IdentityID] {
			h.t.Errorf("identity %s won twice", b.IdentityID)
		}
		people[b.IdentityID] = true
	}
	if err := booking.VerifyDraw(d, h.booked(d)); err != nil {
		h.t.Errorf("VerifyDraw: %v", err)
	}
	return d
}

func TestLotteryDraw(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	const slots, entrants = 5, 12
	s := h.lotterySession(lotteryOpts{online: slots})
	q, _ := s.Channel(booking.ChannelOnline)
	users := h.users(entrants, 1)

	// Everyone enters at once: the entries share SQL batches.
	entries := make([]booking.Entry, entrants)
	errs := make([]error, entrants)
	var wg sync.WaitGroup
	for i, u := range users {
		wg.Go(func() { entries[i], errs[i] = h.enter(u, 0, s, "") })
	}
	wg.Wait()
	for i, e := range entries {
		testenv.Must(t, errs[i], "entry %d", i)
		if e.Status != booking.EntryEntered || !e.DrawAt.Equal(q.DrawAt) || e.SessionID != s.ID || e.AccountID != users[i].actor.AccountID {
			t.Errorf("entry %d = %+v; want entered in %s, drawing at %s", i, e, s.ID, q.DrawAt)
		}
	}
	h.wantOnline(s, slots) // nothing is booked before the draw

	t.Run("one entry per person per session", func(t *testing.T) {
		_, err := h.enter(users[0], 0, s, "")
		wantErr(t, "the same patient again", err, booking.ErrAlreadyEntered)
		who := h.person("王芳")
		first, second := h.userOf(who), h.user(1)
		h.addPatient(&second, who, false, "")
		h.mustEnter(first, 0, s)
		_, err = h.enter(second, 1, s, "")
		// To an account that is not the person's verified self, what
		// another account made is the uniform refusal (byothers.go).
		wantUniform(t, "the same person from another account", err)
		_, err = h.book(users[1], 0, s, "")
		wantErr(t, "Book on a pool taking entries", err, booking.ErrLotteryOnly)
		_, err = h.svc.JoinWaitlist(h.ctx, users[1].actor, booking.JoinWaitlistRequest{SessionID: s.ID, PatientID: users[1].patients[0].ID})
		wantErr(t, "the waitlist of a pool taking entries", err, booking.ErrLotteryOnly)
	})
	t.Run("an Idempotency-Key repeats the entry", func(t *testing.T) {
		u := h.user(1)
		e, err := h.enter(u, 0, s, "k1")
		testenv.Must(t, err, "enter with a key")
		again, err := h.enter(u, 0, s, "k1")
		if err != nil || again.ID != e.ID || !again.Replayed {
			t.Errorf("repeat = %s replayed %v, %v; want %s replayed", again.ID, again.Replayed, err, e.ID)
		}
	})
	entered := entrants + 2 // and the two subtests' entrants
	h.checkClean()

	// Before the draw the public record shows the pool's slots and how many
	// have entered so far, and no entry (it showed 0 and 0).
	ds, err := h.svc.LotteryDraws(h.ctx, booking.Actor{}, s.ID)
	testenv.Must(t, err, "draws before the draw")
	if len(ds) != 1 || ds[0].Status != booking.DrawOpen || ds[0].Slots != slots || ds[0].Entered != entered || len(ds[0].Entries) != 0 {
		t.Errorf("draw before the draw = %+v; want open, %d slots, %d entered, no entries listed", ds, slots, entered)
	}

	if n := h.drawAll(h.svc, s); n != 1 {
		t.Fatalf("lottery job drew %d pools, want 1", n)
	}
	d := h.checkDraw(s, slots, entered)
	if c := h.commitment(d.Recipe, s.ID, d.Seed); d.Eligible != entered || d.Entered != entered || string(c) != string(q.Draw.Commitment) {
		t.Errorf("published draw: eligible %d, entries %d, seed matches commitment %v; want %d, %d, true",
			d.Eligible, d.Entered, string(c) == string(q.Draw.Commitment), entered, entered)
	}
	h.wantOnline(s, 0)
	h.checkClean()
	if n := h.drawAll(h.svc, s); n != 0 {
		t.Errorf("the lottery job drew %d pools again", n)
	}
	if n := h.auditCount("lottery_draw"); n != 1 {
		t.Errorf("%d lottery_draw audit rows, want 1", n)
	}

	t.Run("entrants see their result", func(t *testing.T) {
		won := 0
		for i, u := range users {
			e, err := h.svc.Entry(h.ctx, u.actor, entries[i].ID)
			testenv.Must(t, err, "entry %d", i)
			switch e.Status {
			case booking.EntryWon:
				won++
				b, err := h.svc.Booking(h.ctx, u.actor, e.BookingID())
				if err != nil || b.PatientID != u.patients[0].ID || b.Status != booking.StatusConfirmed {
					t.Errorf("winner %d: booking %s = %+v, %v", i, e.BookingID(), b, err)
				}
			case booking.EntryLost:
			default:
				t.Errorf("entry %d is %s after the draw", i, e.Status)
			}
			list, err := h.svc.Entries(h.ctx, u.actor)
			if err != nil || len(list) != 1 || list[0].ID != e.ID {
				t.Errorf("Entries of user %d = %v, %v; want its one entry", i, list, err)
			}
			_, err = h.svc.Entry(h.ctx, users[(i+1)%len(users)].actor, e.ID)
			wantErr(t, "another account's entry", err, booking.ErrEntryNotFound)
		}
		if won == 0 || won > slots {
			t.Errorf("%d of the first entrants won, want 1 to %d", won, slots)
		}
	})
	t.Run("verify fails on a tampered record", func(t *testing.T) {
		booked := h.booked(d)
		tamper := map[string]func(booking.PublishedDraw) booking.PublishedDraw{
			"an entry dropped": func(d booking.PublishedDraw) booking.PublishedDraw {
				i := slices.IndexFunc(d.Entries, func(e booking.Entry) bool { return e.Status == booking.EntryLost })
				d.Entries = slices.Delete(slices.Clone(d.Entries), i, i+1)
				return d
			},
			"an entry added": func(d booking.PublishedDraw) booking.PublishedDraw {
				d.Entries = append(slices.Clone(d.Entries), booking.Entry{ID: booking.NewID(), Status: booking.EntryLost, Rank: 99})
				return d
			},
			"another seed": func(d booking.PublishedDraw) booking.PublishedDraw {
				d.Seed = slices.Clone(d.Seed)
				d.Seed[0] ^= 1
				return d
			},
			// The places decide the waitlist's order too (the first loser
			// gets the first returned slot), and the published order is what
			// a patient checks their place against (review11: verify
			// recomputed the winners only, and passed these).
			"two losers' places swapped": func(d booking.PublishedDraw) booking.PublishedDraw {
				return swapPlaces(d, d.Winners+1, d.Winners+2)
			},
			"a winner's and a loser's places swapped": func(d booking.PublishedDraw) booking.PublishedDraw {
				return swapPlaces(d, 1, d.Winners+1)
			},
			"another seed and its commitment": func(d booking.PublishedDraw) booking.PublishedDraw {
				d.Seed = slices.Clone(d.Seed)
				d.Seed[0] ^= 1
				d.Commitment = h.commitment(d.Recipe, d.SessionID, d.Seed)
				d.Digest = nil
				return d
			},
		}
		for name, f := range tamper {
			if err := booking.VerifyDraw(f(d), booked); err == nil {
				t.Errorf("VerifyDraw accepted the record with %s", name)
			}
		}
	})
}

// swapPlaces is d with the entries at places a and b swapped, nothing else.
func swapPlaces(d booking.PublishedDraw, a, b int) booking.PublishedDraw {
	d.Entries = slices.Clone(d.Entries)
	for i, e := range d.Entries {
		switch e.Rank {
		case a:
			d.Entries[i].Rank = b
		case b:
			d.Entries[i].Rank = a
		}
	}
	return d
}

func TestLotteryQuotaHeldAndGivenBack(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	s := h.lotterySession(lotteryOpts{online: 1})
	same := h.session(sessionOpts{online: 3, period: "afternoon"}) // same department and day
	alice, bob := h.user(1), h.user(1)
	ea, eb := h.mustEnter(alice, 0, s), h.mustEnter(bob, 0, s)

	for name, u := range map[string]user{"alice": alice, "bob": bob} {
		_, err := h.book(u, 0, same, "")
		wantErr(t, name+" books the same department that day while entered", err, booking.ErrQuotaDayDept)
	}

	t.Run("a withdrawn entry gives its quota back", func(t *testing.T) {
		other := h.lotterySession(lotteryOpts{online: 2, dept: "Surgery"})
		surgery := h.session(sessionOpts{online: 2, dept: "Surgery", period: "afternoon"})
		carol := h.user(1)
		e := h.mustEnter(carol, 0, other)
		_, err := h.book(carol, 0, surgery, "")
		wantErr(t, "booking while entered", err, booking.ErrQuotaDayDept)
		w, err := h.svc.WithdrawEntry(h.ctx, carol.actor, e.ID, booking.Origin{})
		if err != nil || w.Status != booking.EntryWithdrawn {
			t.Fatalf("withdraw = %s, %v; want withdrawn", w.Status, err)
		}
		_, err = h.svc.WithdrawEntry(h.ctx, carol.actor, e.ID, booking.Origin{})
		wantErr(t, "withdraw twice", err, booking.ErrEntryClosed)
		h.mustBook(carol, 0, surgery, "")
		h.checkClean()
	})

	if n := h.drawAll(h.svc, s); n < 1 {
		t.Fatalf("lottery job drew %d pools", n)
	}
	h.checkDraw(s, 1, 2)
	winner, loser, lost := alice, bob, eb
	if got := h.activeInSQL(s); len(got) == 1 && got[0].ID == eb.ID {
		winner, loser, lost = bob, alice, ea
	} else if len(got) != 1 || got[0].ID != ea.ID {
		t.Fatalf("active bookings after the draw: %v", got)
	}
	// The loser's quota came back; the winner's is its booking's now.
	h.mustBook(loser, 0, same, "")
	_, err := h.book(winner, 0, same, "")
	wantErr(t, "the winner books the same department that day", err, booking.ErrQuotaDayDept)
	h.checkClean()

	_, err = h.svc.WithdrawEntry(h.ctx, loser.actor, lost.ID, booking.Origin{})
	wantErr(t, "withdraw after the draw", err, booking.ErrEntryClosed)
}

func TestLotteryEntryAfterDrawTime(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	// The window closed an hour ago by the Redis clock, but the service's
	// clock is behind: the attempt goes to Redis as an entry, Redis says
	// the window closed, and it is answered as a booking attempt.
	opens, draw := time.Now().Add(-2*time.Hour), time.Now().Add(-time.Hour)
	reset := h.clock.at(draw.Add(-30 * time.Minute))
	s := h.lotterySession(lotteryOpts{online: 2, opens: opens, draw: draw})
	u := h.user(1)
	_, err := h.enter(u, 0, s, "")
	wantErr(t, "an entry after the draw time, before the draw", err, booking.ErrNotReleased)
	r, err := h.svc.Attempt(h.ctx, u.actor, booking.BookRequest{SessionID: s.ID, PatientID: u.patients[0].ID, Channel: booking.ChannelOnline})
	if err == nil || r.Entered {
		t.Errorf("attempt before the draw = %+v, %v; want not_released", r, err)
	}
	reset()

	if n := h.drawAll(h.svc, s); n != 1 {
		t.Fatalf("lottery job drew %d pools, want 1", n)
	}
	h.checkDraw(s, 2, 0)
	r, err = h.svc.Attempt(h.ctx, u.actor, booking.BookRequest{SessionID: s.ID, PatientID: u.patients[0].ID, Channel: booking.ChannelOnline})
	if err != nil || r.Entered || r.Booking.Status != booking.StatusConfirmed {
		t.Fatalf("attempt after the draw = %+v, %v; want a first-come booking", r, err)
	}
	h.wantOnline(s, 1)
	h.checkClean()
}

// crashingStore fails chosen store calls once, as if the instance died
// there: whatever came before is stored, nothing after.
type crashingStore struct {
	booking.Store
	mu   sync.Mutex
	fail map[string]int // method → calls to let through before failing once
}

var errCrash = errors.New("the instance crashed here")

func (c *crashingStore) crash(method string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.fail[method]
	if !ok {
		return false
	}
	if n > 0 {
		c.fail[method] = n - 1
		return false
	}
	delete(c.fail, method)
	return true
}

func (c *crashingStore) SaveRanking(ctx context.Context, k booking.PoolKey, owner string, r booking.Ranking, lease time.Time) error {
	err := c.Store.SaveRanking(ctx, k, owner, r, lease)
	if err == nil && c.crash("SaveRanking") {
		return errCrash
	}
	return err
}

func (c *crashingStore) InsertBookings(ctx context.Context, bs []booking.Booking, evs []booking.Event) ([]error, error) {
	if c.crash("InsertBookings") {
		return nil, fmt.Errorf("%w: %w", booking.ErrOutcomeUnknown, errCrash) // the batch's answer never came
	}
	return c.Store.InsertBookings(ctx, bs, evs)
}

func (c *crashingStore) SaveOutcomes(ctx context.Context, k booking.PoolKey, owner string, o []booking.Entry, lease time.Time) error {
	if c.crash("SaveOutcomes") {
		return errCrash
	}
	return c.Store.SaveOutcomes(ctx, k, owner, o, lease)
}

func (c *crashingStore) FinishDraw(ctx context.Context, k booking.PoolKey, owner string, r booking.DrawResult) error {
	if c.crash("FinishDraw") {
		return errCrash
	}
	return c.Store.FinishDraw(ctx, k, owner, r)
}

func (c *crashingStore) Booking(ctx context.Context, id string) (booking.Booking, error) {
	if c.crash("Booking") {
		return booking.Booking{}, errCrash
	}
	return c.Store.Booking(ctx, id)
}

func TestLotteryDrawResumesAfterCrash(t *testing.T) {
	tests := []struct {
		name string
		fail map[string]int
	}{
		{"after the ranking is stored", map[string]int{"SaveRanking": 0}},
		{"between two winners' bookings", map[string]int{"InsertBookings": 2, "Booking": 0}},
		{"after the winners are booked, before their outcomes are stored", map[string]int{"SaveOutcomes": 0}},
		{"after the outcomes, before the draw is finished", map[string]int{"FinishDraw": 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := &crashingStore{fail: map[string]int{}}
			h := newHarness(t, harnessConfig{wrap: func(s *cockroach.Store) booking.Store { cs.Store = s; return cs }})
			const slots = 3
			s := h.lotterySession(lotteryOpts{online: slots})
			users := h.users(7, 1)
			for _, u := range users {
				h.mustEnter(u, 0, s)
			}
			cs.mu.Lock()
			cs.fail = tt.fail
			cs.mu.Unlock()
			q, _ := s.Channel(booking.ChannelOnline)
			reset := h.clock.at(q.DrawAt.Add(3 * time.Second))
			if _, err := h.svc.RunLottery(h.ctx); err == nil {
				t.Fatal("the crashing draw reported no error")
			}
			reset()
			if d := h.drawn(s)[0]; d.Status != booking.DrawDrawing {
				t.Fatalf("after the crash the draw is %s, want drawing", d.Status)
			}
			// Another instance takes over once the lease has run out.
			second := h.stack.Instance(t, booking.Config{Now: h.clock.Now, HoldFor: time.Minute})
			defer h.clock.at(q.DrawAt.Add(3*time.Second + 2*time.Minute))()
			if n, err := second.RunLottery(h.ctx); err != nil || n != 1 {
				t.Fatalf("second instance drew %d pools, %v; want 1", n, err)
			}
			_, err := h.svc.Refresh(h.ctx)
			testenv.Must(t, err, "refresh")
			h.checkDraw(s, slots, len(users))
			if n := h.auditCount("lottery_draw"); n != 1 {
				t.Errorf("%d lottery_draw audit rows, want 1", n)
			}
		})
	}
}

func TestLotteryTwoInstancesDrawAtOnce(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	var sessions []*booking.Session
	// One draw time for the three pools: each made its own from the clock
	// as it was made, and on a loaded machine the third was more than the
	// draw grace after the first, so not due at the time the test sets.
	draw := time.Now().Add(10 * time.Minute)
	for _, dept := range []string{"Cardiology", "Surgery", "Neurology"} {
		sessions = append(sessions, h.lotterySession(lotteryOpts{online: 2, dept: dept, draw: draw}))
	}
	const entrants = 5
	for _, s := range sessions {
		for _, u := range h.users(entrants, 1) {
			h.mustEnter(u, 0, s)
		}
	}
	second := h.stack.Instance(t, booking.Config{Now: h.clock.Now})
	q, _ := sessions[0].Channel(booking.ChannelOnline)
	defer h.clock.at(q.DrawAt.Add(3 * time.Second))()
	var drawn atomic.Int64
	start := make(chan struct{})
	var wg sync.WaitGroup
	for _, svc := range []*booking.Service{h.svc, second, h.svc, second} {
		wg.Go(func() {
			<-start
			n, err := svc.RunLottery(h.ctx)
			if err != nil {
				t.Errorf("RunLottery: %v", err)
			}
			drawn.Add(int64(n))
		})
	}
	close(start)
	wg.Wait()
	if got := drawn.Load(); got != int64(len(sessions)) {
		t.Errorf("%d draws in all, want %d: one per pool", got, len(sessions))
	}
	_, err := h.svc.Refresh(h.ctx)
	testenv.Must(t, err, "refresh")
	for _, s := range sessions {
		h.checkDraw(s, 2, entrants)
	}
	if n := h.auditCount("lottery_draw"); n != len(sessions) {
		t.Errorf("%d lottery_draw audit rows, want %d", n, len(sessions))
	}
	h.checkClean()
}

func TestLotteryScreening(t *testing.T) {
	det := &bookingtest.Detector{}
	h := newHarness(t, harnessConfig{detector: det.Detect})
	s := h.lotterySession(lotteryOpts{online: 3})
	alice, bob, carol, dave := h.user(1), h.user(1), h.user(1), h.user(1)
	admin := h.staff(booking.RoleAdmin)
	for _, u := range []user{alice, bob, carol, dave} {
		h.mustEnter(u, 0, s)
	}
	eb, _ := h.svc.Entries(h.ctx, bob.actor)
	// carol's ring is confirmed before the draw: barred, she cannot win.
	det.Returns(ring("carol-ring", 3, []user{carol}))
	h.detect(1)
	h.decide(admin, "carol-ring", "confirm", "farm confirmed")
	// bob's ring is found but not reviewed: held out for the administrator.
	det.Returns(ring("carol-ring", 3, []user{carol}), ring("bob-ring", 2.5, []user{bob}))

	if n := h.drawAll(h.svc, s); n != 1 {
		t.Fatalf("drew %d pools, want 1", n)
	}
	d := h.checkDraw(s, 3, 2)
	if d.HeldOut != 1 || d.Excluded != 1 || d.Eligible != 2 {
		t.Errorf("draw: held out %d, excluded %d, eligible %d; want 1, 1, 2", d.HeldOut, d.Excluded, d.Eligible)
	}
	got := map[string]string{}
	for _, u := range []user{alice, bob, carol, dave} {
		es, err := h.svc.Entries(h.ctx, u.actor)
		testenv.Must(t, err, "entries")
		got[u.actor.AccountID] = es[0].Status
	}
	if got[alice.actor.AccountID] != booking.EntryWon || got[dave.actor.AccountID] != booking.EntryWon ||
		got[bob.actor.AccountID] != booking.EntryHeldOut || got[carol.actor.AccountID] != booking.EntryExcluded {
		t.Errorf("outcomes alice %s, bob %s, carol %s, dave %s; want won, held_out, excluded, won",
			got[alice.actor.AccountID], got[bob.actor.AccountID], got[carol.actor.AccountID], got[dave.actor.AccountID])
	}
	admins, err := h.svc.LotteryDraws(h.ctx, admin, s.ID)
	testenv.Must(t, err, "draws as admin")
	held := slices.IndexFunc(admins[0].Entries, func(e booking.Entry) bool { return e.FlagID == "bob-ring" && e.NumberMasked != "" })
	if held < 0 {
		t.Errorf("the administrator does not see bob's entry held out by bob-ring: %+v", admins[0].Entries)
	}
	// Bob is told his entry is under review, carol that hers was not drawn;
	// neither is told of a flag or its evidence.
	ec, _ := h.svc.Entries(h.ctx, carol.actor)
	told := func(entryID, kind, says string) {
		t.Helper()
		if n := h.count(`SELECT count(*) FROM notifications WHERE entry_id = $1 AND kind = $2 AND body LIKE '%' || $3 || '%'
			AND body NOT LIKE '%ring%' AND body NOT LIKE '%flag%' AND body NOT LIKE '%审核通过%'`, entryID, kind, says); n != 1 {
			t.Errorf("%d %s notifications for entry %s saying %q (and nothing of the flag), want 1", n, kind, entryID, says)
		}
	}
	told(eb[0].ID, "lottery_review", "under review")
	told(ec[0].ID, "lottery_lost", "not drawn")
	// The held-out entry keeps its quota until the flag is decided.
	same := h.session(sessionOpts{online: 2, period: "afternoon"})
	_, err = h.book(bob, 0, same, "")
	wantErr(t, "bob books the same department while held out", err, booking.ErrQuotaDayDept)
	h.checkClean()

	h.decide(admin, "bob-ring", "dismiss", "a family, not a ring")
	e, err := h.svc.Entry(h.ctx, bob.actor, eb[0].ID)
	if err != nil || e.Status != booking.EntryWaitlisted {
		t.Errorf("bob's entry after the dismissal = %s, %v; want waitlisted", e.Status, err)
	}
	told(eb[0].ID, "lottery_waitlisted", "kept out of this draw for the review")
	// Not "not drawn": the entry never took part (review21 H2).
	if n := h.count(`SELECT count(*) FROM notifications WHERE entry_id = $1 AND kind = 'lottery_waitlisted'
		AND (body LIKE '%not drawn%' OR body LIKE '%未中签%')`, eb[0].ID); n != 0 {
		t.Errorf("%d notices tell bob, kept out of the draw, that he was not drawn; want 0", n)
	}
	h.mustBook(bob, 0, same, "") // the quota came back
	h.checkClean()
}

func TestLotteryEntrySurvivesRedisLoss(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	s := h.lotterySession(lotteryOpts{online: 1})
	same := h.session(sessionOpts{online: 2, period: "afternoon"})
	u := h.user(1)
	e := h.mustEnter(u, 0, s)
	h.dropRedis()
	testenv.Must(t, h.svc.Reconcile(h.ctx), "reconcile")
	h.checkClean()
	_, err := h.book(u, 0, same, "")
	wantErr(t, "the entry's quota after Redis was rebuilt", err, booking.ErrQuotaDayDept)
	_, err = h.enter(u, 0, s, "")
	wantErr(t, "entering again after Redis was rebuilt", err, booking.ErrAlreadyEntered)
	h.drawAll(h.svc, s)
	h.checkDraw(s, 1, 1)
	if got := h.activeInSQL(s); len(got) != 1 || got[0].ID != e.ID {
		t.Errorf("after the draw: %v, want the entry %s booked", got, e.ID)
	}
}

// failingEntries fails entry commits the chosen way.
type failingEntries struct {
	booking.Store
	mode atomic.Value // "", "refuse" (the server answered), "lost" (committed, answer lost), "unknown" (not committed, answer lost, no read back)
}

func (f *failingEntries) Entry(ctx context.Context, id string) (booking.Entry, error) {
	if f.mode.Load() == "unknown" {
		return booking.Entry{}, fmt.Errorf("%w: read back: connection refused", booking.ErrUnavailable)
	}
	return f.Store.Entry(ctx, id)
}

func (f *failingEntries) InsertEntries(ctx context.Context, es []booking.Entry, evs []booking.Event) ([]error, error) {
	switch f.mode.Load() {
	case "refuse":
		return nil, fmt.Errorf("%w: connection refused", booking.ErrUnavailable)
	case "lost":
		if _, err := f.Store.InsertEntries(ctx, es, evs); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w: answer lost", booking.ErrOutcomeUnknown)
	case "unknown":
		return nil, fmt.Errorf("%w: answer lost", booking.ErrOutcomeUnknown)
	}
	return f.Store.InsertEntries(ctx, es, evs)
}

func TestLotteryEntryCommitFailure(t *testing.T) {
	fe := &failingEntries{}
	fe.mode.Store("")
	h := newHarness(t, harnessConfig{wrap: func(s *cockroach.Store) booking.Store { fe.Store = s; return fe }})
	s := h.lotterySession(lotteryOpts{online: 2})
	u, v := h.user(1), h.user(1)

	fe.mode.Store("refuse")
	_, err := h.enter(u, 0, s, "")
	wantErr(t, "entry while SQL refuses", err, booking.ErrUnavailable)
	h.checkClean() // nothing left in Redis
	fe.mode.Store("")
	h.mustEnter(u, 0, s) // the quota was given back: it enters now

	fe.mode.Store("lost")
	e, err := h.enter(v, 0, s, "")
	if err != nil || e.Status != booking.EntryEntered {
		t.Errorf("entry whose commit answer was lost = %+v, %v; want entered (read back)", e, err)
	}
	fe.mode.Store("")
	h.checkClean()
	h.drawAll(h.svc, s)
	h.checkDraw(s, 2, 2)
}

// TestLotteryEntryOutcomeUnknown: an entry whose commit's answer was lost
// and cannot be read back is answered outcome_unknown (503), not
// unavailable, whose 503 says nothing was entered (API.md); an entry SQL
// refused is unavailable.
func TestLotteryEntryOutcomeUnknown(t *testing.T) {
	fe := &failingEntries{}
	fe.mode.Store("")
	h := newHarness(t, harnessConfig{holdFor: 50 * time.Millisecond, wrap: func(s *cockroach.Store) booking.Store { fe.Store = s; return fe }})
	s := h.lotterySession(lotteryOpts{online: 2})
	u, v := h.user(1), h.user(1)

	fe.mode.Store("refuse")
	_, err := h.enter(u, 0, s, "")
	wantCode(t, "entry while SQL refuses", err, "unavailable")

	fe.mode.Store("unknown")
	_, err = h.enter(v, 0, s, "")
	fe.mode.Store("")
	wantCode(t, "entry whose commit answer was lost, unreadable", err, "outcome_unknown")
	// Not committed: the sweeper gives the admission back after HoldFor.
	eventually(t, 10*time.Second, "the sweeper releases the entry", func() bool {
		n, err := h.svc.Sweep(h.ctx)
		testenv.Must(t, err, "sweep")
		return n >= 1
	})
	h.checkClean()
	h.mustEnter(v, 0, s)
}

func TestLotteryStaffEntries(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	s := h.lotterySession(lotteryOpts{online: 1, phone: 1})
	operator := h.staff(booking.RoleOperator)
	caller := h.person("赵敏")
	r, err := h.svc.AttemptFor(h.ctx, operator, booking.StaffBookRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: true}, IdentityRequest: caller, SessionID: s.ID,
		Channel: booking.ChannelPhone, CallerPhone: "13700001111"})
	if err != nil || !r.Entered || r.Entry.BookedBy != operator.AccountID {
		t.Fatalf("phone entry = %+v, %v; want an entry booked by the operator", r, err)
	}
	_, err = h.svc.BookFor(h.ctx, operator, booking.StaffBookRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: true}, IdentityRequest: caller, SessionID: s.ID,
		Channel: booking.ChannelPhone, CallerPhone: "13700001111"})
	wantErr(t, "BookFor on a pool taking entries", err, booking.ErrLotteryOnly)
	// The same person online: one entry per person per session.
	u := h.userOf(caller)
	_, err = h.enter(u, 0, s, "")
	// The phone entry is the person's, shown only to their verified self:
	// to this account the uniform refusal (byothers.go).
	wantUniform(t, "the caller enters online too", err)
	h.drawAll(h.svc, s)
	ds := h.drawn(s)
	if len(ds) != 2 {
		t.Fatalf("%d published draws, want the online and the phone pool", len(ds))
	}
	for _, d := range ds {
		if err := booking.VerifyDraw(d, h.booked(d)); err != nil {
			t.Errorf("%s pool: %v", d.Channel, err)
		}
	}
	b, err := h.svc.Booking(h.ctx, operator, r.Entry.ID)
	if err != nil || b.BookedBy != operator.AccountID || b.Channel != booking.ChannelPhone {
		t.Errorf("the phone entry's booking = %+v, %v; want a phone booking by the operator", b, err)
	}
	h.checkClean()
}

// TestLotteryDrawWaitsForAWholeState: a draw ranks on the pool's free slots
// in Redis, so it does not rank while Redis has lost the hospital's state
// (a ranking with 0 slots would publish a draw that gave nothing, and that
// verifies). It resumes once the state is reloaded, and gives every slot.
func TestLotteryDrawWaitsForAWholeState(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	s := h.lotterySession(lotteryOpts{online: 3})
	for range 3 {
		h.mustEnter(h.user(1), 0, s)
	}
	h.dropRedis()
	// Another instance is reloading the hospital, and has not finished.
	ok, err := h.gate.BeginReload(h.ctx, h.hosp.ID, "another-instance", time.Minute)
	if err != nil || !ok {
		t.Fatalf("claim the reload as another instance: %v, %v", ok, err)
	}
	q, _ := s.Channel(booking.ChannelOnline)
	restore := h.clock.at(q.DrawAt.Add(3 * time.Second))
	n, err := h.svc.RunLottery(h.ctx)
	restore()
	if n != 0 || !errors.Is(err, booking.ErrUnavailable) {
		t.Errorf("the lottery job on a lost state drew %d pools, err %v; want none and a 503 to retry", n, err)
	}
	if d := h.drawn(s)[0]; d.Status == booking.DrawDrawn {
		t.Fatalf("the draw finished on a lost state: %d slots, %d winners", d.Slots, d.Winners)
	}
	// The other instance gave up; this one reloads, and the draw resumes.
	testenv.Must(t, h.rdb.Del(h.ctx, h.prefix+":{"+h.hosp.ID+"}:reloading").Err(), "drop the other claim")
	// The reload the refused ranking asked for runs in the background; the
	// draw resumes at a later run of the job once the state is whole.
	for try := 1; ; try++ {
		testenv.Must(t, h.svc.Reconcile(h.ctx), "reload")
		restore := h.clock.at(q.DrawAt.Add(3 * time.Second))
		n, err := h.svc.RunLottery(h.ctx)
		restore()
		if err == nil && n == 1 {
			break
		}
		if try == 50 {
			t.Fatalf("the draw did not resume after the reload: drew %d, %v", n, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	h.checkDraw(s, 3, 3)
}

// TestLotteryWinnerBookedUnderTheEntrysName: a winner is booked under the
// name its entry was made under, so the booking's name guard runs at the
// draw as it does for a booking. A squatter's entry under a false name,
// made before the real person verified their name at the desk, is passed
// over (identity_unverified) and books nothing; the real person's winning
// entry is booked under their own name, so they check in with their card.
func TestLotteryWinnerBookedUnderTheEntrysName(t *testing.T) {
	h := newHarness(t, harnessConfig{wrap: func(s *cockroach.Store) booking.Store { return voidFails{s} }})
	clerk := h.staff(booking.RoleClerk)

	// (a) the squatter enters first; the real person verifies afterwards,
	// and the void of the squatter's entry fails (voidFails): the draw's
	// guard is what keeps it from winning.
	s := h.lotterySession(lotteryOpts{online: 2})
	real := h.person("王芳")
	squatter := h.userOf(booking.IdentityRequest{IDType: real.IDType, IDNumber: real.IDNumber, Name: "王方"})
	squat := h.mustEnter(squatter, 0, s)
	_, err := h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: real})
	wantErr(t, "verify the real name at the desk, its void failing", err, booking.ErrUnavailable)
	h.drawAll(h.svc, s)
	d := h.drawn(s)[0]
	if d.Status != booking.DrawDrawn || d.Winners != 0 {
		t.Errorf("the draw = %s with %d winners, want drawn with none", d.Status, d.Winners)
	}
	testenv.Must(t, booking.VerifyDraw(d, h.booked(d)), "verify the draw")
	for _, e := range d.Entries {
		if e.ID == squat.ID && (e.Status != booking.EntryLost || e.Reason != booking.ErrIdentityUnverified.Code) {
			t.Errorf("the squatter's entry after the draw = %s (%s), want lost (identity_unverified)", e.Status, e.Reason)
		}
	}
	if got := h.activeInSQL(s); len(got) != 0 {
		t.Errorf("bookings of the squatter's draw: %v, want none", got)
	}

	// (b) someone else claimed the person first under another name; the
	// real person enters under their own name, wins, and checks in with
	// their card.
	s2 := h.lotterySession(lotteryOpts{online: 1, dept: "Dermatology"})
	walk := h.person("李娜")
	_, err = h.addClaim(h.user(0), booking.IdentityRequest{IDType: walk.IDType, IDNumber: walk.IDNumber, Name: "李那"}, false)
	testenv.Must(t, err, "another account claims the person first")
	owner := h.userOf(walk)
	won := h.mustEnter(owner, 0, s2)
	h.drawAll(h.svc, s2)
	h.checkDraw(s2, 1, 1)
	defer h.clock.at(s2.StartsAt.Add(time.Minute))()
	// The card's name disproves the other claim, whose void fails here
	// (voidFails): the check-in stands, and the clerk is told so.
	_, err = h.svc.CheckIn(h.ctx, clerk, booking.CheckInRequest{IdentityRequest: walk, BookingID: won.ID})
	wantErr(t, "the winner's check-in with their card, its void failing", err, booking.ErrUnavailable)
	wantMessage(t, "the winner's check-in", err, "the patient is checked in")
	if got := h.stored(won.ID).Status; got != booking.StatusCheckedIn {
		t.Errorf("the winner's booking after the check-in = %s, want checked in", got)
	}
}

// TestLotteryDrawPassesRefusedSlotsOn: winners are booked in waves (as many
// at once as slots are left); an entry refused at booking passes its slot to
// the next in drawn order, so the pool still fills with the first eligible
// entries, whatever the waves.
func TestLotteryDrawPassesRefusedSlotsOn(t *testing.T) {
	// The desk's voids fail (voidFails): the squatters' entries reach the
	// draw, where its name guard passes them over.
	h := newHarness(t, harnessConfig{wrap: func(s *cockroach.Store) booking.Store { return voidFails{s} }})
	clerk := h.staff(booking.RoleClerk)
	const slots = 2
	s := h.lotterySession(lotteryOpts{online: slots})
	squats := map[string]bool{}
	for _, name := range []string{"王芳", "李娜", "张伟"} {
		real := h.person(name)
		squatter := h.userOf(booking.IdentityRequest{IDType: real.IDType, IDNumber: real.IDNumber, Name: name + "假"})
		squats[h.mustEnter(squatter, 0, s).ID] = true
		_, err := h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: real})
		wantErr(t, "verify "+name+" at the desk, its void failing", err, booking.ErrUnavailable)
	}
	for _, u := range h.users(3, 1) {
		h.mustEnter(u, 0, s)
	}
	h.drawAll(h.svc, s)
	d := h.checkDraw(s, slots, 6)
	for _, e := range d.Entries {
		switch {
		case squats[e.ID] && e.Status == booking.EntryWon:
			t.Errorf("squatter's entry %s won", e.ID)
		case squats[e.ID] && e.Status == booking.EntryLost && e.Reason == "" && e.Rank < lastWinnerRank(d):
			t.Errorf("squatter's entry %s (rank %d) lost without a reason before the last winner", e.ID, e.Rank)
		}
	}
}

// voidFails is a store whose listing of what other accounts made for a
// person fails: the desk's verification commits, and voiding the items
// under the name it disproves (Service.voidDisproved) does not happen — the
// draw's name guard behind it is what a test of this store reaches.
type voidFails struct{ *cockroach.Store }

func (voidFails) MadeByOthers(context.Context, string, string, string, time.Time) (booking.MadeByOthers, error) {
	return booking.MadeByOthers{}, booking.ErrUnavailable
}

// lastWinnerRank is the drawn rank of the last winner of a draw.
func lastWinnerRank(d booking.PublishedDraw) int {
	last := 0
	for _, e := range d.Entries {
		if e.Status == booking.EntryWon {
			last = max(last, e.Rank)
		}
	}
	return last
}

// TestLotteryEntryUnderAnUnverifiedName: an entry under a name that is not
// its identity's verified name is refused at its commit (in its batch, as a
// booking is at insert_booking), with nothing stored and its Redis hold
// given back: the real person then enters the same session, and Redis
// agrees with SQL.
func TestLotteryEntryUnderAnUnverifiedName(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	clerk := h.staff(booking.RoleClerk)
	s := h.lotterySession(lotteryOpts{online: 2})
	real := h.person("张伟")
	squatter := h.user(0)
	claim, err := h.addClaim(squatter, booking.IdentityRequest{IDType: real.IDType, IDNumber: real.IDNumber, Name: "张为"}, false)
	testenv.Must(t, err, "another account claims the person under a false name")
	owner := h.userOf(real)
	_, err = h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: real})
	testenv.Must(t, err, "verify the real name at the desk")

	_, err = h.svc.Attempt(h.ctx, squatter.actor, booking.BookRequest{SessionID: s.ID, PatientID: claim.ID,
		Channel: booking.ChannelOnline, Origin: booking.Origin{IP: "203.0.113.9"}})
	if !errors.Is(err, booking.ErrIdentityUnverified) {
		t.Fatalf("an entry under a false name: %v, want identity_unverified", err)
	}
	if n := h.count(`SELECT count(*) FROM lottery_entries WHERE session_id = $1`, s.ID); n != 0 {
		t.Errorf("entries stored after the refusal: %d, want none", n)
	}
	h.mustEnter(owner, 0, s) // the refused entry's hold on the person was given back
	drift, err := h.svc.Check(h.ctx)
	testenv.Must(t, err, "check")
	if len(drift) != 0 {
		t.Errorf("Redis and SQL after a refused entry: %v, want agreement", drift)
	}
}

// TestLotteryKeyedRepeatAfterTheDraw: a request repeated with its
// Idempotency-Key after the draw gets its entry as it stands, even when a
// returned slot is free by then: never a first-come booking under the lost
// entry's id (which would also make the draw fail verification).
func TestLotteryKeyedRepeatAfterTheDraw(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	s := h.lotterySession(lotteryOpts{online: 1})
	users := []user{h.user(1), h.user(1)}
	keys := []string{"entry-key-0", "entry-key-1"}
	entries := make([]booking.Entry, 2)
	for i, u := range users {
		e, err := h.enter(u, 0, s, keys[i])
		testenv.Must(t, err, "enter %d", i)
		entries[i] = e
	}
	h.drawAll(h.svc, s)
	d := h.checkDraw(s, 1, 2)
	won := 0
	for _, e := range d.Entries {
		if e.Status == booking.EntryWon && e.ID == entries[1].ID {
			won = 1
		}
	}
	lost := 1 - won
	q, _ := s.Channel(booking.ChannelOnline)
	defer h.clock.at(q.DrawAt.Add(time.Minute))()
	h.mustCancel(users[won].actor, entries[won].ID)
	h.placeReturned()
	r, err := h.svc.Attempt(h.ctx, users[lost].actor, booking.BookRequest{SessionID: s.ID, PatientID: users[lost].patients[0].ID,
		Channel: booking.ChannelOnline, IdempotencyKey: keys[lost]})
	if err != nil || !r.Entered || r.Entry.ID != entries[lost].ID || r.Entry.Status != booking.EntryLost {
		t.Errorf("the loser's keyed repeat after the draw = %+v, %v; want its lost entry", r, err)
	}
	if got := h.activeInSQL(s); len(got) != 0 {
		t.Errorf("bookings after the repeat: %d, want none (the returned slot is still free)", len(got))
	}
	testenv.Must(t, booking.VerifyDraw(h.drawn(s)[0], h.booked(h.drawn(s)[0])), "verify the draw")
}

// TestLotteryScreeningOnlyWhereTheDrawIs: the detector runs before a draw
// (screening) only on the instance that claimed the pool; another instance
// whose lottery job finds the pool due but claimed runs nothing, instead of
// a pass over the whole event window at every tick of the release minute.
func TestLotteryScreeningOnlyWhereTheDrawIs(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	s := h.lotterySession(lotteryOpts{online: 1})
	h.mustEnter(h.user(1), 0, s)
	counting := &bookingtest.Detector{}
	other := h.stack.Instance(t, booking.Config{Now: h.clock.Now, Detector: counting.Detect})
	q, _ := s.Channel(booking.ChannelOnline)
	at := q.DrawAt.Add(3 * time.Second)
	defer h.clock.at(at)()
	_, ok, err := h.store.ClaimDraw(h.ctx, booking.PoolKey{SessionID: s.ID, Channel: booking.ChannelOnline}, "the-drawing-instance",
		at.Add(-2*time.Second), at, at.Add(time.Minute))
	if err != nil || !ok {
		t.Fatalf("claim the draw as another instance: %v, %v", ok, err)
	}
	n, err := other.RunLottery(h.ctx)
	testenv.Must(t, err, "the lottery job of an instance that cannot claim")
	if n != 0 || counting.Runs() != 0 {
		t.Errorf("an instance without the claim drew %d pools and ran the detector %d times; want none", n, counting.Runs())
	}
}

// TestCheckTellsAnEntryInFlight: reconcile --check reports an entry that
// Redis admitted and SQL does not have yet, while its pending deadline
// runs, as entry_pending (a commit may be in flight), not as entry_stale;
// after the deadline it is stale.
func TestCheckTellsAnEntryInFlight(t *testing.T) {
	h := newHarness(t, harnessConfig{holdFor: 30 * time.Second})
	s := h.lotterySession(lotteryOpts{online: 1})
	u := h.user(1)
	id := booking.NewID()
	_, err := h.gate.Enter(h.ctx, booking.Reservation{BookingID: id, Nonce: "n", HospitalID: s.HospitalID, SessionID: s.ID,
		Channel: booking.ChannelOnline, IdentityKey: u.patients[0].IdentityKey, VisitDate: s.VisitDate, DepartmentID: s.DepartmentID,
		Week: "2099-W01", Month: "2099-01", Today: time.Now().Format(time.DateOnly), Policy: booking.DefaultPolicy,
		HoldFor: 30 * time.Second, KeepUntil: time.Now().Add(48 * time.Hour)})
	testenv.Must(t, err, "admit an entry in Redis only")
	kinds := func() []string {
		t.Helper()
		drift, err := h.svc.Check(h.ctx)
		testenv.Must(t, err, "check")
		var out []string
		for _, d := range drift {
			out = append(out, d.Kind)
		}
		return out
	}
	if got := kinds(); !slices.Equal(got, []string{booking.DriftEntryPending}) {
		t.Errorf("check while the entry's commit may be in flight = %v, want [entry_pending]", got)
	}
	defer h.clock.at(time.Now().Add(time.Minute))()
	if got := kinds(); !slices.Contains(got, booking.DriftEntryStale) {
		t.Errorf("check after the entry's deadline = %v, want entry_stale", got)
	}
}

// TestLotteryResultNotified: every entrant learns the result. The winners
// by their booking (the booked event); those not drawn by a lottery_lost
// notification, or lottery_waitlisted when they asked for the waitlist,
// written with the draw's record over PostgreSQL; a draw run again tells
// nobody twice.
func TestLotteryResultNotified(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	const slots, entrants = 2, 6
	s := h.lotterySession(lotteryOpts{online: slots})
	users := h.users(entrants, 1)
	for i, u := range users {
		_, err := h.svc.Attempt(h.ctx, u.actor, booking.BookRequest{SessionID: s.ID, PatientID: u.patients[0].ID,
			Channel: booking.ChannelOnline, Waitlist: i%2 == 1, Origin: booking.Origin{IP: "203.0.113.9"}})
		testenv.Must(t, err, "enter %d", i)
	}
	if n := h.drawAll(h.svc, s); n != 1 {
		t.Fatalf("drew %d pools, want 1", n)
	}
	h.drawAll(h.svc, s) // nothing left to draw: tells nobody again
	counts := map[string]int{}
	for i, u := range users {
		es, err := h.svc.Entries(h.ctx, u.actor)
		testenv.Must(t, err, "entries of %d", i)
		ns, _, err := h.svc.MyNotifications(h.ctx, u.actor)
		testenv.Must(t, err, "notifications of %d", i)
		kinds := map[string]int{}
		for _, n := range ns {
			kinds[n.Kind]++
			if n.Kind == "lottery_lost" || n.Kind == "lottery_waitlisted" {
				if n.EntryID != "" && n.EntryID != es[0].ID {
					t.Errorf("user %d is told of entry %s, not its own %s", i, n.EntryID, es[0].ID)
				}
			}
		}
		want := map[string]string{booking.EntryLost: "lottery_lost", booking.EntryWaitlisted: "lottery_waitlisted"}[es[0].Status]
		counts[es[0].Status]++
		for _, k := range []string{"lottery_lost", "lottery_waitlisted"} {
			if n := kinds[k]; (k == want) != (n == 1) || n > 1 {
				t.Errorf("user %d (%s, waitlist %v) has %d %s notifications, want %d", i, es[0].Status, i%2 == 1, n, k,
					map[bool]int{true: 1}[k == want])
			}
		}
	}
	if counts[booking.EntryWon] != slots || counts[booking.EntryLost] == 0 || counts[booking.EntryWaitlisted] == 0 {
		t.Errorf("outcomes %v: want %d won and some lost and some waitlisted", counts, slots)
	}
	if n := h.count(`SELECT count(*) FROM notifications WHERE kind IN ('lottery_lost', 'lottery_waitlisted') AND session_id = $1`, s.ID); n != entrants-slots {
		t.Errorf("%d result notifications in SQL, want %d (one per entrant not booked)", n, entrants-slots)
	}
}

// countingPools counts the SQL reads of lottery pools.
type countingPools struct {
	booking.Store
	reads atomic.Int64
}

func (c *countingPools) LotteryPools(ctx context.Context, ids []string) ([]booking.PoolRecord, error) {
	c.reads.Add(1)
	return c.Store.LotteryPools(ctx, ids)
}

// TestPublicDrawsAreKept: what anyone may read of a session's draws (GET
// /v1/lottery/sessions/{id}, no login) is read from SQL once per
// PublicDrawsFor, however many ask, and shared by concurrent askers; an
// administrator reads SQL each time; a draw shows at once (it reloads the
// catalog); a session with no lottery pool is refused without asking SQL.
// Before, every anonymous request counted the pool's entries in SQL (a
// reviewer's 16 clients saturated PostgreSQL over 100,000 entries).
func TestPublicDrawsAreKept(t *testing.T) {
	cp := &countingPools{}
	h := newHarness(t, harnessConfig{wrap: func(s *cockroach.Store) booking.Store { cp.Store = s; return cp }})
	s := h.lotterySession(lotteryOpts{online: 2})
	plain := h.session(sessionOpts{dept: "Dermatology", online: 2})
	admin := h.staff(booking.RoleAdmin)
	us := h.users(3, 1)
	h.mustEnter(us[0], 0, s)
	h.mustEnter(us[1], 0, s)
	now := time.Now()
	h.clock.freeze(now)
	public := func(what string, wantEntered int) {
		t.Helper()
		ds, err := h.svc.LotteryDraws(h.ctx, booking.Actor{}, s.ID)
		testenv.Must(t, err, "public draws (%s)", what)
		if len(ds) != 1 || ds[0].Entered != wantEntered {
			t.Errorf("%s: public draws = %+v; want one pool, %d entered", what, ds, wantEntered)
		}
	}
	before := cp.reads.Load()
	public("first read", 2)
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() { public("40 at once", 2) })
	}
	wg.Wait()
	if got := cp.reads.Load() - before; got != 1 {
		t.Errorf("41 public reads in one moment read SQL %d times; want 1", got)
	}

	h.mustEnter(us[2], 0, s)
	public("an entry later in the same moment", 2) // kept
	ds, err := h.svc.LotteryDraws(h.ctx, admin, s.ID)
	testenv.Must(t, err, "draws as admin")
	if len(ds) != 1 || ds[0].Entered != 3 {
		t.Errorf("admin draws = %+v; want 3 entered (read each time)", ds)
	}
	h.clock.freeze(now.Add(time.Second))
	public("PublicDrawsFor later", 3)

	before = cp.reads.Load()
	_, err = h.svc.LotteryDraws(h.ctx, booking.Actor{}, plain.ID)
	wantErr(t, "public draws of a first-come session", err, booking.ErrChannelClosed)
	if got := cp.reads.Load() - before; got != 0 {
		t.Errorf("a session with no lottery pool read SQL %d times; want 0", got)
	}

	h.clock.frozen.Store(0)
	h.drawAll(h.svc, s)
	h.clock.freeze(now.Add(time.Second)) // the moment the count was kept
	ds, err = h.svc.LotteryDraws(h.ctx, booking.Actor{}, s.ID)
	testenv.Must(t, err, "public draws after the draw")
	if len(ds) != 1 || ds[0].Status != booking.DrawDrawn || len(ds[0].Entries) != 3 || len(ds[0].Seed) == 0 {
		t.Errorf("public draws after the draw = %+v; want drawn at once, with its seed and 3 entries", ds)
	}
}

// TestPublicDrawPages: a drawn pool's public record lists its entries a
// page at a time, in request id order; walking the cursor from the first
// page yields every entry exactly once, in the order DrawOrder hashes them,
// and the walked list verifies (and fails once an entry is dropped). Bad
// cursors are refused as invalid_cursor. Before, one answer listed every
// entry (~10 MB for 100,000).
func TestPublicDrawPages(t *testing.T) {
	const page, slots, entrants = 3, 2, 8
	h := newHarness(t, harnessConfig{drawPage: page})
	s := h.lotterySession(lotteryOpts{online: slots})
	for _, u := range h.users(entrants, 1) {
		h.mustEnter(u, 0, s)
	}
	ps, err := h.svc.PublicDrawPage(h.ctx, s.ID, "", "")
	testenv.Must(t, err, "first page before the draw")
	if len(ps) != 1 || len(ps[0].Entries) != 0 || ps[0].Next != "" || ps[0].Entered != entrants {
		t.Errorf("first page before the draw = %+v; want the pool's record, %d entered, no entry, no cursor", ps, entrants)
	}
	h.drawAll(h.svc, s)

	ps, err = h.svc.PublicDrawPage(h.ctx, s.ID, "", "")
	testenv.Must(t, err, "first page")
	if len(ps) != 1 || ps[0].Status != booking.DrawDrawn || len(ps[0].Seed) == 0 || len(ps[0].Commitment) == 0 ||
		ps[0].Winners != slots || ps[0].Entered != entrants {
		t.Fatalf("first page = %+v; want the drawn pool with its seed, commitment, %d winners, %d entered", ps, slots, entrants)
	}
	walked := ps[0].PublishedDraw
	walked.Entries = slices.Clone(ps[0].Entries)
	pages := 1
	for next := ps[0].Next; next != ""; pages++ {
		if n := len(ps[0].Entries); n > page || n == 0 || pages > entrants {
			t.Fatalf("page %d lists %d entries; want 1 to %d, and at most %d pages", pages, n, page, entrants)
		}
		ps, err = h.svc.PublicDrawPage(h.ctx, s.ID, booking.ChannelOnline, next)
		testenv.Must(t, err, "page after %s", next)
		if len(ps) != 1 || ps[0].Winners != slots || string(ps[0].Seed) != string(walked.Seed) {
			t.Fatalf("page after %s = %+v; want the pool's record on it too", next, ps)
		}
		walked.Entries = append(walked.Entries, ps[0].Entries...)
		next = ps[0].Next
	}
	if want := (entrants + page - 1) / page; pages != want {
		t.Errorf("walked %d pages; want %d", pages, want)
	}
	ids := make([]string, len(walked.Entries))
	for i, e := range walked.Entries {
		ids[i] = e.ID
	}
	all := h.drawn(s)[0]
	var want []string
	for _, e := range all.Entries {
		want = append(want, e.ID)
	}
	slices.Sort(want) // the order DrawOrder hashes the entries in
	if !slices.Equal(ids, want) {
		t.Errorf("walked entries = %v; want each of the pool's %d once, in request id order %v", ids, len(want), want)
	}
	if err := booking.VerifyDraw(walked, h.booked(walked)); err != nil {
		t.Errorf("the walked pages do not verify: %v", err)
	}
	dropped := walked
	dropped.Entries = slices.Delete(slices.Clone(walked.Entries), 1, 2)
	if err := booking.VerifyDraw(dropped, h.booked(walked)); err == nil {
		t.Error("the walked pages less one entry verify; want a digest mismatch")
	}
	// A cursor before the first id starts at the first; past the last
	// gives the record and no entry.
	ps, err = h.svc.PublicDrawPage(h.ctx, s.ID, booking.ChannelOnline, "00000000-0000-0000-0000-000000000000")
	testenv.Must(t, err, "page after the zero id")
	if len(ps) != 1 || len(ps[0].Entries) != page || ps[0].Entries[0].ID != want[0] {
		t.Errorf("page after the zero id = %+v; want the first page", ps)
	}
	ps, err = h.svc.PublicDrawPage(h.ctx, s.ID, booking.ChannelOnline, strings.ToUpper(want[len(want)-1]))
	testenv.Must(t, err, "page after the last id")
	if len(ps) != 1 || len(ps[0].Entries) != 0 || ps[0].Next != "" || ps[0].Winners != slots {
		t.Errorf("page after the last id = %+v; want the record, no entry, no cursor", ps)
	}

	for _, tt := range []struct {
		name, channel, after string
	}{
		{"after without a channel", "", want[0]},
		{"after not a request id", "online", "zzz"},
		{"a channel with no lottery pool", "phone", ""},
		{"an unknown channel", "fax", want[0]},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.svc.PublicDrawPage(h.ctx, s.ID, booking.Channel(tt.channel), tt.after)
			wantErr(t, tt.name, err, booking.ErrInvalidCursor)
		})
	}
}

// TestLotteryScreeningHoldsOnlyTheGroupsEntries is review21 H2: Fay's
// account lists Alice's person (an ID number and a name are all it takes)
// and the detector flags Fay; nobody has reviewed the flag. Alice enters
// the draw for herself from her own account: her entry is not the group's,
// so it takes part and, the only entrant, wins. Fay's own entry is held out.
func TestLotteryScreeningHoldsOnlyTheGroupsEntries(t *testing.T) {
	det := &bookingtest.Detector{}
	h := newHarness(t, harnessConfig{detector: det.Detect})
	s := h.lotterySession(lotteryOpts{online: 3})
	alicePerson := h.person("李小红")
	alice := h.account(h.phone(), booking.Origin{}, alicePerson)
	fay := h.account(h.phone(), booking.Origin{}, h.person("范小飞"), alicePerson)
	ea := h.mustEnter(alice, 0, s)
	ef := h.mustEnter(fay, 0, s)
	det.Returns(ring("fay-ring", 2.6, []user{fay}, reason("burst", "4 bookings within 2 s")))

	if n := h.drawAll(h.svc, s); n != 1 {
		t.Fatalf("drew %d pools, want 1", n)
	}
	for _, tt := range []struct {
		who  string
		u    user
		id   string
		want string
	}{{"Alice's entry for herself", alice, ea.ID, booking.EntryWon}, {"Fay's own entry", fay, ef.ID, booking.EntryHeldOut}} {
		e, err := h.svc.Entry(h.ctx, tt.u.actor, tt.id)
		if err != nil || e.Status != tt.want {
			t.Errorf("%s after the draw = %s, %v; want %s", tt.who, e.Status, err, tt.want)
		}
	}
}

// TestOverdueFlagHoldsNoEntry is review21 M1's lapse: an open flag past its
// decision deadline (Config.FlagDecisionWithin, 7 days) holds nobody out of
// a draw, so a person is not kept out indefinitely by a review nobody
// decides.
func TestOverdueFlagHoldsNoEntry(t *testing.T) {
	det := &bookingtest.Detector{}
	h := newHarness(t, harnessConfig{detector: det.Detect})
	s := h.lotterySession(lotteryOpts{online: 3})
	fay := h.account(h.phone(), booking.Origin{}, h.person("范小飞"))
	ef := h.mustEnter(fay, 0, s)
	f := ring("fay-late", 2.6, []user{fay}, reason("burst", "4 bookings within 2 s"))
	det.Returns(f)
	h.detect(1)
	db := h.sql()
	_, err := db.pool.Exec(h.ctx, `UPDATE flags SET opened_at = opened_at - INTERVAL '8 days' WHERE id = $1`, f.ID)
	testenv.Must(t, err, "age the flag")

	if n := h.drawAll(h.svc, s); n != 1 {
		t.Fatalf("drew %d pools, want 1", n)
	}
	if e, err := h.svc.Entry(h.ctx, fay.actor, ef.ID); err != nil || e.Status != booking.EntryWon {
		t.Errorf("an entry of a flag past its deadline after the draw = %s, %v; want won", e.Status, err)
	}
}

// TestScreeningReadsEveryOpenFlag (session 23): the draw's screening read
// the open flags as one page (booking.FlagPageSize, the highest scores
// first), so with more open flags than a page an entrant whose flag scored
// lower than the page's last passed into the draw. It now asks SQL for the
// open flags naming the entrants' accounts, however many others are open.
func TestScreeningReadsEveryOpenFlag(t *testing.T) {
	det := &bookingtest.Detector{}
	h := newHarness(t, harnessConfig{detector: det.Detect})
	s := h.lotterySession(lotteryOpts{online: 3})
	fay := h.account(h.phone(), booking.Origin{}, h.person("范小飞"))
	alice := h.user(1)
	ef := h.mustEnter(fay, 0, s)
	ea := h.mustEnter(alice, 0, s)
	det.Returns(ring("fay-low", 1.2, []user{fay}, reason("burst", "4 bookings within 2 s")))
	h.detect(1)
	// A page's worth and more of other accounts' open flags, each scoring
	// higher than fay's.
	_, err := h.sql().pool.Exec(h.ctx, `INSERT INTO flags (id, score, status, reasons, account_ids, patient_ids, created_at, updated_at)
		SELECT 'other-' || n, 3, 'open', '[]', jsonb_build_array(gen_random_uuid()::TEXT), '[]', now(), now()
		  FROM generate_series(1, $1::INT) AS n`, booking.FlagPageSize+20)
	testenv.Must(t, err, "open other flags")

	if n := h.drawAll(h.svc, s); n != 1 {
		t.Fatalf("drew %d pools, want 1", n)
	}
	if e, err := h.svc.Entry(h.ctx, fay.actor, ef.ID); err != nil || e.Status != booking.EntryHeldOut || e.FlagID != "fay-low" {
		t.Errorf("fay's entry, her flag below %d higher ones = %s (flag %q), %v; want held_out by fay-low", booking.FlagPageSize, e.Status, e.FlagID, err)
	}
	if e, err := h.svc.Entry(h.ctx, alice.actor, ea.ID); err != nil || e.Status != booking.EntryWon {
		t.Errorf("alice's entry = %s, %v; want won", e.Status, err)
	}
}
