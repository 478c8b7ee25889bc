package admission

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// These tests run the Lua scripts against the real Redis of `make test`.
// Each test (and each subtest that calls newFixture) gets a key prefix of
// its own, so a snapshot of "every key under the prefix" is exactly the
// state the scripts produced.

var shanghai = testenv.Shanghai

var day = testenv.Day

// addDays shifts a civil date by n days.
func addDays(date string, n int) string {
	d, err := time.ParseInLocation(time.DateOnly, date, shanghai)
	if err != nil {
		panic(err)
	}
	return d.AddDate(0, 0, n).Format(time.DateOnly)
}

// futureMonday is a Monday at least a week ahead.
func futureMonday() string {
	d := time.Now().In(shanghai).AddDate(0, 0, 7)
	for d.Weekday() != time.Monday {
		d = d.AddDate(0, 0, 1)
	}
	return d.Format(time.DateOnly)
}

// monthAhead is the first day of the month after next.
func monthAhead() string {
	n := time.Now().In(shanghai)
	return time.Date(n.Year(), n.Month()+2, 1, 0, 0, 0, 0, shanghai).Format(time.DateOnly)
}

var (
	past   = time.Now().Add(-time.Hour)
	future = time.Now().Add(time.Hour)
)

func online(n int, releaseAt time.Time) booking.ChannelQuota {
	return booking.ChannelQuota{Channel: booking.ChannelOnline, Quota: n, ReleaseAt: releaseAt}
}

func phone(n int, releaseAt time.Time) booking.ChannelQuota {
	return booking.ChannelQuota{Channel: booking.ChannelPhone, Quota: n, ReleaseAt: releaseAt}
}

func newIdentityKey() string { return testenv.Token() + testenv.Token() }

type fixture struct {
	t      *testing.T
	ctx    context.Context
	rdb    *redis.Client
	prefix string
	g      *Gate
	hosp   string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	rdb, prefix := testenv.Redis(t)
	g := New(rdb, prefix, prometheus.NewRegistry())
	testenv.Must(t, g.Preload(t.Context()), "preload scripts")
	f := &fixture{t: t, ctx: t.Context(), rdb: rdb, prefix: prefix, g: g, hosp: booking.NewID()}
	markWhole(t, g, f.hosp)
	return f
}

// markWhole marks a hospital's state whole, as the end of a reload from
// SQL does: reserve.lua admits nothing before.
func markWhole(t testing.TB, g *Gate, hospitalID string) {
	t.Helper()
	ctx := context.Background()
	token := testenv.Token()
	ok, err := g.BeginReload(ctx, hospitalID, token, time.Minute)
	if err != nil || !ok {
		t.Fatalf("BeginReload = %v, %v; want the claim", ok, err)
	}
	if ok, err = g.EndReload(ctx, hospitalID, token); err != nil || !ok {
		t.Fatalf("EndReload = %v, %v; want the mark written", ok, err)
	}
}

// newSession lays out a morning session of this fixture's hospital; it is
// not loaded into Redis.
func (f *fixture) newSession(date, dept string, quotas ...booking.ChannelQuota) *booking.Session {
	f.t.Helper()
	d, err := time.ParseInLocation(time.DateOnly, date, shanghai)
	testenv.Must(f.t, err, "parse date %s", date)
	s, err := booking.BuildSession(booking.SessionSpec{
		HospitalID: f.hosp, DepartmentID: dept, DoctorID: booking.NewID(), VisitDate: date,
		Period: "morning", StartsAt: d.Add(8 * time.Hour), EndsAt: d.Add(12 * time.Hour), Quotas: quotas,
	})
	testenv.Must(f.t, err, "build session")
	return &s
}

// session lays out a session and loads it with no bookings.
func (f *fixture) session(date, dept string, quotas ...booking.ChannelQuota) *booking.Session {
	f.t.Helper()
	s := f.newSession(date, dept, quotas...)
	testenv.Must(f.t, f.g.Load(f.ctx, s, nil, nil), "load session")
	return s
}

// reservation is an online reservation of s for identity ik, today.
func (f *fixture) reservation(s *booking.Session, ik string) booking.Reservation {
	week, month := booking.PeriodKeys(s.VisitDate)
	return booking.Reservation{
		BookingID: booking.NewID(), Nonce: testenv.Token(), HospitalID: s.HospitalID, SessionID: s.ID,
		Channel: booking.ChannelOnline, IdentityKey: ik, VisitDate: s.VisitDate, DepartmentID: s.DepartmentID,
		Week: week, Month: month, Today: day(0), Policy: booking.DefaultPolicy,
		HoldFor: time.Minute, KeepUntil: s.EndsAt.Add(48 * time.Hour),
	}
}

// mustReserve reserves and fails the test unless a fresh slot is handed out.
func (f *fixture) mustReserve(r booking.Reservation) int {
	f.t.Helper()
	slot, replay, err := f.g.Reserve(f.ctx, r)
	if err != nil || replay {
		f.t.Fatalf("Reserve(%s) = %d, replay %v, %v; want a slot", r.BookingID, slot, replay, err)
	}
	return slot
}

func (f *fixture) holdOf(r booking.Reservation, slot int) booking.Hold {
	return booking.Hold{HospitalID: r.HospitalID, SessionID: r.SessionID, BookingID: r.BookingID,
		SlotNo: slot, Channel: r.Channel, IdentityKey: r.IdentityKey}
}

func (f *fixture) remaining(s *booking.Session, c booking.Channel) int {
	f.t.Helper()
	rem, err := f.g.Remaining(f.ctx, []*booking.Session{s})
	testenv.Must(f.t, err, "remaining")
	return rem[0][c]
}

func (f *fixture) holds(sessions ...*booking.Session) []booking.Hold {
	f.t.Helper()
	ids := make([]string, len(sessions))
	for i, s := range sessions {
		ids[i] = s.ID
	}
	hs, err := f.g.Holds(f.ctx, f.hosp, ids)
	testenv.Must(f.t, err, "holds")
	sortHolds(hs)
	for i := range hs {
		hs[i].PendingUntil = time.Time{} // compared apart, where a test cares
	}
	return hs
}

