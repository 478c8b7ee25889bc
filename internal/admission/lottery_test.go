package admission

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/ulule/limiter/v3"
	limredis "github.com/ulule/limiter/v3/drivers/store/redis"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// lottery is an online lottery pool of n slots with its window; committed
// says whether its seed is (it takes entries only then), drawn whether its
// draw is done.
func lottery(n int, opens, draw time.Time, committed, drawn bool) booking.ChannelQuota {
	q := booking.ChannelQuota{Channel: booking.ChannelOnline, Quota: n, ReleaseAt: opens, Mode: booking.Lottery, OpensAt: opens, DrawAt: draw}
	if committed {
		q.Draw = &booking.DrawRecord{Commitment: make([]byte, 32), Status: booking.DrawOpen}
		if drawn {
			q.Draw.Status = booking.DrawDrawn
		}
	}
	return q
}

func (f *fixture) entryRef(r booking.Reservation) booking.EntryRef {
	return booking.EntryRef{HospitalID: r.HospitalID, SessionID: r.SessionID, EntryID: r.BookingID, Channel: r.Channel, IdentityKey: r.IdentityKey}
}

func (f *fixture) identityHold(ik, id string) string {
	f.t.Helper()
	v, _ := f.rdb.HGet(f.ctx, f.g.keys(f.hosp).identity(ik), id).Result()
	return v
}

func TestEnterRefusals(t *testing.T) {
	open, soon := time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	tests := []struct {
		name string
		pool booking.ChannelQuota
		want error
	}{
		{"window open", lottery(2, open, soon, true, false), nil},
		{"seed not committed yet", lottery(2, open, soon, false, false), booking.ErrNotReleased},
		{"window not open yet", lottery(2, soon, soon.Add(time.Hour), true, false), booking.ErrNotReleased},
		{"draw time passed", lottery(2, open.Add(-time.Hour), open, true, false), booking.ErrWindowClosed},
		{"drawn", lottery(2, open, soon, true, true), booking.ErrWindowClosed},
		{"a first-come pool", online(2, past), booking.ErrNotReleased},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			s := f.session(day(1), "d1", tt.pool)
			r := f.reservation(s, newIdentityKey())
			replay, err := f.g.Enter(f.ctx, r)
			if !errors.Is(err, tt.want) || replay {
				t.Fatalf("Enter = replay %v, %v; want %v", replay, err, tt.want)
			}
			hold := f.identityHold(r.IdentityKey, r.BookingID)
			if tt.want != nil && hold != "" {
				t.Errorf("a refused entry left the hold %q", hold)
			}
			if tt.want == nil && !strings.HasSuffix(hold, "|"+s.ID+"|E") {
				t.Errorf("an admitted entry's hold = %q, want the session's with slot E", hold)
			}
		})
	}
}

