package booking

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// catalogHorizon is how far back the catalog reaches: yesterday's sessions
// stay visible so a booking list can still name them.
const catalogHorizon = 24 * time.Hour

// Refresh reloads the schedule from SQL and loads sessions Redis has not seen
// yet. It returns the number of sessions newly loaded.
func (s *Service) Refresh(ctx context.Context) (int, error) {
	from := s.cfg.Now().Add(-catalogHorizon).In(chinaStandardTime).Format(time.DateOnly)
	sch, err := s.store.LoadSchedule(ctx, from)
	if err != nil {
		return 0, fmt.Errorf("refresh catalog: %w", err)
	}
	if err := s.loadBlocked(ctx); err != nil {
		return 0, fmt.Errorf("refresh blocked accounts: %w", err)
	}
	if s.memo != nil {
		s.memo.prune(s.cfg.Now())
	}
	prev := s.catalog.Load()
	next := NewCatalog(sch)
	var fresh []*Session
	for id, e := range next.session {
		if old, ok := prev.session[id]; !ok || lotteryChanged(old.Session, e.Session) {
			fresh = append(fresh, e.Session)
		}
	}
	s.catalog.Store(next)
	if len(fresh) == 0 {
		return 0, nil
	}
	return len(fresh), s.reconcile(ctx, next, fresh)
}

// Reconcile makes Redis match SQL for every upcoming session: slots booked in
// SQL are held, holds SQL does not know are released (unless their commit may
// still be in flight), and every other slot is free. It is safe while the
// service takes traffic.
func (s *Service) Reconcile(ctx context.Context) error {
	cat := s.catalog.Load()
	var all []*Session
	for _, h := range cat.Hospitals() {
		all = append(all, cat.HospitalSessions(h.ID)...)
	}
	return s.reconcile(ctx, cat, all)
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

func (s *Service) reconcileSession(ctx context.Context, sessionID string) {
	cat := s.catalog.Load()
	sess, ok := cat.Session(sessionID)
	if !ok {
		return
	}
	if err := s.reconcile(ctx, cat, []*Session{sess}); err != nil {
		s.log.Error("reconcile session", "session_id", sessionID, "err", err)
	}
}

func (s *Service) reconcile(ctx context.Context, cat *Catalog, sessions []*Session) error {
	byHospital := map[string][]*Session{}
	for _, ss := range sessions {
		byHospital[ss.HospitalID] = append(byHospital[ss.HospitalID], ss)
	}
	for hid, list := range byHospital {
		ids := make([]string, len(list))
		oldest := list[0].VisitDate
		for i, ss := range list {
			ids[i] = ss.ID
			oldest = min(oldest, ss.VisitDate)
		}
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
				if !inSQL[h.BookingID] {
					_, found := st[h.BookingID]
					stale[h.SessionID] = append(stale[h.SessionID], StaleHold{Hold: h, Forget: !found})
				}
			}
		}
		for _, ss := range list {
			if err := s.adm.Load(ctx, ss, bySession[ss.ID], stale[ss.ID]); err != nil {
				return fmt.Errorf("reconcile session %s: %w", ss.ID, err)
			}
		}
		if err := s.reconcileWaitlists(ctx, hid, list); err != nil {
			return fmt.Errorf("reconcile hospital %s: %w", hid, err)
		}
		if err := s.reconcileEntries(ctx, hid, list, oldest); err != nil {
			return fmt.Errorf("reconcile hospital %s: %w", hid, err)
		}
	}
	return s.reconcileBars(ctx)
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
		add[e.SessionID] = append(add[e.SessionID], WaitlistRef{ID: e.ID, IdentityKey: e.IdentityKey})
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
		if err := s.adm.SyncWaitlist(ctx, hospitalID, ss.ID, drop, add[ss.ID]); err != nil {
			return err
		}
	}
	return nil
}

// reconcileBars writes every active bar into Redis.
func (s *Service) reconcileBars(ctx context.Context) error {
	bars, err := s.store.ActiveBars(ctx, s.cfg.Now())
	if err != nil {
		return err
	}
	s.applyBars(ctx, bars)
	return nil
}

// Sweep settles holds whose pending deadline has passed: confirmed if SQL
// has the booking, released otherwise. This is what recovers a crash between
// admission and commit. It returns how many holds it released.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	released := 0
	for _, h := range s.catalog.Load().Hospitals() {
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
			if found && status.Active() {
				err = s.adm.Confirm(ctx, hd.HospitalID, hd.BookingID)
			} else {
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

// Background runs the periodic jobs until ctx ends: catalog refresh, the
// pending-hold sweeper, and a full reconciliation.
type Background struct {
	Refresh   time.Duration // 30s
	Sweep     time.Duration // 5s: abandoned holds, and returned slots whose delay is over
	Reconcile time.Duration // 10m
	NoShows   time.Duration // 1m
	Detect    time.Duration // 5m: scalper detection over the recent events
	Lottery   time.Duration // 2s: lottery seeds for windows about to open, and draws that are due
}

// Run runs the jobs of b until ctx is done.
func (s *Service) Run(ctx context.Context, b Background) {
	tick := func(d, def time.Duration) *time.Ticker {
		if d <= 0 {
			d = def
		}
		return time.NewTicker(d)
	}
	refresh, sweep, rec := tick(b.Refresh, 30*time.Second), tick(b.Sweep, 5*time.Second), tick(b.Reconcile, 10*time.Minute)
	noShows := tick(b.NoShows, time.Minute)
	detect := tick(b.Detect, 5*time.Minute)
	lottery := tick(b.Lottery, 2*time.Second)
	defer lottery.Stop()
	defer detect.Stop()
	defer refresh.Stop()
	defer sweep.Stop()
	defer rec.Stop()
	defer noShows.Stop()
	for {
		var err error
		select {
		case <-ctx.Done():
			return
		case <-refresh.C:
			_, err = s.Refresh(ctx)
		case <-sweep.C:
			var n int
			n, err = s.Sweep(ctx)
			if n > 0 {
				s.log.Info("swept abandoned holds", "released", n)
			}
			if err == nil {
				if n, err = s.PlaceDelayed(ctx); n > 0 {
					s.log.Info("placed returned slots after their delay", "placed", n)
				}
			}
		case <-detect.C:
			var n int
			if n, err = s.Detect(ctx); n > 0 {
				s.log.Info("scalper detection opened flags", "flags", n)
			}
		case <-noShows.C:
			var n int
			var bars []Bar
			if n, bars, err = s.MarkNoShows(ctx); n > 0 {
				s.log.Info("marked no-shows", "no_shows", n, "bars", len(bars))
			}
		case <-rec.C:
			err = s.Reconcile(ctx)
		case <-lottery.C:
			_, err = s.RunLottery(ctx)
		}
		if err != nil && ctx.Err() == nil {
			s.log.Error("background job", "err", err)
		}
	}
}
