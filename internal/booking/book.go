package booking

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// BookRequest is one booking attempt.
type BookRequest struct {
	SessionID      string
	PatientID      string
	Channel        Channel
	IdempotencyKey string
	Origin         Origin
	// Waitlist asks, for an entry in a lottery pool's draw, to join the
	// session's waitlist if not drawn.
	Waitlist bool
	// Consent: the person's own, confirmed by the holder, for a child
	// listed before 14 who is 14 now (Service.ownConsent).
	Consent ConsentRequest
	// memoAsked: KnownRefusalOf has asked the fast reject path and it let
	// the attempt through; letThrough: on purpose, to renew a remembered
	// answer, so it must reach admission. One not let through on purpose
	// asks again just before admission (attempt).
	memoAsked, letThrough bool
	// atAdmission: KnownRefusalOf found an attempt whose shared limits
	// may be counted by admission in the attempt's own round trip
	// (LimitsAtAdmission).
	atAdmission bool
	// Limits are the caller's shared rate limits not counted yet, for
	// admission to count with the entry or the booking attempt
	// (Reservation.Limits); TakeLimits counts them on their own, for an
	// attempt that turns out to need them before (its patient evicted from
	// the cache meanwhile: a SQL read comes first). Set both or neither, and
	// only when LimitsAtAdmission.
	Limits     []SharedLimit
	TakeLimits func(context.Context) error
}

// LimitsAtAdmission says whether the caller may leave its shared rate
// limits to the attempt (Limits, TakeLimits) instead of counting them
// first: an attempt by a patient this instance has cached, with no
// Idempotency-Key, on a pool that takes entries or bookings, as
// KnownRefusalOf found it: nothing but memory comes before its admission.
// Anything else counts them before Attempt, as every other request does.
func (r *BookRequest) LimitsAtAdmission() bool { return r.atAdmission }

// takeLimits counts the limits left to the attempt, once: before any SQL
// read, when the attempt does not leave them to its admission.
func (r *BookRequest) takeLimits(ctx context.Context) error {
	take := r.TakeLimits
	r.Limits, r.TakeLimits = nil, nil
	if take == nil {
		return nil
	}
	return take(ctx)
}

// mayBookOn says which roles book on which channel: patients online for
// themselves, operators by phone for callers, clerks on site for walk-ins.
// Referral slots are booked by clerks and by referrers (community doctors
// and carers) for the people they refer.
func mayBookOn(r Role, c Channel) bool {
	switch c {
	case ChannelOnline:
		return r == RolePatient
	case ChannelPhone:
		return r == RoleOperator
	case ChannelOnsite:
		return r == RoleClerk
	case ChannelReferral:
		return r == RoleClerk || r == RoleReferrer
	}
	return false
}

// Book is a patient booking for someone on their own list.
//
// It runs the booking protocol: admit in Redis → commit in SQL → confirm.
// A booking is returned only after its row is committed. Every failure after
// admission gives the hold back, or, when the commit's outcome is unknown,
// leaves it to the sweeper, which asks SQL before releasing anything.
//
// A lottery pool before its draw time takes entries, not bookings: Book
// refuses with ErrLotteryOnly there (Attempt enters the draw).
func (s *Service) Book(ctx context.Context, actor Actor, req BookRequest) (Booking, error) {
	r, err := s.attempt(ctx, actor, req, false)
	return r.Booking, err
}

// Attempt is a patient's attempt on a pool, whatever its release mode: on a
// lottery pool before its draw time it is an entry in the draw (Result.Entry,
// answered once durable); otherwise a booking (Result.Booking), as Book.
func (s *Service) Attempt(ctx context.Context, actor Actor, req BookRequest) (Result, error) {
	return s.attempt(ctx, actor, req, true)
}

// KnownRefusalOf is KnownRefusal for an attempt by actor: the refusal the
// fast reject path answers from memory, recorded as an event like every
// other refused attempt; and, on a lottery pool taking entries, the entry
// memo's already_entered for a person this instance knows has entered
// (entrymemo.go). When it answers nil, req is marked as asked: its Attempt
// goes to admission without asking the memory of sold-out pools again.
func (s *Service) KnownRefusalOf(actor Actor, req *BookRequest) error {
	if err := s.closingRefused(actor.AccountID); err != nil {
		return err
	}
	letThrough, err := s.knownRefusal(req.SessionID, req.Channel, req.IdempotencyKey)
	if err != nil {
		s.noteRefusal(actor, req.SessionID, req.PatientID, "", "", req.Channel, req.Origin, err)
		return err
	}
	if err := s.knownEntryOf(actor, req, s.cfg.Now()); err != nil {
		return err
	}
	req.memoAsked, req.letThrough = true, letThrough
	return nil
}

