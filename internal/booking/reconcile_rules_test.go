package booking_test

import (
	"context"
	"sync"
	"testing"

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
	holds, err := w.adm.Holds(w.ctx, w.hospital.ID, []string{s})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range holds {
		if h.BookingID == b.ID {
			t.Errorf("after reconciling, slot %d is held for booking %s, which SQL has cancelled", h.SlotNo, b.ID)
		}
	}
}
