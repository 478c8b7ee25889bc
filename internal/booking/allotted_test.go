package booking_test

import (
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/cockroach"
	"fairslot/internal/testenv"
)

// A booking the service made for the person after the hospital's
// cancellation deadline — a lottery win, a waitlist promotion — is free to
// cancel for booking.AllottedGrace after it was made (review of session 17:
// the seeded demo drew at 17:14, after the 15:00 deadline, and its winner's
// only cancellation was a late one). Near misses on both sides of the
// grace's end, over the real Redis and PostgreSQL; a booking the person
// chose after the deadline stays late at once.

// allottedDeadline puts the deadline at midnight of the day before the
// visit: every booking these tests make tomorrow's sessions is made after
// it, whatever the time of day the tests run.
const allottedDeadline = "00:00"

// cancelAt cancels booking id as actor with the clock frozen at at, and
// reports whether the cancellation was late.
func (h *harness) cancelAt(actor booking.Actor, id string, at time.Time) bool {
	h.t.Helper()
	h.clock.freeze(at)
	defer h.clock.frozen.Store(0)
	return h.mustCancel(actor, id).LateCancel
}

// storedAllotted reads booking id as a restarted service would: through a
// new Store over the same database, and from the bookings row's own
// allotted column (stored when the booking is made, not derived on read).
func (h *harness) storedAllotted(id string) (read, column bool) {
	h.t.Helper()
	got, err := cockroach.NewStore(h.stack.DB).Booking(h.ctx, id)
	testenv.Must(h.t, err, "read booking %s back through a new store", id)
	testenv.Must(h.t, h.stack.DB.Pool().QueryRow(h.ctx, `SELECT allotted FROM bookings WHERE id = $1`, id).Scan(&column),
		"read booking %s's allotted column", id)
	return got.Allotted, column
}

// wantGrace checks that a booking read back from SQL is allotted and that
// the hospital promises its free cancellation until its grace ends.
func (h *harness) wantGrace(b booking.Booking, what string) time.Time {
	h.t.Helper()
	got, err := h.store.Booking(h.ctx, b.ID)
	testenv.Must(h.t, err, "read %s back", what)
	if read, column := h.storedAllotted(b.ID); !read || !column {
		h.t.Errorf("%s read back with Allotted %v, allotted column %v, want true and true", what, read, column)
	}
	hosp, _ := h.svc.Catalog().Hospital(h.hosp.ID)
	if dl := hosp.LateAfter(got.VisitDate); !got.CreatedAt.After(dl) {
		h.t.Fatalf("%s made at %v, not after the deadline %v: the test proves nothing", what, got.CreatedAt, dl)
	}
	ends := got.CreatedAt.Add(booking.AllottedGrace)
	if free := hosp.FreeCancelUntil(got, got.CreatedAt); !free.Equal(ends) {
		h.t.Errorf("%s: free to cancel until %v, want %v (made %v + %v)", what, free, ends, got.CreatedAt, booking.AllottedGrace)
	}
	return ends
}

func TestDrawnAfterTheDeadlineIsFreeToCancelForAWhile(t *testing.T) {
	h := newHarness(t, harnessConfig{cancelDeadline: allottedDeadline})
	s := h.lotterySession(lotteryOpts{online: 2})
	users := h.users(2, 1)
	entries := []booking.Entry{h.mustEnter(users[0], 0, s), h.mustEnter(users[1], 0, s)}
	if n := h.drawAll(h.svc, s); n != 1 {
		t.Fatalf("drew %d pools, want 1", n)
	}
	var ends []time.Time
	for i, e := range entries {
		b, err := h.store.Booking(h.ctx, e.ID)
		testenv.Must(t, err, "winner %d's booking", i)
		ends = append(ends, h.wantGrace(b, "winner's booking"))
	}
	if late := h.cancelAt(users[0].actor, entries[0].ID, ends[0].Add(-time.Second)); late {
		t.Errorf("winner cancelling a second before the grace ends: late, want free")
	}
	if late := h.cancelAt(users[1].actor, entries[1].ID, ends[1].Add(time.Second)); !late {
		t.Errorf("winner cancelling a second after the grace ends: free, want late")
	}

	// The person's own booking after the deadline has no grace.
	own := h.session(sessionOpts{online: 1})
	u := h.user(1)
	b := h.mustBook(u, 0, own, "")
	if read, column := h.storedAllotted(b.ID); read || column {
		t.Errorf("a booking the patient made reads Allotted %v, allotted column %v, want false and false", read, column)
	}
	if late := h.cancelAt(u.actor, b.ID, time.Now().Add(time.Minute)); !late {
		t.Errorf("the patient's own booking cancelled a minute after it was made, past the deadline: free, want late")
	}
	h.checkClean()
}