// attempt is Book and Attempt; a refused attempt is recorded as an event,
// with the person once known.
func (s *Service) attempt(ctx context.Context, actor Actor, req BookRequest, mayEnter bool) (Result, error) {
	var pat Patient // the person, once known
	var sess *Session
	try := func() (Result, error) {
		if actor.Role != RolePatient || !mayBookOn(actor.Role, req.Channel) {
			return Result{}, ErrChannelForbidden
		}
		if err := s.closingRefused(actor.AccountID); err != nil {
			return Result{}, err
		}
		var h *Hospital
		var err error
		sess, h, err = s.attemptSession(req.SessionID, req.Channel, req.IdempotencyKey, !req.memoAsked)
		if err != nil {
			return Result{}, err
		}
		if _, cached := s.patients.get(req.PatientID); !cached {
			// Evicted since KnownRefusalOf: the limits come before a SQL read.
			if err := req.takeLimits(ctx); err != nil {
				return Result{}, err
			}
		}
		p, err := s.patientOf(ctx, actor, req.PatientID)
		if err != nil {
			return Result{}, nothingBooked(err)
		}
		pat = p
		if err := s.ownConsent(ctx, actor, p, req.Consent); err != nil {
			return Result{}, nothingBooked(err)
		}
		ev := Event{AccountID: actor.AccountID, PatientID: p.ID, IdentityID: p.IdentityID}
		q, hasPool := sess.Channel(req.Channel)
		takesEntries := hasPool && q.TakesEntries(s.cfg.Now())
		if takesEntries && !mayEnter {
			// Book of a pool taking entries: refused below, after the
			// limits, as every other request's.
			if err := req.takeLimits(ctx); err != nil {
				return Result{}, err
			}
		}
		if hasPool && !takesEntries {
			if e, found, err := s.keyedEntry(ctx, actor, sess, q, req.IdempotencyKey, p.IdentityID); found {
				return Result{Entry: e, Entered: err == nil}, err
			}
		}
		if takesEntries {
			if !mayEnter {
				return Result{}, ErrLotteryOnly
			}
			// One person at a draw, whatever the document: a member of the
			// account under the same name with another type of document
			// already entered is this person (docs/fairness.md). Read only
			// for such members: the rest pay nothing.
			if p.Namesake {
				if found, err := s.store.NamesakeEntered(ctx, actor.AccountID, p.ID, sess.ID); err != nil {
					return Result{}, err
				} else if found {
					return Result{}, ErrPersonAlreadyEntered
				}
			}
			// A booking's commit refuses a claim that is not the identity's
			// verified name (insert_booking); a winner's booking is made by
			// the draw, so the entry's commit refuses it already
			// (InsertEntries), in its batch: no read of its own per entry.
			e := Entry{PatientID: p.ID, IdentityID: p.IdentityID, IdentityKey: p.IdentityKey, AccountID: actor.AccountID,
				Waitlist: req.Waitlist, NameHash: p.NameHash}
			e, err = s.enter(ctx, actor, sess, h, q, e, ev, req.IdempotencyKey, req.Origin, req.Limits)
			// The limits were counted with the entry (or the memo answered).
			req.Limits, req.TakeLimits = nil, nil
			if !errors.Is(err, ErrWindowClosed) {
				return Result{Entry: e, Entered: err == nil}, err
			}
			// The draw time came while the request travelled: it is a
			// booking attempt now, answered as the pool answers first-come.
		}
		if req.memoAsked && !req.letThrough {
			// The API asked the memory before its shared limits, a Redis
			// round trip or two ago; in the release second a pool is often
			// learnt empty meanwhile. Asked again before admission, such an
			// attempt costs no reserve.lua.
			if err := s.KnownRefusal(req.SessionID, req.Channel, req.IdempotencyKey); err != nil {
				return Result{}, err
			}
		}
		b := Booking{PatientID: p.ID, IdentityID: p.IdentityID, IdentityKey: p.IdentityKey, NameHash: p.NameHash, AccountID: actor.AccountID}
		// The limits left to admission (none when counted already) are
		// counted by reserve.lua, in the booking attempt's one round trip.
		limits := req.Limits
		req.Limits, req.TakeLimits = nil, nil
		b, err = s.admit(ctx, actor, sess, h, req.Channel, b, ev, req.IdempotencyKey, req.Origin, limits, nil)
		return Result{Booking: b}, err
	}
	r, err := try()
	if errors.Is(err, ErrIdentityUnverified) && s.renamed(ctx, pat) {
		// SQL refused the name this instance had cached: a clerk corrected
		// the person's verified name and carried it to this account's
		// self since. The patient is read again; the attempt runs once
		// more under the corrected name (the limits already counted).
		r, err = try()
	}
	if err != nil {
		// Explained first: the event says whether another account's
		// booking was in the way (made_by_other_account).
		err = s.explainRefusal(ctx, actor, sess, pat, err)
		if sess != nil { // a barred refusal comes after the session was found
			err = s.explainBar(ctx, sess.HospitalID, pat.IdentityID, err)
		}
		s.noteRefusal(actor, req.SessionID, req.PatientID, pat.IdentityID, "", req.Channel, req.Origin, err)
		s.ownEntry(actor, sess, pat, err)
	}
	return r, err
}

// attemptSession is bookableSession for a booking attempt, and where the
// fast reject path answers (KnownRefusal): after the catalog's checks, before
// any work for the person (a patient lookup, an identity written for the
// desk) and before admission. askMemo is false for an attempt whose caller asked already
// (KnownRefusalOf).
func (s *Service) attemptSession(sessionID string, ch Channel, idemKey string, askMemo bool) (*Session, *Hospital, error) {
	sess, h, err := s.bookableSession(sessionID, ch)
	if err != nil {
		return nil, nil, err
	}
	if askMemo {
		if err := s.KnownRefusal(sess.ID, ch, idemKey); err != nil {
			return nil, nil, err
		}
	}
	return sess, h, nil
}

