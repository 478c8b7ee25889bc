package booking

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// catalogHorizon is how far back the catalog reaches: yesterday's sessions
// stay visible so a booking list can still name them.
const catalogHorizon = 24 * time.Hour

// Refresh reloads the schedule from SQL and loads sessions Redis has not
// seen yet, before it publishes them: a session in the catalog is in Redis
// unless Redis lost it (heal.go relies on that). A hospital whose state is
// not whole is reloaded entirely. It returns the number of sessions newly
// loaded.
func (s *Service) Refresh(ctx context.Context) (int, error) {
	s.refreshing.Lock()
	defer s.refreshing.Unlock()
	// The version is read before the schedule: a change committed between
	// the two reads is in the schedule or moves the version again, so the
	// next watch reloads; it is never missed.
	version, verr := s.store.CatalogVersion(ctx)
	next, err := s.loadCatalog(ctx)
	if err != nil {
		return 0, err
	}
	prev := s.catalog.Load()
	var fresh []*Session
	for id, e := range next.session {
		if old, ok := prev.session[id]; !ok || lotteryChanged(old.Session, e.Session) {
			fresh = append(fresh, e.Session)
		}
	}
	if len(fresh) > 0 {
		err = s.loadSessions(ctx, next, fresh)
	}
	// Published even if loading failed: Reserve then answers that the
	// session is missing, which starts a reload of its hospital.
	s.catalog.Store(next)
	if verr == nil {
		s.catalogVersion.Store(version)
	}
	return len(fresh), err
}

// WatchCatalog reloads the catalog when the schedule changed since it was
// loaded (another instance published, changed or stopped a session): one
// single-row read a second on every instance, so a change reaches every
// instance within about a second rather than at the 30 s refresh. It
// reports whether it reloaded.
func (s *Service) WatchCatalog(ctx context.Context) (bool, error) {
	v, err := s.store.CatalogVersion(ctx)
	if err != nil || v == s.catalogVersion.Load() {
		return false, err
	}
	_, err = s.Refresh(ctx)
	return true, err
}

// LoadCatalog reloads the schedule from SQL into memory and changes nothing
// in Redis or SQL, for tools that only read (reconcile --check). It returns
// the number of sessions.
func (s *Service) LoadCatalog(ctx context.Context) (int, error) {
	s.refreshing.Lock()
	defer s.refreshing.Unlock()
	next, err := s.loadCatalog(ctx)
	if err != nil {
		return 0, err
	}
	s.catalog.Store(next)
	return len(next.session), nil
}

func (s *Service) loadCatalog(ctx context.Context) (*Catalog, error) {
	from := s.cfg.Now().Add(-catalogHorizon).In(chinaStandardTime).Format(time.DateOnly)
	sch, err := s.store.LoadSchedule(ctx, from)
	if err != nil {
		return nil, fmt.Errorf("refresh catalog: %w", err)
	}
	if err := s.loadBlocked(ctx); err != nil {
		return nil, fmt.Errorf("refresh blocked accounts: %w", err)
	}
	if err := s.loadClosings(ctx); err != nil {
		return nil, fmt.Errorf("refresh pending closings: %w", err)
	}
	if err := s.refreshRevocations(ctx); err != nil {
		return nil, fmt.Errorf("refresh token revocations: %w", err)
	}
	if s.memo != nil {
		s.memo.prune(s.cfg.Now())
	}
	if s.entryMemo != nil {
		s.entryMemo.prune(s.cfg.Now())
	}
	return NewCatalog(sch), nil
}

// Reconcile makes Redis match SQL for every upcoming session: slots booked in
// SQL are held, holds SQL does not know are released (unless their commit may
// still be in flight), and every other slot is free. A hospital whose state
// is not whole is reloaded (and marked whole); the others are reconciled in
// place, safely while the service takes traffic.
func (s *Service) Reconcile(ctx context.Context) error {
	cat := s.catalog.Load()
	var all []*Session
	for _, h := range cat.Hospitals() {
		all = append(all, cat.HospitalSessions(h.ID)...)
	}
	return errors.Join(s.loadSessions(ctx, cat, all), s.reconcileBars(ctx))
}