func TestEnterHoldsQuotaAndGatesFirstCome(t *testing.T) {
	f := newFixture(t)
	s := f.session(day(1), "d1", lottery(4, past, future, true, false), phone(2, past))
	sameDept := f.session(day(1), "d1", online(2, past))
	ik := newIdentityKey()
	r := f.reservation(s, ik)
	if replay, err := f.g.Enter(f.ctx, r); err != nil || replay {
		t.Fatalf("Enter = %v, %v", replay, err)
	}
	t.Run("replays", func(t *testing.T) {
		if replay, err := f.g.Enter(f.ctx, r); err != nil || replay {
			t.Errorf("the same call again = replay %v, %v; want ok (a client retry)", replay, err)
		}
		again := r
		again.Nonce = testenv.Token()
		if replay, err := f.g.Enter(f.ctx, again); err != nil || !replay {
			t.Errorf("the same id from another request = replay %v, %v; want a replay", replay, err)
		}
	})
	t.Run("one entry per person per session", func(t *testing.T) {
		second := f.reservation(s, ik)
		_, err := f.g.Enter(f.ctx, second)
		wantIs(t, "a second entry", err, booking.ErrAlreadyEntered)
		onPhone := f.reservation(s, ik)
		onPhone.Channel = booking.ChannelPhone
		_, _, err = f.g.Reserve(f.ctx, onPhone)
		wantIs(t, "a booking of another pool of the session", err, booking.ErrAlreadyEntered)
		_, _, err = f.g.Reserve(f.ctx, f.reservation(sameDept, ik))
		wantIs(t, "a booking in the same department that day", err, booking.ErrQuotaDayDept)
	})
	t.Run("the pool is closed to first-come until drawn", func(t *testing.T) {
		_, _, err := f.g.Reserve(f.ctx, f.reservation(s, newIdentityKey()))
		wantIs(t, "first-come before the draw", err, booking.ErrNotReleased)
	})
	t.Run("the draw books the entry under its id", func(t *testing.T) {
		win := r
		win.Nonce, win.Draw = "lottery-draw", true
		slot, replay, err := f.g.Reserve(f.ctx, win)
		if err != nil || replay {
			t.Fatalf("Reserve for the draw = %d, %v, %v", slot, replay, err)
		}
		if hold := f.identityHold(ik, r.BookingID); strings.HasSuffix(hold, "|E") || hold == "" {
			t.Errorf("the winner's hold = %q, want its booking's slot", hold)
		}
		again, _, err := f.g.Reserve(f.ctx, win)
		if err != nil || again != slot {
			t.Errorf("the draw's reserve again = %d, %v; want slot %d", again, err, slot)
		}
		_, err = f.g.ReleaseEntries(f.ctx, []booking.EntryRef{f.entryRef(r)}, true, false)
		testenv.Must(t, err, "release the won entry")
		if hold := f.identityHold(ik, r.BookingID); hold == "" {
			t.Error("releasing a won entry dropped its booking's hold")
		}
		if f.exists(f.g.keys(f.hosp).entry(r.BookingID)) {
			t.Error("the won entry's record is still there")
		}
	})
	t.Run("drawn: first-come", func(t *testing.T) {
		_, err := f.g.Drawn(f.ctx, s, booking.ChannelOnline, time.Now(), 0)
		testenv.Must(t, err, "drawn")
		f.mustReserve(f.reservation(s, newIdentityKey()))
		// A reload that read SQL before the draw finished keeps it drawn.
		testenv.Must(t, f.g.Load(f.ctx, s, nil, nil), "load")
		f.mustReserve(f.reservation(s, newIdentityKey()))
	})
}

func TestReleaseEntries(t *testing.T) {
	f := newFixture(t)
	s := f.session(day(1), "d1", lottery(3, past, future, true, false))
	rs := []booking.Reservation{f.reservation(s, newIdentityKey()), f.reservation(s, newIdentityKey())}
	for _, r := range rs {
		_, err := f.g.Enter(f.ctx, r)
		testenv.Must(t, err, "enter")
	}
	// Pending (not confirmed): with onlyIfExpired they stay.
	skipped, err := f.g.ReleaseEntries(f.ctx, []booking.EntryRef{f.entryRef(rs[0])}, false, true)
	if err != nil || len(skipped) != 1 || skipped[0] != rs[0].BookingID {
		t.Fatalf("release of a pending entry = skipped %v, %v; want it skipped", skipped, err)
	}
	testenv.Must(t, f.g.ConfirmEntries(f.ctx, f.hosp, []string{rs[0].BookingID, rs[1].BookingID}), "confirm")
	live, err := f.g.Entries(f.ctx, f.hosp, []string{s.ID})
	if err != nil || len(live) != 2 {
		t.Fatalf("Entries = %v, %v; want both", live, err)
	}
	skipped, err = f.g.ReleaseEntries(f.ctx, []booking.EntryRef{f.entryRef(rs[0])}, false, false)
	if err != nil || len(skipped) != 0 {
		t.Fatalf("release = skipped %v, %v", skipped, err)
	}
	if hold := f.identityHold(rs[0].IdentityKey, rs[0].BookingID); hold != "" {
		t.Errorf("a released entry's hold = %q, want none", hold)
	}
	// The quota came back: the person enters again.
	back := f.reservation(s, rs[0].IdentityKey)
	if _, err := f.g.Enter(f.ctx, back); err != nil {
		t.Errorf("entering again after the release: %v", err)
	}

	t.Run("reconciliation", func(t *testing.T) {
		// Redis lost the second entry; SQL has it, and not the third.
		testenv.Must(t, f.rdb.HDel(f.ctx, f.g.keys(f.hosp).identity(rs[1].IdentityKey), rs[1].BookingID).Err(), "hdel")
		testenv.Must(t, f.rdb.HDel(f.ctx, f.g.keys(f.hosp).entries(s.ID), rs[1].BookingID).Err(), "hdel")
		testenv.Must(t, f.g.ConfirmEntries(f.ctx, f.hosp, []string{back.BookingID}), "confirm")
		live := []booking.Entry{{ID: rs[1].BookingID, SessionID: s.ID, Channel: booking.ChannelOnline, IdentityKey: rs[1].IdentityKey}}
		stale := []booking.EntryRef{f.entryRef(back)}
		testenv.Must(t, f.g.LoadEntries(f.ctx, s, live, stale), "load entries")
		if hold := f.identityHold(rs[1].IdentityKey, rs[1].BookingID); !strings.HasSuffix(hold, "|E") {
			t.Errorf("the restored entry's hold = %q", hold)
		}
		if hold := f.identityHold(back.IdentityKey, back.BookingID); hold != "" {
			t.Errorf("the stale entry's hold = %q, want none", hold)
		}
		got, err := f.g.Entries(f.ctx, f.hosp, []string{s.ID})
		if err != nil || len(got) != 1 || got[0].EntryID != rs[1].BookingID {
			t.Errorf("Entries after reconciliation = %v, %v; want the restored one", got, err)
		}
	})
}

