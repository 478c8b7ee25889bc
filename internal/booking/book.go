package booking

import (
	"context"
	"errors"
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
}

// mayBookOn says which roles book on which channel: patients online for
// themselves, operators by phone for callers, clerks on site for walk-ins.
// Referral slots are booked by clerks for referred patients.
func mayBookOn(r Role, c Channel) bool {
	switch c {
	case ChannelOnline:
		return r == RolePatient
	case ChannelPhone:
		return r == RoleOperator
	case ChannelOnsite, ChannelReferral:
		return r == RoleClerk
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

func (s *Service) attempt(ctx context.Context, actor Actor, req BookRequest, mayEnter bool) (Result, error) {
	if actor.Role != RolePatient || !mayBookOn(actor.Role, req.Channel) {
		return Result{}, ErrChannelForbidden
	}
	sess, h, err := s.attemptSession(req.SessionID, req.Channel, req.IdempotencyKey)
	if err != nil {
		return Result{}, err
	}
	p, err := s.patientOf(ctx, actor, req.PatientID)
	if err != nil {
		return Result{}, err
	}
	if q, ok := sess.Channel(req.Channel); ok && q.TakesEntries(s.cfg.Now()) {
		if !mayEnter {
			return Result{}, ErrLotteryOnly
		}
		e := Entry{PatientID: p.ID, IdentityID: p.IdentityID, IdentityKey: p.IdentityKey, AccountID: actor.AccountID, Waitlist: req.Waitlist}
		ev := Event{AccountID: actor.AccountID, PatientID: p.ID, IdentityID: p.IdentityID}
		e, err := s.enter(ctx, actor, sess, h, q, e, ev, req.IdempotencyKey, req.Origin)
		if !errors.Is(err, ErrWindowClosed) {
			return Result{Entry: e, Entered: err == nil}, err
		}
		// The draw time came while the request travelled: it is a booking
		// attempt now, answered as the pool answers first-come.
	}
	b := Booking{PatientID: p.ID, IdentityID: p.IdentityID, IdentityKey: p.IdentityKey, AccountID: actor.AccountID}
	ev := Event{AccountID: actor.AccountID, PatientID: p.ID, IdentityID: p.IdentityID}
	b, err = s.admit(ctx, actor, sess, h, req.Channel, b, ev, req.IdempotencyKey, req.Origin)
	return Result{Booking: b}, err
}

// attemptSession is bookableSession for a booking attempt, and where the
// fast reject path answers (KnownRefusal): after the catalog's checks, before
// any work for the person (a patient lookup, an identity written for the
// desk) and before admission.
func (s *Service) attemptSession(sessionID string, ch Channel, idemKey string) (*Session, *Hospital, error) {
	sess, h, err := s.bookableSession(sessionID, ch)
	if err != nil {
		return nil, nil, err
	}
	if err := s.KnownRefusal(sess.ID, ch, idemKey); err != nil {
		return nil, nil, err
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
	now := s.cfg.Now()
	if ch == ChannelOnsite || ch == ChannelReferral {
		// The desk books walk-ins for as long as the session runs.
		if !now.Before(sess.EndsAt) {
			return nil, nil, Errorf(ErrSessionClosed, "the session has ended")
		}
	} else if !now.Before(sess.StartsAt) {
		// Remote channels close when the session starts: first-come hands
		// out the earliest free slot, which may already be past.
		return nil, nil, Errorf(ErrSessionClosed, "remote booking closes when the session starts; the desk books walk-ins")
	}
	h, _ := cat.Hospital(sess.HospitalID)
	return sess, h, nil
}

// admit runs the protocol for one attempt. b carries who the booking is for
// (identity, and patient and account when booked from a patient's list, or
// the staff member); ev carries the event fields that depend on the channel.
func (s *Service) admit(ctx context.Context, actor Actor, sess *Session, h *Hospital, ch Channel, b Booking, ev Event, idemKey string, o Origin) (Booking, error) {
	id := newID()
	if idemKey != "" {
		id = s.idempotentID(actor.AccountID, idemKey)
	}
	// matches tells a replay of this request from a reuse of its key.
	matches := func(got Booking) bool {
		return got.SessionID == sess.ID && got.IdentityID == b.IdentityID &&
			(got.AccountID == actor.AccountID || got.BookedBy == actor.AccountID)
	}
	return s.book(ctx, sess, h, ch, b, ev, attemptID{id: id, nonce: newNonce()}, idemKey, o, matches)
}

// attemptID names a booking attempt to Admission: the booking id, the nonce
// that tells a client library's retry of this very call from a replayed
// request, and whether the lottery's draw books a winner.
type attemptID struct {
	id, nonce string
	draw      bool
}

// book is the protocol proper, for every booking: an attempt's, and a
// lottery winner's.
func (s *Service) book(ctx context.Context, sess *Session, h *Hospital, ch Channel, b Booking, ev Event, a attemptID, idemKey string, o Origin, matches func(Booking) bool) (Booking, error) {
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
		Policy:       h.Policy,
		HoldFor:      s.cfg.HoldFor,
		KeepUntil:    s.keepUntil(sess, now),
		Draw:         a.draw,
	}
	slotNo, replay, err := s.adm.Reserve(ctx, r)
	if err != nil {
		if e, ok := AsError(err); ok && e.Code == ErrNotReleased.Code {
			if q, ok := sess.Channel(ch); ok && q.IsLottery() && !now.Before(q.DrawAt) {
				err = Errorf(ErrNotReleased, "this pool is being drawn by lottery; what the draw leaves is booked first-come once it is done")
			} else if ok {
				err = Errorf(ErrNotReleased, "this channel opens at %s", q.ReleaseAt.In(h.Location()).Format(time.RFC3339))
			}
		}
		s.rememberRefusal(sess, ch, err, now)
		return Booking{}, err
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
	if err := s.commit(ctx, b, ev); err != nil {
		if errors.Is(err, ErrInProgress) {
			// SQL already has a booking with this id, but Redis no longer
			// knew it (its record expired, or was lost and not restored
			// because the booking is no longer active): answer as a replay.
			return s.replay(ctx, id, matches)
		}
		return Booking{}, err
	}
	// Confirm: the row is durable, so the hold no longer needs the sweeper.
	// If this write is lost the sweeper finds the row in SQL and confirms.
	if err := s.adm.Confirm(ctx, b.HospitalID, b.ID); err != nil {
		s.log.Warn("confirm hold", "booking_id", b.ID, "err", err)
	}
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
func (s *Service) commit(ctx context.Context, b Booking, ev Event) error {
	// The commit gets its own deadline, detached from the client's: a client
	// that hangs up must not turn a commit into an unknown outcome.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.CommitTimeout)
	defer cancel()
	err := s.store.InsertBooking(cctx, b, ev)
	if err == nil {
		return nil
	}
	hold := HoldOf(b)
	release := func(how Release) {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.CommitTimeout)
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
		s.log.Warn("admission drift: slot already booked in SQL", "session_id", b.SessionID, "slot", b.SlotNo)
		go s.reconcileSession(context.WithoutCancel(ctx), b.SessionID)
		return ErrUnavailable
	case errors.Is(err, ErrOutcomeUnknown):
		got, gerr := s.readBack(ctx, b.ID)
		switch {
		case gerr == nil && got.Status.Active():
			return nil // it did commit
		case errors.Is(gerr, ErrBookingNotFound):
			release(Release{ReturnSlot: true, Forget: true})
		default:
			// Cannot tell: leave the hold pending; the sweeper decides
			// after HoldFor by asking SQL.
			s.log.Warn("commit outcome unknown; left to the sweeper", "booking_id", b.ID, "err", err)
		}
		return ErrUnavailable
	default:
		release(Release{ReturnSlot: true, Forget: true})
		if _, ok := AsError(err); ok {
			return err // a rule SQL enforces, e.g. one booking per day and department
		}
		s.log.Error("commit booking", "booking_id", b.ID, "err", err)
		return ErrUnavailable
	}
}

func (s *Service) readBack(ctx context.Context, id string) (Booking, error) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.CommitTimeout)
	defer cancel()
	return s.store.Booking(rctx, id)
}

// replay answers a request whose booking id Admission already knows: the
// first answer if it committed, request_in_progress while it is in flight.
func (s *Service) replay(ctx context.Context, id string, matches func(Booking) bool) (Booking, error) {
	b, err := s.store.Booking(ctx, id)
	if errors.Is(err, ErrBookingNotFound) {
		return Booking{}, ErrInProgress
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

// Bookings lists the bookings of every identity on the actor's list,
// whatever the channel, newest first; patient_id is the actor's own patient
// for that identity.
func (s *Service) Bookings(ctx context.Context, actor Actor) ([]Booking, error) {
	bs, err := s.store.Bookings(ctx, actor.AccountID)
	if err != nil || len(bs) == 0 {
		return bs, err
	}
	mine, err := s.ownPatients(ctx, actor)
	if err != nil {
		return nil, err
	}
	for i := range bs {
		bs[i].PatientID = mine[bs[i].IdentityID]
	}
	return bs, nil
}

// ownPatients maps the identities on the actor's list to their patient ids.
func (s *Service) ownPatients(ctx context.Context, actor Actor) (map[string]string, error) {
	ps, err := s.Patients(ctx, actor)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(ps))
	for _, p := range ps {
		m[p.IdentityID] = p.ID
	}
	return m, nil
}

// Booking returns a booking of an identity on the actor's list; staff may
// read any.
func (s *Service) Booking(ctx context.Context, actor Actor, id string) (Booking, error) {
	if !isUUID(id) {
		return Booking{}, ErrBookingNotFound
	}
	b, err := s.store.Booking(ctx, id)
	if err != nil || actor.IsStaff() {
		return b, err
	}
	if actor.Role != RolePatient {
		return Booking{}, ErrBookingNotFound
	}
	mine, err := s.ownPatients(ctx, actor)
	if err != nil {
		return Booking{}, err
	}
	pid, ok := mine[b.IdentityID]
	if !ok {
		return Booking{}, ErrBookingNotFound // do not reveal other people's bookings
	}
	b.PatientID = pid
	return b, nil
}

// Cancel cancels a confirmed booking before its session starts. SQL is
// changed first; then the slot is returned: to the first eligible identity
// on the session's waitlist, else back to its pool after a random delay. If
// the Redis step is lost, reconciliation returns the slot to the pool.
//
// A patient's (or an operator's, for a caller) cancellation after the
// hospital's deadline (15:00 the day before) is late and counts as a
// no-show; a clerk or admin cancelling for the hospital is never late.
func (s *Service) Cancel(ctx context.Context, actor Actor, id string, o Origin) (Booking, error) {
	b, err := s.Booking(ctx, actor, id)
	if err != nil {
		return Booking{}, err
	}
	if actor.Role == RoleOperator && b.Channel != ChannelPhone {
		return Booking{}, Errorf(ErrForbidden, "operators cancel phone bookings only")
	}
	if b.Status != StatusConfirmed {
		return Booking{}, ErrBookingNotActive
	}
	now := s.cfg.Now()
	cat := s.catalog.Load()
	sess, ok := cat.Session(b.SessionID)
	if ok && !now.Before(sess.StartsAt) {
		return Booking{}, Errorf(ErrSessionClosed, "the session has started; ask the registration desk")
	}
	late := false
	if h, ok := cat.Hospital(b.HospitalID); ok && (actor.Role == RolePatient || actor.Role == RoleOperator) {
		late = now.After(h.LateAfter(b.VisitDate))
	}
	ev := o.stamp(Event{ID: newID(), TS: now, Type: EventCancelled, AccountID: b.AccountID,
		PatientID: b.PatientID, IdentityID: b.IdentityID, BookingID: b.ID, SessionID: b.SessionID, HospitalID: b.HospitalID,
		DepartmentID: b.DepartmentID, DoctorID: b.DoctorID, Channel: b.Channel})
	if actor.IsStaff() {
		ev.StaffID = actor.AccountID
	}
	if late {
		ev.Reason = "late"
	}
	cancelled, bars, err := s.store.CancelBooking(ctx, id, late, s.cfg.NoShowRules, ev)
	if err != nil {
		return Booking{}, err
	}
	cancelled.PatientID = b.PatientID
	bg := context.WithoutCancel(ctx)
	s.applyBars(bg, bars)
	if ok {
		s.returnSlot(bg, sess, cancelled, Return{Delay: s.returnDelay()})
	}
	return cancelled, nil
}
