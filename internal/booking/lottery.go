package booking

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Lottery release (摇号). A lottery pool takes entries in its window
// [OpensAt, DrawAt): an attempt there is an entry, answered 202 with a
// request id, instead of a booking. At DrawAt the draw books a uniformly
// random subset of the eligible entries, as many as the pool has slots,
// through the same commit path as every booking; losers go to the session's
// waitlist in drawn order if they asked; what is left is then served
// first-come. Speed buys nothing: an entry a millisecond after the window
// opens has the same chance as one a minute before it closes.
//
// The draw is verifiable: the seed is committed (its SHA-256 published)
// before any entry is taken, and revealed after the draw, when the entries
// are published too; DrawOrder computes the drawn order from both.
//
// An entry holds its quota from the moment it is admitted until the draw,
// like a booking: nobody can enter many sessions of one day and department
// and keep the best win. A loser's quota is given back.

// The states of a lottery pool's draw.
const (
	DrawOpen    = "open"    // taking entries, or waiting for its draw
	DrawDrawing = "drawing" // claimed by an instance; entries are final
	DrawDrawn   = "drawn"   // done: the seed is published
	// DrawStopped is a pool whose clinic was stopped (停诊) before its
	// draw: its entries were withdrawn by the stop and no draw is made (none
	// is needed), so its seed stays sealed. Said by the published record
	// (PublishedDraw), never stored: in SQL the pool stays open, and the
	// draw job passes it by.
	DrawStopped = "stopped"
)

// DrawRecord is a lottery pool's public record.
type DrawRecord struct {
	Commitment []byte // the seed's commitment, published when the window opens
	Recipe     int    // how Commitment is made from the seed (CommitV*)
	Seed       []byte // published after the draw; nil before
	Status     string // DrawOpen, DrawDrawing, DrawDrawn
	DrawnAt    time.Time
	Digest     []byte // SHA-256 of the eligible entry ids, sorted (DrawOrder)
	Slots      int    // free slots when the draw ranked; before, the pool's quota (LotteryDraws)
	Entered    int    // entries when the draw began: eligible, held out and excluded; before, the live entries so far
	Eligible   int
	HeldOut    int
	Excluded   int
	Winners    int
	// Unverified is how many of the Eligible entries were of persons whose
	// identity's name nobody (a provider, the desk) had verified when the
	// draw ranked them (review20 M3: the exposure to made-up people, naming
	// nobody); nil before the ranking, and for pools ranked before it was
	// counted.
	Unverified *int
}

// The states of an entry.
const (
	EntryEntered    = "entered"    // waiting for the draw
	EntryWithdrawn  = "withdrawn"  // taken back before the draw
	EntryWon        = "won"        // booked: the booking's id is the entry's
	EntryLost       = "lost"       // not drawn, or passed over (Reason says why)
	EntryWaitlisted = "waitlisted" // not drawn, and put on the session's waitlist
	EntryHeldOut    = "held_out"   // kept out of the draw for review (an open flag)
	EntryExcluded   = "excluded"   // kept out of the draw: barred or blocked
)

// Entry is a request to take part in a lottery pool's draw. Its ID is the
// request id the client was given, and the id of the booking it becomes if
// it wins.
type Entry struct {
	ID          string
	SessionID   string
	HospitalID  string
	Channel     Channel
	IdentityID  string
	IdentityKey string
	PatientID   string // empty for a phone or desk entry of someone on no list
	AccountID   string // the patient account; empty for staff-made entries
	BookedBy    string // the staff member behind a phone or desk entry
	// Caller is the number a phone entry's caller rang from, masked and
	// tagged (callerTag), for the entry's audit entry (not stored).
	Caller   string
	Waitlist bool // join the session's waitlist if not drawn
	// NameHash is the name the entry was made under (the patient's claim,
	// or the caller's or walk-in's name): a winner is booked under it, so
	// the booking's name guard runs at the draw (identity_unverified).
	NameHash string
	Status   string
	Rank     int    // place in the drawn order, 1 first; 0 when not in the draw
	Reason   string // why held out, excluded or passed over
	FlagID   string // the flag that held it out
	// Commitment is the pool's seed commitment published when the entry was
	// admitted: the entrant's receipt of it, and what the draw checks the
	// pool's against. Nil for entries admitted before entries kept it.
	Commitment []byte
	// WaitlistStatus and WaitlistPosition are a waitlisted entry's place as
	// it stands now (Service.Entry, Entries): waiting at its position, or
	// served (its booking is WaitlistID: the place became a booking under
	// its own id), skipped or cancelled. The public draw keeps the drawn
	// outcome; this is the entrant's own view (review20 L2).
	WaitlistStatus   string
	WaitlistPosition int
	CreatedAt        time.Time
	UpdatedAt        time.Time
	// NumberMasked and NameMasked are the person's masked identity, for staff.
	NumberMasked, NameMasked string
	// DrawAt is the pool's draw time, filled in for answers.
	DrawAt time.Time
	// Replayed is set when the answer repeats an earlier request's entry.
	Replayed bool
}

