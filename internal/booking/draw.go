package booking

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// The draw of a lottery pool. It runs exactly once per pool, whatever the
// number of instances: each one's lottery job claims due pools in SQL with a
// lease (ClaimDraw), and only the holder draws. A draw records each stage as
// it goes, and every step is idempotent, so a draw cut short by a crash is
// resumed by whichever instance claims it after the lease ran out:
//
//  1. claim: the pool is marked drawing; from then on SQL refuses new
//     entries and withdrawals, so the entries are final;
//  2. rank: screen the entries (blocked or barred: excluded; in an open flag
//     scoring at least LotteryHoldScore: held out for review), compute the
//     drawn order of the eligible ones from the seed (DrawOrder) and store
//     it — stage ranked;
//  3. book: in drawn order, book each entry until the pool's slots are gone
//     (in waves of as many as slots are left, booked at once, see bookDrawn),
//     through the same admit → commit → confirm path as every booking, with
//     the entry's id as the booking's (a booking made before a crash is
//     found again, not made twice); an entry refused at booking (barred
//     since it entered) is passed over; losers go to the waitlist in drawn
//     order if they asked; store every outcome — stage booked;
//  4. finish: give the losers' quota back in Redis, open what is left to
//     first-come, publish the seed, audit.

// RunLottery is one run of the lottery job: commit the seeds of windows
// about to open, then draw the pools whose time has come. It returns the
// number of pools drawn.
func (s *Service) RunLottery(ctx context.Context) (int, error) {
	if err := s.commitSeeds(ctx); err != nil {
		return 0, err
	}
	return s.DrawDue(ctx)
}

// commitSeeds gives every lottery pool whose window opens within SeedLead a
// seed, and publishes its commitment: the catalog is reloaded and the pools
// are loaded into Redis, where they start taking entries once the window is
// open. A seed is made once: when two instances race, the first stored wins.
func (s *Service) commitSeeds(ctx context.Context) error {
	now := s.cfg.Now()
	cat := s.catalog.Load()
	var seeds []LotterySeed
	for _, h := range cat.Hospitals() {
		for _, sess := range cat.HospitalSessions(h.ID) {
			for _, q := range sess.Channels {
				if !q.IsLottery() || q.Draw != nil || q.OpensAt.After(now.Add(s.cfg.SeedLead)) || !now.Before(sess.StartsAt) {
					continue
				}
				seed := make([]byte, 32)
				if _, err := rand.Read(seed); err != nil {
					return fmt.Errorf("lottery seed: %w", err)
				}
				c, err := Commitment(CommitV2, sess.ID, q.Channel, seed)
				if err != nil {
					return err
				}
				seeds = append(seeds, LotterySeed{PoolKey: PoolKey{SessionID: sess.ID, Channel: q.Channel},
					HospitalID: sess.HospitalID, OpensAt: q.OpensAt, DrawAt: q.DrawAt,
					Sealed: s.keys.Seal(SeedPurpose(sess.ID, q.Channel), string(seed)), Sealing: SealedForPool,
					Commitment: c, Recipe: CommitV2, CreatedAt: now,
					// Recorded apart from the pool's row, when it is made:
					// what a later change of the row would be compared with.
					Audit: AuditEntry{ID: NameID("lottery seed committed", sess.ID, string(q.Channel)), TS: now,
						ActorRole: "system", Action: "lottery_seed_committed",
						Target: "session:" + sess.ID + "/" + string(q.Channel),
						Reason: fmt.Sprintf("commitment %x; entries open %s, draw %s", c,
							q.OpensAt.UTC().Format(time.RFC3339), q.DrawAt.UTC().Format(time.RFC3339)),
						HospitalID: sess.HospitalID}})
			}
		}
	}
	if len(seeds) == 0 {
		return nil
	}
	if err := s.store.CommitSeeds(ctx, seeds); err != nil {
		return fmt.Errorf("commit lottery seeds: %w", err)
	}
	s.log.Info("lottery seeds committed", "pools", len(seeds))
	_, err := s.Refresh(ctx)
	return err
}

// seedPurpose binds a sealed seed to its use (identity.Keyring.Seal).
const seedPurpose = "lottery_seed"

// SeedPurposeAlone is what a pool committed before pools were bound
// (SealedForPurpose) sealed its seed for: the rotation of the master key
// seals it again for the same.
const SeedPurposeAlone = seedPurpose

