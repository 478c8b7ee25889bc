package booking

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// The fast reject path. In the release-hour stampede nearly every attempt
// after the first second meets an empty pool; admission (a Redis round trip)
// answers sold_out each time. soldOutMemo remembers that answer for a
// session's channel, for at most its TTL (100 ms by default), so the service
// can answer sold_out from memory: no patient lookup, no Redis.
//
// It only ever rejects, so it can never confirm a booking that admission did
// not admit. What it may do is hide a slot that came back (a cancellation on
// another instance, a delayed return, a pool move) for up to the TTL; a slot
// that comes back through this instance clears the memo at once (memoGate).
// Attempts that carry an Idempotency-Key skip the memo: one of them may be
// the retry of an attempt that was admitted, and must get its booking back.
type soldOutMemo struct {
	ttl   time.Duration
	mu    sync.RWMutex
	until map[pool]time.Time
	hits  atomic.Uint64
}

type pool struct {
	session string
	channel Channel
}

func newSoldOutMemo(ttl time.Duration) *soldOutMemo {
	return &soldOutMemo{ttl: ttl, until: make(map[pool]time.Time)}
}

// soldOut reports whether admission answered sold_out for the pool less than
// the TTL before now, and counts the answers it saves.
func (m *soldOutMemo) soldOut(sessionID string, ch Channel, now time.Time) bool {
	m.mu.RLock()
	until, ok := m.until[pool{sessionID, ch}]
	m.mu.RUnlock()
	if ok && now.Before(until) {
		m.hits.Add(1)
		return true
	}
	return false
}

func (m *soldOutMemo) remember(sessionID string, ch Channel, now time.Time) {
	m.mu.Lock()
	m.until[pool{sessionID, ch}] = now.Add(m.ttl)
	m.mu.Unlock()
}

// forget drops what is known about a session's pools.
func (m *soldOutMemo) forget(sessionID string) {
	m.mu.Lock()
	for p := range m.until {
		if p.session == sessionID {
			delete(m.until, p)
		}
	}
	m.mu.Unlock()
}

// prune drops entries that expired before now; the catalog refresh calls it
// so the map holds only the pools of the last few moments.
func (m *soldOutMemo) prune(now time.Time) {
	m.mu.Lock()
	for p, until := range m.until {
		if !now.Before(until) {
			delete(m.until, p)
		}
	}
	m.mu.Unlock()
}

// memoGate is the Admission the Service uses when the memo is on: every call
// that can put a slot back into a pool forgets the session first-hand, and a
// sold_out from Reserve is remembered.
type memoGate struct {
	Admission
	memo *soldOutMemo
	now  func() time.Time
}

func (g memoGate) Reserve(ctx context.Context, r Reservation) (int, bool, error) {
	slot, replay, err := g.Admission.Reserve(ctx, r)
	if e, ok := AsError(err); ok && e.Code == ErrSoldOut.Code {
		g.memo.remember(r.SessionID, r.Channel, g.now())
	}
	return slot, replay, err
}

func (g memoGate) Release(ctx context.Context, h Hold, how Release) error {
	defer g.memo.forget(h.SessionID)
	return g.Admission.Release(ctx, h, how)
}

func (g memoGate) Return(ctx context.Context, h Hold, r Return) (Placement, error) {
	defer g.memo.forget(h.SessionID)
	return g.Admission.Return(ctx, h, r)
}

func (g memoGate) Place(ctx context.Context, d DelayedSlot, p Placing, to Channel, onlyIfDue bool) (Placement, error) {
	defer g.memo.forget(d.SessionID)
	return g.Admission.Place(ctx, d, p, to, onlyIfDue)
}

func (g memoGate) MoveFree(ctx context.Context, s *Session, from, to Channel, n int, releaseAt time.Time, slots []int) ([]int, error) {
	defer g.memo.forget(s.ID)
	return g.Admission.MoveFree(ctx, s, from, to, n, releaseAt, slots)
}

func (g memoGate) Load(ctx context.Context, s *Session, active []Booking, stale []StaleHold) error {
	defer g.memo.forget(s.ID)
	return g.Admission.Load(ctx, s, active, stale)
}

// FastRejects counts the sold_out answers given from memory.
func (s *Service) FastRejects() uint64 {
	if s.soldOut == nil {
		return 0
	}
	return s.soldOut.hits.Load()
}

// KnownSoldOut is the fast reject check of one attempt: true when Book would
// answer ErrSoldOut from memory. The API asks it before its shared rate
// limits, so such an answer costs no Redis round trip at all.
func (s *Service) KnownSoldOut(sessionID string, ch Channel, idemKey string) bool {
	return s.soldOut != nil && idemKey == "" && s.soldOut.soldOut(sessionID, ch, s.cfg.Now())
}