// bookableSession finds a session that may take a booking on channel now.
func (s *Service) bookableSession(sessionID string, ch Channel) (*Session, *Hospital, error) {
	cat := s.catalog.Load()
	sess, ok := cat.Session(sessionID) // a malformed id is simply not there
	if !ok {
		return nil, nil, ErrSessionNotFound
	}
	if sess.Stopped() {
		return nil, nil, ErrSessionStopped
	}
	now := s.cfg.Now()
	if ch == ChannelOnsite || ch == ChannelReferral {
		// The desk books walk-ins for as long as the session runs (its
		// extra slots included).
		if !now.Before(sess.Closes()) {
			return nil, nil, Errorf(ErrSessionClosed, "the session has ended")
		}
	} else if !now.Before(sess.StartsAt) {
		// Remote channels close when the session starts: first-come hands
		// out the earliest free slot, which may already be past.
		return nil, nil, Errorf(ErrSessionClosed, "remote booking closes when the session starts; the desk books walk-ins")
	}
	h, _ := cat.Hospital(sess.HospitalID)
	if err := beyondWindow(h, sess, now); err != nil {
		return nil, nil, err
	}
	return sess, h, nil
}

// opensAt is the not_released a pool answers before its release time.
func opensAt(h *Hospital, q ChannelQuota) error {
	return Errorf(ErrNotReleased, "this channel opens at %s", q.ReleaseAt.In(h.Location()).Format(time.RFC3339))
}

// unreleased refuses a waitlist join of a pool not released yet, as a
// booking attempt is refused: its slots are free only because nobody may
// book them yet, and slots_available would send the caller to book.
func unreleased(h *Hospital, sess *Session, ch Channel, now time.Time) error {
	if q, ok := sess.Channel(ch); ok && !q.IsLottery() && !q.Released(now) {
		return opensAt(h, q)
	}
	return nil
}

// beyondWindow refuses a session whose visit date lies further ahead than
// the booking window of the hospital's policy in effect at now (days in the
// hospital's calendar: a window of 7 books today's sessions up to those of
// the same weekday next week).
func beyondWindow(h *Hospital, sess *Session, now time.Time) error {
	p, _ := h.PolicyAt(now)
	if p.BookAheadDays <= 0 {
		return nil
	}
	last := now.In(h.Location()).AddDate(0, 0, p.BookAheadDays).Format(time.DateOnly)
	if sess.VisitDate > last {
		return Errorf(ErrBeyondWindow, "the hospital books at most %d days ahead: this session (%s) opens to booking on %s",
			p.BookAheadDays, sess.VisitDate, windowOpens(h, sess.VisitDate, p.BookAheadDays))
	}
	return nil
}

// windowOpens is the local date from which a visit on visitDate is inside a
// window of days.
func windowOpens(h *Hospital, visitDate string, days int) string {
	d, err := time.ParseInLocation(time.DateOnly, visitDate, h.Location())
	if err != nil {
		return visitDate
	}
	return d.AddDate(0, 0, -days).Format(time.DateOnly)
}

// admit runs the protocol for one attempt. b carries who the booking is for
// (identity, and patient and account when booked from a patient's list, or
// the staff member); ev carries the event fields that depend on the channel.
// prepare, when set, runs once admission has given a slot and before the
// commit (a staff booking writes the identity of a new person there, so a
// refused attempt leaves nothing behind); if it fails, the hold is given
// back.
func (s *Service) admit(ctx context.Context, actor Actor, sess *Session, h *Hospital, ch Channel, b Booking, ev Event, idemKey string, o Origin,
	limits []SharedLimit, prepare func(*Booking, *Event) error) (Booking, error) {
	id := newID()
	if idemKey != "" {
		id = s.idempotentID(actor.AccountID, idemKey)
	}
	// matches tells a replay of this request from a reuse of its key.
	matches := func(got Booking) bool {
		return got.SessionID == sess.ID && got.IdentityID == b.IdentityID && sameRequest(actor, got, b.NameHash)
	}
	return s.book(ctx, sess, h, ch, b, ev, attemptID{id: id, nonce: newNonce(), limits: limits}, idemKey, o, matches, prepare)
}

// attemptID names a booking attempt to Admission: the booking id, the nonce
// that tells a client library's retry of this very call from a replayed
// request, whether the lottery's draw books a winner, and the caller's
// shared rate limits admission counts first (Reservation.Limits).
type attemptID struct {
	id, nonce string
	draw      bool
	limits    []SharedLimit
}

