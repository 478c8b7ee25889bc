package booking

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Self-healing after Redis loses a hospital's state.
//
// A complete load of a hospital from SQL ends with a mark in Redis (the
// Redis process's run id and the time). reserve.lua admits nothing without
// the mark, so a Redis that restarted empty or was flushed refuses every
// booking (503) instead of judging it on an empty state, and nothing is
// 404. The state is found missing two ways: the heal job (every second)
// reads every hospital's mark and compares its run id with the running
// Redis's, and Reserve answers state_missing. Either starts one reload of
// the hospital (a task, one per hospital at a time on an instance), which
// first claims the reload in Redis, so one instance at a time reloads it;
// the others keep answering 503 and see the mark return. While a
// hospital's state is not whole, /readyz says so and why. A single session
// Redis does not know (while the catalog has it, so it was loaded before
// it was published) is reconciled alone.

// hospitalHealth is what this instance last saw of a hospital's state.
type hospitalHealth struct {
	status StateStatus
	since  time.Time // when it was first seen not whole
}

// setHealth records what was seen of a hospital's state.
func (s *Service) setHealth(hospitalID string, st StateStatus) {
	s.healthMu.Lock()
	defer s.healthMu.Unlock()
	cur := s.health.Load()
	old, known := (*cur)[hospitalID]
	if known && old.status == st || !known && st == StateWhole {
		return
	}
	next := maps.Clone(*cur)
	if st == StateWhole {
		delete(next, hospitalID)
	} else {
		since := s.cfg.Now()
		if known {
			since = old.since
		}
		next[hospitalID] = hospitalHealth{status: st, since: since}
	}
	s.health.Store(&next)
}

// stateWhole answers 503 for a hospital whose state this instance saw
// missing: its free counts and waitlists in Redis cannot be trusted.
func (s *Service) stateWhole(hospitalID string) error {
	if _, bad := (*s.health.Load())[hospitalID]; bad {
		return errStateRebuild
	}
	return nil
}

// admissionLost turns the Reserve answers that show Redis lost state into
// a 503 and starts the repair; other errors give nil.
func (s *Service) admissionLost(sess *Session, err error) error {
	switch {
	case errors.Is(err, ErrStateMissing):
		s.stateLost(sess.HospitalID, StateMissing)
	case errors.Is(err, ErrSessionNotFound):
		// The catalog has the session, so it was loaded before it was
		// published, and the hospital's mark is there: Redis lost this
		// session's keys alone (a hand-made DEL; Redis must not evict,
		// docs/operations.md). Reload the session.
		s.reconcileLater(sess.ID)
	default:
		return nil
	}
	s.log.Warn("admission state missing; reloading from SQL", "hospital_id", sess.HospitalID,
		"session_id", sess.ID, "err", err)
	return fmt.Errorf("%w: %w", errStateRebuild, err)
}

// stateLost records a hospital's state as not whole and starts its reload.
func (s *Service) stateLost(hospitalID string, st StateStatus) {
	s.setHealth(hospitalID, st)
	s.tasks.start("reload hospital "+hospitalID, s.cfg.ReloadTimeout, func(ctx context.Context) error {
		return s.reloadHospital(ctx, s.catalog.Load(), hospitalID)
	})
}

// errClaimLost: Redis lost the reload's claim during the reload (it lost
// its data again) or the reload outlasted the claim.
var errClaimLost = errors.New("the reload's claim is gone (Redis lost data again, or the reload outlasted --reload-timeout); the next check reloads again")