// loadSessions reconciles sessions of cat in place where their hospital's
// state is whole, and reloads the hospitals whose state is not.
func (s *Service) loadSessions(ctx context.Context, cat *Catalog, sessions []*Session) error {
	byHospital := map[string][]*Session{}
	var ids []string
	for _, ss := range sessions {
		if _, ok := byHospital[ss.HospitalID]; !ok {
			ids = append(ids, ss.HospitalID)
		}
		byHospital[ss.HospitalID] = append(byHospital[ss.HospitalID], ss)
	}
	for _, h := range cat.Hospitals() {
		if _, ok := byHospital[h.ID]; !ok {
			ids = append(ids, h.ID) // a hospital without sessions still needs its mark
		}
	}
	if len(ids) == 0 {
		return nil
	}
	st, err := s.adm.States(ctx, ids)
	if err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	var inPlace []*Session
	var errs []error
	for i, id := range ids {
		if st[i] == StateWhole {
			inPlace = append(inPlace, byHospital[id]...)
			continue
		}
		s.setHealth(id, st[i])
		errs = append(errs, s.reloadHospital(ctx, cat, id))
	}
	return errors.Join(append(errs, s.reconcile(ctx, cat, inPlace))...)
}

// reconcileLater reconciles a session in the background, after drift was
// seen or a Redis step of a committed change was lost: one run per session
// at a time, however many saw it. Until a run succeeds the session stays
// marked, and the heal job (every second) starts it again: a cancelled
// slot whose return Redis missed while it was unreachable is back in its
// pool a second after Redis is, not at the next full reconciliation.
func (s *Service) reconcileLater(sessionID string) {
	s.dirtyMu.Lock()
	s.dirty[sessionID] = true
	s.dirtyMu.Unlock()
	s.tasks.start("reconcile session "+sessionID, s.cfg.ReloadTimeout, func(ctx context.Context) error {
		err := s.reconcileSession(ctx, sessionID)
		if err == nil {
			s.dirtyMu.Lock()
			delete(s.dirty, sessionID)
			s.dirtyMu.Unlock()
		}
		return err
	})
}

// retryDirty starts again the reconciliations that have not succeeded yet.
func (s *Service) retryDirty() {
	s.dirtyMu.Lock()
	ids := slices.Collect(maps.Keys(s.dirty))
	s.dirtyMu.Unlock()
	for _, id := range ids {
		s.reconcileLater(id)
	}
}

// lotteryChanged reports whether a session's lottery pools changed in a
// way Redis must learn: a seed committed (the pool takes entries), or a draw
// finished (what is left is served first-come).
func lotteryChanged(prev, next *Session) bool {
	for _, q := range next.Channels {
		if !q.IsLottery() {
			continue
		}
		p, ok := prev.Channel(q.Channel)
		if !ok || (p.Draw == nil) != (q.Draw == nil) || p.Draw != nil && q.Draw != nil && p.Draw.Status != q.Draw.Status {
			return true
		}
	}
	return false
}

func (s *Service) reconcileSession(ctx context.Context, sessionID string) error {
	cat := s.catalog.Load()
	sess, ok := cat.Session(sessionID)
	if !ok {
		return nil
	}
	return s.reconcile(ctx, cat, []*Session{sess})
}

// oldestVisit is the earliest visit date of sessions ("" for none): what
// reconciliation and its check read SQL from.
func oldestVisit(sessions []*Session) string {
	if len(sessions) == 0 {
		return ""
	}
	oldest := sessions[0].VisitDate
	for _, ss := range sessions[1:] {
		oldest = min(oldest, ss.VisitDate)
	}
	return oldest
}