func wantIs(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: %v, want %v", what, err, want)
	}
}

// TestEnterCountsTheSharedLimits: an entry's shared rate limits, counted by
// enter.lua in the entry's round trip, are the API's limiter's own
// counters (ulule/limiter's Redis store, same keys): a booking attempt
// counted by the library and an entry counted by admission add up, and an
// entry over a limit is refused with nothing admitted.
func TestEnterCountsTheSharedLimits(t *testing.T) {
	f := newFixture(t)
	sharedLimitsScenario(t, f, f.rdb, entering)
}

// TestReserveCountsTheSharedLimits is TestEnterCountsTheSharedLimits for a
// booking attempt's reserve.lua: over a limit, no slot is taken.
func TestReserveCountsTheSharedLimits(t *testing.T) {
	f := newFixture(t)
	sharedLimitsScenario(t, f, f.rdb, reserving)
}

// limitedCall is an admission call that counts the shared limits: its
// session, the call, and the key of the record it writes.
type limitedCall struct {
	name    string
	session func(f *fixture) *booking.Session
	call    func(f *fixture, r booking.Reservation) error
	record  func(f *fixture, id string) string
}

var (
	entering = limitedCall{"Enter",
		func(f *fixture) *booking.Session {
			return f.session(day(1), booking.NewID(), lottery(4, past, future, true, false))
		},
		func(f *fixture, r booking.Reservation) error {
			replay, err := f.g.Enter(f.ctx, r)
			if err == nil && replay {
				err = errors.New("a replay")
			}
			return err
		},
		func(f *fixture, id string) string { return f.g.keys(f.hosp).entry(id) }}
	reserving = limitedCall{"Reserve",
		func(f *fixture) *booking.Session { return f.session(day(1), booking.NewID(), online(4, past)) },
		func(f *fixture, r booking.Reservation) error {
			_, replay, err := f.g.Reserve(f.ctx, r)
			if err == nil && replay {
				err = errors.New("a replay")
			}
			return err
		},
		func(f *fixture, id string) string { return f.g.keys(f.hosp).record(id) }}
)