// DrawDue draws every pool whose draw time has come (DrawGrace ago) and that
// no other instance is drawing. It returns the number of pools it drew.
func (s *Service) DrawDue(ctx context.Context) (int, error) {
	// One run at a time in this instance: its claims carry its name, and a
	// claim of its own is taken again (after an error, without waiting for
	// the lease to run out).
	if !s.drawing.TryLock() {
		return 0, nil
	}
	defer s.drawing.Unlock()
	due, err := s.store.DuePools(ctx, s.cfg.Now().Add(-s.cfg.DrawGrace))
	if err != nil || len(due) == 0 {
		return 0, err
	}
	// Screening reads the review queue: bring it up to the moment the
	// entries closed, once per run, and only on the instance that claimed a
	// pool (the others would run the detector over the whole window for
	// nothing). It only opens flags; nobody is blocked by it.
	screened := false
	screen := func() {
		if screened || s.cfg.Detector == nil || s.cfg.LotteryHoldScore <= 0 {
			return
		}
		screened = true
		if _, err := s.Detect(ctx); err != nil {
			s.log.Warn("detection before the draw; screening uses the flags as they are", "err", err)
		}
	}
	drawn := 0
	var errs []error
	for _, k := range due {
		ok, err := s.draw(ctx, k, screen)
		if err != nil {
			errs = append(errs, fmt.Errorf("draw %s/%s: %w", k.SessionID, k.Channel, err))
		}
		if ok {
			drawn++
		}
	}
	if drawn > 0 {
		if _, err := s.Refresh(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return drawn, errors.Join(errs...)
}

// draw claims and draws one pool; it reports whether it finished it.
// screen runs once the claim is this instance's, before the ranking.
func (s *Service) draw(ctx context.Context, k PoolKey, screen func()) (bool, error) {
	start := time.Now()
	now := s.cfg.Now()
	claim, ok, err := s.store.ClaimDraw(ctx, k, s.owner, now.Add(-s.cfg.DrawGrace), now, now.Add(s.cfg.DrawLease))
	if err != nil || !ok {
		return false, err
	}
	screen()
	winners, err := s.drawClaimed(ctx, claim)
	if errors.Is(err, ErrLeaseLost) {
		s.log.Info("lottery draw taken over by another instance", "session_id", k.SessionID, "channel", k.Channel)
		return false, nil
	}
	s.cfg.LotteryMetrics.Drawn(time.Since(start), winners, err)
	if err != nil {
		return false, err
	}
	s.log.Info("lottery drawn", "session_id", k.SessionID, "channel", k.Channel, "winners", winners)
	return true, nil
}

func (s *Service) drawClaimed(ctx context.Context, c DrawClaim) (int, error) {
	cat := s.catalog.Load()
	sess, ok := cat.Session(c.SessionID)
	if !ok {
		return 0, fmt.Errorf("session %s is not in the catalog", c.SessionID)
	}
	q, ok := sess.Channel(c.Channel)
	h, hok := cat.Hospital(sess.HospitalID)
	if !ok || !hok {
		return 0, fmt.Errorf("session %s has no %s pool", sess.ID, c.Channel)
	}
	seed, err := s.openSeed(c)
	if err != nil {
		return 0, s.refuseDraw(c, err)
	}
	entries, err := s.store.PoolEntries(ctx, c.PoolKey)
	if err != nil {
		return 0, err
	}
	if err := entriesCommitted(c, entries); err != nil {
		return 0, s.refuseDraw(c, err)
	}
	if c.Stage == DrawStageNone {
		if err := s.rank(ctx, c, sess, seed); err != nil {
			return 0, err
		}
		if entries, err = s.store.PoolEntries(ctx, c.PoolKey); err != nil {
			return 0, err
		}
	}
	if c.Stage != DrawStageBooked {
		if entries, err = s.bookDrawn(ctx, c, sess, h, q, entries); err != nil {
			return 0, err
		}
	}
	return s.finishDraw(ctx, c, sess, seed, entries)
}

// ErrDrawRefused is a draw refused because its pool's row does not hold
// what was committed for it: a seed sealed for another pool (or not at
// all), a seed that is not its commitment's, or entries admitted under
// another commitment. Someone changed the row; the pool stays undrawn (and
// claimed: the job tries again and refuses again) until an operator looks
// (docs/operations.md "A lottery draw refused").
var ErrDrawRefused = errors.New("lottery draw refused: the pool's seed is not the one committed for it")

// openSeed opens a claimed pool's seed as its row says it was sealed, and
// checks it against the commitment.
func (s *Service) openSeed(c DrawClaim) ([]byte, error) {
	var purpose string
	switch c.Sealing {
	case SealedForPool:
		purpose = SeedPurpose(c.SessionID, c.Channel)
	case SealedForPurpose:
		purpose = seedPurpose
	default:
		return nil, fmt.Errorf("%w: unknown sealing %d", ErrDrawRefused, c.Sealing)
	}
	// A commitment bound to its pool came with a seal bound to it (both
	// since migration 0061's release); a purpose-only seal with one is a
	// row no release writes: an old pool's seal, whose seed may be public,
	// given a fresh commitment the unique index would not see.
	if c.Recipe == CommitV2 && c.Sealing != SealedForPool {
		return nil, fmt.Errorf("%w: a pool-bound commitment with a seal of sealing %d", ErrDrawRefused, c.Sealing)
	}
	plain, err := s.keys.Open(purpose, c.Sealed)
	if err != nil {
		return nil, fmt.Errorf("%w: the sealed seed does not open for this pool (%v)", ErrDrawRefused, err)
	}
	seed := []byte(plain)
	want, err := Commitment(c.Recipe, c.SessionID, c.Channel, seed)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDrawRefused, err)
	}
	if string(want) != string(c.Commitment) {
		return nil, fmt.Errorf("%w: the stored seed does not match its commitment (recipe %d)", ErrDrawRefused, c.Recipe)
	}
	return seed, nil
}