func (s *Service) reconcile(ctx context.Context, cat *Catalog, sessions []*Session) error {
	byHospital := map[string][]*Session{}
	for _, ss := range sessions {
		byHospital[ss.HospitalID] = append(byHospital[ss.HospitalID], ss)
	}
	for hid, list := range byHospital {
		ids := make([]string, len(list))
		for i, ss := range list {
			ids[i] = ss.ID
		}
		oldest := oldestVisit(list)
		// Redis first, SQL second: a hold that is neither pending nor in
		// SQL when read in this order was really abandoned or cancelled.
		holds, err := s.adm.Holds(ctx, hid, ids)
		if err != nil {
			return fmt.Errorf("reconcile hospital %s: %w", hid, err)
		}
		active, err := s.store.ActiveBookings(ctx, hid, oldest)
		if err != nil {
			return fmt.Errorf("reconcile hospital %s: %w", hid, err)
		}
		inSQL := make(map[string]bool, len(active))
		bySession := map[string][]Booking{}
		for _, b := range active {
			inSQL[b.ID] = true
			bySession[b.SessionID] = append(bySession[b.SessionID], b)
		}
		// A hold not among SQL's active bookings was abandoned or
		// cancelled, unless it is in flight: pending, with no row in SQL
		// (its commit may land yet), or active in SQL now (committed since
		// SQL was read). The sweeper settles those after their deadline.
		// A pending one SQL has cancelled is stale: its cancellation
		// committed (cancel marks the hold pending first).
		now := s.cfg.Now()
		var unknown []string
		for _, h := range holds {
			if !inSQL[h.BookingID] {
				unknown = append(unknown, h.BookingID)
			}
		}
		stale := map[string][]StaleHold{}
		if len(unknown) > 0 {
			st, err := s.store.BookingStatuses(ctx, unknown)
			if err != nil {
				return fmt.Errorf("reconcile hospital %s: %w", hid, err)
			}
			for _, h := range holds {
				if inSQL[h.BookingID] {
					continue
				}
				status, found := st[h.BookingID]
				if found && status.Active() || !found && h.PendingUntil.After(now) {
					continue
				}
				stale[h.SessionID] = append(stale[h.SessionID], StaleHold{Hold: h, Forget: !found, Cancelled: found})
			}
		}
		for _, ss := range list {
			if err := s.adm.Load(ctx, ss, bySession[ss.ID], stale[ss.ID]); err != nil {
				return fmt.Errorf("reconcile session %s: %w", ss.ID, err)
			}
		}
		if err := s.freeCancelledSince(ctx, list, bySession); err != nil {
			return fmt.Errorf("reconcile hospital %s: %w", hid, err)
		}
		if err := s.reconcileWaitlists(ctx, hid, list); err != nil {
			return fmt.Errorf("reconcile hospital %s: %w", hid, err)
		}
		if err := s.reconcileEntries(ctx, hid, list, oldest); err != nil {
			return fmt.Errorf("reconcile hospital %s: %w", hid, err)
		}
	}
	return nil
}

