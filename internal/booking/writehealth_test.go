package booking_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/cockroach"
	"fairslot/internal/testenv"
)

// outageStore is faultyStore with Ping open to interference: the write
// probe's answer.
type outageStore struct {
	*faultyStore
	mu   sync.Mutex
	ping error
}

func (o *outageStore) Ping(ctx context.Context) error {
	o.mu.Lock()
	err := o.ping
	o.mu.Unlock()
	if err != nil {
		return err
	}
	return o.faultyStore.Ping(ctx)
}

func (o *outageStore) setPing(err error) {
	o.mu.Lock()
	o.ping = err
	o.mu.Unlock()
}

func newOutageHarness(t *testing.T) (*harness, *outageStore) {
	return newOutageHarnessHolding(t, 50*time.Millisecond)
}

// newOutageHarnessHolding is newOutageHarness with holds kept holdFor.
func newOutageHarnessHolding(t *testing.T, holdFor time.Duration) (*harness, *outageStore) {
	var st *outageStore
	h := newHarness(t, harnessConfig{holdFor: holdFor, wrap: func(s *cockroach.Store) booking.Store {
		st = &outageStore{faultyStore: &faultyStore{Store: s}}
		return st
	}})
	return h, st
}

// wantRetryLater checks err is the 503 of a sold_out caused by pending
// holds while writes fail: unavailable, nothing booked, with a wait.
func wantRetryLater(t *testing.T, what string, err error) {
	t.Helper()
	wantErr(t, what, err, booking.ErrUnavailable)
	if errors.Is(err, booking.ErrSoldOut) {
		t.Errorf("%s: %v is still a sold_out", what, err)
	}
	var l *booking.LimitError
	if !errors.As(err, &l) || l.Wait <= 0 {
		t.Errorf("%s: %v says no wait (the answer's Retry-After)", what, err)
	}
}

