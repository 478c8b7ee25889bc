package admission

import (
	"errors"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestSoldOut: soldout.lua says a pool is sold out exactly when reserve.lua
// would refuse sold_out to an attempt that passes the person's checks: the
// pool empty, its channel released (a lottery drawn), the hospital's state
// whole; a slot given back, a pool not released, a lottery not drawn, a
// missing mark or an unknown session is not sold out (the fast reject path
// then lets the attempt through to admission).
func TestSoldOut(t *testing.T) {
	f := newFixture(t)
	soldOut := func(s *booking.Session, ch booking.Channel) bool {
		t.Helper()
		ok, err := f.g.SoldOut(f.ctx, s, ch)
		testenv.Must(t, err, "sold out")
		return ok
	}
	s := f.session(day(1), booking.NewID(), online(1, past), phone(1, future))
	if soldOut(s, booking.ChannelOnline) {
		t.Error("a pool with a free slot: sold out")
	}
	r := f.reservation(s, newIdentityKey())
	slot := f.mustReserve(r)
	if !soldOut(s, booking.ChannelOnline) {
		t.Error("the emptied pool: not sold out")
	}
	if _, _, err := f.g.Reserve(f.ctx, f.reservation(s, newIdentityKey())); !errors.Is(err, booking.ErrSoldOut) {
		t.Fatalf("reserve on the pool soldout.lua calls sold out: %v, want sold_out", err)
	}
	before := f.snapshot()
	soldOut(s, booking.ChannelOnline)
	if d := diffSnapshots(before, f.snapshot()); d != "" {
		t.Errorf("soldout.lua wrote: %s", d)
	}

	testenv.Must(t, f.g.Release(f.ctx, f.holdOf(r, slot), booking.Release{ReturnSlot: true, Forget: true}), "release")
	if soldOut(s, booking.ChannelOnline) {
		t.Error("a slot given back: still sold out")
	}
	f.mustReserve(f.reservation(s, newIdentityKey()))

	// Pools emptied in Redis by hand: not released yet (reserve.lua answers
	// not_released there), a lottery not drawn (not_released), one drawn.
	emptied := func(s *booking.Session, ch booking.Channel) *booking.Session {
		t.Helper()
		testenv.Must(t, f.rdb.Del(f.ctx, f.g.keys(f.hosp).free(s.ID, ch)).Err(), "empty the pool")
		return s
	}
	if soldOut(emptied(s, booking.ChannelPhone), booking.ChannelPhone) {
		t.Error("an empty pool not released yet: sold out")
	}
	pending := f.session(day(2), booking.NewID(), lottery(1, past, future, true, false))
	if soldOut(emptied(pending, booking.ChannelOnline), booking.ChannelOnline) {
		t.Error("an empty lottery pool not drawn: sold out")
	}
	drawn := f.session(day(2), booking.NewID(), lottery(1, past.Add(-time.Hour), past, true, true))
	if !soldOut(emptied(drawn, booking.ChannelOnline), booking.ChannelOnline) {
		t.Error("a drawn lottery pool left empty: not sold out")
	}
	unknown := f.newSession(day(3), booking.NewID(), online(1, past))
	if soldOut(unknown, booking.ChannelOnline) {
		t.Error("a session Redis does not know: sold out")
	}

	testenv.Must(t, f.rdb.Del(f.ctx, f.g.keys(f.hosp).loaded()).Err(), "drop the mark")
	if soldOut(s, booking.ChannelOnline) {
		t.Error("the hospital's state not whole (no mark): sold out")
	}
}

// TestSoldOutSaysWhetherHoldsArePending (review18a M2): reserve.lua's
// sold_out says whether holds of the hospital are pending (admitted, their
// commit not confirmed): while SQL refuses writes the service answers such
// a sold_out 503, as the slots may come back. Once every hold is confirmed
// it is the plain sold_out, the very sentinel.
func TestSoldOutSaysWhetherHoldsArePending(t *testing.T) {
	f := newFixture(t)
	s := f.session(day(1), booking.NewID(), online(1, past))
	r := f.reservation(s, newIdentityKey())
	f.mustReserve(r)
	_, _, err := f.g.Reserve(f.ctx, f.reservation(s, newIdentityKey()))
	if !errors.Is(err, booking.ErrSoldOut) || !errors.Is(err, booking.ErrCommitsPending) {
		t.Errorf("reserve on a pool emptied by a pending hold = %v, want sold_out with holds pending", err)
	}
	if e, ok := booking.AsError(err); !ok || e != booking.ErrSoldOut {
		t.Errorf("the client's answer of %v = %v, want the sold_out sentinel", err, e)
	}
	testenv.Must(t, f.g.Confirm(f.ctx, f.hosp, r.BookingID), "confirm")
	_, _, err = f.g.Reserve(f.ctx, f.reservation(s, newIdentityKey()))
	if err != booking.ErrSoldOut {
		t.Errorf("reserve on a pool of confirmed holds = %v, want sold_out, no holds pending", err)
	}
}
