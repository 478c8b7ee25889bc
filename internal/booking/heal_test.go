package booking_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"fairslot/internal/admission"
	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// healBound is how long a lost state may take to come back in these tests.
// A reload of a test hospital (a few sessions) takes milliseconds (the log
// says "took=2ms"); the bound leaves three orders of magnitude for a busy
// two-core machine running the race detector.
const healBound = 10 * time.Second

// TestRedisLossHealsByItself: after Redis loses a hospital's data, booking
// answers 503 (never 404, never a slot from an empty state) and /readyz
// says why, until the first attempt's reload puts the state back; then
// booking works and Redis agrees with SQL, with no one running reconcile.
func TestRedisLossHealsByItself(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	const quota = 5
	s := h.session(sessionOpts{online: quota})
	users := []user{h.user(1), h.user(1), h.user(1)}
	first := h.mustBook(users[0], 0, s, "first")
	h.checkClean()
	testenv.Must(t, h.svc.Ready(h.ctx), "ready before the loss")

	h.dropRedis()
	// Hold the reload back so the in-between can be seen: another instance
	// holds the claim.
	ok, err := h.gate.BeginReload(h.ctx, h.hosp.ID, "other instance", time.Minute)
	testenv.Must(t, err, "claim the reload")
	if !ok {
		t.Fatal("BeginReload on a free claim = false, want true")
	}
	for i := range 3 {
		_, err := h.book(users[1], 0, s, "")
		wantErr(t, fmt.Sprintf("attempt %d while the state is missing", i), err, booking.ErrUnavailable)
		if e, _ := booking.Public(err); e == nil || !strings.Contains(e.Message, "nothing was booked") {
			t.Errorf("attempt %d answered %v, want a 503 that says nothing was booked", i, e)
		}
	}
	if _, err := h.svc.Sessions(h.ctx, h.hosp.ID, "", ""); err == nil {
		t.Error("Sessions while the state is missing answered free counts from an empty Redis, want 503")
	}
	if err := h.svc.Ready(h.ctx); err == nil || !strings.Contains(err.Error(), "claim is held") {
		t.Errorf("Ready while another instance reloads = %v, want not ready, saying so", err)
	}
	if got := len(h.activeInSQL(s)); got != 1 {
		t.Fatalf("%d active bookings in SQL while the state was missing, want 1", got)
	}

	// The other instance dies without finishing: its claim runs out (here:
	// is removed), and the next check finds the state missing and reloads.
	reloads := h.svc.Reloads()
	testenv.Must(t, h.rdb.Del(h.ctx, h.prefix+":{"+h.hosp.ID+"}:reloading").Err(), "drop the claim")
	// (A reload this instance started meanwhile may hold the claim already,
	// or on a busy machine have finished: then it is counted.)
	switch err := h.svc.Ready(h.ctx); {
	case err == nil:
		eventually(t, healBound, "the reload that made it ready counted", func() bool { return h.svc.Reloads() > reloads })
	case !strings.Contains(err.Error(), "missing in Redis") && !strings.Contains(err.Error(), "claim is held"):
		t.Errorf("Ready once the claim is gone = %v, want not ready, saying why", err)
	}
	start := time.Now()
	eventually(t, healBound, "booking works again", func() bool {
		_, err := h.book(users[1], 0, s, "")
		return err == nil
	})
	t.Logf("booking worked again %s after the claim was gone", time.Since(start).Round(time.Millisecond))
	testenv.Must(t, h.svc.Ready(h.ctx), "ready after the reload")
	h.checkClean()
	h.wantOnline(s, quota-2)
	_, err = h.book(users[0], 0, s, "")
	wantErr(t, "the first patient again", err, booking.ErrAlreadyBooked)
	sameBooking(t, "the first booking's key after the reload", h.mustBook(users[0], 0, s, "first"), first)
	if h.svc.Reloads() == 0 {
		t.Error("Reloads = 0, want the reload counted")
	}
}