func sortHolds(hs []booking.Hold) {
	slices.SortFunc(hs, func(a, b booking.Hold) int {
		if c := strings.Compare(a.SessionID, b.SessionID); c != 0 {
			return c
		}
		return a.SlotNo - b.SlotNo
	})
}

func (f *fixture) free(s *booking.Session, c booking.Channel) []string {
	f.t.Helper()
	v, err := f.rdb.ZRange(f.ctx, f.g.keys(f.hosp).free(s.ID, c), 0, -1).Result()
	testenv.Must(f.t, err, "free pool")
	return v
}

func (f *fixture) exists(key string) bool {
	f.t.Helper()
	n, err := f.rdb.Exists(f.ctx, key).Result()
	testenv.Must(f.t, err, "exists %s", key)
	return n == 1
}

// waitExpired polls Expired until it lists every id in bids.
func (f *fixture) waitExpired(bids ...string) []booking.Hold {
	f.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		hs, err := f.g.Expired(f.ctx, f.hosp, time.Now(), 1000)
		testenv.Must(f.t, err, "expired")
		listed := map[string]bool{}
		for _, h := range hs {
			listed[h.BookingID] = true
		}
		all := true
		for _, b := range bids {
			all = all && listed[b]
		}
		if all {
			return hs
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("Expired never listed %v (got %v)", bids, hs)
		}
		time.Sleep(time.Millisecond) // polling interval, not a correctness wait
	}
}

// snapshot dumps every key under the test prefix: type, whether it expires,
// and its value.
func (f *fixture) snapshot() map[string]string {
	f.t.Helper()
	out := map[string]string{}
	iter := f.rdb.Scan(f.ctx, 0, f.prefix+":*", 1000).Iterator()
	for iter.Next(f.ctx) {
		k := iter.Val()
		typ, err := f.rdb.Type(f.ctx, k).Result()
		testenv.Must(f.t, err, "type %s", k)
		var v string
		switch typ {
		case "string":
			v, err = f.rdb.Get(f.ctx, k).Result()
		case "hash":
			var m map[string]string
			m, err = f.rdb.HGetAll(f.ctx, k).Result()
			v = fmt.Sprint(m) // fmt sorts map keys
		case "zset":
			var zs []redis.Z
			zs, err = f.rdb.ZRangeWithScores(f.ctx, k, 0, -1).Result()
			v = fmt.Sprint(zs)
		default:
			v = "unexpected type"
		}
		testenv.Must(f.t, err, "read %s", k)
		ttl, err := f.rdb.PTTL(f.ctx, k).Result()
		testenv.Must(f.t, err, "pttl %s", k)
		out[k] = fmt.Sprintf("%s expires=%v %s", typ, ttl > 0, v)
	}
	testenv.Must(f.t, iter.Err(), "scan")
	return out
}

func diffSnapshots(before, after map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(before)) {
		if a, ok := after[k]; !ok {
			fmt.Fprintf(&b, "\n  deleted %s (was %s)", k, before[k])
		} else if a != before[k] {
			fmt.Fprintf(&b, "\n  changed %s: %s -> %s", k, before[k], a)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(after)) {
		if _, ok := before[k]; !ok {
			fmt.Fprintf(&b, "\n  added %s = %s", k, after[k])
		}
	}
	return b.String()
}

func TestReserveHandsOutLowestSlotFirst(t *testing.T) {
	f := newFixture(t)
	s := f.session(day(1), booking.NewID(), online(5, past))

	var got []booking.Hold
	for i := 1; i <= 3; i++ {
		r := f.reservation(s, newIdentityKey())
		slot := f.mustReserve(r)
		if slot != i {
			t.Errorf("reservation %d: slot = %d, want %d", i, slot, i)
		}
		got = append(got, f.holdOf(r, slot))
		if rem, want := f.remaining(s, booking.ChannelOnline), 5-i; rem != want {
			t.Errorf("after reservation %d: remaining = %d, want %d", i, rem, want)
		}
	}
	if hs := f.holds(s); !slices.Equal(hs, got) {
		t.Errorf("holds = %+v, want %+v", hs, got)
	}
	if free, want := f.free(s, booking.ChannelOnline), []string{"4", "5"}; !slices.Equal(free, want) {
		t.Errorf("free pool = %v, want %v", free, want)
	}
}