// book is the protocol proper, for every booking: an attempt's, and a
// lottery winner's. prepare is admit's.
func (s *Service) book(ctx context.Context, sess *Session, h *Hospital, ch Channel, b Booking, ev Event, a attemptID, idemKey string, o Origin,
	matches func(Booking) bool, prepare func(*Booking, *Event) error) (Booking, error) {
	now := s.cfg.Now().Truncate(time.Microsecond) // SQL keeps microseconds; replays must match
	id := a.id
	week, month := s.catalog.Load().periods(sess.ID)
	r := Reservation{
		BookingID:    id,
		Nonce:        a.nonce,
		HospitalID:   sess.HospitalID,
		SessionID:    sess.ID,
		Channel:      ch,
		IdentityKey:  b.IdentityKey,
		VisitDate:    sess.VisitDate,
		DepartmentID: sess.DepartmentID,
		Week:         week,
		Month:        month,
		Today:        now.In(h.Location()).Format(time.DateOnly),
		Policy:       policyAt(h, now),
		Location:     h.Location(),
		HoldFor:      s.cfg.HoldFor,
		KeepUntil:    s.keepUntil(sess, now),
		Draw:         a.draw,
		Limits:       a.limits,
	}
	slotNo, replay, err := s.adm.Reserve(ctx, r)
	if err != nil {
		if lost := s.admissionLost(sess, err); lost != nil {
			return Booking{}, lost
		}
		if !a.draw {
			// A sold_out while holds are pending and writes fail: those
			// holds may be all that fills the pool (writehealth.go).
			// Answered 503, and not remembered by the fast reject memo.
			if down := s.pendingWhileDown(err); down != nil {
				return Booking{}, down
			}
		}
		if e, ok := AsError(err); ok && e.Code == ErrNotReleased.Code {
			if q, ok := sess.Channel(ch); ok && q.IsLottery() && !now.Before(q.DrawAt) {
				err = Errorf(ErrNotReleased, "this pool is being drawn by lottery; what the draw leaves is booked first-come once it is done")
			} else if ok {
				err = opensAt(h, q)
			}
		}
		s.rememberRefusal(sess, ch, err, now)
		return Booking{}, nothingBooked(err)
	}
	if replay {
		return s.replay(ctx, id, matches)
	}

	slot, _ := sess.Slot(slotNo)
	b.ID, b.SessionID, b.HospitalID, b.DepartmentID, b.DoctorID = id, sess.ID, sess.HospitalID, sess.DepartmentID, sess.DoctorID
	b.VisitDate, b.SlotNo, b.SlotStart, b.SlotEnd = sess.VisitDate, slotNo, slot.StartsAt, slot.EndsAt
	b.Channel, b.Status, b.IdempotencyKey, b.CreatedAt = ch, StatusConfirmed, idemKey, now
	q, _ := sess.Channel(ch)
	ev.ID, ev.TS, ev.Type, ev.BookingID, ev.SessionID, ev.HospitalID = newID(), now, EventBooked, id, sess.ID, sess.HospitalID
	ev.DepartmentID, ev.DoctorID, ev.Channel, ev.ReleaseAt = sess.DepartmentID, sess.DoctorID, ch, q.ReleaseAt
	ev = o.stamp(ev)
	if prepare != nil {
		if err := prepare(&b, &ev); err != nil {
			rctx, cancel := Detach(ctx, s.cfg.CommitTimeout)
			defer cancel()
			if rerr := s.adm.Release(rctx, HoldOf(b), Release{ReturnSlot: true, Forget: true}); rerr != nil {
				s.log.Warn("release hold after a failed preparation; the sweeper will", "booking_id", b.ID, "err", rerr)
			}
			return Booking{}, err
		}
	}
	if err := s.commit(ctx, b, ev); err != nil {
		if errors.Is(err, ErrInProgress) {
			// SQL already has a booking with this id, but Redis no longer
			// knew it (its record expired, or was lost and not restored
			// because the booking is no longer active): answer as a replay.
			// commit gave this attempt's hold back, as its row did not go
			// in. If the booking SQL has is active, Redis had lost it: its
			// slot and quota may count as free there (the hold just given
			// back may even have been that slot), so the booking's session
			// is rebuilt from SQL, as for a slot SQL found taken.
			got, err := s.replay(ctx, id, matches)
			if err == nil && got.Status.Active() {
				s.stats.drifts.Add(1)
				s.log.Warn("admission drift: a retried booking was active in SQL and unknown to Redis", "session_id", got.SessionID, "booking_id", id)
				s.reconcileLater(got.SessionID)
			}
			return got, err
		}
		return Booking{}, err
	}
	// Committed: the batch that wrote the row takes the hold off the
	// pending list once its answers are out (confirmBatch), the read-back
	// that found it already has (commit).
	s.cfg.Metrics.Booked(ch)
	return b, nil
}

// keepUntil is how long Redis remembers a booking id: the idempotency
// window, and at least a day past the session.
func (s *Service) keepUntil(sess *Session, now time.Time) time.Time {
	keep := now.Add(s.cfg.IdempotencyWindow)
	if end := sess.EndsAt.Add(24 * time.Hour); end.After(keep) {
		keep = end
	}
	return keep
}

// commit writes the booking to SQL and, if that fails, gives the hold back.
// Its 503s say what is known: nothing booked, or the outcome unknown.
func (s *Service) commit(ctx context.Context, b Booking, ev Event) error {
	// The commit joins a group commit (writeBookings), whose batches run
	// under a deadline of their own, detached from every client's: a client
	// that hangs up must not turn a commit into an unknown outcome.
	err := s.bookings.do(pendingBooking{b: b, ev: ev})
	if err == nil {
		return nil
	}
	hold := HoldOf(b)
	release := func(how Release) {
		rctx, cancel := Detach(ctx, s.cfg.CommitTimeout)
		defer cancel()
		if rerr := s.adm.Release(rctx, hold, how); rerr != nil {
			s.log.Warn("release hold after failed commit; the sweeper will retry", "booking_id", b.ID, "err", rerr)
		}
	}
	switch {
	case errors.Is(err, ErrSlotTaken):
		// Redis drifted from SQL; SQL wins. Keep the slot out of the pool
		// and rebuild the session from SQL.
		release(Release{Forget: true})
		s.stats.drifts.Add(1)
		s.log.Warn("admission drift: slot already booked in SQL", "session_id", b.SessionID, "slot", b.SlotNo)
		s.reconcileLater(b.SessionID)
		return fmt.Errorf("%w: %w", errNothingBooked, err)
	case errors.Is(err, ErrSessionStopped):
		// The clinic was stopped after admission: the slot goes nowhere
		// (its session is closed) and the stop's reconciliation, or this
		// one, makes Redis match SQL.
		release(Release{Forget: true})
		s.reconcileLater(b.SessionID)
		return err
	case errors.Is(err, ErrOutcomeUnknown):
		got, gerr := s.readBack(ctx, b.ID)
		switch {
		case gerr == nil && got.Status.Active():
			// It did commit: confirm, as the batch would have.
			s.confirmBookings(ctx, map[string][]string{b.HospitalID: {b.ID}})
			return nil
		case errors.Is(gerr, ErrBookingNotFound):
			release(Release{ReturnSlot: true, Forget: true})
			return fmt.Errorf("%w: %w", errNothingBooked, err)
		default:
			// Cannot tell: leave the hold pending; the sweeper decides
			// after HoldFor by asking SQL, and a retry with the same key
			// gets the answer.
			s.log.Warn("commit outcome unknown; left to the sweeper", "booking_id", b.ID, "err", err)
			return fmt.Errorf("%w: %w", errOutcomeUnknown, err)
		}
	default:
		release(Release{ReturnSlot: true, Forget: true})
		if errors.Is(err, ErrPatientRemoved) {
			s.forgetRemoved(b.PatientID)
		}
		if e, ok := AsError(err); ok && e.Kind != KindUnavailable {
			return err // a rule SQL enforces, e.g. one booking per day and department
		}
		s.log.Error("commit booking", "booking_id", b.ID, "err", err)
		// The server answered, or the statement was never sent: not committed.
		return fmt.Errorf("%w: %w", errNothingBooked, err)
	}
}