// TestSoldOutOfPendingHoldsWhileWritesFail (review18a M2): while SQL cannot
// commit, an attempt that finds a pool empty of holds whose commits are
// failing is told 503, not sold_out, every time (the fast reject memo keeps
// nothing of it); with SQL healthy the same pool full of pending holds is
// sold_out, as at the release second.
func TestSoldOutOfPendingHoldsWhileWritesFail(t *testing.T) {
	t.Run("healthy SQL: a pool full of pending holds is sold out", func(t *testing.T) {
		h, st := newOutageHarness(t)
		s := h.session(sessionOpts{online: 1})
		a, b := h.user(1), h.user(1)
		// a's commit is in flight (held here) when b asks: a pending hold
		// fills the pool, as for milliseconds at the release second.
		inFlight, release := make(chan struct{}), make(chan struct{})
		var once sync.Once
		st.setBatch(func(ctx context.Context, bs []booking.Booking, evs []booking.Event) ([]error, error) {
			once.Do(func() { close(inFlight) })
			<-release
			return st.Store.InsertBookings(ctx, bs, evs)
		})
		done := make(chan error, 1)
		go func() { _, err := h.book(a, 0, s, ""); done <- err }()
		<-inFlight
		if h.svc.WritesFailing() {
			t.Fatal("writes failing before any failure")
		}
		for i := range 3 {
			_, err := h.book(b, 0, s, "")
			wantErr(t, fmt.Sprintf("attempt %d while a's commit is in flight", i), err, booking.ErrSoldOut)
		}
		if h.svc.FastRejects() == 0 {
			t.Error("no attempt was answered from memory: the sold_out is remembered as before")
		}
		close(release)
		testenv.Must(t, <-done, "a's booking")
		h.checkClean()
	})

	t.Run("a failed commit: sold_out of a pending hold is 503 until SQL is back", func(t *testing.T) {
		h, st := newOutageHarness(t)
		s := h.session(sessionOpts{online: 1})
		a, b := h.user(1), h.user(1)
		// a's commit breaks and its read-back cannot tell: the hold stays
		// pending for the sweeper, the slot out of the pool.
		st.set(func(context.Context, booking.Booking, booking.Event) error {
			return fmt.Errorf("insert_booking: commit: %w: %w", booking.ErrOutcomeUnknown, io.ErrUnexpectedEOF)
		}, errors.New("read back: connection refused"))
		_, err := h.book(a, 0, s, "")
		wantCode(t, "a's attempt", err, "outcome_unknown")
		st.set(nil, nil)
		if !h.svc.WritesFailing() {
			t.Fatal("writes not failing after a commit failed")
		}
		h.wantOnline(s, 0)
		fast := h.svc.FastRejects()
		for i := range 3 {
			_, err := h.book(b, 0, s, "")
			wantRetryLater(t, fmt.Sprintf("b's attempt %d", i), err)
		}
		if got := h.svc.FastRejects(); got != fast {
			t.Errorf("%d attempts answered from memory, want none: the 503 must not fill the memo", got-fast)
		}
		// The sweeper settles a's hold (SQL has no row): the slot is back
		// and b books; the commit says writes work again.
		eventually(t, 10*time.Second, "the sweeper releases a's hold", func() bool {
			n, err := h.svc.Sweep(h.ctx)
			testenv.Must(t, err, "sweep")
			return n >= 1
		})
		h.mustBook(b, 0, s, "")
		if h.svc.WritesFailing() {
			t.Error("writes still failing after a booking committed")
		}
		h.checkClean()
	})

	t.Run("the probe, with no traffic of this instance", func(t *testing.T) {
		// Holds kept a minute: "right after a failure" must not pass by
		// itself on a loaded machine (it did with 50 ms).
		h, st := newOutageHarnessHolding(t, time.Minute)
		s := h.session(sessionOpts{online: 1})
		a, b := h.user(1), h.user(1)
		// a's commit is in flight when SQL stops answering: only the probe
		// can tell this instance, which has no failure of its own yet.
		inFlight, release := make(chan struct{}), make(chan struct{})
		var once sync.Once
		st.setBatch(func(ctx context.Context, bs []booking.Booking, evs []booking.Event) ([]error, error) {
			once.Do(func() { close(inFlight) })
			<-release
			return nil, fmt.Errorf("insert bookings: %w: %w", booking.ErrUnavailable, context.DeadlineExceeded)
		})
		done := make(chan error, 1)
		go func() { _, err := h.book(a, 0, s, ""); done <- err }()
		<-inFlight
		_, err := h.book(b, 0, s, "")
		wantErr(t, "b's attempt before the probe", err, booking.ErrSoldOut)

		st.setPing(fmt.Errorf("ping database: %w: %w", booking.ErrUnavailable, context.DeadlineExceeded))
		if err := h.svc.ProbeWrites(h.ctx); err == nil {
			t.Fatal("ProbeWrites of a database that does not answer = nil")
		}
		if !h.svc.WritesFailing() {
			t.Fatal("writes not failing after the probe failed")
		}
		// The memo remembered b's sold_out: attempts may be answered from
		// it only until it would be renewed (never while writes fail).
		eventually(t, 10*time.Second, "b's attempt is answered 503", func() bool {
			_, err := h.book(b, 0, s, "")
			if errors.Is(err, booking.ErrSoldOut) {
				return false
			}
			wantRetryLater(t, "b's attempt after the probe", err)
			return true
		})

		// SQL answers again: the probe alone clears the signal only once
		// no failure was seen for HoldFor (a's hold may be pending that
		// long); a commit clears it at once.
		close(release)
		wantErr(t, "a's attempt", <-done, booking.ErrUnavailable)
		st.setBatch(nil)
		st.setPing(nil)
		testenv.Must(t, h.svc.ProbeWrites(h.ctx), "probe")
		if !h.svc.WritesFailing() {
			t.Error("writes not failing right after a failure, on one good probe")
		}
		h.clock.set(time.Now().Add(2 * time.Minute)) // past HoldFor (a minute) since the failure
		testenv.Must(t, h.svc.ProbeWrites(h.ctx), "probe")
		h.clock.reset()
		if h.svc.WritesFailing() {
			t.Error("writes still failing after good probes for HoldFor")
		}
		h.mustBook(b, 0, s, "")
		h.checkClean()
	})
}