func TestReserveRejectionsWriteNothing(t *testing.T) {
	tests := []struct {
		name  string
		setup func(f *fixture) booking.Reservation
		want  error
	}{
		{"unknown session", func(f *fixture) booking.Reservation {
			return f.reservation(f.newSession(day(1), booking.NewID(), online(3, past)), newIdentityKey())
		}, booking.ErrSessionNotFound},
		{"channel absent from the session", func(f *fixture) booking.Reservation {
			r := f.reservation(f.session(day(1), booking.NewID(), online(3, past)), newIdentityKey())
			r.Channel = booking.ChannelPhone
			return r
		}, booking.ErrChannelClosed},
		{"release time in the future", func(f *fixture) booking.Reservation {
			return f.reservation(f.session(day(1), booking.NewID(), online(3, future)), newIdentityKey())
		}, booking.ErrNotReleased},
		{"one channel released, another not", func(f *fixture) booking.Reservation {
			r := f.reservation(f.session(day(1), booking.NewID(), online(3, past), phone(2, future)), newIdentityKey())
			r.Channel = booking.ChannelPhone
			return r
		}, booking.ErrNotReleased},
		{"patient barred", func(f *fixture) booking.Reservation {
			r := f.reservation(f.session(day(1), booking.NewID(), online(3, past)), newIdentityKey())
			f.bar(r.IdentityKey, time.Now().Add(24*time.Hour))
			return r
		}, booking.ErrPatientBarred},
		{"same patient same session", func(f *fixture) booking.Reservation {
			s := f.session(day(1), booking.NewID(), online(3, past))
			ik := newIdentityKey()
			f.mustReserve(f.reservation(s, ik))
			return f.reservation(s, ik)
		}, booking.ErrAlreadyBooked},
		{"same patient other session same day same department", func(f *fixture) booking.Reservation {
			dept := booking.NewID()
			s1 := f.session(day(1), dept, online(3, past))
			s2 := f.session(day(1), dept, online(3, past))
			ik := newIdentityKey()
			f.mustReserve(f.reservation(s1, ik))
			return f.reservation(s2, ik)
		}, booking.ErrQuotaDayDept},
		{"per-day limit", func(f *fixture) booking.Reservation {
			ik := newIdentityKey()
			var r booking.Reservation
			for i := range 3 {
				r = f.reservation(f.session(day(1), booking.NewID(), online(3, past)), ik)
				r.Policy = booking.Policy{PerDay: 2, PerWeek: 10, PerMonth: 10}
				if i < 2 {
					f.mustReserve(r)
				}
			}
			return r
		}, booking.ErrQuotaDay},
		{"per-week limit", func(f *fixture) booking.Reservation {
			ik, monday := newIdentityKey(), futureMonday()
			var r booking.Reservation
			for i := range 3 { // Monday, Tuesday, Wednesday of one ISO week
				r = f.reservation(f.session(addDays(monday, i), booking.NewID(), online(3, past)), ik)
				r.Policy = booking.Policy{PerDay: 5, PerWeek: 2, PerMonth: 10}
				if i < 2 {
					f.mustReserve(r)
				}
			}
			return r
		}, booking.ErrQuotaWeek},
		{"per-month limit", func(f *fixture) booking.Reservation {
			ik, first := newIdentityKey(), monthAhead()
			var r booking.Reservation
			for i := range 3 { // the 1st, 10th and 19th: one month, three ISO weeks
				r = f.reservation(f.session(addDays(first, 9*i), booking.NewID(), online(3, past)), ik)
				r.Policy = booking.Policy{PerDay: 5, PerWeek: 5, PerMonth: 2}
				if i < 2 {
					f.mustReserve(r)
				}
			}
			return r
		}, booking.ErrQuotaMonth},
		{"pool empty", func(f *fixture) booking.Reservation {
			s := f.session(day(1), booking.NewID(), online(1, past))
			f.mustReserve(f.reservation(s, newIdentityKey()))
			return f.reservation(s, newIdentityKey())
		}, booking.ErrSoldOut},

		// The order of the checks: the earlier rejection wins.
		{"not released is checked before the bar", func(f *fixture) booking.Reservation {
			r := f.reservation(f.session(day(1), booking.NewID(), online(3, future)), newIdentityKey())
			f.bar(r.IdentityKey, time.Now().Add(24*time.Hour))
			return r
		}, booking.ErrNotReleased},
		{"the bar is checked before quotas", func(f *fixture) booking.Reservation {
			s := f.session(day(1), booking.NewID(), online(3, past))
			ik := newIdentityKey()
			f.mustReserve(f.reservation(s, ik))
			f.bar(ik, time.Now().Add(24*time.Hour))
			return f.reservation(s, ik)
		}, booking.ErrPatientBarred},
		{"quotas are checked before the pool", func(f *fixture) booking.Reservation {
			s := f.session(day(1), booking.NewID(), online(1, past))
			ik := newIdentityKey()
			f.mustReserve(f.reservation(s, ik))
			return f.reservation(s, ik)
		}, booking.ErrAlreadyBooked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			r := tt.setup(f)
			before := f.snapshot()
			slot, replay, err := f.g.Reserve(f.ctx, r)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Reserve = %d, replay %v, err %v; want %v", slot, replay, err, tt.want)
			}
			if d := diffSnapshots(before, f.snapshot()); d != "" {
				t.Errorf("a rejected Reserve wrote to Redis:%s", d)
			}
		})
	}
}

func (f *fixture) bar(ik string, until time.Time) {
	f.t.Helper()
	testenv.Must(f.t, f.rdb.Set(f.ctx, f.g.keys(f.hosp).bar(ik), until.UnixMilli(), 0).Err(), "set bar")
}

func TestReserveBarInThePastDoesNotBlock(t *testing.T) {
	f := newFixture(t)
	s := f.session(day(1), booking.NewID(), online(2, past))
	r := f.reservation(s, newIdentityKey())
	f.bar(r.IdentityKey, time.Now().Add(-time.Minute))
	if slot, want := f.mustReserve(r), 1; slot != want {
		t.Errorf("slot = %d, want %d", slot, want)
	}
}

func TestReservePastHoldsDoNotCount(t *testing.T) {
	monday := futureMonday()
	tests := []struct {
		name    string
		today   string // Today of the second reservation
		wantErr error
	}{
		// Control: while Monday's visit is today or later it counts.
		{"earlier hold still current", monday, booking.ErrQuotaWeek},
		{"earlier hold's visit date has passed", addDays(monday, 1), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			ik := newIdentityKey()
			policy := booking.Policy{PerDay: 2, PerWeek: 1, PerMonth: 1}
			r1 := f.reservation(f.session(monday, booking.NewID(), online(2, past)), ik)
			r1.Policy = policy
			f.mustReserve(r1)

			r2 := f.reservation(f.session(addDays(monday, 2), booking.NewID(), online(2, past)), ik)
			r2.Policy, r2.Today = policy, tt.today
			_, _, err := f.g.Reserve(f.ctx, r2)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Reserve = %v, want %v", err, tt.wantErr)
			}
			entries, err := f.rdb.HKeys(f.ctx, f.g.keys(f.hosp).identity(ik)).Result()
			testenv.Must(t, err, "identity holds")
			slices.Sort(entries)
			want := []string{r1.BookingID}
			if tt.wantErr == nil {
				// The successful reserve also prunes the past entry.
				want = []string{r2.BookingID}
			}
			if !slices.Equal(entries, want) {
				t.Errorf("identity entries = %v, want %v", entries, want)
			}
		})
	}
}

