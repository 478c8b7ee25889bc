package booking_test

import (
	"context"
	"sync/atomic"
	"testing"

	"fairslot/internal/booking"
	"fairslot/internal/cockroach"
	"fairslot/internal/testenv"
)

// review20 L1 and L2: a drawn lottery session's extra slots (加号) go to
// its waitlist first, the losers in drawn order, as a reissued slot does,
// not to whoever the desk or the phone serves first; and a loser's own
// entry tells where its place went once promoted (a returned winner's slot
// too), with the booking.
func TestLotteryExtraSlotsServeTheWaitlist(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	admin := h.staff(booking.RoleAdmin)
	s := h.lotterySession(lotteryOpts{online: 1})
	users := h.users(4, 1)
	ids := make([]string, len(users))
	for i, u := range users {
		r, err := h.svc.Attempt(h.ctx, u.actor, booking.BookRequest{SessionID: s.ID, PatientID: u.patients[0].ID,
			Channel: booking.ChannelOnline, Waitlist: true, Origin: booking.Origin{IP: "203.0.113.9"}})
		testenv.Must(t, err, "enter %d", i)
		ids[i] = r.Entry.ID
	}
	if n := h.drawAll(h.svc, s); n != 1 {
		t.Fatalf("drew %d pools, want 1", n)
	}
	byRank := map[int]int{} // rank → user
	for i, u := range users {
		e, err := h.svc.Entry(h.ctx, u.actor, ids[i])
		testenv.Must(t, err, "entry %d", i)
		byRank[e.Rank] = i
	}
	entry := func(rank int) booking.Entry {
		t.Helper()
		i := byRank[rank]
		e, err := h.svc.Entry(h.ctx, users[i].actor, ids[i])
		testenv.Must(t, err, "entry of rank %d", rank)
		return e
	}

	added, err := h.svc.AddExtraSlots(h.ctx, admin, booking.ExtraSlotsRequest{SessionID: s.ID, Count: 1,
		Reason: "the doctor stays on", AuthorisedBy: "Dr Yang"})
	if err != nil || len(added) != 1 {
		t.Fatalf("AddExtraSlots = %v, %v; want one slot", added, err)
	}
	// The head of the line (rank 2) holds the extra slot.
	if e := entry(2); e.WaitlistStatus != booking.WaitlistServed {
		t.Errorf("rank 2 after an extra slot: waitlist %q at %d; want served", e.WaitlistStatus, e.WaitlistPosition)
	} else if b, err := h.svc.Booking(h.ctx, users[byRank[2]].actor, e.WaitlistID()); err != nil || b.SlotNo != added[0].No {
		t.Errorf("rank 2's booking = %+v, %v; want the extra slot %d", b, err, added[0].No)
	}
	if e := entry(3); e.WaitlistStatus != booking.WaitlistWaiting || e.WaitlistPosition != 1 {
		t.Errorf("rank 3 after an extra slot: waitlist %q at %d; want waiting first in line", e.WaitlistStatus, e.WaitlistPosition)
	}

	// The winner gives the slot back: rank 3, first in line now, gets it,
	// and its entry says so (L2); rank 4 moves up.
	winner := byRank[1]
	if _, err := h.svc.Cancel(h.ctx, users[winner].actor, ids[winner], booking.Origin{}); err != nil {
		t.Fatalf("the winner cancels: %v", err)
	}
	if e := entry(3); e.WaitlistStatus != booking.WaitlistServed {
		t.Errorf("rank 3 after the winner's cancellation: waitlist %q at %d; want served", e.WaitlistStatus, e.WaitlistPosition)
	} else if _, err := h.svc.Booking(h.ctx, users[byRank[3]].actor, e.WaitlistID()); err != nil {
		t.Errorf("rank 3's booking %s: %v", e.WaitlistID(), err)
	}
	if e := entry(4); e.WaitlistStatus != booking.WaitlistWaiting || e.WaitlistPosition != 1 {
		t.Errorf("rank 4: waitlist %q at %d; want waiting first in line", e.WaitlistStatus, e.WaitlistPosition)
	}
}

// scheduleCounter counts the whole-schedule reads (LoadSchedule) of a
// store.
type scheduleCounter struct {
	*cockroach.Store
	loads atomic.Int32
}

func (c *scheduleCounter) LoadSchedule(ctx context.Context, from string) (booking.Schedule, error) {
	c.loads.Add(1)
	return c.Store.LoadSchedule(ctx, from)
}

// TestExtraSlotsOnALotteryReadOnlyItsPools (session 23): where extra slots
// go on a lottery clinic hangs on its draw, which another instance may
// have run (review22 M1), so AddExtraSlots reloaded the whole catalog
// first — every hospital's schedule, blocks and revocations — and then
// again after the slots committed. It now reads the session's pools' draw
// records alone; the one reload left is the one after the commit.
func TestExtraSlotsOnALotteryReadOnlyItsPools(t *testing.T) {
	sc := &scheduleCounter{}
	h := newHarness(t, harnessConfig{wrap: func(s *cockroach.Store) booking.Store { sc.Store = s; return sc }})
	admin := h.staff(booking.RoleAdmin)
	s := h.lotterySession(lotteryOpts{online: 2})
	before := sc.loads.Load()
	added, err := h.svc.AddExtraSlots(h.ctx, admin, booking.ExtraSlotsRequest{SessionID: s.ID, Count: 1,
		Reason: "the doctor stays on", AuthorisedBy: "Dr Yang"})
	if err != nil || len(added) != 1 {
		t.Fatalf("AddExtraSlots = %v, %v; want one slot", added, err)
	}
	if n := sc.loads.Load() - before; n != 1 {
		t.Errorf("AddExtraSlots on an undrawn lottery clinic read the whole schedule %d times; want 1 (the reload after the commit)", n)
	}
	// The slot joined the undrawn pool, to be drawn among its entrants.
	if n := h.count(`SELECT count(*) FROM slots WHERE session_id = $1 AND slot_no = $2 AND channel = 'online'`, s.ID, added[0].No); n != 1 {
		t.Errorf("the extra slot is in the online lottery pool: %d rows, want 1", n)
	}
}
