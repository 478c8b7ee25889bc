package booking_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/booking/bookingtest"
)

// slowSchedule holds one LoadSchedule, once armed, after it has read the
// schedule: until release, that reload carries what it read.
type slowSchedule struct {
	*bookingtest.Store
	armed         atomic.Bool
	read, release chan struct{}
}

func (s *slowSchedule) LoadSchedule(ctx context.Context, from string) (booking.Schedule, error) {
	sch, err := s.Store.LoadSchedule(ctx, from)
	if s.armed.CompareAndSwap(true, false) {
		close(s.read)
		<-s.release
	}
	return sch, err
}

// TestRuleRefreshNeverStoresAnOlderSchedule: a reload of the catalog that
// read the schedule before a session was published must not store it
// after the publisher's own reload, hiding the new session (CI met it: a
// session just published answered session_not_found, until the next watch).
func TestRuleRefreshNeverStoresAnOlderSchedule(t *testing.T) {
	slow := &slowSchedule{read: make(chan struct{}), release: make(chan struct{})}
	w := newWorldOver(t, booking.DefaultPolicy, booking.Config{}, func(s *bookingtest.Store) booking.Store {
		slow.Store = s
		return slow
	})
	slow.armed.Store(true)
	stale := make(chan error, 1)
	go func() { _, err := w.svc.Refresh(w.ctx); stale <- err }()
	<-slow.read // the background reload has read a schedule without the session below

	// Its release comes later: with reloads in order the publisher's own
	// waits for it; without, the publisher's is stored first.
	time.AfterFunc(300*time.Millisecond, func() { close(slow.release) })
	s := w.session("2026-12-09", "cardio", 1)
	if err := <-stale; err != nil {
		t.Fatalf("background refresh: %v", err)
	}
	if _, ok := w.svc.Catalog().Session(s); !ok {
		t.Fatal("the session just published is missing from the catalog: an older reload was stored after it")
	}
	w.mustBook(w.person(), s)
}