func TestReserveIdempotency(t *testing.T) {
	tests := []struct {
		name       string
		sameNonce  bool
		wantReplay bool
	}{
		{"same nonce: a client-library retry", true, false},
		{"other nonce: a replayed request", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			s := f.session(day(1), booking.NewID(), online(3, past))
			r := f.reservation(s, newIdentityKey())
			first := f.mustReserve(r)
			before := f.snapshot()

			again := r
			if !tt.sameNonce {
				again.Nonce = testenv.Token()
			}
			slot, replay, err := f.g.Reserve(f.ctx, again)
			testenv.Must(t, err, "second Reserve")
			if slot != first {
				t.Errorf("slot = %d, want %d", slot, first)
			}
			if replay != tt.wantReplay {
				t.Errorf("replay = %v, want %v", replay, tt.wantReplay)
			}
			if rem, want := f.remaining(s, booking.ChannelOnline), 2; rem != want {
				t.Errorf("remaining = %d, want %d", rem, want)
			}
			if d := diffSnapshots(before, f.snapshot()); d != "" {
				t.Errorf("the second Reserve wrote to Redis:%s", d)
			}
		})
	}
}

func TestReleaseReturnsSlot(t *testing.T) {
	f := newFixture(t)
	s := f.session(day(1), booking.NewID(), online(3, past))
	r := f.reservation(s, newIdentityKey())
	slot := f.mustReserve(r)

	testenv.Must(t, f.g.Release(f.ctx, f.holdOf(r, slot), booking.Release{ReturnSlot: true, Forget: true}), "release")
	if rem, want := f.remaining(s, booking.ChannelOnline), 3; rem != want {
		t.Errorf("remaining = %d, want %d", rem, want)
	}
	if hs := f.holds(s); len(hs) != 0 {
		t.Errorf("holds = %+v, want none", hs)
	}
	// The same identity may book again (its identity entry is gone), and
	// gets the returned slot, the lowest.
	if got := f.mustReserve(f.reservation(s, r.IdentityKey)); got != slot {
		t.Errorf("next slot = %d, want the returned %d", got, slot)
	}
}

func TestReleaseWithoutReturnKeepsSlotOut(t *testing.T) {
	f := newFixture(t)
	s := f.session(day(1), booking.NewID(), online(3, past))
	r := f.reservation(s, newIdentityKey())
	slot := f.mustReserve(r)

	testenv.Must(t, f.g.Release(f.ctx, f.holdOf(r, slot), booking.Release{Forget: true}), "release")
	if rem, want := f.remaining(s, booking.ChannelOnline), 2; rem != want {
		t.Errorf("remaining = %d, want %d", rem, want)
	}
	if hs := f.holds(s); len(hs) != 0 {
		t.Errorf("holds = %+v, want none", hs)
	}
	if got, want := f.mustReserve(f.reservation(s, newIdentityKey())), slot+1; got != want {
		t.Errorf("next slot = %d, want %d (the released slot stays out)", got, want)
	}
}

func TestReleaseTwiceIsHarmless(t *testing.T) {
	f := newFixture(t)
	s := f.session(day(1), booking.NewID(), online(3, past))
	a := f.reservation(s, newIdentityKey())
	slotA := f.mustReserve(a)
	how := booking.Release{ReturnSlot: true, Forget: true}

	testenv.Must(t, f.g.Release(f.ctx, f.holdOf(a, slotA), how), "first release")
	testenv.Must(t, f.g.Release(f.ctx, f.holdOf(a, slotA), how), "second release")
	if rem, want := f.remaining(s, booking.ChannelOnline), 3; rem != want {
		t.Errorf("remaining after two releases = %d, want %d", rem, want)
	}

	// B takes the returned slot; a late third release of A must not put
	// B's slot back in the pool.
	b := f.reservation(s, newIdentityKey())
	if slotB := f.mustReserve(b); slotB != slotA {
		t.Fatalf("B's slot = %d, want the returned %d", slotB, slotA)
	}
	testenv.Must(t, f.g.Release(f.ctx, f.holdOf(a, slotA), how), "late release")
	if rem, want := f.remaining(s, booking.ChannelOnline), 2; rem != want {
		t.Errorf("remaining after a late release = %d, want %d", rem, want)
	}
	if hs, want := f.holds(s), []booking.Hold{f.holdOf(b, slotA)}; !slices.Equal(hs, want) {
		t.Errorf("holds = %+v, want %+v", hs, want)
	}
}

func TestReleaseForget(t *testing.T) {
	tests := []struct {
		name       string
		forget     bool
		wantReplay bool
	}{
		{"forget: the booking id can reserve again", true, false},
		{"keep: the booking id is a replay", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			s := f.session(day(1), booking.NewID(), online(3, past))
			r := f.reservation(s, newIdentityKey())
			slot := f.mustReserve(r)
			testenv.Must(t, f.g.Release(f.ctx, f.holdOf(r, slot), booking.Release{ReturnSlot: true, Forget: tt.forget}), "release")
			if got := f.exists(f.g.keys(f.hosp).record(r.BookingID)); got == tt.forget {
				t.Errorf("record exists = %v, want %v", got, !tt.forget)
			}

			again := r
			again.Nonce = testenv.Token()
			got, replay, err := f.g.Reserve(f.ctx, again)
			testenv.Must(t, err, "Reserve again")
			if replay != tt.wantReplay {
				t.Errorf("replay = %v, want %v", replay, tt.wantReplay)
			}
			if got != slot {
				t.Errorf("slot = %d, want %d", got, slot)
			}
			wantRem := 3 // the replay takes nothing
			if !tt.wantReplay {
				wantRem = 2
			}
			if rem := f.remaining(s, booking.ChannelOnline); rem != wantRem {
				t.Errorf("remaining = %d, want %d", rem, wantRem)
			}
		})
	}
}