func TestPromotedAfterTheDeadlineIsFreeToCancelForAWhile(t *testing.T) {
	h := newHarness(t, harnessConfig{cancelDeadline: allottedDeadline})
	s := h.session(sessionOpts{online: 2})
	admin := h.staffOf(booking.RoleAdmin, h.hosp.ID)
	holders, waiting := h.users(2, 1), h.users(2, 1)
	held := []booking.Booking{h.mustBook(holders[0], 0, s, ""), h.mustBook(holders[1], 0, s, "")}
	places := []booking.WaitlistEntry{h.join(waiting[0], s), h.join(waiting[1], s)}
	var ends []time.Time
	for i := range held {
		h.mustCancel(admin, held[i].ID) // the slot goes to the next in line at once
		b, err := h.store.Booking(h.ctx, places[i].ID)
		testenv.Must(t, err, "promoted booking %d", i)
		if b.Status != booking.StatusConfirmed {
			t.Fatalf("place %d promoted to a %s booking, want confirmed", i, b.Status)
		}
		ends = append(ends, h.wantGrace(b, "promoted booking"))
		if read, column := h.storedAllotted(held[i].ID); read || column {
			t.Errorf("booking %d the patient made reads Allotted %v, allotted column %v, want false and false", i, read, column)
		}
	}
	if late := h.cancelAt(waiting[0].actor, places[0].ID, ends[0].Add(-time.Second)); late {
		t.Errorf("promoted patient cancelling a second before the grace ends: late, want free")
	}
	if late := h.cancelAt(waiting[1].actor, places[1].ID, ends[1].Add(time.Second)); !late {
		t.Errorf("promoted patient cancelling a second after the grace ends: free, want late")
	}
	h.checkClean()
}

// TestStoppedLotteryIsNotDrawn: a clinic stopped (停诊) while its lottery
// takes entries is not drawn at its draw time, and its public record says
// it was stopped and when, with its seed still sealed. Before, the record
// read open with nobody entered until the draw time, then drawn with 0
// slots and a published seed, and nothing said the clinic was stopped
// (review of session 17).
func TestStoppedLotteryIsNotDrawn(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	s := h.lotterySession(lotteryOpts{online: 2})
	for _, u := range h.users(3, 1) {
		h.mustEnter(u, 0, s)
	}
	if _, err := h.svc.StopSession(h.ctx, h.staffOf(booking.RoleAdmin, h.hosp.ID), s.ID, "the doctor is ill"); err != nil {
		t.Fatalf("stop: %v", err)
	}
	stopped, _ := h.svc.Catalog().Session(s.ID)
	if n := h.drawAll(h.svc, s); n != 0 {
		t.Errorf("the draw job drew %d pools of the stopped clinic, want none", n)
	}
	ds := h.drawn(s)
	if len(ds) != 1 {
		t.Fatalf("published draws = %+v, want the one pool", ds)
	}
	d := ds[0]
	if d.Status != booking.DrawStopped || !d.StoppedAt.Equal(stopped.StoppedAt) || stopped.StoppedAt.IsZero() ||
		len(d.Seed) != 0 || d.Winners != 0 || d.Entered != 0 {
		t.Errorf("record of the stopped pool: status %s, stopped at %v (the clinic %v), seed %x, %d winners, %d entered; "+
			"want stopped, the stop's time, no seed, none", d.Status, d.StoppedAt, stopped.StoppedAt, d.Seed, d.Winners, d.Entered)
	}
	if n := h.count(`SELECT count(*) FROM bookings WHERE session_id = $1`, s.ID); n != 0 {
		t.Errorf("%d bookings in the stopped session, want 0", n)
	}
}