// entriesCommitted checks that every entry that names a commitment names
// the pool's. An entry admitted before entries kept one (or by an instance
// of the previous release in a rolling upgrade) names none, and is not
// checked: whoever could clear an entry's commitment could as well rewrite
// it, so requiring one would stop no one and would refuse honest draws
// during an upgrade.
func entriesCommitted(c DrawClaim, entries []Entry) error {
	n := 0
	for _, e := range entries {
		if e.Commitment != nil && string(e.Commitment) != string(c.Commitment) {
			n++
		}
	}
	if n > 0 {
		return fmt.Errorf("%w: %d of %d entries were admitted under another commitment than the pool's %x",
			ErrDrawRefused, n, len(entries), c.Commitment)
	}
	return nil
}

// refuseDraw logs a refused draw loudly and returns err.
func (s *Service) refuseDraw(c DrawClaim, err error) error {
	s.log.Error("LOTTERY DRAW REFUSED: the pool's row was changed after its seed was committed; the pool stays undrawn until an operator checks it",
		"session_id", c.SessionID, "channel", c.Channel, "commitment", fmt.Sprintf("%x", c.Commitment), "err", err)
	return err
}

// rank is stage 2: screening and the drawn order.
func (s *Service) rank(ctx context.Context, c DrawClaim, sess *Session, seed []byte) error {
	entries, err := s.store.PoolEntries(ctx, c.PoolKey)
	if err != nil {
		return err
	}
	var live []Entry
	for _, e := range entries {
		if e.Status == EntryEntered {
			live = append(live, e)
		}
	}
	screened, eligible, err := s.screen(ctx, live)
	if err != nil {
		return err
	}
	ids := make([]string, len(eligible))
	byID := make(map[string]Entry, len(eligible))
	for i, e := range eligible {
		ids[i], byID[e.ID] = e.ID, e
	}
	order, digest := DrawOrder(seed, sess.ID, c.Channel, ids)
	r := Ranking{Digest: digest, Entries: len(live), Screened: screened, Eligible: make([]Entry, len(order))}
	for i, id := range order {
		e := byID[id]
		e.Rank = i + 1
		r.Eligible[i] = e
	}
	// The pool's free slots are read from Redis: only from a whole state.
	// A Redis that lost it has no free pool, and a ranking with 0 slots
	// would publish a draw that gave nothing (and verifies). The draw
	// waits for the reload and resumes under its claim.
	// (Checked before and after the read, so a loss between the two is
	// seen too.)
	whole := func() error {
		st, err := s.adm.States(ctx, []string{sess.HospitalID})
		if err != nil {
			return err
		}
		if st[0] != StateWhole {
			s.stateLost(sess.HospitalID, st[0])
			return fmt.Errorf("rank the draw of session %s: %w", sess.ID, errStateRebuild)
		}
		return nil
	}
	if err := whole(); err != nil {
		return err
	}
	rem, err := s.adm.Remaining(ctx, []*Session{sess})
	if err != nil {
		return err
	}
	if err := whole(); err != nil {
		return err
	}
	r.Slots = rem[0][c.Channel]
	held := 0
	for _, e := range screened {
		if e.Status == EntryHeldOut {
			held++
		}
	}
	s.cfg.LotteryMetrics.Screened(EntryHeldOut, held)
	s.cfg.LotteryMetrics.Screened(EntryExcluded, len(screened)-held)
	return s.store.SaveRanking(ctx, c.PoolKey, s.owner, r, s.cfg.Now().Add(s.cfg.DrawLease))
}