// BookingID is the booking the entry became, if it won.
func (e Entry) BookingID() string {
	if e.Status == EntryWon {
		return e.ID
	}
	return ""
}

// WaitlistID is the waitlist entry a loser was given, if any.
func (e Entry) WaitlistID() string {
	if e.Status == EntryWaitlisted {
		return waitlistIDOf(e.ID)
	}
	return ""
}

// waitlistIDOf names the waitlist entry a lottery entry turns into, so that
// a draw run again finds the one it made.
func waitlistIDOf(entryID string) string { return NameID("lottery waitlist", entryID) }

func (e Entry) ref() EntryRef {
	return EntryRef{HospitalID: e.HospitalID, SessionID: e.SessionID, EntryID: e.ID, Channel: e.Channel, IdentityKey: e.IdentityKey}
}

// LotteryMetrics receives the lottery's outcomes as they happen (Prometheus
// in cmd/fairslot).
type LotteryMetrics interface {
	Entered(ch Channel)
	Screened(status string, n int) // held_out or excluded
	Drawn(d time.Duration, winners int, err error)
}

type noLotteryMetrics struct{}

func (noLotteryMetrics) Entered(Channel)                 {}
func (noLotteryMetrics) Screened(string, int)            {}
func (noLotteryMetrics) Drawn(time.Duration, int, error) {}

// Result is what an attempt on a pool came to: a booking, or an entry in
// the pool's draw.
type Result struct {
	Booking Booking
	Entry   Entry
	Entered bool
}

// pendingEntry is an entry waiting in the group commit.
type pendingEntry struct {
	e  Entry
	ev Event
}