// TestHealJobReloadsWithoutTraffic: the heal job alone finds a lost state
// and a mark from an earlier Redis process, and reloads both.
func TestHealJobReloadsWithoutTraffic(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	s := h.session(sessionOpts{online: 3})
	h.mustBook(h.user(1), 0, s, "")
	mark := h.prefix + ":{" + h.hosp.ID + "}:loaded"

	tests := []struct {
		name  string
		lose  func()
		state booking.StateStatus
	}{
		{"restarted empty", func() { h.dropRedis() }, booking.StateMissing},
		{"restarted from its files", func() {
			// The mark names another Redis process: this one restarted from
			// its own files, and their last writes may be missing.
			testenv.Must(t, h.rdb.Set(h.ctx, mark, "0123456789abcdef|1", 0).Err(), "set an old mark")
		}, booking.StateStale},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.lose()
			st, err := h.gate.States(h.ctx, []string{h.hosp.ID})
			testenv.Must(t, err, "states")
			if st[0] != tt.state {
				t.Fatalf("state = %s, want %s", st[0], tt.state)
			}
			reloads := h.svc.Reloads()
			testenv.Must(t, h.svc.Heal(h.ctx), "heal")
			eventually(t, healBound, "the heal job's reload", func() bool { return h.svc.Reloads() > reloads })
			st, err = h.gate.States(h.ctx, []string{h.hosp.ID})
			testenv.Must(t, err, "states")
			if st[0] != booking.StateWhole {
				t.Errorf("state after the reload = %s, want whole", st[0])
			}
			h.checkClean()
			testenv.Must(t, h.svc.Ready(h.ctx), "ready")
		})
	}
}

// TestReloadClaimLost: a reload whose claim vanished (Redis lost its data
// again during the reload) does not write the mark.
func TestReloadClaimLost(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	h.session(sessionOpts{online: 2})
	ok, err := h.gate.BeginReload(h.ctx, h.hosp.ID, "mine", time.Minute)
	testenv.Must(t, err, "begin")
	if !ok {
		t.Fatal("BeginReload on a free claim = false, want true")
	}
	if ok, _ := h.gate.BeginReload(h.ctx, h.hosp.ID, "theirs", time.Minute); ok {
		t.Error("a second BeginReload got the claim, want it refused while the first holds it")
	}
	h.dropRedis() // Redis restarts empty during the reload
	ok, err = h.gate.EndReload(h.ctx, h.hosp.ID, "mine")
	testenv.Must(t, err, "end")
	if ok {
		t.Error("EndReload after the claim was lost = true, want false")
	}
	st, err := h.gate.States(h.ctx, []string{h.hosp.ID})
	testenv.Must(t, err, "states")
	if st[0] != booking.StateMissing {
		t.Errorf("state = %s, want missing", st[0])
	}
}

// TestCheckIsReadOnly: Check names each hand-made difference and changes
// nothing; Reconcile then repairs them.
func TestCheckIsReadOnly(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	s := h.session(sessionOpts{online: 4})
	b := h.mustBook(h.user(1), 0, s, "")
	h.checkClean()
	free := h.prefix + ":{" + h.hosp.ID + "}:s:" + s.ID + ":free:online"
	held := h.prefix + ":{" + h.hosp.ID + "}:s:" + s.ID + ":held"
	testenv.Must(t, h.rdb.ZRem(h.ctx, free, "4").Err(), "drop a free slot")
	testenv.Must(t, h.rdb.HDel(h.ctx, held, fmt.Sprint(b.SlotNo)).Err(), "drop a held slot")

	want := []string{
		fmt.Sprintf("session %s slot %d not_held: booking %s", s.ID, b.SlotNo, b.ID),
		fmt.Sprintf("session %s slot 4 lost_slot:", s.ID),
	}
	for range 2 { // the second run sees the same: the first changed nothing
		d := h.discrepancies()
		for _, w := range want {
			if !containsPrefix(d, w) {
				t.Errorf("Check = %q, want a line starting %q", d, w)
			}
		}
		if len(d) != len(want) {
			t.Errorf("Check found %d differences, want %d: %q", len(d), len(want), d)
		}
	}
	if n, _ := h.rdb.ZCard(h.ctx, free).Result(); n != 2 {
		t.Errorf("free pool has %d slots after Check, want the 2 left by hand", n)
	}
	testenv.Must(t, h.svc.Reconcile(h.ctx), "reconcile")
	h.checkClean()
}