// screen keeps out of the draw the entries of blocked accounts and of barred
// or blocked persons (excluded: they could not book anyway), and holds out
// for review those of accounts or persons in an open flag scoring at least
// LotteryHoldScore. It returns the screened entries and the eligible ones.
func (s *Service) screen(ctx context.Context, live []Entry) (screened, eligible []Entry, err error) {
	now := s.cfg.Now()
	blocked, err := s.store.BlockedAccounts(ctx, now)
	if err != nil {
		return nil, nil, err
	}
	bars, err := s.store.ActiveBars(ctx, now)
	if err != nil {
		return nil, nil, err
	}
	blockedAccount := map[string]bool{}
	for id := range blocked {
		blockedAccount[id] = true
	}
	barred := map[string]bool{}
	for _, b := range bars {
		barred[b.IdentityKey] = true
	}
	// The highest-scoring open flag of each account. Only the group's
	// accounts' entries are held out: an entry another account (a person's
	// own, say) or staff made for one of the group's persons is not the
	// group's, since anyone who knows an ID number and a name can list a
	// person (review21 H2).
	heldBy := map[string]Flag{}
	if s.cfg.LotteryHoldScore > 0 {
		// The entrants' flags, all of them: a page of the open flags
		// (the highest scores) let an entrant whose flag scored below the
		// page's last into the draw (session 23).
		seen := map[string]bool{}
		var accounts []string
		for _, e := range live {
			if e.AccountID != "" && !seen[e.AccountID] {
				seen[e.AccountID] = true
				accounts = append(accounts, e.AccountID)
			}
		}
		flags, err := s.store.FlagsOfAccounts(ctx, FlagOpen, accounts, s.cfg.LotteryHoldScore)
		if err != nil {
			return nil, nil, err
		}
		for _, f := range flags {
			if f.Score < s.cfg.LotteryHoldScore {
				continue
			}
			if f.due(s.cfg.FlagDecisionWithin, now); f.Overdue {
				// Past its decision deadline the flag holds nobody out:
				// a person is not kept from draws by a review nobody
				// decides (review21 M1).
				continue
			}
			for _, id := range f.AccountIDs {
				if g, ok := heldBy[id]; !ok || f.Score > g.Score {
					heldBy[id] = f
				}
			}
		}
	}
	for _, e := range live {
		switch {
		case e.AccountID != "" && blockedAccount[e.AccountID]:
			e.Status, e.Reason = EntryExcluded, ErrAccountBlocked.Code
		case barred[e.IdentityKey]:
			e.Status, e.Reason = EntryExcluded, ErrPatientBarred.Code
		default:
			f, ok := heldBy[e.AccountID]
			if e.AccountID == "" || !ok {
				eligible = append(eligible, e)
				continue
			}
			e.Status, e.FlagID, e.Reason = EntryHeldOut, f.ID, "flag:"+f.ID
		}
		screened = append(screened, e)
	}
	return screened, eligible, nil
}