// enter runs the entry protocol: admit in Redis (one round trip: the
// window, the bar, the quotas counting the entry, one entry per person per
// session; the entry then holds its quota) → commit in SQL, in a batch with
// the entries arriving at the same time → confirm. The entry is answered
// only once its row is committed. ErrWindowClosed means the pool's draw time
// came first: the caller books instead.
func (s *Service) enter(ctx context.Context, actor Actor, sess *Session, h *Hospital, q ChannelQuota, e Entry, ev Event, idemKey string, o Origin, limits []SharedLimit) (Entry, error) {
	now := s.cfg.Now().Truncate(time.Microsecond)
	e.ID = newID()
	matches := func(got Entry) bool {
		return got.SessionID == sess.ID && got.IdentityID == e.IdentityID &&
			(got.AccountID == actor.AccountID || got.BookedBy == actor.AccountID)
	}
	if idemKey != "" {
		e.ID = s.idempotentID(actor.AccountID, idemKey)
		// A repeat of a request that entered gets its first answer, even
		// once the window has closed.
		prev, err := s.store.Entry(ctx, e.ID)
		switch {
		case err == nil:
			return s.replayEntry(prev, matches)
		case !errors.Is(err, ErrEntryNotFound):
			return Entry{}, err
		}
	}
	week, month := s.catalog.Load().periods(sess.ID)
	r := Reservation{
		BookingID: e.ID, Nonce: newNonce(), HospitalID: sess.HospitalID, SessionID: sess.ID, Channel: q.Channel,
		IdentityKey: e.IdentityKey, VisitDate: sess.VisitDate, DepartmentID: sess.DepartmentID, Week: week, Month: month,
		Today: now.In(h.Location()).Format(time.DateOnly), Policy: policyAt(h, now), Location: h.Location(), HoldFor: s.cfg.HoldFor,
		KeepUntil: s.keepUntil(sess, now), Limits: limits,
	}
	if err := s.knownEntry(sess, q, e.IdentityKey, actor.AccountID, idemKey, now); err != nil {
		return Entry{}, err
	}
	gen := s.entryGeneration()
	replay, err := s.adm.Enter(ctx, r)
	if err != nil {
		if lost := s.admissionLost(sess, err); lost != nil {
			return Entry{}, lost // Redis lost the state: reloading, 503
		}
		if errors.Is(err, ErrAlreadyEntered) {
			s.rememberEntry(sess, q, e.IdentityKey, "", gen, now)
		}
		if errors.Is(err, ErrNotReleased) {
			err = Errorf(ErrNotReleased, "entries for this draw open at %s", q.OpensAt.In(h.Location()).Format(time.RFC3339))
			s.rememberRefusal(sess, q.Channel, err, now)
		}
		return Entry{}, err
	}
	if replay {
		prev, err := s.store.Entry(ctx, e.ID)
		if errors.Is(err, ErrEntryNotFound) {
			return Entry{}, ErrInProgress
		}
		if err != nil {
			return Entry{}, err
		}
		return s.replayEntry(prev, matches)
	}
	e.SessionID, e.HospitalID, e.Channel, e.Status = sess.ID, sess.HospitalID, q.Channel, EntryEntered
	e.CreatedAt, e.UpdatedAt, e.DrawAt = now, now, q.DrawAt
	if q.Draw != nil {
		e.Commitment = q.Draw.Commitment
	}
	ev.ID, ev.TS, ev.Type, ev.SessionID, ev.HospitalID = newID(), now, EventLotteryEntered, sess.ID, sess.HospitalID
	// release_at is when the pool opened to this attempt: the window's
	// opening (the detector reads reaction times from it).
	ev.DepartmentID, ev.DoctorID, ev.Channel, ev.ReleaseAt, ev.BookingID = sess.DepartmentID, sess.DoctorID, q.Channel, q.OpensFor(), e.ID
	ev = o.stamp(ev)
	if err := s.entries.do(pendingEntry{e: e, ev: ev}); err != nil {
		if err := s.entryFailed(ctx, e, err); err != nil {
			return Entry{}, err
		}
	}
	s.rememberEntry(sess, q, e.IdentityKey, actor.AccountID, gen, now)
	s.cfg.LotteryMetrics.Entered(q.Channel)
	return e, nil
}

// keyedEntry finds the entry an earlier request with this Idempotency-Key
// made in a lottery pool, for a repeat that arrives after the pool stopped
// taking entries: it gets the entry as it stands (won, lost, …), never a
// first-come booking under the entry's id. found is false when there is
// none (the request is then an attempt like any other).
func (s *Service) keyedEntry(ctx context.Context, actor Actor, sess *Session, q ChannelQuota, idemKey, identityID string) (e Entry, found bool, err error) {
	if !q.IsLottery() || idemKey == "" {
		return Entry{}, false, nil
	}
	prev, err := s.store.Entry(ctx, s.idempotentID(actor.AccountID, idemKey))
	switch {
	case errors.Is(err, ErrEntryNotFound):
		return Entry{}, false, nil
	case err != nil:
		return Entry{}, true, nothingBooked(err)
	}
	e, err = s.replayEntry(prev, func(got Entry) bool {
		return got.SessionID == sess.ID && got.IdentityID == identityID &&
			(got.AccountID == actor.AccountID || got.BookedBy == actor.AccountID)
	})
	return e, true, err
}

func (s *Service) replayEntry(prev Entry, matches func(Entry) bool) (Entry, error) {
	if !matches(prev) {
		return Entry{}, ErrIdempotencyReuse
	}
	if sess, ok := s.catalog.Load().Session(prev.SessionID); ok {
		if q, ok := sess.Channel(prev.Channel); ok {
			prev.DrawAt = q.DrawAt
		}
	}
	prev.Replayed = true
	return prev, nil
}