// pendingBooking is a booking waiting in the group commit.
type pendingBooking struct {
	b  Booking
	ev Event
}

// writeBookings is the bookings' group commit's write: one statement for
// the batch and an answer per booking. Its committed holds are confirmed
// after the answers (confirmBatch).
func (s *Service) writeBookings(items []pendingBooking) []error {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.CommitTimeout)
	defer cancel()
	bs, evs := make([]Booking, len(items)), make([]Event, len(items))
	for i, it := range items {
		bs[i], evs[i] = it.b, it.ev
	}
	errs, err := s.store.InsertBookings(ctx, bs, evs)
	s.noteBatch(errs, err)
	if err != nil {
		errs = s.batchFailed(ctx, bs, evs, err)
	}
	return errs
}

// confirmBatch runs once a batch's answers are out, before the turn to
// write is handed on: the rows are durable, so their holds no longer need
// the sweeper; one Redis round trip per hospital for the batch. A 201 does
// not wait for it: SQL's row is the booking, and if this is lost (Redis
// fails, the process dies) the sweeper finds the row and confirms the hold,
// as it does for a crash after the commit.
func (s *Service) confirmBatch(items []pendingBooking, errs []error) {
	durable := map[string][]string{}
	for i, it := range items {
		if errs[i] == nil {
			durable[it.b.HospitalID] = append(durable[it.b.HospitalID], it.b.ID)
		}
	}
	// Bounded as the write was: the writer holds its turn meanwhile.
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.CommitTimeout)
	defer cancel()
	s.confirmBookings(ctx, durable)
}

// confirmBookings takes committed bookings' holds off the pending list, per
// hospital.
func (s *Service) confirmBookings(ctx context.Context, ids map[string][]string) {
	cctx, cancel := Detach(ctx, s.cfg.CommitTimeout)
	defer cancel()
	for hid, ids := range ids {
		if err := s.adm.Confirm(cctx, hid, ids...); err != nil {
			s.log.Warn("confirm holds; the sweeper will", "bookings", len(ids), "err", err)
		}
	}
}

// batchFailed answers each booking of a batch whose statement failed as a
// whole: with the batch's error, or, when the server refused it for a value
// one row carries (not the database's state), with its own row's answer,
// written again one by one.
func (s *Service) batchFailed(ctx context.Context, bs []Booking, evs []Event, err error) []error {
	errs := make([]error, len(bs))
	if e, ok := AsError(err); len(bs) > 1 && !errors.Is(err, ErrOutcomeUnknown) && (!ok || e.Kind != KindUnavailable) {
		s.log.Warn("booking batch refused; writing its rows one by one", "bookings", len(bs), "err", err)
		for i := range bs {
			one, err := s.store.InsertBookings(ctx, bs[i:i+1], evs[i:i+1])
			if err == nil {
				err = one[0]
			}
			errs[i] = err
		}
		return errs
	}
	for i := range errs {
		errs[i] = err
	}
	return errs
}

func (s *Service) readBack(ctx context.Context, id string) (Booking, error) {
	rctx, cancel := Detach(ctx, s.cfg.CommitTimeout)
	defer cancel()
	return s.store.Booking(rctx, id)
}

// replay answers a request whose booking id Admission already knows: the
// first answer if it committed, request_in_progress while it is in flight.
// sameRequest says whether booking got was made by actor's request under
// the name nameHash (raw keyed hash). The name too: a booking is made
// under a name (check-in and the phone's lookup compare with it), so one ID
// number under another name is another request — the name the request
// gave, which a check-in by override does not change (BookedNameHash). A
// booking from before names were kept per booking has none.
func sameRequest(actor Actor, got Booking, nameHash string) bool {
	bookedAs := got.BookedNameHash
	if bookedAs == "" {
		bookedAs = got.NameHash
	}
	return (bookedAs == "" || bookedAs == nameHash) && (got.AccountID == actor.AccountID || got.BookedBy == actor.AccountID)
}

func (s *Service) replay(ctx context.Context, id string, matches func(Booking) bool) (Booking, error) {
	b, err := s.store.Booking(ctx, id)
	if errors.Is(err, ErrBookingNotFound) {
		return Booking{}, ErrInProgress
	}
	if e, ok := AsError(err); ok && e.Kind == KindUnavailable {
		// The first request may have booked: only SQL can tell.
		return Booking{}, fmt.Errorf("%w: %w", errOutcomeUnknown, err)
	}
	if err != nil {
		return Booking{}, err
	}
	if !matches(b) {
		return Booking{}, ErrIdempotencyReuse
	}
	b.Replayed = true
	return b, nil
}

