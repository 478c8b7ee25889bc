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
}

// channelRoles says which roles may book on a channel through the generic
// booking endpoint. Staff channels get their own endpoints with identity
// checks of their own.
func mayBookOn(r Role, c Channel) bool {
	return r == RolePatient && c == ChannelOnline
}

// Book runs the booking protocol: admit in Redis → commit in SQL → confirm.
// A booking is returned only after its row is committed. Every failure after
// admission gives the hold back, or, when the commit's outcome is unknown,
// leaves it to the sweeper, which asks SQL before releasing anything.
func (s *Service) Book(ctx context.Context, actor Actor, req BookRequest) (Booking, error) {
	if !mayBookOn(actor.Role, req.Channel) {
		return Booking{}, ErrChannelForbidden
	}
	cat := s.catalog.Load()
	if !isUUID(req.SessionID) {
		return Booking{}, ErrSessionNotFound
	}
	sess, ok := cat.Session(req.SessionID)
	if !ok {
		return Booking{}, ErrSessionNotFound
	}
	now := s.cfg.Now().Truncate(time.Microsecond) // SQL keeps microseconds; replays must match
	if !now.Before(sess.StartsAt) {
		// Remote channels close when the session starts: first-come hands
		// out the earliest free slot, which may already be past. The desk
		// books walk-ins for the rest of the session.
		return Booking{}, Errorf(ErrSessionClosed, "online booking closes when the session starts")
	}
	if sess.Mode == Lottery {
		return Booking{}, ErrLotteryOnly
	}
	h, _ := cat.Hospital(sess.HospitalID)
	p, err := s.patientOf(ctx, actor, req.PatientID)
	if err != nil {
		return Booking{}, err
	}

	id := newID()
	if req.IdempotencyKey != "" {
		id = s.idempotentID(actor.AccountID, req.IdempotencyKey)
	}
	week, month := cat.periods(sess.ID)
	keep := now.Add(s.cfg.IdempotencyWindow)
	if end := sess.EndsAt.Add(24 * time.Hour); end.After(keep) {
		keep = end
	}
	r := Reservation{
		BookingID:    id,
		Nonce:        newNonce(),
		HospitalID:   sess.HospitalID,
		SessionID:    sess.ID,
		Channel:      req.Channel,
		IdentityKey:  p.IdentityKey,
		VisitDate:    sess.VisitDate,
		DepartmentID: sess.DepartmentID,
		Week:         week,
		Month:        month,
		Today:        now.In(h.Location()).Format(time.DateOnly),
		Policy:       h.Policy,
		HoldFor:      s.cfg.HoldFor,
		KeepUntil:    keep,
	}
	slotNo, replay, err := s.adm.Reserve(ctx, r)
	if err != nil {
		if e, ok := AsError(err); ok && e.Code == ErrNotReleased.Code {
			if q, ok := sess.Channel(req.Channel); ok {
				return Booking{}, Errorf(ErrNotReleased, "this channel opens at %s", q.ReleaseAt.In(h.Location()).Format(time.RFC3339))
			}
		}
		return Booking{}, err
	}
	if replay {
		return s.replay(ctx, actor, req, id)
	}

	slot, _ := sess.Slot(slotNo)
	b := Booking{
		ID: id, SessionID: sess.ID, HospitalID: sess.HospitalID, DepartmentID: sess.DepartmentID,
		DoctorID: sess.DoctorID, VisitDate: sess.VisitDate, SlotNo: slotNo, SlotStart: slot.StartsAt,
		SlotEnd: slot.EndsAt, PatientID: p.ID, IdentityID: p.IdentityID, IdentityKey: p.IdentityKey,
		AccountID: actor.AccountID, Channel: req.Channel, Status: StatusConfirmed,
		IdempotencyKey: req.IdempotencyKey, CreatedAt: now,
	}
	q, _ := sess.Channel(req.Channel)
	ev := req.Origin.stamp(Event{ID: newID(), TS: now, Type: EventBooked, AccountID: actor.AccountID,
		PatientID: p.ID, BookingID: id, SessionID: sess.ID, HospitalID: sess.HospitalID,
		DepartmentID: sess.DepartmentID, DoctorID: sess.DoctorID, Channel: req.Channel, ReleaseAt: q.ReleaseAt})
	if err := s.commit(ctx, b, ev); err != nil {
		if errors.Is(err, ErrInProgress) {
			// SQL already has a booking with this id, but Redis no longer
			// knew it (its record expired, or was lost and not restored
			// because the booking is no longer active): answer as a replay.
			return s.replay(ctx, actor, req, id)
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
func (s *Service) replay(ctx context.Context, actor Actor, req BookRequest, id string) (Booking, error) {
	b, err := s.store.Booking(ctx, id)
	if errors.Is(err, ErrBookingNotFound) {
		return Booking{}, ErrInProgress
	}
	if err != nil {
		return Booking{}, err
	}
	if b.AccountID != actor.AccountID || b.SessionID != req.SessionID || b.PatientID != req.PatientID {
		return Booking{}, ErrIdempotencyReuse
	}
	b.Replayed = true
	return b, nil
}

// Bookings lists the actor's bookings, newest first.
func (s *Service) Bookings(ctx context.Context, actor Actor) ([]Booking, error) {
	return s.store.Bookings(ctx, actor.AccountID)
}

// Booking returns one of the actor's bookings; staff may read any.
func (s *Service) Booking(ctx context.Context, actor Actor, id string) (Booking, error) {
	if !isUUID(id) {
		return Booking{}, ErrBookingNotFound
	}
	b, err := s.store.Booking(ctx, id)
	if err != nil {
		return Booking{}, err
	}
	if b.AccountID != actor.AccountID && !actor.IsStaff() {
		return Booking{}, ErrBookingNotFound
	}
	return b, nil
}

// Cancel cancels a confirmed booking before its session starts. SQL is
// changed first; the slot goes back to its pool after. If that Redis write
// is lost, reconciliation returns the slot.
func (s *Service) Cancel(ctx context.Context, actor Actor, id string, o Origin) (Booking, error) {
	b, err := s.Booking(ctx, actor, id)
	if err != nil {
		return Booking{}, err
	}
	if actor.Role == RoleOperator && b.Channel != ChannelPhone {
		return Booking{}, ErrForbidden
	}
	if b.Status != StatusConfirmed {
		return Booking{}, ErrBookingNotActive
	}
	now := s.cfg.Now()
	if sess, ok := s.catalog.Load().Session(b.SessionID); ok && !now.Before(sess.StartsAt) {
		return Booking{}, Errorf(ErrSessionClosed, "the session has started; ask the registration desk")
	}
	ev := o.stamp(Event{ID: newID(), TS: now, Type: EventCancelled, AccountID: actor.AccountID,
		PatientID: b.PatientID, BookingID: b.ID, SessionID: b.SessionID, HospitalID: b.HospitalID,
		DepartmentID: b.DepartmentID, DoctorID: b.DoctorID, Channel: b.Channel})
	b, err = s.store.CancelBooking(ctx, id, ev)
	if err != nil {
		return Booking{}, err
	}
	if err := s.adm.Release(context.WithoutCancel(ctx), HoldOf(b), Release{ReturnSlot: true}); err != nil {
		s.log.Warn("return cancelled slot; reconciliation will", "booking_id", b.ID, "err", err)
	}
	return b, nil
}