// bookDrawn is stage 3: the winners booked in drawn order, the losers'
// outcomes decided, every outcome stored. It returns the pool's entries
// with their outcomes.
func (s *Service) bookDrawn(ctx context.Context, c DrawClaim, sess *Session, h *Hospital, q ChannelQuota, entries []Entry) ([]Entry, error) {
	var ranked []Entry
	slots := 0
	for _, e := range entries {
		if e.Rank > 0 {
			ranked = append(ranked, e)
		}
	}
	slices.SortFunc(ranked, func(a, b Entry) int { return a.Rank - b.Rank })
	pools, err := s.store.LotteryPools(ctx, []string{sess.ID})
	if err != nil {
		return nil, err
	}
	for _, p := range pools {
		if p.PoolKey == c.PoolKey {
			slots = p.Slots
		}
	}
	// The undecided entries are booked in waves, in drawn order: a wave is
	// as many entries as slots are left, booked at once (so their commits
	// share group-commit batches instead of queueing one by one), and an
	// entry refused in it passes its slot to the next wave. The winners are
	// the same as one at a time: the first eligible entries in drawn order.
	won := 0
	var undecided []int
	for i, e := range ranked {
		if e.Status == EntryEntered || e.Status == EntryWon { // won: booked by an earlier run, found again
			undecided = append(undecided, i)
		}
	}
	soldOut := false
	for len(undecided) > 0 && !soldOut && won < slots {
		wave := undecided[:min(slots-won, len(undecided))]
		undecided = undecided[len(wave):]
		errs := s.bookWinners(ctx, sess, h, q, ranked, wave)
		for j, i := range wave {
			var de *Error
			switch err := errs[j]; {
			case err == nil:
				ranked[i].Status, ranked[i].Reason = EntryWon, ""
				won++
			case errors.Is(err, ErrSoldOut):
				soldOut = true // slots left the pool another way (an admin moved them)
				ranked[i].Status = EntryLost
			case errors.As(err, &de) && (de.Kind == KindRule || de.Kind == KindConflict):
				// Barred or over a quota since it entered: passed over, and the
				// slot goes to the next in drawn order.
				ranked[i].Status, ranked[i].Reason = EntryLost, de.Code
			default:
				return nil, fmt.Errorf("book winner %s: %w", ranked[i].ID, err)
			}
		}
	}
	for _, i := range undecided {
		ranked[i].Status = EntryLost
	}
	for i, e := range ranked {
		if e.Status != EntryLost || e.Reason != "" || !e.Waitlist || e.PatientID == "" {
			continue
		}
		switch ok, err := s.waitlistLoser(ctx, sess, e); {
		case errors.Is(err, ErrIdentityDeceased):
			// The desk recorded the person's death after the draw began:
			// not waitlisted, and the record says why.
			ranked[i].Reason = ErrIdentityDeceased.Code
		case err != nil:
			return nil, err
		case ok:
			ranked[i].Status = EntryWaitlisted
		}
	}
	if err := s.store.SaveOutcomes(ctx, c.PoolKey, s.owner, ranked, s.cfg.Now().Add(s.cfg.DrawLease)); err != nil {
		return nil, err
	}
	return s.store.PoolEntries(ctx, c.PoolKey)
}

// drawParallel bounds the bookings of one wave in flight at once.
const drawParallel = 64

// bookWinners books the entries ranked[i] for i in wave at once, at most
// drawParallel in flight, and returns each one's error.
func (s *Service) bookWinners(ctx context.Context, sess *Session, h *Hospital, q ChannelQuota, ranked []Entry, wave []int) []error {
	errs := make([]error, len(wave))
	sem := make(chan struct{}, drawParallel)
	var wg sync.WaitGroup
	for j, i := range wave {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			_, errs[j] = s.bookWinner(ctx, sess, h, q, ranked[i])
		})
	}
	wg.Wait()
	return errs
}

