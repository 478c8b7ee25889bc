package booking

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// The fast reject path. In the release minute nearly every attempt meets
// either a pool not yet released (the seconds before T) or an empty pool
// (every second after the first); admission, a Redis round trip, answers
// not_released or sold_out each time. refusalMemo remembers such an answer
// for a session's channel for at most its TTL (SoldOutFor, 100 ms), and a
// not_released answer never past the release time the catalog knows, so the
// service can answer from memory: no patient lookup, no Redis.
//
// It only ever refuses, so it can never confirm a booking that admission did
// not admit. What it may do is hide a slot that came back (a cancellation on
// another instance, a delayed return, a pool move) for up to the TTL; a slot
// that comes back through this instance clears the memo at once (memoGate).
// Attempts that carry an Idempotency-Key skip the memo: one of them may be
// the retry of an attempt that was admitted, and must get its booking back.
//
// The answer is renewed before it expires: from half its TTL on, one attempt
// at a time (one per refreshGap) renews it, while the others are still
// answered from memory. Without it, every attempt that arrived between the
// expiry and admission's next answer went to Redis (at 20,000 attempts a
// second over 20 pools, and a round trip of a few ms on a busy machine,
// dozens a pool each TTL: a tenth of the sold-out minute's CPU). A sold_out
// is renewed by asking admission whether the pool still is
// (Admission.SoldOut, one read): if so the answer is remembered for a new
// TTL from when it asked and the attempt answered from memory too; if a
// slot is back the pool is forgotten and the attempt goes on to admission,
// as everyone's after it; if the read fails the attempt goes on as well.
// (Letting the attempt itself through to renew cost a whole attempt, three
// scripts and the patient lookup, about 20 times a second a pool.) A
// not_released is renewed by the attempt let through. No answer is given
// from memory later than the TTL after admission gave it.
type refusalMemo struct {
	ttl  time.Duration
	mu   sync.RWMutex
	pool map[pool]*refusal
	hits atomic.Uint64
}

type pool struct {
	session string
	channel Channel
}

// refusal is what admission last said about a pool, until when to say it
// again, and from when to let an attempt through to renew it.
type refusal struct {
	err         *Error
	until       time.Time
	refreshFrom time.Time
	// refreshed is when (Unix ns) an attempt was last let through to
	// renew the answer; 0 if none was.
	refreshed atomic.Int64
}

// refreshGap is how long an attempt let through to renew an answer has
// before another is: one whose answer renews nothing (it was refused for
// itself, by a rate limit or a quota) must not stop the renewal.
func (m *refusalMemo) refreshGap() time.Duration { return m.ttl / 8 }

func newRefusalMemo(ttl time.Duration) *refusalMemo {
	return &refusalMemo{ttl: ttl, pool: make(map[pool]*refusal)}
}

// known returns the refusal remembered for the pool at now, if any, and
// counts the answers it saves. From the refusal's refreshFrom on, one
// caller per refreshGap gets renew: the refusal is not counted, and the
// caller renews it (Service.renew) or goes on to admission.
func (m *refusalMemo) known(sessionID string, ch Channel, now time.Time) (e *Error, renew bool) {
	m.mu.RLock()
	r := m.pool[pool{sessionID, ch}]
	m.mu.RUnlock()
	if r == nil || !now.Before(r.until) {
		return nil, false
	}
	if !now.Before(r.refreshFrom) && r.claimRefresh(now, m.refreshGap()) {
		return r.err, true
	}
	m.hits.Add(1)
	return r.err, false
}

// claimRefresh says whether the caller is the one to renew the answer: no
// other caller was let through in the last gap.
func (r *refusal) claimRefresh(now time.Time, gap time.Duration) bool {
	last, t := r.refreshed.Load(), now.UnixNano()
	if last != 0 && t-last < int64(gap) {
		return false
	}
	return r.refreshed.CompareAndSwap(last, t)
}

// remember keeps err for the pool for the TTL, and never past notAfter when
// that is set; it is renewed from half the TTL on.
func (m *refusalMemo) remember(sessionID string, ch Channel, err *Error, now, notAfter time.Time) {
	until := now.Add(m.ttl)
	if !notAfter.IsZero() && notAfter.Before(until) {
		until = notAfter
	}
	r := &refusal{err: err, until: until, refreshFrom: now.Add(m.ttl / 2)}
	m.mu.Lock()
	m.pool[pool{sessionID, ch}] = r
	m.mu.Unlock()
}

// forget drops what is known about a session's pools.
func (m *refusalMemo) forget(sessionID string) {
	m.mu.Lock()
	for p := range m.pool {
		if p.session == sessionID {
			delete(m.pool, p)
		}
	}
	m.mu.Unlock()
}