func TestReleaseOnlyIfExpired(t *testing.T) {
	f := newFixture(t)
	s := f.session(day(1), booking.NewID(), online(3, past))
	how := booking.Release{ReturnSlot: true, OnlyIfExpired: true}

	pending := f.reservation(s, newIdentityKey())
	pending.HoldFor = time.Hour
	pendingSlot := f.mustReserve(pending)
	expired := f.reservation(s, newIdentityKey())
	expired.HoldFor = time.Millisecond
	expiredSlot := f.mustReserve(expired)
	f.waitExpired(expired.BookingID)

	before := f.snapshot()
	if err := f.g.Release(f.ctx, f.holdOf(pending, pendingSlot), how); !errors.Is(err, booking.ErrHoldPending) {
		t.Errorf("release of a pending hold = %v, want ErrHoldPending", err)
	}
	if d := diffSnapshots(before, f.snapshot()); d != "" {
		t.Errorf("releasing a hold whose deadline has not passed changed Redis:%s", d)
	}

	testenv.Must(t, f.g.Release(f.ctx, f.holdOf(expired, expiredSlot), how), "release expired")
	if hs, want := f.holds(s), []booking.Hold{f.holdOf(pending, pendingSlot)}; !slices.Equal(hs, want) {
		t.Errorf("holds = %+v, want %+v", hs, want)
	}
	if free, want := f.free(s, booking.ChannelOnline), []string{strconv.Itoa(expiredSlot), "3"}; !slices.Equal(free, want) {
		t.Errorf("free pool = %v, want %v", free, want)
	}
	hs, err := f.g.Expired(f.ctx, f.hosp, time.Now(), 100)
	testenv.Must(t, err, "expired")
	if len(hs) != 0 {
		t.Errorf("expired after release = %+v, want none", hs)
	}
}

func TestConfirmRemovesFromExpired(t *testing.T) {
	f := newFixture(t)
	s := f.session(day(1), booking.NewID(), online(3, past))
	confirmed := f.reservation(s, newIdentityKey())
	confirmed.HoldFor = time.Millisecond
	slot := f.mustReserve(confirmed)
	other := f.reservation(s, newIdentityKey())
	other.HoldFor = time.Millisecond
	f.mustReserve(other)

	testenv.Must(t, f.g.Confirm(f.ctx, f.hosp, confirmed.BookingID), "confirm")
	// Once other's deadline has passed, confirmed's (earlier) has too.
	for _, h := range f.waitExpired(other.BookingID) {
		if h.BookingID == confirmed.BookingID {
			t.Errorf("Expired lists the confirmed hold %+v", h)
		}
	}
	// Confirming keeps the hold itself.
	if hs := f.holds(s); !slices.Contains(hs, f.holdOf(confirmed, slot)) {
		t.Errorf("holds = %+v, want it to contain the confirmed hold", hs)
	}
}

// TestConfirmSeveral: one Confirm takes a batch's holds off the pending
// list together, and leaves the others pending.
func TestConfirmSeveral(t *testing.T) {
	f := newFixture(t)
	s := f.session(day(1), booking.NewID(), online(4, past))
	var rs []booking.Reservation
	for range 3 {
		r := f.reservation(s, newIdentityKey())
		r.HoldFor = time.Millisecond
		f.mustReserve(r)
		rs = append(rs, r)
	}
	testenv.Must(t, f.g.Confirm(f.ctx, f.hosp, rs[0].BookingID, rs[2].BookingID), "confirm two")
	testenv.Must(t, f.g.Confirm(f.ctx, f.hosp), "confirm none")
	for _, h := range f.waitExpired(rs[1].BookingID) {
		if h.BookingID == rs[0].BookingID || h.BookingID == rs[2].BookingID {
			t.Errorf("Expired lists the confirmed hold %+v", h)
		}
	}
}