// bookWinner books a drawn entry through the common booking path, with the
// entry's id as the booking's and a fixed nonce: run again after a crash,
// it finds the slot and the booking it made instead of making new ones.
func (s *Service) bookWinner(ctx context.Context, sess *Session, h *Hospital, q ChannelQuota, e Entry) (Booking, error) {
	b := Booking{PatientID: e.PatientID, IdentityID: e.IdentityID, IdentityKey: e.IdentityKey, AccountID: e.AccountID, BookedBy: e.BookedBy,
		NameHash: e.NameHash, Allotted: true}
	ev := Event{AccountID: e.AccountID, PatientID: e.PatientID, IdentityID: e.IdentityID, StaffID: e.BookedBy, Reason: "lottery"}
	matches := func(got Booking) bool { return got.SessionID == sess.ID && got.IdentityID == e.IdentityID }
	a := attemptID{id: e.ID, nonce: "lottery-draw", draw: true}
	got, err := s.book(ctx, sess, h, q.Channel, b, ev, a, "", Origin{}, matches, nil)
	if errors.Is(err, ErrIdentityUnverified) {
		// The name guard refused the entry's name. One that has since
		// become a former name of the person (a legal change of name,
		// review24 H3) was theirs: the winner is booked under the name the
		// desk verified, as what was booked under it was renamed. The
		// refusal gave the hold back, so the same attempt runs again.
		if name, ok := s.formerNameOf(ctx, e); ok {
			b.NameHash = name
			got, err = s.book(ctx, sess, h, q.Channel, b, ev, a, "", Origin{}, matches, nil)
		}
	}
	return got, err
}

// formerNameOf reports whether the name e was entered under is a former
// name of its person, and returns the person's verified name. An error
// reading either keeps the refusal (false).
func (s *Service) formerNameOf(ctx context.Context, e Entry) (string, bool) {
	person, err := s.store.IdentityOf(ctx, e.IdentityID)
	if err != nil || !person.NameVerified || len(person.NameHash) == 0 || string(person.NameHash) == e.NameHash {
		return "", false
	}
	former, err := s.store.IsFormerName(ctx, e.IdentityID, []byte(e.NameHash))
	if err != nil || !former {
		return "", false
	}
	return string(person.NameHash), true
}

// waitlistLoser puts a loser on the session's waitlist, behind the losers
// drawn before it. It reports false when the person cannot wait there (they
// booked the session meanwhile).
func (s *Service) waitlistLoser(ctx context.Context, sess *Session, e Entry) (bool, error) {
	id := waitlistIDOf(e.ID)
	if w, err := s.store.WaitlistEntry(ctx, id); err == nil {
		return w.Status == WaitlistWaiting || w.Status == WaitlistServed, nil // made by an earlier run
	} else if !errors.Is(err, ErrWaitlistNotFound) {
		return false, err
	}
	now := s.cfg.Now().Truncate(time.Microsecond)
	w := WaitlistEntry{ID: id, SessionID: sess.ID, HospitalID: sess.HospitalID, PatientID: e.PatientID,
		IdentityID: e.IdentityID, IdentityKey: e.IdentityKey, AccountID: e.AccountID, CreatedAt: now,
		Key: uint64(max(e.Rank, 0))} // no round: in line at once, in drawn order
	ev := Event{ID: newID(), TS: now, Type: EventWaitlisted, AccountID: e.AccountID, IdentityID: e.IdentityID,
		PatientID: e.PatientID, BookingID: id, SessionID: sess.ID, HospitalID: sess.HospitalID, DepartmentID: sess.DepartmentID,
		DoctorID: sess.DoctorID, Channel: e.Channel, Reason: "lottery"}
	w, err := s.store.AddWaitlist(ctx, w, ev)
	if errors.Is(err, ErrAlreadyWaitlisted) || errors.Is(err, ErrAlreadyBooked) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if _, err := s.adm.JoinWaitlist(ctx, w.HospitalID, w.SessionID, w.Ref(), s.cfg.Now()); err != nil {
		s.log.Warn("join waitlist in redis; reconciliation will", "waitlist_id", w.ID, "err", err)
	}
	return true, nil
}