// writeEntries is the group commit's write: one transaction for the batch.
// Its deadline is its own: a client hanging up must not turn a commit into
// an unknown outcome.
func (s *Service) writeEntries(items []pendingEntry) []error {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.CommitTimeout)
	defer cancel()
	entries, events := make([]Entry, len(items)), make([]Event, len(items))
	for i, it := range items {
		entries[i], events[i] = it.e, it.ev
	}
	errs, err := s.store.InsertEntries(ctx, entries, events)
	if err != nil {
		errs = make([]error, len(items))
		for i := range errs {
			errs[i] = err
		}
	}
	return errs
}

// confirmEntries runs after a batch's answers are out: one Redis round trip
// per hospital drops the durable entries' pending marks. If it is lost the
// sweeper finds the rows in SQL and confirms them.
func (s *Service) confirmEntries(items []pendingEntry, errs []error) {
	durable := map[string][]string{}
	for i, it := range items {
		if errs[i] == nil {
			durable[it.e.HospitalID] = append(durable[it.e.HospitalID], it.e.ID)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.CommitTimeout)
	defer cancel()
	for hid, ids := range durable {
		if err := s.adm.ConfirmEntries(ctx, hid, ids); err != nil {
			s.log.Warn("confirm entries; the sweeper will", "entries", len(ids), "err", err)
		}
	}
}

// entryFailed settles an entry whose commit failed: its Redis admission is
// given back, unless the commit's outcome is unknown and cannot be read
// back, when the sweeper decides after HoldFor by asking SQL. It returns
// what the client is told, or nil when the entry did commit after all.
func (s *Service) entryFailed(ctx context.Context, e Entry, err error) error {
	bg := context.WithoutCancel(ctx)
	release := func() {
		rctx, cancel := context.WithTimeout(bg, s.cfg.CommitTimeout)
		defer cancel()
		if _, rerr := s.adm.ReleaseEntries(rctx, []EntryRef{e.ref()}, false, false); rerr != nil {
			s.log.Warn("release entry after failed commit; the sweeper will", "entry_id", e.ID, "err", rerr)
		}
	}
	if errors.Is(err, ErrOutcomeUnknown) {
		rctx, cancel := context.WithTimeout(bg, s.cfg.CommitTimeout)
		got, gerr := s.store.Entry(rctx, e.ID)
		cancel()
		switch {
		case gerr == nil && got.Status == EntryEntered:
			if cerr := s.adm.ConfirmEntries(bg, e.HospitalID, []string{e.ID}); cerr != nil {
				s.log.Warn("confirm entry; the sweeper will", "entry_id", e.ID, "err", cerr)
			}
			return nil
		case errors.Is(gerr, ErrEntryNotFound):
			release()
			return fmt.Errorf("%w: %w", errNothingBooked, err)
		default:
			s.log.Warn("entry commit outcome unknown; left to the sweeper", "entry_id", e.ID, "err", err)
			return fmt.Errorf("%w: %w", errOutcomeUnknown, err)
		}
	}
	release()
	if _, ok := AsError(err); ok {
		return err // a rule SQL enforces: one entry per person, the draw has begun
	}
	s.log.Error("commit entry", "entry_id", e.ID, "err", err)
	return ErrUnavailable
}

// Entry returns a lottery entry of the actor's account; staff may read any;
// the person's verified self, one another account made for them.
func (s *Service) Entry(ctx context.Context, actor Actor, id string) (Entry, error) {
	e, self, err := s.entryOf(ctx, actor, id)
	if self != "" {
		e.PatientID = self
	}
	if err == nil {
		e = s.withWaitlistPlace(ctx, e)
	}
	return e, err
}

// withWaitlistPlace fills in a waitlisted entry's place as it stands. A
// failed read leaves it out rather than fail the entry's answer.
func (s *Service) withWaitlistPlace(ctx context.Context, e Entry) Entry {
	if e.Status != EntryWaitlisted {
		return e
	}
	w, err := s.store.WaitlistEntry(ctx, e.WaitlistID())
	if err != nil {
		if !errors.Is(err, ErrWaitlistNotFound) {
			s.log.Warn("read a lottery entry's waitlist place", "entry_id", e.ID, "err", err)
		}
		return e
	}
	w = s.honest(w)
	e.WaitlistStatus, e.WaitlistPosition = w.Status, w.Position
	return e
}

// entryOf is Entry as stored: for one another account made for the actor's
// verified self, with the maker's patient, and self the actor's.
func (s *Service) entryOf(ctx context.Context, actor Actor, id string) (_ Entry, self string, _ error) {
	if !isUUID(id) {
		return Entry{}, "", ErrEntryNotFound
	}
	e, err := s.store.Entry(ctx, id)
	if err != nil {
		return Entry{}, "", err
	}
	// As for bookings (Service.Booking): staff see the entries of their
	// hospital, a referrer those it made, a patient those of its account;
	// nobody learns that anyone else's entry exists.
	var mine bool
	switch {
	case actor.IsStaff():
		mine = actor.Covers(e.HospitalID)
	case actor.Role == RoleReferrer:
		mine = e.BookedBy == actor.AccountID
	case actor.Role == RolePatient:
		mine = e.AccountID == actor.AccountID
		if !mine {
			p, ok, err := s.forPerson(ctx, actor, e.AccountID, e.IdentityID)
			if err != nil {
				return Entry{}, "", err
			}
			mine, self = ok, p.ID
		}
	}
	if !mine {
		return Entry{}, "", ErrEntryNotFound
	}
	return s.withDrawAt(e), self, nil
}

// Entries lists the lottery entries made from the actor's account, newest
// first.
func (s *Service) Entries(ctx context.Context, actor Actor) ([]Entry, error) {
	if actor.Role != RolePatient {
		return []Entry{}, nil
	}
	es, err := s.store.EntriesOfAccount(ctx, actor.AccountID)
	for i := range es {
		es[i] = s.withWaitlistPlace(ctx, s.withDrawAt(es[i]))
	}
	return es, err
}

func (s *Service) withDrawAt(e Entry) Entry {
	if sess, ok := s.catalog.Load().Session(e.SessionID); ok {
		if q, ok := sess.Channel(e.Channel); ok {
			e.DrawAt = q.DrawAt
		}
	}
	return e
}

// WithdrawEntry takes an entry back before its pool's draw begins; its quota
// is given back.
//
// The person's verified self withdraws an entry another account made for
// them as its own; the maker is told (notificationOf).
func (s *Service) WithdrawEntry(ctx context.Context, actor Actor, id string, o Origin) (Entry, error) {
	e, self, err := s.entryOf(ctx, actor, id)
	if err != nil {
		return Entry{}, err
	}
	if actor.IsStaff() && actor.Role != RoleAdmin && e.BookedBy != actor.AccountID && o.patientCall == nil {
		return Entry{}, Errorf(ErrForbidden, "staff withdraw the entries they made")
	}
	if e.Status != EntryEntered {
		return Entry{}, Errorf(ErrEntryClosed, "the entry is %s", e.Status)
	}
	now := s.cfg.Now()
	ev := o.stamp(Event{ID: newID(), TS: now, Type: EventCancelled, AccountID: e.AccountID, PatientID: e.PatientID,
		IdentityID: e.IdentityID, BookingID: e.ID, SessionID: e.SessionID, HospitalID: e.HospitalID, Channel: e.Channel,
		Reason: "lottery_withdrawn"})
	var audit *AuditEntry
	if actor.IsStaff() || actor.Role == RoleReferrer {
		// Someone other than the patient took a person out of a draw.
		ev.StaffID = actor.AccountID
		audit = &AuditEntry{ID: newID(), TS: now, ActorID: actor.AccountID, ActorRole: actor.Role, Action: "lottery_withdrawn",
			Target: "lottery_entry:" + e.ID, Reason: fmt.Sprintf("%s lottery entry of session %s withdrawn", e.Channel, e.SessionID),
			HospitalID: e.HospitalID}
	}
	if self != "" {
		ev.Reason, ev.ByAccountID = reasonEntryByPerson, actor.AccountID
		audit = s.byPersonAudit(actor, "lottery_entry:"+e.ID, "lottery entry", "withdrawn", e.HospitalID)
	}
	if pc := o.patientCall; pc != nil && audit != nil {
		// The patient rang (WithdrawEntryForCaller): as a booking's
		// cancellation for them (cancel).
		ev.Reason, ev.Phone = reasonEntryByPersonOnPhone, pc.phoneRef
		audit.Reason = fmt.Sprintf(auditByPersonOnPhonePattern, fmt.Sprintf("%s lottery entry", e.Channel), "withdrawn", pc.caller)
	}
	ev = o.closedAtDesk(ev)
	w, err := s.store.WithdrawEntry(ctx, id, now, ev, audit)
	if err != nil {
		return Entry{}, err
	}
	if _, err := s.adm.ReleaseEntries(context.WithoutCancel(ctx), []EntryRef{e.ref()}, false, false); err != nil {
		s.log.Warn("release a withdrawn entry; reconciliation will", "entry_id", e.ID, "err", err)
	}
	w = s.withDrawAt(w)
	if self != "" {
		w.PatientID = self
	}
	return w, nil
}

// PublishedDraw is a lottery pool's draw as anyone may read it: its window,
// its record, and once drawn every entry with its place and outcome, so that
// each entrant can find their request id and anyone can compute the draw
// again (VerifyDraw).
type PublishedDraw struct {
	SessionID string
	Channel   Channel
	OpensAt   time.Time
	DrawAt    time.Time
	// PublishedAt is when the pool's rules became public
	// (ChannelQuota.PublishedAt): its notice is OpensAt − PublishedAt.
	// Zero when not kept (published before migration 0069).
	PublishedAt time.Time
	DrawRecord
	Entries []Entry // once drawn (for administrators: always)
	// StoppedAt is when the clinic was stopped (停诊), if it was: before
	// the draw the pool's status reads DrawStopped; after it, drawn.
	StoppedAt time.Time
}

// LotteryDraws returns the lottery pools of a session and their draws.
// Entries are listed once a pool is drawn; administrators see them all
// along, with who made them and the masked identities. What anyone else
// reads is kept for PublicDrawsFor (publicDraws): share it, never change it.
func (s *Service) LotteryDraws(ctx context.Context, actor Actor, sessionID string) ([]PublishedDraw, error) {
	cat := s.catalog.Load()
	sess, ok := cat.Session(sessionID)
	if !ok {
		return nil, ErrSessionNotFound
	}
	admin := actor.Role == RoleAdmin
	if admin && !actor.Covers(sess.HospitalID) {
		return nil, Errorf(ErrForbidden, "this session is another hospital's")
	}
	if !slices.ContainsFunc(sess.Channels, ChannelQuota.IsLottery) {
		// Said before SQL is asked: anyone may ask this of any session.
		return nil, Errorf(ErrChannelClosed, "this session has no lottery pool")
	}
	if admin {
		return s.lotteryDraws(ctx, sess, true)
	}
	return s.public.get(ctx, cat, sess.ID, s.cfg.Now(), s.cfg.PublicDrawsFor, func(ctx context.Context) ([]PublishedDraw, error) {
		return s.lotteryDraws(ctx, sess, false)
	})
}

// LotteryPoolsOf lists, to an administrator, the lottery pools of the
// given sessions with their records, one SQL read: before a pool is ranked
// its Entered is the live entries so far (as the published draw says), after
// it the draw's counts. Sessions of hospitals the administrator does not
// cover are left out.
func (s *Service) LotteryPoolsOf(ctx context.Context, actor Actor, sessionIDs []string) ([]PoolRecord, error) {
	if actor.Role != RoleAdmin {
		return nil, Errorf(ErrForbidden, "only administrators read every lottery pool's counts")
	}
	cat := s.catalog.Load()
	ids := slices.DeleteFunc(slices.Clone(sessionIDs), func(id string) bool {
		sess, ok := cat.Session(id)
		return !ok || !actor.Covers(sess.HospitalID)
	})
	if len(ids) == 0 {
		return nil, nil
	}
	return s.store.LotteryPools(ctx, ids)
}

// DrawPageSize is the most entries one page of a published draw lists
// (GET /v1/lottery/sessions/{id}). An entry is ~100 bytes of JSON, so a
// page is ~100 KB where the whole list of 100,000 entries was ~10 MB, and
// an auditor walks those 100,000 in 100 requests: two seconds at the
// per-IP limit of 50 a second.
const DrawPageSize = 1000

// DrawPage is one page of a published draw: the pool's record (seed,
// commitment, counts) and at most a page of its entries, in request id
// order. Next is the request id to give as after for the next page; empty
// on the last.
type DrawPage struct {
	PublishedDraw
	Next string
}

// PublicDrawPage is what anyone may read of a session's lottery draws, a
// page at a time. With no channel: every lottery pool's record with its
// first page of entries. With channel (one of the session's lottery pools):
// that pool's record with the entries whose request id sorts after after
// (from the first when after is empty). The cursor is the request id
// itself, the key DrawOrder sorts the entries by before it hashes and
// shuffles them, so the pages walked in turn are exactly the list
// `fairslot lottery verify` computes the draw from, each entry once. A
// drawn pool's entries no longer change, so a cursor stays good; before the
// draw no entry is listed. Pages are cut from the copy LotteryDraws keeps
// (publicDraws): one SQL read a session a second, however many pages.
func (s *Service) PublicDrawPage(ctx context.Context, sessionID string, ch Channel, after string) ([]DrawPage, error) {
	if after != "" && (ch == "" || !isUUID(after)) {
		return nil, Errorf(ErrInvalidCursor, "after must be a request id, given with the channel of its pool")
	}
	after = strings.ToLower(after) // request ids are written in lower case
	ds, err := s.LotteryDraws(ctx, Actor{}, sessionID)
	if err != nil {
		return nil, err
	}
	var out []DrawPage
	for _, d := range ds {
		if ch != "" && d.Channel != ch {
			continue
		}
		from, _ := slices.BinarySearchFunc(d.Entries, after, func(e Entry, id string) int { return strings.Compare(e.ID, id) })
		if from < len(d.Entries) && after != "" && d.Entries[from].ID == after {
			from++
		}
		to := min(from+s.cfg.DrawPage, len(d.Entries))
		p := DrawPage{PublishedDraw: d}
		p.Entries = d.Entries[from:to:to] // shared with the kept copy: a full slice, never appended to
		if to < len(d.Entries) {
			p.Next = d.Entries[to-1].ID
		}
		out = append(out, p)
	}
	if out == nil {
		return nil, Errorf(ErrInvalidCursor, "channel %q is not a lottery pool of this session", ch)
	}
	return out, nil
}

// lotteryDraws reads a session's lottery pools and their draws from SQL;
// admin lists every entry with who made it, before the draw too.
func (s *Service) lotteryDraws(ctx context.Context, sess *Session, admin bool) ([]PublishedDraw, error) {
	pools, err := s.store.LotteryPools(ctx, []string{sess.ID})
	if err != nil {
		return nil, err
	}
	byChannel := map[Channel]PoolRecord{}
	for _, p := range pools {
		byChannel[p.Channel] = p
	}
	var out []PublishedDraw
	for _, q := range sess.Channels {
		if !q.IsLottery() {
			continue
		}
		d := PublishedDraw{SessionID: sess.ID, Channel: q.Channel, OpensAt: q.OpensAt, DrawAt: q.DrawAt, PublishedAt: q.PublishedAt,
			Entries: []Entry{}, StoppedAt: sess.StoppedAt}
		if p, ok := byChannel[q.Channel]; ok {
			d.DrawRecord = p.DrawRecord
			if sess.Stopped() && d.Status == DrawOpen {
				d.Status = DrawStopped // the draw job passes it by (due_pools)
			}
			if len(p.Digest) == 0 {
				// Not ranked yet (the ranking stores the digest): the store
				// gives the live entries so far, and the slots are the
				// pool's quota until the ranking reads its free slots. A
				// 0 for both read as no slots and nobody entered.
				d.Slots = q.Quota
			}
			if admin || p.Status == DrawDrawn {
				es, err := s.store.PoolEntries(ctx, PoolKey{SessionID: sess.ID, Channel: q.Channel})
				if err != nil {
					return nil, err
				}
				for _, e := range es {
					if !admin {
						e = Entry{ID: e.ID, Status: e.Status, Rank: e.Rank, Reason: e.Reason, Channel: e.Channel, SessionID: e.SessionID}
					}
					d.Entries = append(d.Entries, e)
				}
				if !admin {
					// In request id order, the order DrawOrder hashes them
					// in: the public pages' cursor (PublicDrawPage).
					slices.SortFunc(d.Entries, func(a, b Entry) int { return strings.Compare(a.ID, b.ID) })
				}
			}
		} else {
			d.Status, d.Slots = DrawOpen, q.Quota
		}
		out = append(out, d)
	}
	if out == nil {
		return nil, Errorf(ErrChannelClosed, "this session has no lottery pool")
	}
	return out, nil
}

// ErrNotDrawn is VerifyDraw's answer for a pool whose draw has not run yet:
// nothing to verify, nothing wrong.
var ErrNotDrawn = errors.New("not drawn yet")

// VerifyDraw computes a published draw again from its seed and entries and
// compares it with what was booked (the ids of bookings among its entries).
// It returns nil when the seed matches the commitment, every published
// place is the drawn order's, and the winners are exactly the entries the
// drawn order gives the pool's slots to.
func VerifyDraw(d PublishedDraw, booked map[string]bool) error {
	if d.Status != DrawDrawn {
		return fmt.Errorf("%w (%s)", ErrNotDrawn, d.Status)
	}
	c, err := Commitment(d.Recipe, d.SessionID, d.Channel, d.Seed)
	if err != nil {
		return fmt.Errorf("%s pool: %w", d.Channel, err)
	}
	if string(c) != string(d.Commitment) {
		return fmt.Errorf("%s pool: the seed does not match the published commitment (recipe v%d)", d.Channel, d.Recipe)
	}
	var ids []string
	passed := map[string]bool{}
	for _, e := range d.Entries {
		if e.Rank > 0 { // in the draw
			ids = append(ids, e.ID)
			if e.Status != EntryWon && e.Reason != "" {
				passed[e.ID] = true // drawn, but passed over at booking (barred meanwhile)
			}
		}
	}
	order, digest := DrawOrder(d.Seed, d.SessionID, d.Channel, ids)
	if d.Digest != nil && string(digest) != string(d.Digest) {
		return fmt.Errorf("%s pool: the eligible entries do not hash to the recorded digest", d.Channel)
	}
	// Every place published is the one the seed gives: the places are what
	// an entrant checks, and the losers' are the waitlist's order.
	for _, e := range d.Entries {
		if e.Rank > len(order) {
			return fmt.Errorf("%s pool: entry %s is published at place %d of %d", d.Channel, e.ID, e.Rank, len(order))
		}
		if e.Rank > 0 && order[e.Rank-1] != e.ID {
			return fmt.Errorf("%s pool: entry %s is published at place %d, and the seed puts %s there", d.Channel, e.ID, e.Rank, order[e.Rank-1])
		}
	}
	want := map[string]bool{}
	for _, id := range order {
		if len(want) == d.Slots {
			break
		}
		if !passed[id] {
			want[id] = true
		}
	}
	var missing, extra []string
	for id := range want {
		if !booked[id] {
			missing = append(missing, id)
		}
	}
	for _, e := range d.Entries {
		if booked[e.ID] && !want[e.ID] {
			extra = append(extra, e.ID)
		}
	}
	if len(missing) > 0 || len(extra) > 0 {
		return fmt.Errorf("%s pool: %d drawn entries have no booking and %d booked entries were not drawn (e.g. %v %v)",
			d.Channel, len(missing), len(extra), first(missing), first(extra))
	}
	if len(want) != d.Winners {
		return fmt.Errorf("%s pool: %d winners drawn, %d recorded", d.Channel, len(want), d.Winners)
	}
	return nil
}

func first(ids []string) []string { return ids[:min(1, len(ids))] }