// Bookings lists the bookings the actor owns, newest first: those the
// account made, and those staff made (by phone, at the desk) for the person
// the account holds as its verified self. Another account that added the
// same person sees none of them. patient_id is the actor's own patient.
func (s *Service) Bookings(ctx context.Context, actor Actor) ([]Booking, error) {
	return s.BookingsPage(ctx, actor, Page{})
}

// BookingsPage is a page of the actor's bookings, newest first: after the
// booking p.After (one of this list's, else invalid_cursor), p.Limit of
// them (1 to BookingPageSize; 0 for BookingPageSize). The store checks the
// cursor with the page's own read.
func (s *Service) BookingsPage(ctx context.Context, actor Actor, p Page) ([]Booking, error) {
	if err := checkLimit(p, BookingPageSize); err != nil {
		return nil, err
	}
	var bs []Booking
	var err error = ErrNotFound // a cursor that is no id names no booking
	if p.After == "" || isUUID(p.After) {
		bs, err = s.store.Bookings(ctx, actor.AccountID, p)
	}
	if errors.Is(err, ErrNotFound) {
		return nil, Errorf(ErrInvalidCursor, "after is the booking_id of the previous page's last booking")
	}
	if err != nil || len(bs) == 0 {
		return bs, err
	}
	self, ok, err := s.verifiedSelf(ctx, actor)
	if err != nil {
		return nil, err
	}
	for i := range bs {
		if bs[i].AccountID != actor.AccountID && ok {
			bs[i].PatientID = self.ID
		}
	}
	return bs, nil
}

// verifiedSelf is the actor's patient that is the account holder, with the
// name the identity was verified under: the one account that sees the
// bookings staff made for that person.
func (s *Service) verifiedSelf(ctx context.Context, actor Actor) (Patient, bool, error) {
	ps, err := s.Patients(ctx, actor)
	if err != nil {
		return Patient{}, false, err
	}
	for _, p := range ps {
		if p.IsSelf && p.SelfVerified {
			return p, true, nil
		}
	}
	return Patient{}, false, nil
}

// Booking returns a booking the actor may act on, or booking_not_found:
// staff see the bookings of their hospital (a platform-wide administrator,
// all); a referrer, those it made; a patient, those their account owns
// (Bookings). Whether a
// booking exists is never revealed to anyone else.
func (s *Service) Booking(ctx context.Context, actor Actor, id string) (Booking, error) {
	b, self, err := s.bookingOf(ctx, actor, id)
	if self != "" {
		b.PatientID = self
	}
	return b, err
}

// bookingOf is Booking as stored: for one another account made for the
// actor's verified self (MadeByOthers), with the maker's patient, and self
// the actor's.
func (s *Service) bookingOf(ctx context.Context, actor Actor, id string) (_ Booking, self string, _ error) {
	if !isUUID(id) {
		return Booking{}, "", ErrBookingNotFound
	}
	b, err := s.store.Booking(ctx, id)
	if err != nil {
		return Booking{}, "", err
	}
	switch {
	case actor.IsStaff():
		if actor.Covers(b.HospitalID) {
			return b, "", nil
		}
	case actor.Role == RoleReferrer:
		if b.BookedBy == actor.AccountID {
			return b, "", nil // a referrer sees (and cancels) the bookings it made
		}
	case actor.Role != RolePatient:
	case b.AccountID == actor.AccountID:
		return b, "", nil
	case b.AccountID == "":
		self, ok, err := s.verifiedSelf(ctx, actor)
		if err != nil {
			return Booking{}, "", err
		}
		if ok && self.IdentityID == b.IdentityID {
			b.PatientID = self.ID
			return b, "", nil
		}
	default:
		self, ok, err := s.forPerson(ctx, actor, b.AccountID, b.IdentityID)
		if err != nil {
			return Booking{}, "", err
		}
		if ok {
			return b, self.ID, nil
		}
	}
	return Booking{}, "", ErrBookingNotFound
}

// Cancel cancels a confirmed booking before its session starts. SQL is
// changed first; then the slot is returned: to the first eligible identity
// on the session's waitlist, else back to its pool after a random delay. If
// the Redis step is lost, reconciliation returns the slot to the pool.
//
// A patient's (or an operator's for a caller, a referrer's for a resident)
// cancellation after the
// hospital's deadline (15:00 the day before) is late and counts as a
// no-show; a clerk or admin cancelling for the hospital is never late. A
// booking the service allotted (a draw's win, a waitlist promotion) is free
// to cancel until the later of the deadline and AllottedGrace after it was
// made (Hospital.FreeCancelUntil).
//
// The person's verified self cancels a booking another account made for
// them as its own (late rules and all); the maker keeps the cancelled
// booking in its list and is told (notificationOf).
func (s *Service) Cancel(ctx context.Context, actor Actor, id string, o Origin) (Booking, error) {
	if actor.Role == RoleOperator {
		// An operator acts for a caller, who proves who they are and
		// rings from the number the booking was made on a call from.
		return Booking{}, Errorf(ErrForbidden, "operators cancel for a caller on the line, with the caller's ID number, name and number (POST /v1/phone/cancellations)")
	}
	return s.cancelBooking(ctx, actor, id, o)
}