// TestPendMakesAConfirmedHoldPendingAgain: a cancellation marks its hold
// pending before SQL cancels (booking.Service.cancel), so the sweeper
// settles it if the process dies in between. Pend keeps a later deadline,
// leaves a booking without a record alone, and a reconciliation's Load of
// the booking (still active in SQL) keeps a deadline not passed.
func TestPendMakesAConfirmedHoldPendingAgain(t *testing.T) {
	f := newFixture(t)
	s := f.session(day(1), booking.NewID(), online(3, past))
	r := f.reservation(s, newIdentityKey())
	slot := f.mustReserve(r)
	testenv.Must(t, f.g.Confirm(f.ctx, f.hosp, r.BookingID), "confirm")
	pendingUntil := func() time.Time {
		t.Helper()
		hs, err := f.g.Holds(f.ctx, f.hosp, []string{s.ID})
		testenv.Must(t, err, "holds")
		for _, h := range hs {
			if h.BookingID == r.BookingID {
				return h.PendingUntil
			}
		}
		t.Fatalf("no hold of %s", r.BookingID)
		return time.Time{}
	}
	if d := pendingUntil(); !d.IsZero() {
		t.Fatalf("a confirmed hold is pending until %v", d)
	}

	testenv.Must(t, f.g.Pend(f.ctx, f.hosp, r.BookingID, time.Hour), "pend for an hour")
	long := pendingUntil()
	if time.Until(long) < 59*time.Minute {
		t.Fatalf("pending until %v after Pend for an hour", long)
	}
	testenv.Must(t, f.g.Pend(f.ctx, f.hosp, r.BookingID, time.Millisecond), "pend for a millisecond")
	if d := pendingUntil(); !d.Equal(long) {
		t.Errorf("a shorter Pend moved the deadline from %v to %v, want it kept", long, d)
	}

	// A reconciliation meanwhile, SQL still having the booking active:
	// the deadline stays, the hold with it.
	active := []booking.Booking{{ID: r.BookingID, SessionID: s.ID, HospitalID: f.hosp, SlotNo: slot,
		Channel: booking.ChannelOnline, IdentityKey: r.IdentityKey}}
	testenv.Must(t, f.g.Load(f.ctx, s, active, nil), "load")
	if d := pendingUntil(); !d.Equal(long) {
		t.Errorf("Load of the active booking changed its pending deadline %v to %v, want it kept", long, d)
	}

	// A booking admission has no record of is left alone.
	ghost := booking.NewID()
	before := f.snapshot()
	testenv.Must(t, f.g.Pend(f.ctx, f.hosp, ghost, time.Millisecond), "pend an unknown booking")
	if d := diffSnapshots(before, f.snapshot()); d != "" {
		t.Errorf("Pend of a booking without a record changed Redis:%s", d)
	}

	// Once its deadline passes the sweeper sees it (Expired).
	short := f.reservation(s, newIdentityKey())
	f.mustReserve(short)
	testenv.Must(t, f.g.Confirm(f.ctx, f.hosp, short.BookingID), "confirm")
	testenv.Must(t, f.g.Pend(f.ctx, f.hosp, short.BookingID, time.Millisecond), "pend")
	f.waitExpired(short.BookingID)

	// SQL has it cancelled now: a reconciliation releases it though its
	// deadline has not passed (a stale hold merely pending is kept:
	// TestLoadStaleHolds).
	testenv.Must(t, f.g.Load(f.ctx, s, nil, []booking.StaleHold{{Hold: f.holdOf(r, slot), Cancelled: true}}), "load the cancelled")
	for _, h := range f.holds(s) {
		if h.BookingID == r.BookingID {
			t.Errorf("the hold of a booking SQL cancelled is kept while pending: %+v", h)
		}
	}
	if err := f.rdb.ZScore(f.ctx, f.g.keys(f.hosp).pending(), r.BookingID).Err(); !errors.Is(err, redis.Nil) {
		t.Errorf("pending entry of the released hold: %v, want none", err)
	}
}

func TestLoadFromEmptyRedis(t *testing.T) {
	f := newFixture(t)
	dept := booking.NewID()
	s := f.newSession(day(1), dept, online(5, past), phone(2, future))
	x, y := newIdentityKey(), newIdentityKey()
	active := []booking.Booking{
		{ID: booking.NewID(), SessionID: s.ID, HospitalID: f.hosp, SlotNo: 2, Channel: booking.ChannelOnline, IdentityKey: x},
		{ID: booking.NewID(), SessionID: s.ID, HospitalID: f.hosp, SlotNo: 6, Channel: booking.ChannelPhone, IdentityKey: y},
	}
	testenv.Must(t, f.g.Load(f.ctx, s, active, nil), "load")

	want := []booking.Hold{booking.HoldOf(active[0]), booking.HoldOf(active[1])}
	if hs := f.holds(s); !slices.Equal(hs, want) {
		t.Errorf("holds = %+v, want %+v", hs, want)
	}
	rem, err := f.g.Remaining(f.ctx, []*booking.Session{s})
	testenv.Must(t, err, "remaining")
	if want := map[booking.Channel]int{booking.ChannelOnline: 4, booking.ChannelPhone: 1}; !maps.Equal(rem[0], want) {
		t.Errorf("remaining = %v, want %v", rem[0], want)
	}
	if free, want := f.free(s, booking.ChannelOnline), []string{"1", "3", "4", "5"}; !slices.Equal(free, want) {
		t.Errorf("online free pool = %v, want %v", free, want)
	}
	if free, want := f.free(s, booking.ChannelPhone), []string{"7"}; !slices.Equal(free, want) {
		t.Errorf("phone free pool = %v, want %v", free, want)
	}

	// Meta: release times per channel.
	rp := f.reservation(s, newIdentityKey())
	rp.Channel = booking.ChannelPhone
	if _, _, err := f.g.Reserve(f.ctx, rp); !errors.Is(err, booking.ErrNotReleased) {
		t.Errorf("phone Reserve = %v, want %v", err, booking.ErrNotReleased)
	}
	// The active bookings' records answer a replay of their booking id.
	replayed := f.reservation(s, x)
	replayed.BookingID = active[0].ID
	if slot, replay, err := f.g.Reserve(f.ctx, replayed); err != nil || !replay || slot != 2 {
		t.Errorf("Reserve of an active booking id = %d, replay %v, %v; want 2, replay true", slot, replay, err)
	}
	// Their identity entries count for quotas.
	if _, _, err := f.g.Reserve(f.ctx, f.reservation(s, x)); !errors.Is(err, booking.ErrAlreadyBooked) {
		t.Errorf("same identity same session = %v, want %v", err, booking.ErrAlreadyBooked)
	}
	other := f.session(day(1), dept, online(2, past))
	if _, _, err := f.g.Reserve(f.ctx, f.reservation(other, x)); !errors.Is(err, booking.ErrQuotaDayDept) {
		t.Errorf("same identity other session = %v, want %v", err, booking.ErrQuotaDayDept)
	}
	// New reservations skip the held slot.
	for _, want := range []int{1, 3} {
		if got := f.mustReserve(f.reservation(s, newIdentityKey())); got != want {
			t.Errorf("slot = %d, want %d", got, want)
		}
	}
}

