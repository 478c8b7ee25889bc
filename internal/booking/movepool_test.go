package booking_test

import (
	"context"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/cockroach"
	"fairslot/internal/testenv"
)

// Slots an administrator moves into a pool come to it as returned slots do
// (review17 M1; PRODUCT.md: a slot that comes back never reappears at a
// predictable moment): the waitlist first, else held for its round, else
// after a random delay. Over real Redis and PostgreSQL.

func (h *harness) movePool(admin booking.Actor, s *booking.Session, from, to booking.Channel, n int) ([]int, error) {
	return h.svc.MovePool(h.ctx, admin, booking.MovePoolRequest{SessionID: s.ID, From: from, To: to, Count: n, Reason: "more online"})
}

// The first of the waitlist gets a slot moved into the sold-out online
// pool at once; a bot polling the pool never sees it.
func TestMovedSlotGoesToTheWaitlist(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	admin := h.staff(booking.RoleAdmin)
	s := h.deskSession(deskOpts{online: 1, onsite: 3})
	h.mustBook(h.user(1), 0, s, "")
	first, second := h.join(h.user(1), s), h.join(h.user(1), s)
	bot := h.user(1)

	moved, err := h.movePool(admin, s, booking.ChannelOnsite, booking.ChannelOnline, 1)
	testenv.Must(t, err, "move a slot to the online pool")
	if got := h.bookedEntry([]booking.WaitlistEntry{first, second}); len(got) != 1 || got[0] != 0 {
		t.Fatalf("waitlist entries booked after the move: %v, want the first (0)", got)
	}
	if b := h.stored(first.ID); b.SlotNo != moved[0] || b.Channel != booking.ChannelOnline {
		t.Errorf("the first in line was booked on slot %d (%s), want the moved slot %d (online)", b.SlotNo, b.Channel, moved[0])
	}
	h.wantOnline(s, 0)
	h.placeReturned()
	wantErr(t, "a bot polling after the move", h.poll(bot, s), booking.ErrSoldOut)
	if got := h.entry(second.ID).Status; got != booking.WaitlistWaiting {
		t.Errorf("the second in line is %s after one slot moved, want waiting", got)
	}
	h.checkClean()
}

// With nobody waiting, a moved slot is held for a waitlist round, as a
// returned slot is: a bot polling through the round never gets it, the
// round's joiner does at its end; a move out of the pool meanwhile says the
// slot waits for the round.
func TestMovedSlotIsHeldForTheRound(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1, returnRound: testRound})
	admin := h.staff(booking.RoleAdmin)
	s := h.deskSession(deskOpts{online: 1, onsite: 3})
	h.mustBook(h.user(1), 0, s, "")
	bot := h.user(1)
	t0 := time.Now()
	defer h.clock.reset()
	h.clock.set(t0)

	moved, err := h.movePool(admin, s, booking.ChannelOnsite, booking.ChannelOnline, 1)
	testenv.Must(t, err, "move a slot to the online pool")
	h.placeReturned()
	wantErr(t, "a bot polling after the move", h.poll(bot, s), booking.ErrSoldOut)
	h.wantOnline(s, 0)
	if got := h.delayedOf(s); len(got) != 1 || got[0].SlotNo != moved[0] {
		t.Fatalf("slots held after the move = %+v, want the moved slot %d", got, moved[0])
	}
	joiner := h.join(h.user(1), s)
	_, err = h.movePool(admin, s, booking.ChannelOnline, booking.ChannelOnsite, 1)
	wantErr(t, "moving a slot held for the round", err, booking.ErrInvalidField)
	wantMessage(t, "moving a slot held for the round", err, "held for the waitlist's round")

	h.clock.set(t0.Add(testRound / 2))
	h.placeReturned()
	wantErr(t, "a bot polling in the round", h.poll(bot, s), booking.ErrSoldOut)
	h.clock.set(t0.Add(testRound + time.Second))
	h.placeReturned()
	if got := h.bookedEntry([]booking.WaitlistEntry{joiner}); len(got) != 1 {
		t.Errorf("the round's joiner was not booked at its end")
	}
	h.checkClean()
}

// refusingMoves is the real store whose MoveSlots refuses.
type refusingMoves struct{ *cockroach.Store }