func containsPrefix(lines []string, prefix string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

// TestLostSessionIsReconciled: a session Redis no longer knows, while the
// catalog has it, answers 503 (not 404) and is reconciled by itself.
func TestLostSessionIsReconciled(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	s := h.session(sessionOpts{online: 3})
	b := h.mustBook(h.user(1), 0, s, "")
	u := h.user(1)
	meta := h.prefix + ":{" + h.hosp.ID + "}:s:" + s.ID
	testenv.Must(t, h.rdb.Del(h.ctx, meta).Err(), "drop the session's meta")
	_, err := h.book(u, 0, s, "")
	wantErr(t, "booking the lost session", err, booking.ErrUnavailable)
	eventually(t, healBound, "the session is reconciled", func() bool {
		_, err := h.book(u, 0, s, "")
		return err == nil
	})
	if got := h.activeInSQL(s); len(got) != 2 || got[0].ID != b.ID && got[1].ID != b.ID {
		t.Errorf("active bookings %+v, want the first and the new one", got)
	}
	h.checkClean()
}

// flakyReturn is the real gate, except that giving a slot back fails while
// down is set, as when Redis is unreachable after SQL committed a
// cancellation.
type flakyReturn struct {
	*admission.Gate
	down atomic.Bool
}

func (f *flakyReturn) Return(ctx context.Context, h booking.Hold, r booking.Return) (booking.Placement, error) {
	if f.down.Load() {
		return booking.Placement{}, fmt.Errorf("return: %w: i/o timeout", booking.ErrUnavailable)
	}
	return f.Gate.Return(ctx, h, r)
}

// TestLostReturnIsRepairedOnceRedisIsBack: a cancellation committed in SQL
// whose slot Redis could not take back is repaired by the heal job as soon
// as Redis answers, not at the next full reconciliation.
func TestLostReturnIsRepairedOnceRedisIsBack(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	s := h.session(sessionOpts{online: 3})
	u := h.user(1)
	b := h.mustBook(u, 0, s, "")
	gate := &flakyReturn{Gate: h.gate}
	svc, err := booking.NewService(booking.Config{PasswordIterations: 1000, ReturnDelayMin: time.Nanosecond, ReturnDelayMax: time.Nanosecond, ReturnRound: -1},
		h.stack.Store, gate, h.stack.Keys, h.stack.Log)
	testenv.Must(t, err, "service over the flaky gate")
	t.Cleanup(svc.Close)
	_, err = svc.Refresh(h.ctx)
	testenv.Must(t, err, "refresh")

	gate.down.Store(true)
	_, err = svc.Cancel(h.ctx, u.actor, b.ID, booking.Origin{})
	testenv.Must(t, err, "cancel")
	// The failed return marks the session for reconciliation, which
	// rebuilds it from SQL (it needs no Return): the drift goes without a
	// full Reconcile; the heal job retries it until it succeeds.
	gate.down.Store(false)
	eventually(t, healBound, "the session is reconciled", func() bool {
		testenv.Must(t, svc.Heal(h.ctx), "heal")
		return len(h.discrepancies()) == 0
	})
	h.placeReturned()
	h.wantOnline(s, 3)
	h.checkClean()
}

// TestRetryOfABookingRedisLost: Redis lost an active booking (its record,
// its quota hold, its slot marked free again) and the client retries the
// request with its Idempotency-Key. The retry is admitted afresh, its row
// meets the booking's id in SQL (request_in_progress from the commit), and
// the answer is the first booking, replayed; the hold the retry took is
// given back and the booking's session rebuilt from SQL, so Redis no
// longer counts a slot free that SQL holds.
func TestRetryOfABookingRedisLost(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	s := h.session(sessionOpts{online: 2})
	u := h.user(1)
	b := h.mustBook(u, 0, s, "lost-key")
	h.checkClean()

	base := h.prefix + ":{" + h.hosp.ID + "}:"
	slot := fmt.Sprint(b.SlotNo)
	testenv.Must(t, h.rdb.Del(h.ctx, base+"b:"+b.ID).Err(), "drop the booking's record")
	testenv.Must(t, h.rdb.HDel(h.ctx, base+"i:"+u.patients[0].IdentityKey, b.ID).Err(), "drop its quota hold")
	testenv.Must(t, h.rdb.HDel(h.ctx, base+"s:"+s.ID+":held", slot).Err(), "drop its held slot")
	testenv.Must(t, h.rdb.ZAdd(h.ctx, base+"s:"+s.ID+":free:online", redis.Z{Score: float64(b.SlotNo), Member: slot}).Err(), "mark its slot free")
	if len(h.discrepancies()) == 0 {
		t.Fatal("Check found nothing after the booking was dropped from Redis")
	}

	again, err := h.book(u, 0, s, "lost-key")
	testenv.Must(t, err, "retry")
	if again.ID != b.ID || !again.Replayed || again.SlotNo != b.SlotNo {
		t.Errorf("retry = booking %s slot %d replayed %v, want %s slot %d replayed", again.ID, again.SlotNo, again.Replayed, b.ID, b.SlotNo)
	}
	// The session is rebuilt in the background: wait for it, boundedly.
	var d []string
	for range 100 {
		if d = h.discrepancies(); len(d) == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(d) > 0 {
		t.Errorf("Redis and SQL after the retry:\n%s", strings.Join(d, "\n"))
	}
	// The other slot is still free, and only that one.
	other := h.mustBook(h.user(1), 0, s, "")
	if other.SlotNo == b.SlotNo {
		t.Errorf("another patient was given slot %d, which %s holds", other.SlotNo, b.ID)
	}
	if _, err := h.book(h.user(1), 0, s, ""); !errors.Is(err, booking.ErrSoldOut) {
		t.Errorf("a third booking of two slots: %v, want sold_out", err)
	}
}