// prune drops entries that expired before now; the catalog refresh calls it
// so the map holds only the pools of the last few moments.
func (m *refusalMemo) prune(now time.Time) {
	m.mu.Lock()
	for p, r := range m.pool {
		if !now.Before(r.until) {
			delete(m.pool, p)
		}
	}
	m.mu.Unlock()
}

// memoGate is the Admission the Service uses when the memo is on: every call
// that can put a slot back into a pool, or change a pool, forgets the
// session first-hand.
type memoGate struct {
	Admission
	memo *refusalMemo
}

func (g memoGate) Release(ctx context.Context, h Hold, how Release) error {
	defer g.memo.forget(h.SessionID)
	return g.Admission.Release(ctx, h, how)
}

func (g memoGate) Return(ctx context.Context, h Hold, r Return) (Placement, error) {
	defer g.memo.forget(h.SessionID)
	return g.Admission.Return(ctx, h, r)
}

func (g memoGate) Place(ctx context.Context, d DelayedSlot, p Placing, to Channel, when PlaceWhen) (Placement, error) {
	defer g.memo.forget(d.SessionID)
	return g.Admission.Place(ctx, d, p, to, when)
}

func (g memoGate) MoveFree(ctx context.Context, s *Session, from, to Channel, n int, releaseAt time.Time, slots []int,
	delay func() time.Duration) ([]int, int, error) {
	defer g.memo.forget(s.ID)
	return g.Admission.MoveFree(ctx, s, from, to, n, releaseAt, slots, delay)
}

func (g memoGate) Load(ctx context.Context, s *Session, active []Booking, stale []StaleHold) error {
	defer g.memo.forget(s.ID)
	return g.Admission.Load(ctx, s, active, stale)
}

// rememberRefusal keeps admission's sold_out or not_released (err, as it
// will be answered) for the pool.
func (s *Service) rememberRefusal(sess *Session, ch Channel, err error, now time.Time) {
	e, ok := AsError(err)
	if s.memo == nil || !ok {
		return
	}
	switch e.Code {
	case ErrSoldOut.Code:
		s.memo.remember(sess.ID, ch, e, now, time.Time{})
	case ErrNotReleased.Code:
		if q, ok := sess.Channel(ch); ok && now.Before(q.OpensFor()) {
			s.memo.remember(sess.ID, ch, e, now, q.OpensFor())
		}
	}
}

// FastRejects counts the refusals answered from memory.
func (s *Service) FastRejects() uint64 {
	if s.memo == nil {
		return 0
	}
	return s.memo.hits.Load()
}

// KnownRefusal is the fast reject check of one attempt: the sold_out or
// not_released that Book would answer from memory, or nil. The API asks it
// before its shared rate limits, so such an answer costs no Redis round trip
// at all.
func (s *Service) KnownRefusal(sessionID string, ch Channel, idemKey string) error {
	_, err := s.knownRefusal(sessionID, ch, idemKey)
	return err
}

// knownRefusal is KnownRefusal, and whether a nil answer let the attempt
// through on purpose, with a refusal remembered: to renew it, or because
// the renewing read found a slot or failed.
func (s *Service) knownRefusal(sessionID string, ch Channel, idemKey string) (letThrough bool, err error) {
	if s.memo == nil || idemKey != "" {
		return false, nil
	}
	now := s.cfg.Now()
	e, renew := s.memo.known(sessionID, ch, now)
	switch {
	case e == nil:
		return false, nil
	case renew && !s.renewSoldOut(sessionID, ch, e, now):
		return true, nil
	case renew:
		s.memo.hits.Add(1)
	}
	return false, e
}

// renewSoldOut renews a remembered sold_out (e) from asked, the time before
// it asks admission whether the pool still is. It reports whether the
// attempt is answered from memory; false sends it on to admission: the
// refusal is not a sold_out, the pool has a slot again (then the session
// is forgotten: everyone goes to admission), or the read failed or took
// longer than the memory lasts.
func (s *Service) renewSoldOut(sessionID string, ch Channel, e *Error, asked time.Time) bool {
	if e.Code != ErrSoldOut.Code || s.writes.failing.Load() {
		// While writes fail, the pool may be empty of holds whose commits
		// are failing: admission tells (writehealth.go).
		return false
	}
	sess, ok := s.catalog.Load().Session(sessionID)
	if !ok {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.SoldOutFor)
	defer cancel()
	empty, err := s.adm.SoldOut(ctx, sess, ch)
	switch {
	case err != nil:
		return false
	case !empty:
		s.memo.forget(sessionID)
		return false
	}
	s.memo.remember(sessionID, ch, e, asked, time.Time{})
	return true
}