// sharedLimitsScenario runs TestEnterCountsTheSharedLimits with the call
// c on f's hospital, with the library's store over rdb (a single Redis or a
// cluster).
func sharedLimitsScenario(t *testing.T, f *fixture, rdb limredis.Client, c limitedCall) {
	t.Helper()
	store, err := limredis.NewStoreWithOptions(rdb, limiter.StoreOptions{Prefix: f.prefix + ":rl"})
	testenv.Must(t, err, "the limiter's store")
	perIP := limiter.Rate{Limit: 2, Period: time.Minute}
	perAccount := limiter.Rate{Limit: 5, Period: 30 * time.Second}
	ip, acct := "ip:198.51.100.7", "acct:"+booking.NewID()
	limits := []booking.SharedLimit{
		{Key: f.prefix + ":rl:" + ip, Limit: perIP.Limit, Period: perIP.Period},
		{Key: f.prefix + ":rl:" + acct, Limit: perAccount.Limit, Period: perAccount.Period},
	}
	count := func(key string, _ limiter.Rate) int64 {
		t.Helper()
		n, err := rdb.(redis.Cmdable).Get(f.ctx, f.prefix+":rl:"+key).Int64()
		testenv.Must(t, err, "read the counter %s", key)
		return n
	}
	s := c.session(f)

	// A request of the same client, counted by the library.
	if c, err := store.Get(f.ctx, ip, perIP); err != nil || c.Reached {
		t.Fatalf("the library's count = %+v, %v", c, err)
	}
	r := f.reservation(s, newIdentityKey())
	r.Limits = limits
	if err := c.call(f, r); err != nil {
		t.Fatalf("%s within the limits = %v", c.name, err)
	}
	if ipN, acctN := count(ip, perIP), count(acct, perAccount); ipN != 2 || acctN != 1 {
		t.Errorf("after a request and a %s: per IP %d, per account %d; want 2 and 1 (one count each)", c.name, ipN, acctN)
	}
	free := f.remaining(s, booking.ChannelOnline)
	// The period is set on the first count, as the library sets it.
	ttl, err := rdb.(redis.Cmdable).PTTL(f.ctx, limits[1].Key).Result()
	testenv.Must(t, err, "pttl")
	if ttl <= 0 || ttl > perAccount.Period {
		t.Errorf("the account counter expires in %v, want within its period %v", ttl, perAccount.Period)
	}

	over := f.reservation(s, newIdentityKey())
	over.Limits = limits
	err = c.call(f, over)
	var le *booking.LimitError
	if !errors.As(err, &le) || !errors.Is(err, booking.ErrRateLimited) {
		t.Fatalf("%s over the per-IP limit = %v, want a LimitError (rate_limited)", c.name, err)
	}
	if le.Wait < time.Second || le.Wait > perIP.Period {
		t.Errorf("wait = %v, want 1 s to the IP counter's period", le.Wait)
	}
	if hold := f.identityHold(over.IdentityKey, over.BookingID); hold != "" {
		t.Errorf("a %s over the limit left the hold %q", c.name, hold)
	}
	if n, err := f.rdb.Exists(f.ctx, c.record(f, over.BookingID)).Result(); err != nil || n != 0 {
		t.Errorf("a %s over the limit left its record (%d, %v)", c.name, n, err)
	}
	if left := f.remaining(s, booking.ChannelOnline); left != free {
		t.Errorf("a %s over the limit: %d slots left, want %d (none taken)", c.name, left, free)
	}
	// Every limit is counted, as the store's calls count each.
	if ipN, acctN := count(ip, perIP), count(acct, perAccount); ipN != 3 || acctN != 2 {
		t.Errorf("after the refused entry: per IP %d, per account %d; want 3 and 2", ipN, acctN)
	}
	// A retry of the script of the first call (its nonce: go-redis runs it
	// again after a network error), over the limits now, is answered as the
	// call ran, and counted no more: refused, its slot would be left to
	// lapse. A cluster counts the limits before the script, once a call, so
	// only a single Redis's script meets this.
	if _, cluster := rdb.(*redis.ClusterClient); !cluster {
		if err := c.call(f, r); err != nil {
			t.Errorf("a retry of the %s that ran, over the limits = %v; want it answered as it ran", c.name, err)
		}
		if ipN, acctN := count(ip, perIP), count(acct, perAccount); ipN != 3 || acctN != 2 {
			t.Errorf("after the retry: per IP %d, per account %d; want 3 and 2 still", ipN, acctN)
		}
	}
	// And the library sees the entries' counts: the client is limited for
	// booking attempts too.
	if c, err := store.Get(f.ctx, ip, perIP); err != nil || !c.Reached {
		t.Errorf("the library's next count = %+v, %v; want reached", c, err)
	}
	// Without limits, the call admits as before.
	if err := c.call(f, f.reservation(s, newIdentityKey())); err != nil {
		t.Errorf("%s without limits = %v", c.name, err)
	}
}