func TestLoadStaleHolds(t *testing.T) {
	f := newFixture(t)
	s := f.session(day(1), booking.NewID(), online(4, past))

	abandoned := f.reservation(s, newIdentityKey())
	abandoned.HoldFor = time.Millisecond
	abandonedSlot := f.mustReserve(abandoned)
	inFlight := f.reservation(s, newIdentityKey())
	inFlight.HoldFor = time.Hour
	inFlightSlot := f.mustReserve(inFlight)
	forgotten := f.reservation(s, newIdentityKey())
	forgotten.HoldFor = time.Millisecond
	forgottenSlot := f.mustReserve(forgotten)
	f.waitExpired(abandoned.BookingID, forgotten.BookingID)

	stale := []booking.StaleHold{
		{Hold: f.holdOf(abandoned, abandonedSlot)},
		{Hold: f.holdOf(inFlight, inFlightSlot)},
		{Hold: f.holdOf(forgotten, forgottenSlot), Forget: true},
	}
	testenv.Must(t, f.g.Load(f.ctx, s, nil, stale), "load")
	first := f.snapshot()

	t.Run("expired stale holds are released", func(t *testing.T) {
		if hs, want := f.holds(s), []booking.Hold{f.holdOf(inFlight, inFlightSlot)}; !slices.Equal(hs, want) {
			t.Errorf("holds = %+v, want %+v", hs, want)
		}
		want := []string{strconv.Itoa(abandonedSlot), strconv.Itoa(forgottenSlot), "4"}
		if free := f.free(s, booking.ChannelOnline); !slices.Equal(free, want) {
			t.Errorf("free pool = %v, want %v", free, want)
		}
		for _, r := range []booking.Reservation{abandoned, forgotten} {
			if f.exists(f.g.keys(f.hosp).identity(r.IdentityKey)) {
				t.Errorf("identity entry of released %s still exists", r.BookingID)
			}
		}
	})
	t.Run("a stale hold still pending is kept", func(t *testing.T) {
		n, err := f.rdb.HLen(f.ctx, f.g.keys(f.hosp).identity(inFlight.IdentityKey)).Result()
		testenv.Must(t, err, "identity entry")
		if n != 1 {
			t.Errorf("identity entries of the pending hold = %d, want 1", n)
		}
		if _, err := f.rdb.ZScore(f.ctx, f.g.keys(f.hosp).pending(), inFlight.BookingID).Result(); err != nil {
			t.Errorf("pending entry of the kept hold: %v", err)
		}
	})
	t.Run("Forget drops the booking record", func(t *testing.T) {
		if !f.exists(f.g.keys(f.hosp).record(abandoned.BookingID)) {
			t.Errorf("record of %s (Forget=false) is gone", abandoned.BookingID)
		}
		if f.exists(f.g.keys(f.hosp).record(forgotten.BookingID)) {
			t.Errorf("record of %s (Forget=true) still exists", forgotten.BookingID)
		}
	})
	t.Run("Load twice gives the same state", func(t *testing.T) {
		testenv.Must(t, f.g.Load(f.ctx, s, nil, stale), "second load")
		if d := diffSnapshots(first, f.snapshot()); d != "" {
			t.Errorf("a second Load changed Redis:%s", d)
		}
	})
}

func TestLoadIsIdempotentWithActiveBookings(t *testing.T) {
	f := newFixture(t)
	s := f.newSession(day(1), booking.NewID(), online(4, past))
	active := []booking.Booking{
		{ID: booking.NewID(), SessionID: s.ID, HospitalID: f.hosp, SlotNo: 3, Channel: booking.ChannelOnline, IdentityKey: newIdentityKey()},
	}
	testenv.Must(t, f.g.Load(f.ctx, s, active, nil), "first load")
	first := f.snapshot()
	testenv.Must(t, f.g.Load(f.ctx, s, active, nil), "second load")
	if d := diffSnapshots(first, f.snapshot()); d != "" {
		t.Errorf("a second Load changed Redis:%s", d)
	}
}

type result struct {
	r    booking.Reservation
	slot int
	err  error
}

func count(rs []result, target error) int {
	n := 0
	for _, r := range rs {
		if errors.Is(r.err, target) {
			n++
		}
	}
	return n
}