// cancelBooking is Cancel for any actor, an operator's caller checked
// (CancelForCaller). An operator cancels phone bookings, or, for the
// patient on the line (o.patientCall, cancelForPatient), one an account
// made for them.
func (s *Service) cancelBooking(ctx context.Context, actor Actor, id string, o Origin) (Booking, error) {
	b, self, err := s.bookingOf(ctx, actor, id)
	if err != nil {
		return Booking{}, err
	}
	if actor.Role == RoleOperator && b.Channel != ChannelPhone && o.patientCall == nil {
		return Booking{}, Errorf(ErrForbidden, "operators cancel phone bookings only")
	}
	if b.Status != StatusConfirmed {
		return Booking{}, ErrBookingNotActive
	}
	now := s.cfg.Now()
	cat := s.catalog.Load()
	sess, ok := cat.Session(b.SessionID)
	if ok && !now.Before(sess.StartsAt) {
		if actor.IsStaff() {
			return Booking{}, Errorf(ErrSessionClosed, "the session has started: a registration clerk cancels it at the desk, with a reason (POST /v1/desk/cancellations)")
		}
		return Booking{}, Errorf(ErrSessionClosed, "the session has started; ask the registration desk")
	}
	late := false
	if h, ok := cat.Hospital(b.HospitalID); ok && (actor.Role == RolePatient || actor.Role == RoleOperator || actor.Role == RoleReferrer) {
		late = h.lateToCancel(b, now)
	}
	if sess != nil && sess.MovedAfter(b) {
		late = false // the hospital moved the clinic (改期): free until it starts
	}
	if late {
		// A slot held for a substitute doctor (替诊) is the hospital's
		// offer: giving it up is a decline, never a late cancellation.
		// The store settles the offer (declined) in the cancellation's
		// own transaction, late or not (OfferEnd).
		if off, err := s.store.Offer(ctx, b.ID); err == nil && off.StateAt(now) == OfferOpen {
			late = false
		}
	}
	if o.takenAtDesk {
		// A desk closing of an account someone took: the victim's
		// cancellations, never late (review19c M4; cancelForFlag).
		late = false
	}
	got, err := s.cancel(ctx, actor, b, sess, ok, cancelHow{late: late}, o)
	if err == nil && self != "" {
		got.PatientID = self
	}
	return got, err
}

// readBackAfterOutage reads a booking after a write whose answer was lost
// and whose first read-back failed, trying again while the outage lasts (a
// reset of SQL's connections is over in well under a second), until ctx's
// deadline.
func (s *Service) readBackAfterOutage(ctx context.Context, id string) (Booking, error) {
	for wait := 50 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		b, err := s.store.Booking(ctx, id)
		if err == nil || errors.Is(err, ErrBookingNotFound) {
			return b, err
		}
		select {
		case <-ctx.Done():
			return Booking{}, err
		case <-time.After(wait):
		}
	}
}

// cancelWithoutPenalty cancels a booking for the hospital's reason (never
// late), as the stop of a clinic or a declined substitute offer does.
func (s *Service) cancelWithoutPenalty(ctx context.Context, actor Actor, id, reason string, o Origin) (Booking, error) {
	b, err := s.store.Booking(ctx, id)
	if err != nil {
		return Booking{}, err
	}
	if b.Status != StatusConfirmed {
		return Booking{}, ErrBookingNotActive
	}
	sess, ok := s.catalog.Load().Session(b.SessionID)
	return s.cancel(ctx, actor, b, sess, ok, cancelHow{reason: reason}, o)
}

// cancelHow is what a cancellation is beyond its booking: late (it counts
// toward a bar), the event's reason, the clerk's reason for the audit, and
// whether the slot goes to the desk at once (a cancellation at the desk
// during the session).
type cancelHow struct {
	late       bool
	reason     string
	deskReason string
	auditID    string // the staff audit entry's id (an Idempotency-Key's), else a new one
	onsite     bool
	placed     *Placement // where an onsite slot went
}

// pendWait bounds how long a cancellation waits for Redis to mark its hold
// pending (a round trip takes well under a millisecond): a slow Redis must
// not hold up what the patient asked for, which goes on without the mark.
const pendWait = 250 * time.Millisecond

