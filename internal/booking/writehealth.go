package booking

import (
	"context"
	"errors"
	"sync/atomic"
	"time"
)

// Whether SQL takes writes, as this instance last learnt (review18a M2).
//
// During a SQL write outage every admitted attempt holds its slot in Redis
// until its commit fails (within CommitTimeout) or, its outcome unknown,
// until the sweeper settles it (HoldFor). Attempts arriving meanwhile find
// the pool empty of those pending holds and admission answers sold_out,
// also when every slot is in fact free; the fast reject memo repeated it.
// A patient told "sold out" goes away. So, while this instance knows writes
// are failing, a sold_out given while holds of the hospital are pending
// (reserve.lua says so) is answered 503 unavailable with Retry-After, and
// is not remembered by the memo.
//
// At the release second with SQL healthy a pool is legitimately full of
// pending holds for milliseconds: that sold_out must stay a sold_out, or
// thousands would be told to retry at once. The signal is therefore set only
// by evidence that writes fail, never by load:
//
//   - a booking batch whose commit failed as a dependency failure (a 503:
//     the server down, read-only, out of disk, or no answer within
//     CommitTimeout) sets it;
//   - the "sql writes" job asks every second, on every instance whatever its
//     traffic, whether SQL answers and takes writes (Store.Ping: a ping and
//     SHOW transaction_read_only, under CommitTimeout, so a queue of commits
//     at the release second that still answer within a commit's own deadline
//     never sets it); a failure sets it, and so does readyz's own check;
//   - a committed booking batch clears it at once;
//   - otherwise it clears once the probe has answered well and no failure was
//     seen for HoldFor: as long as a hold admitted during the outage may
//     still be pending (one whose outcome was unknown waits for the sweeper
//     that long), a sold_out it causes is not final. A full disk that SHOW
//     does not see keeps it set through its commits' failures.
//
// So a stale signal can only outlive the outage on an instance that commits
// nothing meanwhile, and only for a sold_out with holds pending; the release
// second's first commit clears it.
//
// The hot path reads it with one atomic load, and only on a sold_out given
// while holds are pending.
type writeHealth struct {
	failing atomic.Bool
	// lastFailure is when (Unix ns) a failure was last seen.
	lastFailure atomic.Int64
	// window is how long a failure keeps it set against good probes:
	// HoldFor.
	window time.Duration
}

// failed records evidence that writes fail, seen at now.
func (w *writeHealth) failed(now time.Time) {
	w.lastFailure.Store(now.UnixNano())
	w.failing.Store(true)
}

// committed records a commit that went through: writes work.
func (w *writeHealth) committed() {
	if w.failing.Load() {
		w.failing.Store(false)
	}
}

// probed records the write probe's answer at now: a failure sets the
// signal; a good answer clears it once no failure was seen for the window.
func (w *writeHealth) probed(err error, now time.Time) {
	if err != nil {
		w.failed(now)
		return
	}
	if w.failing.Load() && now.UnixNano()-w.lastFailure.Load() >= int64(w.window) {
		w.failing.Store(false)
	}
}

// commitFailed says whether a booking's or a batch's error is evidence that
// SQL refuses or cannot take writes: a dependency failure or an unknown
// outcome, not a rule SQL enforces on one row.
func commitFailed(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrOutcomeUnknown) {
		return true
	}
	e, ok := AsError(err)
	return ok && e.Kind == KindUnavailable
}

// noteBatch records what a booking batch's write says of SQL: its error
// (err) and its answers per booking (errs). Any failure of SQL sets the
// signal; a batch that SQL took clears it.
func (s *Service) noteBatch(errs []error, err error) {
	if commitFailed(err) {
		s.writes.failed(s.cfg.Now())
		return
	}
	for _, e := range errs {
		if commitFailed(e) {
			s.writes.failed(s.cfg.Now())
			return
		}
	}
	if err == nil {
		s.writes.committed()
	}
}

// errPendingWhileDown is the answer, while writes fail, to an attempt that
// admission found sold out with holds of the hospital pending: those holds'
// commits are failing, and their slots come back when they do.
var errPendingWhileDown = Errorf(ErrUnavailable,
	"bookings cannot be saved right now (the database is not taking writes), and this session's slots may only be held by attempts that are failing: nothing was booked, retry in a few seconds")

// pendingWhileDown is the answer to an attempt that admission refused with
// err: a 503 with Retry-After when err is a sold_out given while holds are
// pending and this instance knows writes fail; nil when err stands.
func (s *Service) pendingWhileDown(err error) error {
	if !errors.Is(err, ErrCommitsPending) || !s.writes.failing.Load() {
		return nil
	}
	return &LimitError{Wait: s.cfg.CommitTimeout, Err: errPendingWhileDown}
}

// WritesFailing reports whether this instance knows SQL is refusing or
// cannot take writes (the fairslot_sql_writes_failing gauge).
func (s *Service) WritesFailing() bool { return s.writes.failing.Load() }

// ProbeWrites is the "sql writes" job: it asks whether SQL answers and takes
// writes, and records the answer for the sold_out branch.
func (s *Service) ProbeWrites(ctx context.Context) error {
	err := s.store.Ping(ctx)
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return err // shutting down: no evidence either way
	}
	s.writes.probed(err, s.cfg.Now())
	return err
}
