package booking_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/booking/bookingtest"
)

// countedMadeByOthers counts the reads explaining a refusal makes.
type countedMadeByOthers struct {
	*bookingtest.Store
	reads atomic.Int64
}

func (c *countedMadeByOthers) MadeByOthers(ctx context.Context, identityID, accountID, fromDate string, since time.Time) (booking.MadeByOthers, error) {
	c.reads.Add(1)
	return c.Store.MadeByOthers(ctx, identityID, accountID, fromDate, since)
}

func (c *countedMadeByOthers) MadeByAccount(ctx context.Context, identityID, accountID, fromDate string, since time.Time) (booking.MadeByOthers, error) {
	c.reads.Add(1)
	return c.Store.MadeByAccount(ctx, identityID, accountID, fromDate, since)
}

// TestRuleRefusalExplanationsAreBounded: explaining a refusal reads SQL,
// so a patient (or a bot) looping on already_booked costs at most 50 reads
// a second on an instance. Past it nothing shows the booking to be the
// account's own, and the account is not the person's verified self: the
// uniform refusal. The next second is explained again.
func TestRuleRefusalExplanationsAreBounded(t *testing.T) {
	counted := &countedMadeByOthers{}
	w := newWorldOver(t, booking.DefaultPolicy, booking.Config{}, func(s *bookingtest.Store) booking.Store {
		counted.Store = s
		return counted
	})
	s := w.session("2026-12-09", "cardio", 2)
	p := w.person()
	w.mustBook(p, s)
	for i := range 200 {
		_, err := w.book(p, s)
		if i < 50 {
			wantErr(t, fmt.Sprintf("repeat %d, explained", i), err, booking.ErrAlreadyBooked)
		} else {
			wantUniform(t, fmt.Sprintf("repeat %d, past the budget", i), err)
		}
	}
	if n := counted.reads.Load(); n != 50 {
		t.Errorf("200 refusals in one second read SQL %d times to explain them, want the budget's 50", n)
	}
	w.clock.Advance(time.Second)
	if _, err := w.book(p, s); !errors.Is(err, booking.ErrAlreadyBooked) {
		t.Fatalf("a second later: %v, want already_booked", err)
	}
	if n := counted.reads.Load(); n != 51 {
		t.Errorf("a second later the refusal read SQL %d times in all, want 51: the budget is per second", n)
	}
}