func TestReserveHammer(t *testing.T) {
	const (
		slots      = 50
		identities = 400
		reusers    = 100
	)
	f := newFixture(t)
	s := f.session(day(1), booking.NewID(), online(slots, past))
	iks := make([]string, identities)
	for i := range iks {
		iks[i] = newIdentityKey()
	}
	results := make([]result, identities+reusers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range results {
		// The first 2*reusers goroutines come in pairs sharing an identity,
		// launched next to each other so that they tend to meet.
		ik := iks[max(i-reusers, i/2)]
		r := f.reservation(s, ik)
		wg.Go(func() {
			<-start
			slot, replay, err := f.g.Reserve(f.ctx, r)
			if err == nil && replay {
				err = errors.New("unexpected replay")
			}
			results[i] = result{r, slot, err}
		})
	}
	close(start)
	wg.Wait()

	okSlots := map[int]string{} // slot → booking id
	okByIdentity := map[string]int{}
	for _, res := range results {
		switch {
		case res.err == nil:
			if prev, dup := okSlots[res.slot]; dup {
				t.Errorf("slot %d handed to %s and %s", res.slot, prev, res.r.BookingID)
			}
			okSlots[res.slot] = res.r.BookingID
			okByIdentity[res.r.IdentityKey]++
		case errors.Is(res.err, booking.ErrSoldOut), errors.Is(res.err, booking.ErrAlreadyBooked):
		default:
			t.Errorf("Reserve(%s) = %v, want ok, sold_out or already_booked", res.r.BookingID, res.err)
		}
	}
	t.Logf("ok %d, already_booked %d, sold_out %d", len(okSlots), count(results, booking.ErrAlreadyBooked), count(results, booking.ErrSoldOut))
	if len(okSlots) != slots {
		t.Errorf("successful reservations = %d, want %d", len(okSlots), slots)
	}
	for ik, n := range okByIdentity {
		if n > 1 {
			t.Errorf("identity %s got %d slots, want at most 1", ik, n)
		}
	}
	// Quotas are checked before the pool: every winner asking again is
	// already booked, not sold out, and nothing is written.
	before := f.snapshot()
	for ik := range okByIdentity {
		if _, _, err := f.g.Reserve(f.ctx, f.reservation(s, ik)); !errors.Is(err, booking.ErrAlreadyBooked) {
			t.Errorf("winner %s again: Reserve = %v, want %v", ik, err, booking.ErrAlreadyBooked)
		}
	}
	if d := diffSnapshots(before, f.snapshot()); d != "" {
		t.Errorf("rejected Reserves wrote to Redis:%s", d)
	}
	if free := f.free(s, booking.ChannelOnline); len(free) != 0 {
		t.Errorf("free pool = %v, want empty", free)
	}

	k := f.g.keys(f.hosp)
	held, err := f.rdb.HGetAll(f.ctx, k.held(s.ID)).Result()
	testenv.Must(t, err, "held")
	if len(held) != slots {
		t.Errorf("held entries = %d, want %d", len(held), slots)
	}
	for slotStr, bid := range held {
		slot, _ := strconv.Atoi(slotStr)
		if okSlots[slot] != bid {
			t.Errorf("held[%d] = %s, want %s", slot, bid, okSlots[slot])
		}
		rec, err := f.rdb.Get(f.ctx, k.record(bid)).Result()
		testenv.Must(t, err, "record of %s", bid)
		h, ok := parseRecord(f.hosp, bid, rec)
		if !ok || h.SlotNo != slot || h.SessionID != s.ID {
			t.Errorf("record of %s = %q, want session %s slot %d", bid, rec, s.ID, slot)
			continue
		}
		entry, err := f.rdb.HGet(f.ctx, k.identity(h.IdentityKey), bid).Result()
		if err != nil {
			t.Errorf("identity entry of %s: %v", bid, err)
			continue
		}
		if want := "|" + s.ID + "|" + slotStr; !strings.HasSuffix(entry, want) {
			t.Errorf("identity entry of %s = %q, want suffix %q", bid, entry, want)
		}
	}
}

// TestKeysShareHospitalHashTag checks that every key the scripts write has
// the hospital id as its Redis Cluster hash tag, so each script touches one
// cluster slot.
func TestKeysShareHospitalHashTag(t *testing.T) {
	f := newFixture(t)
	dept := booking.NewID()
	s := f.session(day(1), dept, online(3, past), phone(2, past))
	r := f.reservation(s, newIdentityKey())
	slot := f.mustReserve(r)
	f.bar(newIdentityKey(), time.Now().Add(time.Hour))
	r2 := f.reservation(s, newIdentityKey())
	r2.Channel = booking.ChannelPhone
	slot2 := f.mustReserve(r2)
	testenv.Must(t, f.g.Release(f.ctx, f.holdOf(r2, slot2), booking.Release{ReturnSlot: true}), "release")
	active := []booking.Booking{{ID: booking.NewID(), SessionID: s.ID, HospitalID: f.hosp, SlotNo: 3,
		Channel: booking.ChannelOnline, IdentityKey: newIdentityKey()}}
	stale := []booking.StaleHold{{Hold: f.holdOf(r, slot)}}
	testenv.Must(t, f.g.Load(f.ctx, s, active, stale), "load")

	snap := f.snapshot()
	if len(snap) < 6 {
		t.Fatalf("only %d keys under the prefix: %v", len(snap), slices.Sorted(maps.Keys(snap)))
	}
	for key := range snap {
		if tag := hashTag(key); tag != f.hosp {
			t.Errorf("key %s: hash tag = %q, want %q", key, tag, f.hosp)
		}
	}
}

// hashTag is Redis Cluster's rule: the part between the first "{" and the
// next "}", if not empty.
func hashTag(key string) string {
	_, rest, ok := strings.Cut(key, "{")
	if !ok {
		return ""
	}
	tag, _, ok := strings.Cut(rest, "}")
	if !ok {
		return ""
	}
	return tag
}

// TestReserveRefusesPastKeepUntil guards "check everything first, write
// last": Redis refuses SET ... PXAT with a negative time, so a zero
// KeepUntil used to make reserve.lua fail after it had already popped and
// held the slot, leaking it for good.
func TestReserveRefusesPastKeepUntil(t *testing.T) {
	tests := []struct {
		name string
		keep time.Time
	}{
		{"zero", time.Time{}},
		{"in the past", time.Now().Add(-time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			s := f.session(day(1), booking.NewID(), online(2, past))
			r := f.reservation(s, newIdentityKey())
			r.KeepUntil = tt.keep
			before := f.snapshot()
			if slot, _, err := f.g.Reserve(f.ctx, r); err == nil {
				t.Errorf("Reserve with KeepUntil %v = slot %d, want an error", tt.keep, slot)
			}
			if d := diffSnapshots(before, f.snapshot()); d != "" {
				t.Errorf("a refused Reserve wrote to Redis:%s", d)
			}
		})
	}
}

// TestLoadEmptiesPoolsTheSessionLost: a load makes every channel's pool
// match the session, those it no longer has too. Two administrators who
// changed one session's layout at once each closed it as it was before, so
// the first change's pool (online) stayed free beside the second's (phone):
// reconcile --check found unknown_slot and free_twice (review9).
func TestLoadEmptiesPoolsTheSessionLost(t *testing.T) {
	f := newFixture(t)
	s := f.session(day(1), booking.NewID(), online(6, past))
	if got := f.free(s, booking.ChannelOnline); len(got) != 6 {
		t.Fatalf("online pool after the first load = %v; want 6 slots", got)
	}
	changed := f.newSession(day(1), s.DepartmentID, phone(4, past))
	changed.ID = s.ID
	testenv.Must(t, f.g.Load(f.ctx, changed, nil, nil), "load the changed layout")
	if got := f.free(s, booking.ChannelOnline); len(got) != 0 {
		t.Errorf("online pool after a load without it = %v; want none", got)
	}
	if got := f.free(s, booking.ChannelPhone); len(got) != 4 {
		t.Errorf("phone pool = %v; want 4 slots", got)
	}
	if got := f.remaining(changed, booking.ChannelPhone); got != 4 {
		t.Errorf("remaining phone = %d; want 4", got)
	}
}