// finishDraw is stage 4.
func (s *Service) finishDraw(ctx context.Context, c DrawClaim, sess *Session, seed []byte, entries []Entry) (int, error) {
	var release, keep []EntryRef
	var r DrawRecord
	for _, e := range entries {
		switch e.Status {
		case EntryWon:
			keep = append(keep, e.ref())
			r.Winners++
		case EntryLost, EntryWaitlisted, EntryExcluded:
			release = append(release, e.ref())
		}
		switch e.Status {
		case EntryHeldOut:
			r.HeldOut++
		case EntryExcluded:
			r.Excluded++
		}
		if e.Rank > 0 {
			r.Eligible++
		}
	}
	if _, err := s.adm.ReleaseEntries(ctx, keep, true, false); err != nil {
		return 0, err
	}
	if _, err := s.adm.ReleaseEntries(ctx, release, false, false); err != nil {
		return 0, err
	}
	// What the draw left goes to the waitlist's round, not to whoever
	// polls first at the draw's public moment.
	if _, err := s.adm.Drawn(ctx, sess, c.Channel, s.cfg.Now(), max(s.cfg.ReturnRound, 0)); err != nil {
		return 0, err
	}
	now := s.cfg.Now()
	audit := AuditEntry{ID: NameID("lottery draw", c.SessionID, string(c.Channel)), TS: now, ActorRole: "system",
		Action: "lottery_draw", Target: "session:" + c.SessionID + "/" + string(c.Channel),
		Reason: fmt.Sprintf("eligible %d, held out %d, excluded %d, winners %d; seed %x; commitment %x",
			r.Eligible, r.HeldOut, r.Excluded, r.Winners, seed, c.Commitment),
		HospitalID: c.HospitalID}
	err := s.store.FinishDraw(ctx, c.PoolKey, s.owner, DrawResult{Seed: seed, Winners: r.Winners, DrawnAt: now, Audit: audit,
		Notifications: s.drawNotifications(sess, entries, s.entrantLabels(ctx, entries), now)})
	return r.Winners, err
}

// drawNotifications tell each entrant the draw did not book its result. A
// winner is told by its booking (the booked event, reason lottery); an
// entry held out for review is told it is under review and not in this
// draw, one excluded (blocked or barred) that it was not drawn — in words
// that never name a flag or its evidence. The ids are the entries' own,
// named, so a draw finished twice (after a crash) tells once.
func (s *Service) drawNotifications(sess *Session, entries []Entry, who map[string]string, now time.Time) []Notification {
	zh, en := sessionLines(s.catalog.Load(), sess)
	var ns []Notification
	for _, e := range entries {
		var kind, body string
		switch {
		case e.Status == EntryWaitlisted:
			kind = "lottery_waitlisted"
			body = told(who[e.PatientID], "未中签，已按您的选择加入候补："+zh+"。有人退号时按顺序自动为您预约。",
				"You were not drawn and are on the waitlist, as you asked: "+en+". A returned slot books the first in line.")
		case e.Status == EntryLost && e.Reason != "":
			kind = "lottery_lost"
			body = told(who[e.PatientID], "已抽中，但因预约规则未能为您预约（"+e.Reason+"），号源已顺延给下一位："+zh,
				"You were drawn but could not be booked ("+e.Reason+"); the slot went to the next in line: "+en)
		case e.Status == EntryLost:
			kind = "lottery_lost"
			body = told(who[e.PatientID], "未中签："+zh+"。可以预约其他出诊。", "You were not drawn for "+en+". You may book another session.")
		case e.Status == EntryHeldOut:
			kind, body = "lottery_review", heldOutNotice(who[e.PatientID], zh, en)
		case e.Status == EntryExcluded:
			kind, body = "lottery_lost", notDrawnNotice(who[e.PatientID], "", zh, en)
		default:
			continue
		}
		if e.AccountID == "" && e.IdentityID == "" {
			continue
		}
		ns = append(ns, Notification{ID: NameID("lottery result", e.ID), Kind: kind, HospitalID: sess.HospitalID,
			SessionID: sess.ID, AccountID: e.AccountID, IdentityID: e.IdentityID, EntryID: e.ID, Body: body, CreatedAt: now,
			CallBack: e.AccountID == ""})
	}
	return ns
}