func (refusingMoves) MoveSlots(context.Context, string, []int, booking.Channel, booking.Channel, time.Time, booking.AuditEntry) error {
	return booking.ErrUnavailable
}

// When SQL refuses the move, the slots go back from where the move parked
// them (the delayed set) to the pool they came from: Redis and SQL agree,
// and nobody was handed a slot SQL did not move.
func TestRefusedMoveGoesBack(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1, wrap: func(s *cockroach.Store) booking.Store { return refusingMoves{s} }})
	admin := h.staff(booking.RoleAdmin)
	s := h.deskSession(deskOpts{online: 1, onsite: 3})
	h.mustBook(h.user(1), 0, s, "")
	waiting := h.join(h.user(1), s)
	before := h.remaining(s)

	_, err := h.movePool(admin, s, booking.ChannelOnsite, booking.ChannelOnline, 2)
	wantErr(t, "a move SQL refuses", err, booking.ErrUnavailable)
	if got := h.remaining(s); got[booking.ChannelOnsite] != before[booking.ChannelOnsite] || got[booking.ChannelOnline] != 0 {
		t.Errorf("remaining after a refused move = %v, want %v", got, before)
	}
	if got := h.delayedOf(s); len(got) != 0 {
		t.Errorf("slots left parked after a refused move: %+v", got)
	}
	if got := h.entry(waiting.ID).Status; got != booking.WaitlistWaiting {
		t.Errorf("the waiting patient is %s after a refused move, want waiting", got)
	}
	h.checkClean()
}

// putBackFails is a store whose pool moves SQL refuses, and which, as it
// refuses, breaks the key the put-back writes in Redis (the hospital's
// delayed set holds a string): the put-back fails on a real Redis error.
type putBackFails struct {
	*cockroach.Store
	breakRedis func()
}

func (p *putBackFails) MoveSlots(context.Context, string, []int, booking.Channel, booking.Channel, time.Time, booking.AuditEntry) error {
	p.breakRedis()
	return booking.ErrUnavailable
}

// TestRefusedMoveWhosePutBackFailsIsRepaired: SQL refuses a pool move and
// putting the slots back in Redis fails too. The failure is counted
// (Stats().PutBacksFailed) and the session reconciled: once Redis answers
// again, reconciliation takes the moved slot out of the delayed set where
// it waited as the other pool's — it used to stay there, and came free in
// the online pool that SQL never gave it when its delay was over, beside
// its own on-site pool.
func TestRefusedMoveWhosePutBackFailsIsRepaired(t *testing.T) {
	p := &putBackFails{}
	h := newHarness(t, harnessConfig{soldOutFor: -1, wrap: func(s *cockroach.Store) booking.Store { p.Store = s; return p }})
	admin := h.staff(booking.RoleAdmin)
	s := h.deskSession(deskOpts{online: 1, onsite: 3})
	h.mustBook(h.user(1), 0, s, "")
	delayed := h.prefix + ":{" + s.HospitalID + "}:delayed"
	p.breakRedis = func() {
		testenv.Must(t, h.rdb.Rename(h.ctx, delayed, delayed+":kept").Err(), "keep the delayed set aside")
		testenv.Must(t, h.rdb.Set(h.ctx, delayed, "broken", 0).Err(), "break the delayed set")
	}
	_, err := h.movePool(admin, s, booking.ChannelOnsite, booking.ChannelOnline, 1)
	wantErr(t, "the move SQL refuses", err, booking.ErrUnavailable)
	if got := h.svc.Stats().PutBacksFailed; got != 1 {
		t.Errorf("put-backs failed = %d, want 1", got)
	}
	testenv.Must(t, h.rdb.Del(h.ctx, delayed).Err(), "mend the delayed set")
	testenv.Must(t, h.rdb.Rename(h.ctx, delayed+":kept", delayed).Err(), "mend the delayed set")
	testenv.Must(t, h.svc.Reconcile(h.ctx), "reconcile")
	if got := h.delayedOf(s); len(got) != 0 {
		t.Errorf("delayed slots of the session after reconciliation = %+v, want none", got)
	}
	h.placeReturned()
	h.wantOnline(s, 0)
	h.checkClean()
}