// cancel is the cancellation proper: SQL, then the slot's return.
func (s *Service) cancel(ctx context.Context, actor Actor, b Booking, sess *Session, ok bool, how cancelHow, o Origin) (Booking, error) {
	id, late, reason := b.ID, how.late, how.reason
	now := s.cfg.Now()
	ev := o.stamp(Event{ID: newID(), TS: now, Type: EventCancelled, AccountID: b.AccountID,
		PatientID: b.PatientID, IdentityID: b.IdentityID, BookingID: b.ID, SessionID: b.SessionID, HospitalID: b.HospitalID,
		DepartmentID: b.DepartmentID, DoctorID: b.DoctorID, Channel: b.Channel})
	var audit *AuditEntry
	if actor.IsStaff() || actor.Role == RoleReferrer {
		ev.StaffID = actor.AccountID
		audit = &AuditEntry{ID: newID(), TS: now, ActorID: actor.AccountID, ActorRole: actor.Role, Action: "booking_cancelled",
			Target: "booking:" + b.ID, Reason: cancelAuditReason(b.Channel, late, how.deskReason), HospitalID: b.HospitalID}
		if how.auditID != "" {
			audit.ID = how.auditID
		}
	}
	if late {
		ev.Reason = "late"
	}
	if pc := o.patientCall; pc != nil && audit != nil {
		// The patient rang and the operator cancelled for them what an
		// account made for them (review23 M2): the account is told, the
		// detector reads it as the person's (…by_person…), and the number
		// counts toward its persons of the day (callerBounds).
		ev.Reason, ev.Phone = reasonByPersonOnPhone, pc.phoneRef
		if late {
			ev.Reason = reasonLateByPersonOnPhone
		}
		audit.Reason = fmt.Sprintf(auditByPersonOnPhonePattern, fmt.Sprintf("%s booking", b.Channel), "cancelled", pc.caller)
		if late {
			audit.Reason += " (late)"
		}
	}
	if actor.Role == RolePatient && b.AccountID == "" {
		// The person's verified self, on a booking staff made for them
		// with no account (bookingOf): nobody to tell, but the event and
		// the hospital's audit name who cancelled it.
		ev.ByAccountID = actor.AccountID
		audit = &AuditEntry{ID: newID(), TS: now, ActorID: actor.AccountID, ActorRole: actor.Role, Action: auditByPersonAction,
			Target: "booking:" + b.ID, Reason: fmt.Sprintf(auditStaffMadePattern, b.Channel), HospitalID: b.HospitalID}
		if late {
			audit.Reason += " (late)"
		}
	}
	if actor.Role == RolePatient && b.AccountID != "" && b.AccountID != actor.AccountID {
		// The person's verified self, on a booking another account made
		// for them (bookingOf): the maker is told, and it is audited.
		ev.Reason, ev.ByAccountID = reasonByPerson, actor.AccountID
		if late {
			ev.Reason = reasonLateByPerson
		}
		audit = s.byPersonAudit(actor, "booking:"+b.ID, "booking", "cancelled", b.HospitalID)
		if late {
			audit.Reason += " (late)"
		}
	}
	if reason != "" {
		ev.Reason = reason
	}
	ev = o.closedAtDesk(ev)
	// The hold is pending again before SQL cancels: if this process dies
	// before the slot is given back below, the sweeper finds the booking
	// cancelled at the deadline and gives it back (Sweep). Without Redis
	// the cancellation goes on; reconciliation repairs what follows.
	pctx, stop := context.WithTimeout(ctx, pendWait)
	perr := s.adm.Pend(pctx, b.HospitalID, b.ID, s.cfg.HoldFor)
	stop()
	if perr != nil {
		s.log.Warn("mark a cancellation pending in admission; reconciliation repairs its slot if this process dies", "booking_id", b.ID, "err", perr)
	}
	cancelled, bars, err := s.store.CancelBooking(ctx, id, late, s.noShowRules(b.HospitalID, now), ev, audit)
	// SQL has the cancellation (or may have: a lost answer): what follows
	// must finish even if the client hangs up, and reconciliation repairs
	// Redis if it does not.
	bg, done := s.followUp(ctx)
	defer done()
	if err != nil {
		// A commit whose answer was lost, or a read after it that failed,
		// may have cancelled the booking: read it back, and if it is
		// cancelled give its slot back (a release only places a slot this
		// booking still holds), so Redis does not keep a slot SQL has
		// freed. The caller still hears the error and may retry. A refusal
		// (the booking no longer active, …) changed nothing: no read.
		unknown := errors.Is(err, ErrOutcomeUnknown) || errors.Is(err, ErrUnavailable)
		if !unknown || !ok {
			return Booking{}, err
		}
		giveBack := func(ctx context.Context, got Booking) {
			if got.Status == StatusCancelled {
				got.PatientID = b.PatientID
				s.placeCancelled(ctx, actor, sess, got, how)
			}
		}
		if got, rerr := s.store.Booking(bg, id); rerr == nil {
			giveBack(bg, got)
		} else {
			// SQL is still away (the outage that lost the answer): read
			// it back in the background while the outage lasts, so the
			// caller hears at once and a slot SQL freed is not left held
			// (the fault table met one).
			s.tasks.start("read back cancellation "+id, 3*s.cfg.CommitTimeout, func(ctx context.Context) error {
				got, err := s.readBackAfterOutage(ctx, id)
				if err == nil {
					giveBack(ctx, got)
				}
				return err
			})
		}
		return Booking{}, err
	}
	cancelled.PatientID = b.PatientID
	s.applyBars(bg, bars)
	pl := Placement{Outcome: PlacedNone}
	if ok {
		pl = s.placeCancelled(bg, actor, sess, cancelled, how)
	}
	if how.placed != nil {
		*how.placed = pl
	}
	return cancelled, nil
}

// placeCancelled gives a cancelled booking's slot where its cancellation
// sends it — to the desk at once for one at the desk during the session,
// else back as any returned slot — whether SQL answered the cancellation or
// it was read back after a lost answer.
func (s *Service) placeCancelled(ctx context.Context, actor Actor, sess *Session, cancelled Booking, how cancelHow) Placement {
	if !how.onsite {
		return s.returnSlot(ctx, sess, cancelled, Return{})
	}
	pl, err := s.placeOnsite(ctx, actor, sess, cancelled, "cancellation at the desk")
	if err != nil {
		s.log.Warn("give a slot cancelled at the desk to the desk; the session will be reconciled", "booking_id", cancelled.ID, "err", err)
		s.reconcileLater(sess.ID)
		return Placement{Outcome: PlacedNone}
	}
	return pl
}

// cancelAuditReason is the reason of a staff cancellation's audit entry: the
// booking's channel, whether it was late, and a desk cancellation's code and
// reason (deskCancelReason; empty for another).
func cancelAuditReason(ch Channel, late bool, deskReason string) string {
	r := fmt.Sprintf("%s booking cancelled for the patient", ch)
	if late {
		r += " (late)"
	}
	if deskReason != "" {
		r += " at the desk " + deskReason
	}
	return r
}
