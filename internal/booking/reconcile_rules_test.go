package booking_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/booking/bookingtest"
)

// cancelAfterRead cancels a booking once, just after reconciliation read
// SQL's active bookings and before it loads them into Redis.
type cancelAfterRead struct {
	*bookingtest.Store
	once   sync.Once
	cancel func()
}

func (c *cancelAfterRead) ActiveBookings(ctx context.Context, hospitalID, fromDate string) ([]booking.Booking, error) {
	active, err := c.Store.ActiveBookings(ctx, hospitalID, fromDate)
	if c.cancel != nil {
		c.once.Do(c.cancel)
	}
	return active, err
}

// TestRuleReconcileFreesWhatWasCancelledWhileItRan: a booking cancelled
// between reconciliation's read of SQL and its load of Redis gave its hold
// back before the load put it in again; reconciliation must not leave that
// slot held for a booking SQL has cancelled (the fault table met it when
// Redis restarted empty: the reload's load came after the cancellation's
// release).
func TestRuleReconcileFreesWhatWasCancelledWhileItRan(t *testing.T) {
	wrapped := &cancelAfterRead{}
	w := newWorldOver(t, booking.DefaultPolicy, booking.Config{}, func(s *bookingtest.Store) booking.Store {
		wrapped.Store = s
		return wrapped
	})
	s := w.session("2026-12-09", "cardio", 2)
	p := w.person()
	b := w.mustBook(p, s)
	wrapped.cancel = func() { w.cancel(p, b) }
	if err := w.svc.Reconcile(w.ctx); err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	got, err := w.store.Booking(w.ctx, b.ID)
	if err != nil || got.Status != booking.StatusCancelled {
		t.Fatalf("booking %s after the cancellation = %s, %v; want cancelled", b.ID, got.Status, err)
	}
	if slot, held := w.heldFor(s, b.ID); held {
		t.Errorf("after reconciling, slot %d is held for booking %s, which SQL has cancelled", slot, b.ID)
	}
}

// heldFor reports whether, and at which slot, admission holds bookingID in
// session sid.
func (w *world) heldFor(sid, bookingID string) (int, bool) {
	w.t.Helper()
	holds, err := w.adm.Holds(w.ctx, w.hospital.ID, []string{sid})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, h := range holds {
		if h.BookingID == bookingID {
			return h.SlotNo, true
		}
	}
	return 0, false
}

// unreadCancel commits a cancellation but loses its answer, and then
// cannot read the booking back twice: SQL's connections are being reset.
type unreadCancel struct {
	*bookingtest.Store
	unreadable atomic.Int32
}

func (u *unreadCancel) CancelBooking(ctx context.Context, id string, late bool, rules booking.NoShowRules, ev booking.Event, audit *booking.AuditEntry) (booking.Booking, []booking.Bar, error) {
	if _, _, err := u.Store.CancelBooking(ctx, id, late, rules, ev, audit); err != nil {
		return booking.Booking{}, nil, err
	}
	u.unreadable.Store(2)
	return booking.Booking{}, nil, booking.ErrOutcomeUnknown
}

func (u *unreadCancel) Booking(ctx context.Context, id string) (booking.Booking, error) {
	if u.unreadable.Add(-1) >= 0 {
		return booking.Booking{}, booking.ErrUnavailable
	}
	return u.Store.Booking(ctx, id)
}

// TestRuleLostCancelReadsBackThroughTheOutage: a cancellation that
// committed but lost its answer gives its slot back even when the outage
// that lost the answer also fails the first read-backs (the fault table's
// "SQL connections reset" met a slot held for it).
func TestRuleLostCancelReadsBackThroughTheOutage(t *testing.T) {
	u := &unreadCancel{}
	w := newWorldOver(t, booking.DefaultPolicy, booking.Config{}, func(s *bookingtest.Store) booking.Store {
		u.Store = s
		return u
	})
	s := w.session("2026-12-09", "cardio", 1)
	p := w.person()
	b := w.mustBook(p, s)
	if _, err := w.svc.Cancel(w.ctx, p.actor, b.ID, booking.Origin{}); !errors.Is(err, booking.ErrOutcomeUnknown) {
		t.Fatalf("cancel with a lost answer: %v, want ErrOutcomeUnknown", err)
	}
	held := func() bool { _, h := w.heldFor(s, b.ID); return h }
	// The read-back goes on in the background, a few tries in well under
	// a second; ten seconds is only the test's bound.
	for deadline := time.Now().Add(10 * time.Second); held(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("slot still held for booking %s, which SQL has cancelled (read-backs left: %d)", b.ID, u.unreadable.Load())
		}
	}
	if n := u.unreadable.Load(); n >= 0 {
		t.Errorf("the read-back was tried %d times, want the two failures and a success", 2-n)
	}
}