// settleHeldOut decides the entries a flag held out of draws, once an
// administrator decided the flag: confirmed, they are excluded (the persons
// are barred now); dismissed, they join their session's waitlist (the draw
// is over) when made from a patient's list, else they are lost. Their quota
// is given back either way.
func (s *Service) settleHeldOut(ctx context.Context, flagID, status string) {
	held, err := s.store.HeldOutEntries(ctx, flagID)
	if err != nil || len(held) == 0 {
		if err != nil {
			s.log.Warn("held-out entries of a decided flag", "flag_id", flagID, "err", err)
		}
		return
	}
	now := s.cfg.Now()
	cat := s.catalog.Load()
	byStatus := map[string][]string{}
	var refs []EntryRef
	for _, e := range held {
		to := EntryExcluded
		if status == FlagDismissed {
			to = EntryLost
			if sess, ok := cat.Session(e.SessionID); ok && e.PatientID != "" && now.Before(sess.StartsAt) {
				if ok, err := s.waitlistLoser(ctx, sess, e); err == nil && ok {
					to = EntryWaitlisted
				}
			}
		}
		byStatus[to] = append(byStatus[to], e.ID)
		refs = append(refs, e.ref())
	}
	for to, ids := range byStatus {
		if err := s.store.SettleHeldOut(ctx, ids, to, now, reviewNotifications(cat, held, s.entrantLabels(ctx, held), ids, to, now)); err != nil {
			s.log.Warn("settle held-out entries", "flag_id", flagID, "err", err)
			return
		}
	}
	if _, err := s.adm.ReleaseEntries(ctx, refs, false, false); err != nil {
		s.log.Warn("release held-out entries; reconciliation will", "flag_id", flagID, "err", err)
	}
}

// heldOutNotice and notDrawnNotice are what an entrant kept out of a draw
// is told: that the entry is under review, or that it was not drawn. They
// never say why (a flag's evidence is the reviewers' alone).
func heldOutNotice(who, zh, en string) string {
	return told(who, "您的摇号报名正在审核中，未参加本次抽签；审核结束后将另行通知："+zh,
		"Your entry is under review and was not in this draw; you will be told when the review is over: "+en)
}

func notDrawnNotice(who, prefix, zh, en string) string {
	return told(who, prefix+"本次摇号未中签："+zh, "Your entry was not drawn for "+en)
}

// entrantLabels are the labels of the members entries were made for
// (memberLabels); on a failed read the notifications go without them
// rather than hold up the draw.
func (s *Service) entrantLabels(ctx context.Context, entries []Entry) map[string]string {
	ids := make([]string, len(entries))
	for i, e := range entries {
		ids[i] = e.PatientID
	}
	who, err := s.memberLabels(ctx, ids)
	if err != nil {
		s.log.Warn("read the entrants' labels; their notifications go without them", "err", err)
	}
	return who
}

// reviewNotifications tell the entrants whose held-out entries (ids among
// held) were settled to status to: not drawn, or not drawn and on the
// waitlist. Named from the entries, so a repeat tells once.
func reviewNotifications(cat *Catalog, held []Entry, who map[string]string, ids []string, to string, now time.Time) []Notification {
	var ns []Notification
	for _, e := range held {
		if !slices.Contains(ids, e.ID) || (e.AccountID == "" && e.IdentityID == "") {
			continue
		}
		zh, en := "（出诊已变更）", "(the session changed)"
		if sess, ok := cat.Session(e.SessionID); ok {
			zh, en = sessionLines(cat, sess)
		}
		// A dismissal: the review found nothing, and the entry was kept
		// out of the draw for it, never "not drawn" (review21 H2).
		kind, body := "lottery_lost", told(who[e.PatientID],
			"审核结束，未发现问题。您的报名因审核未参加本次抽签，抽签已结束："+zh+"。",
			"The review is over and found nothing. Your entry was kept out of this draw for the review, and the draw is over: "+en+".")
		switch to {
		case EntryExcluded: // confirmed: the person's entry did not count
			body = notDrawnNotice(who[e.PatientID], "审核结束。", zh, en)
		case EntryWaitlisted:
			kind = "lottery_waitlisted"
			body = told(who[e.PatientID], "审核结束，未发现问题。您的报名因审核未参加本次抽签，已为您加入候补："+zh+"。有人退号时按顺序自动为您预约。",
				"The review is over and found nothing. Your entry was kept out of this draw for the review; you are on the waitlist: "+en+". A returned slot books the first in line.")
		}
		ns = append(ns, Notification{ID: NameID("lottery review result", e.ID), Kind: kind, HospitalID: e.HospitalID,
			SessionID: e.SessionID, AccountID: e.AccountID, IdentityID: e.IdentityID, EntryID: e.ID, Body: body, CreatedAt: now,
			CallBack: e.AccountID == ""})
	}
	return ns
}

// SeedPurpose is what a pool's seed is sealed for: the purpose and the
// pool, so a sealed seed copied to another pool's row does not open.
func SeedPurpose(sessionID string, ch Channel) string {
	return seedPurpose + "\x00" + sessionID + "\x00" + string(ch)
}