// freeCancelledSince closes reconcile's window between reading SQL and
// loading Redis: a booking active when SQL was read and cancelled before
// Load installed its hold had that hold given back first — its release
// found nothing to free, as while a reload rebuilds a Redis that lost its
// state (the fault table met it) — and Load then held a slot SQL has free,
// until the next reconciliation. SQL is read again after the loads, and a
// loaded booking no longer active is released as a stale hold; only those
// are passed, so no hold is installed again. A booking cancelled after this
// read releases the hold Load installed itself.
func (s *Service) freeCancelledSince(ctx context.Context, sessions []*Session, loaded map[string][]Booking) error {
	var ids []string
	for _, bs := range loaded {
		for _, b := range bs {
			ids = append(ids, b.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	st, err := s.store.BookingStatuses(ctx, ids)
	if err != nil {
		return err
	}
	for _, ss := range sessions {
		var stale []StaleHold
		for _, b := range loaded[ss.ID] {
			if status, ok := st[b.ID]; ok && !status.Active() {
				stale = append(stale, StaleHold{Hold: HoldOf(b), Cancelled: true})
			}
		}
		if len(stale) == 0 {
			continue
		}
		if err := s.adm.Load(ctx, ss, nil, stale); err != nil {
			return fmt.Errorf("session %s: %w", ss.ID, err)
		}
		s.log.Info("reconcile: freed holds of bookings cancelled while it ran", "session_id", ss.ID, "holds", len(stale))
	}
	return nil
}

// entryDiff compares a hospital's live lottery entries in Redis and in SQL
// (entered or held out: those that hold their quota), per session: missing
// are in SQL only, stale in Redis only. Redis is read first: an entry
// admitted meanwhile is pending in Redis, and left alone as stale.
func (s *Service) entryDiff(ctx context.Context, hospitalID string, sessions []*Session, oldest string) (missing map[string][]Entry, stale map[string][]EntryRef, err error) {
	ids := make([]string, len(sessions))
	for i, ss := range sessions {
		ids[i] = ss.ID
	}
	inRedis, err := s.adm.Entries(ctx, hospitalID, ids)
	if err != nil {
		return nil, nil, err
	}
	live, err := s.store.LiveEntries(ctx, hospitalID, oldest)
	if err != nil {
		return nil, nil, err
	}
	known := make(map[string]bool, len(inRedis))
	for _, r := range inRedis {
		known[r.EntryID] = true
	}
	inSQL := make(map[string]bool, len(live))
	missing, stale = map[string][]Entry{}, map[string][]EntryRef{}
	for _, e := range live {
		inSQL[e.ID] = true
		if !known[e.ID] {
			missing[e.SessionID] = append(missing[e.SessionID], e)
		}
	}
	for _, r := range inRedis {
		if !inSQL[r.EntryID] {
			stale[r.SessionID] = append(stale[r.SessionID], r)
		}
	}
	return missing, stale, nil
}

// reconcileEntries makes the live entries in Redis match SQL: entries SQL
// has are held again, entries it does not have are released unless their
// commit may still be in flight.
func (s *Service) reconcileEntries(ctx context.Context, hospitalID string, sessions []*Session, oldest string) error {
	missing, stale, err := s.entryDiff(ctx, hospitalID, sessions, oldest)
	if err != nil {
		return err
	}
	for _, ss := range sessions {
		if len(missing[ss.ID]) == 0 && len(stale[ss.ID]) == 0 {
			continue
		}
		if err := s.adm.LoadEntries(ctx, ss, missing[ss.ID], stale[ss.ID]); err != nil {
			return err
		}
	}
	return nil
}

// reconcileWaitlists makes each session's waitlist in Redis match SQL:
// entries SQL closed are dropped, waiting entries Redis lacks are appended.
// Redis is read first: an entry joining meanwhile is in SQL before Redis.
func (s *Service) reconcileWaitlists(ctx context.Context, hospitalID string, sessions []*Session) error {
	inRedis := map[string][]WaitlistRef{}
	var ids []string
	for _, ss := range sessions {
		refs, err := s.adm.Waitlist(ctx, hospitalID, ss.ID)
		if err != nil {
			return err
		}
		inRedis[ss.ID] = refs
		for _, r := range refs {
			ids = append(ids, r.ID)
		}
	}
	waiting, err := s.store.WaitingEntries(ctx, hospitalID)
	if err != nil {
		return err
	}
	statuses := map[string]string{}
	if len(ids) > 0 {
		if statuses, err = s.store.WaitlistStatuses(ctx, ids); err != nil {
			return err
		}
	}
	add := map[string][]WaitlistRef{}
	for _, e := range waiting {
		add[e.SessionID] = append(add[e.SessionID], e.Ref())
	}
	for _, ss := range sessions {
		var drop []WaitlistRef
		for _, r := range inRedis[ss.ID] {
			if st, ok := statuses[r.ID]; ok && st != WaitlistWaiting {
				drop = append(drop, r)
			}
		}
		if len(drop) == 0 && len(add[ss.ID]) == len(inRedis[ss.ID]) {
			continue
		}
		if err := s.adm.SyncWaitlist(ctx, hospitalID, ss.ID, drop, add[ss.ID], s.cfg.Now()); err != nil {
			return err
		}
	}
	return nil
}

// reconcileBars writes every active bar into Redis, in every hospital.
func (s *Service) reconcileBars(ctx context.Context) error {
	return s.reconcileBarsIn(ctx, s.hospitalIDs(s.catalog.Load()))
}

// reconcileBarsIn writes every active bar into the given hospitals' Redis
// state; a failed write is an error, since a reload must not mark a state
// whole without its bars.
func (s *Service) reconcileBarsIn(ctx context.Context, hospitalIDs []string) error {
	bars, err := s.store.ActiveBars(ctx, s.cfg.Now())
	if err != nil || len(hospitalIDs) == 0 {
		return err
	}
	for _, b := range bars {
		if err := s.adm.Bar(ctx, hospitalIDs, b.IdentityKey, b.Until); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) hospitalIDs(cat *Catalog) []string {
	ids := make([]string, 0, len(cat.Hospitals()))
	for _, h := range cat.Hospitals() {
		ids = append(ids, h.ID)
	}
	return ids
}

// Sweep settles holds whose pending deadline has passed: confirmed if SQL
// has the booking active, given back as a returned slot if SQL has it
// cancelled, released otherwise. This is what recovers a crash between
// admission and commit, and between a cancellation's commit and its
// slot's return (cancel marks the hold pending first). It returns how many
// holds it released.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	released := 0
	cat := s.catalog.Load()
	for _, h := range cat.Hospitals() {
		holds, err := s.adm.Expired(ctx, h.ID, s.cfg.Now(), 1000)
		if err != nil || len(holds) == 0 {
			if err != nil {
				return released, fmt.Errorf("sweep %s: %w", h.ID, err)
			}
			continue
		}
		ids := make([]string, len(holds))
		for i, hd := range holds {
			ids[i] = hd.BookingID
		}
		st, err := s.store.BookingStatuses(ctx, ids)
		if err != nil {
			return released, fmt.Errorf("sweep %s: %w", h.ID, err)
		}
		for _, hd := range holds {
			status, found := st[hd.BookingID]
			if !found && s.promoteAgain(ctx, hd) {
				continue
			}
			sess, known := cat.Session(hd.SessionID)
			switch {
			case found && status.Active():
				err = s.adm.Confirm(ctx, hd.HospitalID, hd.BookingID)
			case found && status == StatusCancelled && known:
				// Its cancellation committed and the process died before
				// the slot was given back: it goes where a cancelled slot
				// goes (the waitlist first). A release by the cancelling
				// process meanwhile leaves nothing to give.
				if pl := s.returnSlot(ctx, sess, Booking{ID: hd.BookingID, HospitalID: hd.HospitalID, SessionID: hd.SessionID,
					SlotNo: hd.SlotNo, Channel: hd.Channel, IdentityKey: hd.IdentityKey}, Return{}); pl.Outcome != PlacedNone {
					released++
				}
			default:
				err = s.adm.Release(ctx, hd, Release{ReturnSlot: true, Forget: !found, OnlyIfExpired: true})
				if err == nil {
					released++
				} else if errors.Is(err, ErrHoldPending) {
					err = nil // the Redis clock says it is not due yet
				}
			}
			if err != nil {
				return released, fmt.Errorf("sweep hold %s: %w", hd.BookingID, err)
			}
		}
	}
	n, err := s.sweepEntries(ctx)
	return released + n, err
}

// sweepEntries settles lottery entries whose pending deadline passed: the
// process that admitted them crashed, or lost its answer from SQL. SQL
// decides: an entry it has stays (confirmed), one it lacks is released.
func (s *Service) sweepEntries(ctx context.Context) (int, error) {
	released := 0
	for _, h := range s.catalog.Load().Hospitals() {
		refs, err := s.adm.ExpiredEntries(ctx, h.ID, s.cfg.Now(), 1000)
		if err != nil || len(refs) == 0 {
			if err != nil {
				return released, fmt.Errorf("sweep entries %s: %w", h.ID, err)
			}
			continue
		}
		ids := make([]string, len(refs))
		for i, r := range refs {
			ids[i] = r.EntryID
		}
		st, err := s.store.EntryStatuses(ctx, ids)
		if err != nil {
			return released, fmt.Errorf("sweep entries %s: %w", h.ID, err)
		}
		var durable []string
		var gone []EntryRef
		for _, r := range refs {
			switch st[r.EntryID] {
			case EntryEntered, EntryHeldOut:
				durable = append(durable, r.EntryID)
			case "":
				gone = append(gone, r)
			default:
				// Decided already (drawn, withdrawn): the draw or the
				// withdrawal releases it; only the pending mark is left.
				durable = append(durable, r.EntryID)
			}
		}
		if len(durable) > 0 {
			if err := s.adm.ConfirmEntries(ctx, h.ID, durable); err != nil {
				return released, err
			}
		}
		if len(gone) > 0 {
			skipped, err := s.adm.ReleaseEntries(ctx, gone, false, true)
			if err != nil {
				return released, err
			}
			released += len(gone) - len(skipped)
		}
	}
	return released, nil
}

// promoteAgain retries the commit of a waitlist promotion whose hold is
// still in Redis but whose booking never reached SQL. It reports whether hd
// was such a promotion.
func (s *Service) promoteAgain(ctx context.Context, hd Hold) bool {
	e, err := s.store.WaitlistEntry(ctx, hd.BookingID)
	if err != nil || e.Status != WaitlistWaiting {
		return false
	}
	sess, ok := s.catalog.Load().Session(hd.SessionID)
	if !ok {
		return false
	}
	s.promote(ctx, sess, hd)
	return true
}

// Background says how often each periodic job runs; zero takes the
// default in the comment.
type Background struct {
	Refresh time.Duration // 30s
	// CatalogWatch: 1s: has the schedule changed (another instance's
	// change)? Then refresh now.
	CatalogWatch time.Duration
	Heal         time.Duration // 1s: is every hospital's state whole in Redis? (heal.go)
	Writes       time.Duration // 1s: does SQL answer and take writes? (writehealth.go)
	Sweep        time.Duration // 5s: abandoned holds, and returned slots whose delay is over
	Reconcile    time.Duration // 10m
	NoShows      time.Duration // 1m
	Detect       time.Duration // 5m: scalper detection over the recent events
	Lottery      time.Duration // 2s: lottery seeds for windows about to open, and draws that are due
	Notify       time.Duration // 2s: hand undelivered notifications to the sender (notify.go)
	Retention    time.Duration // 1h: delete call-back rows and numbers past their need (retention.go)
	// Lease, when set, lets one instance at a time run the exclusive jobs.
	Lease Lease
	// Metrics, when set, receives each run's outcome.
	Metrics JobMetrics
}

// Run runs the periodic jobs, each in its own goroutine with a deadline per
// run, until ctx ends; it returns when all of them have.
func (s *Service) Run(ctx context.Context, b Background) {
	RunJobs(ctx, s.log, b.Lease, b.Metrics, s.Jobs(b))
}

// Jobs are the Service's periodic jobs.
func (s *Service) Jobs(b Background) []Job {
	every := func(d, def time.Duration) time.Duration {
		if d <= 0 {
			return def
		}
		return d
	}
	logged := func(what, key string, f func(context.Context) (int, error)) func(context.Context) error {
		return func(ctx context.Context) error {
			n, err := f(ctx)
			if n > 0 {
				s.log.Info(what, key, n)
			}
			return err
		}
	}
	sweep := every(b.Sweep, 5*time.Second)
	return []Job{
		{Name: "refresh", Every: every(b.Refresh, 30*time.Second), Timeout: 30 * time.Second,
			Run: func(ctx context.Context) error { _, err := s.Refresh(ctx); return err }},
		{Name: "catalog watch", Every: every(b.CatalogWatch, time.Second), Timeout: 30 * time.Second,
			Run: func(ctx context.Context) error { _, err := s.WatchCatalog(ctx); return err }},
		// A desk link on another instance: the patients cached here read
		// their person again (desklink.go).
		{Name: "person links", Every: every(b.CatalogWatch, time.Second), Timeout: 30 * time.Second,
			Run: func(ctx context.Context) error { _, err := s.WatchLinks(ctx); return err }},
		// Reading the marks is one round trip; a reload it starts is a task
		// with its own deadline (--reload-timeout).
		{Name: "heal", Every: every(b.Heal, time.Second), Timeout: 5 * time.Second, Run: s.Heal},
		// Does SQL answer and take writes? Asked on every instance, whatever
		// its traffic, under a commit's own deadline (writehealth.go).
		{Name: "sql writes", Every: every(b.Writes, time.Second), Timeout: s.cfg.CommitTimeout, Run: s.ProbeWrites},
		{Name: "sweep", Every: sweep, Timeout: max(sweep, 30*time.Second),
			Run: logged("swept abandoned holds", "released", s.Sweep)},
		{Name: "place delayed", Every: sweep, Timeout: max(sweep, 30*time.Second),
			Run: logged("placed returned slots after their delay", "placed", s.PlaceDelayed)},
		{Name: "reconcile", Every: every(b.Reconcile, 10*time.Minute), Timeout: 5 * time.Minute, Exclusive: true,
			Run: s.Reconcile},
		{Name: "no-shows", Every: every(b.NoShows, time.Minute), Timeout: time.Minute, Exclusive: true,
			Run: func(ctx context.Context) error {
				n, bars, err := s.MarkNoShows(ctx)
				if n > 0 {
					s.log.Info("marked no-shows", "no_shows", n, "bars", len(bars))
				}
				return err
			}},
		// What a closing left live (its second sweep failed) is swept
		// again until nothing is left (closing.go).
		{Name: "closed accounts", Every: every(b.NoShows, time.Minute), Timeout: time.Minute, Exclusive: true,
			Run: logged("swept closed accounts again", "cancelled", s.SweepClosedAccounts)},
		// A holder's online closing completes after its cooling-off, if no
		// login cancelled it (closing.go).
		{Name: "pending closings", Every: every(b.NoShows, time.Minute), Timeout: time.Minute, Exclusive: true,
			Run: logged("completed pending closings", "closed", s.CompleteClosings)},
		// A desk login move the card did not prove takes effect after its
		// cooling-off, if its holder did not cancel it (moveback.go).
		{Name: "pending login moves", Every: every(b.NoShows, time.Minute), Timeout: time.Minute, Exclusive: true,
			Run: logged("completed pending login moves", "moved", s.CompleteLoginMoves)},
		// A substitute offer (替诊) nobody answered ends at its time, before
		// the session starts: its held booking is cancelled without penalty.
		{Name: "lapse offers", Every: sweep, Timeout: max(sweep, 30*time.Second), Exclusive: true,
			Run: logged("lapsed substitute offers", "lapsed", s.LapseOffers)},
		{Name: "detect", Every: every(b.Detect, 5*time.Minute), Timeout: 5 * time.Minute, Exclusive: true,
			Run: logged("scalper detection opened flags", "flags", s.Detect)},
		// Every instance looks; a draw itself runs under its own claim in
		// SQL (draw.go), so one instance draws a pool and another takes a
		// crashed draw over where it stopped.
		{Name: "lottery", Every: every(b.Lottery, 2*time.Second), Timeout: 5 * time.Minute,
			Run: func(ctx context.Context) error { _, err := s.RunLottery(ctx); return err }},
		// One instance delivers at a time, so a notification is sent once
		// unless an instance dies between its send and its mark.
		{Name: "notify", Every: every(b.Notify, 2*time.Second), Timeout: 30 * time.Second, Exclusive: true,
			Run: func(ctx context.Context) error {
				if n, err := s.NotifyEvents(ctx); err != nil {
					return fmt.Errorf("notifications from events: %w", err)
				} else if n > 0 {
					s.log.Info("notifications from events", "written", n)
				}
				return logged("delivered notifications", "delivered", s.DeliverNotifications)(ctx)
			}},
		// One instance deletes at a time: two would race over the same
		// batches (each delete is safe twice, but twice the work). It logs
		// its counts itself.
		{Name: "retention", Every: every(b.Retention, time.Hour), Timeout: 5 * time.Minute, Exclusive: true,
			Run: func(ctx context.Context) error { _, err := s.Retain(ctx); return err }},
	}
}