// reloadHospital rebuilds a hospital's whole state from SQL and marks it
// whole, unless it is whole already (the attempts refused during a reload
// ask for another) or another instance is reloading it.
func (s *Service) reloadHospital(ctx context.Context, cat *Catalog, hospitalID string) error {
	st, err := s.adm.States(ctx, []string{hospitalID})
	if err != nil {
		return fmt.Errorf("reload hospital %s: %w", hospitalID, err)
	}
	if st[0] == StateWhole {
		s.setHealth(hospitalID, StateWhole)
		return nil
	}
	token := newID()
	ok, err := s.adm.BeginReload(ctx, hospitalID, token, s.cfg.ReloadTimeout)
	if err != nil {
		return fmt.Errorf("reload hospital %s: %w", hospitalID, err)
	}
	if !ok {
		s.setHealth(hospitalID, StateReloading) // another instance reloads it
		return nil
	}
	start := time.Now()
	sessions := cat.HospitalSessions(hospitalID)
	if err := s.reconcile(ctx, cat, sessions); err != nil {
		return fmt.Errorf("reload hospital %s: %w", hospitalID, err)
	}
	if err := s.reconcileBarsIn(ctx, []string{hospitalID}); err != nil {
		return fmt.Errorf("reload hospital %s: bars: %w", hospitalID, err)
	}
	if err := s.redelayReturned(ctx, hospitalID, sessions); err != nil {
		return fmt.Errorf("reload hospital %s: %w", hospitalID, err)
	}
	if ok, err = s.adm.EndReload(ctx, hospitalID, token); err != nil {
		return fmt.Errorf("reload hospital %s: %w", hospitalID, err)
	}
	if !ok {
		return fmt.Errorf("reload hospital %s: %w", hospitalID, errClaimLost)
	}
	s.setHealth(hospitalID, StateWhole)
	s.reloads.Add(1)
	s.log.Info("reloaded a hospital's admission state from SQL", "hospital_id", hospitalID,
		"sessions", len(sessions), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// redelayReturned sends the slots bookings gave back through the return
// path again when a hospital's state is reloaded. The random delays and the
// waitlist rounds they waited for were lost with Redis's state, and the load
// put them in their pools, where the first to poll would take them ahead of
// the people in line (review12). Each free one, of a session open for
// booking, waits a new random delay and is then placed as any returned slot
// is: the line's head, else held for a round still open (reconcileWaitlists
// rebuilt the rounds from SQL), else its pool. It runs before the state is
// marked whole, so no booking attempt meets the slot in its pool first.
func (s *Service) redelayReturned(ctx context.Context, hospitalID string, sessions []*Session) error {
	if len(sessions) == 0 {
		return nil
	}
	returned, err := s.store.ReturnedSlots(ctx, hospitalID, oldestVisit(sessions))
	if err != nil || len(returned) == 0 {
		return err
	}
	now := s.cfg.Now()
	var slots []DelayedSlot
	for _, ss := range sessions {
		if ss.Stopped() || !now.Before(ss.Closes()) {
			continue
		}
		for _, sl := range ss.Slots {
			q, ok := ss.Channel(sl.Channel)
			if !ok || now.Before(q.ReleaseAt) || !slices.Contains(returned[ss.ID], sl.No) {
				continue
			}
			slots = append(slots, DelayedSlot{HospitalID: hospitalID, SessionID: ss.ID, SlotNo: sl.No, Channel: sl.Channel})
		}
	}
	n, err := s.adm.Redelay(ctx, slots, s.returnDelay)
	if n > 0 {
		s.log.Info("returned slots wait again for the waitlist after a reload", "hospital_id", hospitalID, "slots", n)
	}
	return err
}

// Heal reads every hospital's state mark and starts the reload of each one
// whose state is not whole, and starts again the session reconciliations
// that failed. It is the heal job, run every second.
func (s *Service) Heal(ctx context.Context) error {
	_, err := s.readStates(ctx)
	if err == nil {
		s.retryDirty()
	}
	return err
}

// readStates reads the marks, records them and starts the reloads needed.
func (s *Service) readStates(ctx context.Context) (map[string]StateStatus, error) {
	hs := s.catalog.Load().Hospitals()
	if len(hs) == 0 {
		return nil, nil
	}
	ids := make([]string, len(hs))
	for i, h := range hs {
		ids[i] = h.ID
	}
	st, err := s.adm.States(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("read admission states: %w", err)
	}
	out := make(map[string]StateStatus, len(ids))
	for i, id := range ids {
		out[id] = st[i]
		if st[i] == StateWhole {
			s.setHealth(id, StateWhole)
		} else {
			s.stateLost(id, st[i])
		}
	}
	return out, nil
}

// Reloads counts the hospital reloads this instance completed.
func (s *Service) Reloads() int64 { return s.reloads.Load() }

// NotReady is Ready's refusal. Reason is what a load balancer is told on
// the API's address (/readyz): what is wrong, in a few words, with no
// hospital and no Redis internals (review19a L9). The error's own text is
// the whole detail (which hospital, why, for how long), for the admin
// address's /readyz.
type NotReady struct {
	Reason string
	Err    error
}

func (e *NotReady) Error() string { return e.Err.Error() }
func (e *NotReady) Unwrap() error { return e.Err }

// Ready reports whether Redis and SQL both answer, SQL takes writes, and every hospital's
// state in Redis is whole; if not, a *NotReady says which and why.
func (s *Service) Ready(ctx context.Context) error {
	err := s.store.Ping(ctx)
	if ctx.Err() == nil {
		s.writes.probed(err, s.cfg.Now())
	}
	if err != nil {
		if errors.Is(err, ErrReadOnly) {
			return &NotReady{Reason: "the database refuses writes", Err: fmt.Errorf("%w: %w",
				Errorf(ErrUnavailable, "not ready: the database answers but refuses writes (read-only: default_transaction_read_only, a standby, a full disk); no booking can commit"), err)}
		}
		return &NotReady{Reason: "the database does not answer", Err: fmt.Errorf("%w: %w", Errorf(ErrUnavailable, "not ready: the database does not answer"), err)}
	}
	if err := s.adm.Ping(ctx); err != nil {
		return &NotReady{Reason: "the admission store does not answer", Err: fmt.Errorf("%w: %w", Errorf(ErrUnavailable, "not ready: Redis does not answer"), err)}
	}
	st, err := s.readStates(ctx)
	if err != nil {
		return &NotReady{Reason: "the admission state cannot be read", Err: fmt.Errorf("%w: %w", Errorf(ErrUnavailable, "not ready: the admission state cannot be read"), err)}
	}
	var bad []string
	cat := s.catalog.Load()
	health := *s.health.Load()
	for _, id := range slices.Sorted(maps.Keys(st)) {
		if st[id] == StateWhole {
			continue
		}
		name := id
		if h, ok := cat.Hospital(id); ok {
			name = fmt.Sprintf("%s (%s)", h.Name, id)
		}
		why := map[StateStatus]string{
			StateMissing:   "missing in Redis (lost or never loaded)",
			StateStale:     "from an earlier Redis process (restarted from its files, or a replica took over)",
			StateReloading: "being reloaded (the reload's claim is held)",
		}[st[id]]
		line := fmt.Sprintf("the booking state of hospital %s is %s; reloading from SQL", name, why)
		if h, ok := health[id]; ok {
			line += fmt.Sprintf(" (for %s)", s.cfg.Now().Sub(h.since).Round(100*time.Millisecond))
		}
		bad = append(bad, line)
	}
	if len(bad) > 0 {
		return &NotReady{Reason: "the booking state is being rebuilt from the database",
			Err: Errorf(ErrUnavailable, "not ready: %s", strings.Join(bad, "; "))}
	}
	return nil
}
