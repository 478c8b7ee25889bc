package booking

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// 停诊 with a substitute (替诊): when a doctor cannot come, the hospital may
// name another doctor of the same department, title and fee level. The stop
// then publishes the same session for the substitute (same times, pools,
// release times and slot numbers) and, in the stop's own transaction, holds
// each cancelled patient's slot for them there: a booking in their name, at
// the same slot number, offered until a deadline. The patient (or the desk,
// or the call centre for them) accepts it, and it stays; declines it, or lets
// it lapse, and it is cancelled — never late, never a no-show, like the
// original, which the stop cancelled without penalty either way. Held as a
// booking, the slot is counted by SQL's unique index and held in Redis like
// any other, so nobody else can take it, and Redis equals SQL by the usual
// check. A session with a lottery pool takes no substitute: its winners were
// drawn among entries for the stopped doctor, and moving them would be a new
// draw's matter (substitute_lottery).

// StopRequest is a stop (停诊) as an administrator asks for it.
type StopRequest struct {
	Reason string
	// SubstituteDoctorID, when set, names the doctor who takes the clinic
	// over: same hospital and department, same title and fee level, free
	// at that time.
	SubstituteDoctorID string
	// HoldUntil is how long the offers wait for an answer (zero: 24 hours,
	// but no later than the session's start).
	HoldUntil time.Time
	// ConfirmBooked, when set, is how many active bookings the
	// administrator was shown the stop would cancel (the console's "N 位患
	// 者将被取消"): the stop is refused (booked_changed confirm_booked) when
	// the session has another number, so a stale page or a click on the
	// wrong row stops nothing (review19b H1).
	ConfirmBooked *int
	// Version, when set, is the session's version the stop was made from
	// (a bulk stop's read): refused (edited_meanwhile) when it changed.
	Version int64
}

// Substitution is the session a stop publishes for the substitute doctor
// and how long its offers are held.
type Substitution struct {
	Session   Session
	HoldUntil time.Time
	// Notice is what the patients whose slots are held are told (the
	// lottery entries get the stop's plain notice); Unlisted what a person
	// no account lists is told (by the call centre or the desk, who take
	// the answer: they have no "My bookings"). Waitlist is what the waiting
	// places, carried to the substitute's session in their order, are told
	// (review19b L5).
	Notice, Unlisted, Waitlist Notice
}

// Offer statuses. An offer is settled once, from offered, by whatever
// happens first to it or to its held booking (docs/design.md, "Stopping
// with a substitute"): the patient's answer (accepted, declined), its time
// (lapsed), a check-in of the held booking (accepted: the patient came), a
// cancellation of it (declined), a stop of the substitute's clinic
// (withdrawn: the hospital ended it, and the stop's notice tells the
// patient, once).
const (
	OfferOpen      = "offered"
	OfferAccepted  = "accepted"
	OfferDeclined  = "declined"
	OfferLapsed    = "lapsed"
	OfferWithdrawn = "withdrawn"
)

// SubstituteOffer is a slot held for a patient with the substitute doctor.
type SubstituteOffer struct {
	BookingID         string // the booking held in the substitute session
	OriginalBookingID string
	StoppedSessionID  string
	SessionID         string
	HospitalID        string
	AccountID         string
	IdentityID        string
	Status            string
	HoldUntil         time.Time
	DecidedAt         time.Time
	DecidedBy         string
	CreatedAt         time.Time
	// BookingStatus is the held booking's status as read with the offer
	// ("": not read, taken as confirmed), and HeldStopped whether the
	// substitute's clinic is stopped: an offer still open over a booking
	// that has ended reads as what ended it (StateAt).
	BookingStatus Status
	HeldStopped   bool
}

// defaultHold is how long a substitute offer waits for an answer at most.
const defaultHold = 24 * time.Hour

// substitution checks a substitute for sess and lays out the session the
// stop publishes for them.
func (s *Service) substitution(cat *Catalog, sess *Session, req StopRequest, now time.Time) (*Substitution, error) {
	if req.SubstituteDoctorID == "" {
		return nil, nil
	}
	for _, q := range sess.Channels {
		if q.IsLottery() {
			return nil, Errorf(ErrSubstituteLottery, "the %s pool was drawn by lottery among entries for this doctor", q.Channel)
		}
	}
	orig, _ := cat.Doctor(sess.DoctorID)
	sub, ok := cat.Doctor(req.SubstituteDoctorID)
	if !ok || sub.HospitalID != sess.HospitalID {
		return nil, ErrDoctorNotFound
	}
	if sub.Retired() {
		return nil, ErrDoctorRetired
	}
	if err := CanStandIn(sess, orig, sub); err != nil {
		return nil, err
	}
	for _, o := range cat.HospitalSessions(sess.HospitalID) {
		if o.DoctorID == sub.ID && !o.Stopped() && (o.StartsAt.Before(sess.EndsAt) && sess.StartsAt.Before(o.EndsAt) ||
			o.VisitDate == sess.VisitDate && o.Period == sess.Period) {
			return nil, Errorf(ErrSessionOverlap, "the substitute already has session %s at this time or in this period", o.ID)
		}
	}
	hold := req.HoldUntil
	if hold.IsZero() {
		hold = now.Add(defaultHold)
		if hold.After(sess.StartsAt) {
			hold = sess.StartsAt
		}
	}
	if !hold.After(now) || hold.After(sess.StartsAt) {
		return nil, Errorf(ErrInvalidField, "hold_until must be after now and no later than the session's start")
	}
	next := Session{ID: newID(), HospitalID: sess.HospitalID, DepartmentID: sess.DepartmentID, DoctorID: sub.ID,
		VisitDate: sess.VisitDate, Period: sess.Period, StartsAt: sess.StartsAt, EndsAt: sess.EndsAt, Mode: sess.Mode,
		Slots: append([]Slot(nil), sess.Slots...)}
	for _, q := range sess.Channels {
		q.Draw = nil
		next.Channels = append(next.Channels, q)
	}
	return &Substitution{Session: next, HoldUntil: hold}, nil
}

// substituteNotices are the stop's notices when a substitute is offered:
// to an account's member, and to a person no account lists.
func substituteNotices(sess *Session, doc, sub Doctor, h *Hospital, reason string, hold time.Time) (listed, unlisted Notice) {
	loc := chinaStandardTime
	if h != nil {
		loc = h.Location()
	}
	until := hold.In(loc).Format("2006-01-02 15:04")
	n := stopNotices(sess, doc, h, reason).Booking
	listed, unlisted = n, n
	listed.ZH += fmt.Sprintf(" 医院安排同级别医生 %s 替诊：已为您保留同一时间、同一序号的号，请在 %s 前于“我的预约”确认或放弃（放弃或逾期均不计爽约）。", sub.Name, until)
	listed.EN += fmt.Sprintf(" The hospital offers the same time and number with %s (same level): accept or decline in My bookings by %s;"+
		" declining or not answering is never a no-show.", sub.Name, until)
	unlisted.ZH += fmt.Sprintf(" 医院安排同级别医生 %s 替诊：已为您保留同一时间、同一序号的号至 %s，医院将来电询问您是否接受（放弃或逾期均不计爽约）。", sub.Name, until)
	unlisted.EN += fmt.Sprintf(" The hospital holds the same time and number with %s (same level) until %s and will call to ask whether you take it;"+
		" declining or not answering is never a no-show.", sub.Name, until)
	return listed, unlisted
}

// substituteWaitlistNotice is what a waiting place carried to the
// substitute's session is told.
func substituteWaitlistNotice(sess *Session, doc, sub Doctor, h *Hospital, reason string) Notice {
	// The stop's heading, without what it says of a place that ended.
	n := stopNotices(sess, doc, h, reason).Waitlist
	zh, _, _ := strings.Cut(n.ZH, "您的候补已结束")
	n.ZH = zh + fmt.Sprintf("医院安排同级别医生 %s 替诊：您的候补已转至替诊门诊，排队顺序不变；有号退回时按顺序递补。", sub.Name)
	enHead, _, _ := strings.Cut(n.EN, " Your waitlist place has ended")
	n.EN = enHead + fmt.Sprintf(" %s (same level) takes the clinic over: your waitlist place moves to their clinic, in the same order; a returned slot goes to the line as before.", sub.Name)
	return n
}

// Offers lists the substitute offers of the actor's bookings (a patient),
// open ones first.
func (s *Service) Offers(ctx context.Context, actor Actor) ([]SubstituteOffer, error) {
	if actor.Role != RolePatient {
		return nil, Errorf(ErrForbidden, "patients list their offers; staff answer one by its booking")
	}
	return s.store.OffersOfAccount(ctx, actor.AccountID)
}

// OpenOffers finds, among bookingIDs, the held bookings whose substitute
// offer still waits for an answer, for the desk or the call centre of
// their hospital to answer with the patient in front of them or on the
// line: keyed by booking id; offers of hospitals the actor does not cover,
// and settled or lapsed ones, are left out.
func (s *Service) OpenOffers(ctx context.Context, actor Actor, bookingIDs []string) (map[string]SubstituteOffer, error) {
	switch actor.Role {
	case RoleClerk, RoleOperator, RoleAdmin:
	default:
		return nil, Errorf(ErrForbidden, "the desk and the call centre read a patient's offers by booking")
	}
	ids := make([]string, 0, len(bookingIDs))
	for _, id := range bookingIDs {
		if isUUID(id) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	offers, err := s.store.OffersOfBookings(ctx, ids)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	out := make(map[string]SubstituteOffer, len(offers))
	for _, off := range offers {
		if actor.Covers(off.HospitalID) && off.StateAt(now) == OfferOpen {
			out[off.BookingID] = off
		}
	}
	return out, nil
}

// AnswerOffer accepts (accept true) or declines a substitute offer: the
// patient whose account holds the booking, or a clerk or administrator of
// its hospital for them (the desk). A decline cancels the held booking
// without penalty and returns its slot; an offer past its time has lapsed
// (offer_closed). The call centre answers through AnswerOfferForCaller
// (the caller on the line) or the call-back list (the number the booking's
// call came from): an operator's answer names a caller, as its
// cancellation does (CancelForCaller).
func (s *Service) AnswerOffer(ctx context.Context, actor Actor, bookingID string, accept bool, o Origin) (SubstituteOffer, error) {
	if actor.Role == RoleOperator {
		return SubstituteOffer{}, Errorf(ErrForbidden, "the call centre answers an offer for the caller on the line, from the number the booking was made on a call from, or on the call-back list")
	}
	return s.answerOffer(ctx, actor, bookingID, accept, o)
}

// AnswerOfferForCaller is an operator's answer for the caller on the line:
// one who gave the person's ID number and name, ringing from the number the
// held booking's original was made on a call from (LookupCaller's
// FromCaller) — the rule of CancelForCaller, since a decline cancels and an
// accept commits the person to come (a no-show otherwise). Another
// booking's offer is answered in the person's account or at the desk.
func (s *Service) AnswerOfferForCaller(ctx context.Context, actor Actor, bookingID string, req IdentityRequest, callerPhone string, accept bool, o Origin) (SubstituteOffer, error) {
	if actor.Role != RoleOperator {
		return SubstituteOffer{}, Errorf(ErrForbidden, "operators answer for a caller on the line")
	}
	l, err := s.LookupCaller(ctx, actor, req, callerPhone, CheckSpoken)
	if errors.Is(err, ErrPatientNotFound) {
		return SubstituteOffer{}, ErrOfferNotFound
	}
	if err != nil {
		return SubstituteOffer{}, err
	}
	if !slices.ContainsFunc(l.Bookings, func(b Booking) bool { return b.ID == bookingID }) {
		return SubstituteOffer{}, ErrOfferNotFound
	}
	if !l.FromCaller[bookingID] {
		return SubstituteOffer{}, Errorf(ErrForbidden, "this booking was not made on a call from this number: the caller answers in the person's own account, from the number it was booked from, or at the registration desk with the ID card")
	}
	return s.answerOffer(ctx, actor, bookingID, accept, o)
}

// answerOffer is AnswerOffer for any role allowed to answer, the caller's
// number already checked for an operator (AnswerOfferForCaller, the
// call-back list).
func (s *Service) answerOffer(ctx context.Context, actor Actor, bookingID string, accept bool, o Origin) (SubstituteOffer, error) {
	if !isUUID(bookingID) {
		return SubstituteOffer{}, ErrOfferNotFound
	}
	off, err := s.store.Offer(ctx, bookingID)
	if err != nil {
		return SubstituteOffer{}, err
	}
	switch actor.Role {
	case RolePatient:
		if off.AccountID == "" || off.AccountID != actor.AccountID {
			return SubstituteOffer{}, ErrOfferNotFound // not told apart from none
		}
	case RoleClerk, RoleOperator, RoleAdmin:
		if !actor.Covers(off.HospitalID) {
			return SubstituteOffer{}, ErrOfferNotFound
		}
	default:
		return SubstituteOffer{}, Errorf(ErrForbidden, "patients, the desk and the call centre answer offers")
	}
	now := s.cfg.Now()
	if st := off.StateAt(now); st != OfferOpen {
		off.Status = st
		return off, Errorf(ErrOfferClosed, "this offer is %s", st)
	}
	if accept {
		if err := s.offerRefused(actor, off); err != nil {
			return off, err
		}
		// Settled only while the held booking is still confirmed: one
		// cancelled, checked in or stopped meanwhile settled the offer
		// itself, in its own transaction.
		got, err := s.store.SettleOffer(ctx, off.BookingID, OfferAccepted, now, actor.AccountID, StatusConfirmed)
		if err != nil {
			return s.closedOffer(ctx, off, err)
		}
		if actor.Role == RolePatient {
			return got, nil
		}
		// Staff answering for a patient is a staff action like any other:
		// the decline is audited by its cancellation, the accept here.
		return got, s.store.RecordAudit(ctx, AuditEntry{ID: newID(), TS: now, ActorID: actor.AccountID, ActorRole: actor.Role,
			Action: "substitute_accepted", Target: "booking:" + off.BookingID, HospitalID: off.HospitalID,
			Reason: "accepted the substitute doctor's slot for the patient"})
	}
	return s.endOffer(ctx, actor, off, OfferDeclined, o)
}

// offerRefused refuses an accept of an offer whose account's online
// closing is pending (session 25): accepting is a new booking of the
// account, which the closing's sweep then cancels (late, a no-show of its
// person) and which meanwhile holds the slot from others — as the account's
// own bookings are refused (closingRefused), so is its acceptance, whoever
// answers for it. A decline always goes through, and an offer left open is
// declined by the job "closed accounts", without penalty.
func (s *Service) offerRefused(actor Actor, off SubstituteOffer) error {
	if off.AccountID == "" {
		return nil
	}
	err := s.closingRefused(off.AccountID)
	if err == nil || actor.Role == RolePatient {
		return err
	}
	return Errorf(ErrAccountClosing, "the account this slot is held for is closing (its holder asked online): the slot is not accepted for it, "+
		"since the closing cancels what the account holds; decline it, or the holder cancels the closing (撤销注销) first, or book the person anew at the desk")
}

// closedOffer is an answer's refusal when the offer was settled meanwhile
// (err offer_closed, or the held booking no longer active): the offer as it
// now stands, with offer_closed, so a repeat of the same answer can tell it
// went through. Any other error is returned as it is.
func (s *Service) closedOffer(ctx context.Context, off SubstituteOffer, err error) (SubstituteOffer, error) {
	if !errors.Is(err, ErrOfferClosed) && !errors.Is(err, ErrBookingNotActive) {
		return SubstituteOffer{}, err
	}
	if now, rerr := s.store.Offer(ctx, off.BookingID); rerr == nil {
		off = now
	}
	off.Status = off.StateAt(s.cfg.Now())
	return off, Errorf(ErrOfferClosed, "this offer is %s", off.Status)
}

// StateAt is the offer's status as of now: an open one whose held booking
// has ended reads as what ended it — checked in: accepted (the patient
// came); cancelled: withdrawn if the substitute's clinic is stopped, else
// declined; a no-show: lapsed — and an open one past its time has lapsed,
// whether or not the lapse job has run yet. Each change settles the offer
// in its own transaction; this reading covers the moment before the lapse
// job settles one that was left open.
func (o SubstituteOffer) StateAt(now time.Time) string {
	if o.Status != OfferOpen {
		return o.Status
	}
	switch o.BookingStatus {
	case StatusCheckedIn:
		return OfferAccepted
	case StatusNoShow:
		return OfferLapsed
	case StatusCancelled:
		if o.HeldStopped {
			return OfferWithdrawn
		}
		return OfferDeclined
	}
	if !now.Before(o.HoldUntil) {
		return OfferLapsed
	}
	return OfferOpen
}

// OfferEnd is what cancelling a held booking does to its offer, in the
// cancellation's transaction (the store's CancelBooking), read from the
// cancellation's event: the lapse job's cancellation (reason
// substitute_lapsed) lapses it; any other — the patient's decline or own
// cancellation, the desk's — declines it, decided by the staff member, the
// person's verified self, or the account. answer: the cancellation is the
// answer to the offer itself (substitute_declined or substitute_lapsed), so
// it is refused (ErrOfferClosed) unless the offer is still open; any other
// cancellation settles an open offer and leaves a settled one.
func OfferEnd(ev Event) (status, decidedBy string, answer bool) {
	switch ev.Reason {
	case "substitute_" + OfferLapsed:
		return OfferLapsed, "", true
	case "substitute_" + OfferDeclined:
		answer = true
	}
	decidedBy = ev.AccountID
	switch {
	case ev.StaffID != "":
		decidedBy = ev.StaffID
	case ev.ByAccountID != "":
		decidedBy = ev.ByAccountID
	}
	return OfferDeclined, decidedBy, answer
}

// endOffer cancels an offer's held booking without penalty (never late),
// which settles the offer as declined or lapsed in the cancellation's
// transaction (OfferEnd); the slot returns as any cancelled slot does (the
// waitlist, else its pool after a delay). An offer settled meanwhile (or
// whose booking ended meanwhile) answers offer_closed.
func (s *Service) endOffer(ctx context.Context, actor Actor, off SubstituteOffer, status string, o Origin) (SubstituteOffer, error) {
	if _, err := s.cancelWithoutPenalty(ctx, actor, off.BookingID, "substitute_"+status, o); err != nil {
		return s.closedOffer(ctx, off, err)
	}
	return s.store.Offer(ctx, off.BookingID)
}

// LapseOffers settles the open offers that are due: those whose time passed
// unanswered (each held booking is cancelled without penalty, which lapses
// the offer), and any left open over a held booking that has ended
// (settled as StateAt reads it: accepted, declined, withdrawn, lapsed).
// One offer that fails is logged and left for the next run; the others go
// on. Safe to run on several instances: the offer is settled once.
func (s *Service) LapseOffers(ctx context.Context) (int, error) {
	now := s.cfg.Now()
	due, err := s.store.DueOffers(ctx, now)
	if err != nil {
		return 0, err
	}
	n, failed := 0, 0
	var first error
	for _, off := range due {
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		var err error
		if st := off.StateAt(now); st == OfferLapsed && (off.BookingStatus == "" || off.BookingStatus == StatusConfirmed) {
			if _, err = s.endOffer(ctx, Actor{Role: RoleAdmin}, off, OfferLapsed, Origin{}); err == nil {
				n++
			}
		} else if st != OfferOpen {
			_, err = s.store.SettleOffer(ctx, off.BookingID, st, now, "", off.BookingStatus)
		}
		switch {
		case err == nil:
		case errors.Is(err, ErrOfferClosed):
			// Settled meanwhile, by another instance or by what ended the
			// booking; anything left open is read again next run.
		default:
			failed++
			if first == nil {
				first = err
			}
			s.log.Error("settle a due substitute offer; the others go on, it is tried again next run",
				"booking_id", off.BookingID, "err", err)
		}
	}
	if failed > 0 {
		return n, fmt.Errorf("%d of %d due substitute offers not settled: %w", failed, len(due), first)
	}
	return n, nil
}

// OffersOf reads the substitute offers of those of bs that are slots held
// with a substitute doctor (替诊), keyed by booking id, so a held slot does
// not read as a plain confirmed booking. The caller read bs already, as
// the actor may (their own, or their hospital's).
func (s *Service) OffersOf(ctx context.Context, bs []Booking) (map[string]SubstituteOffer, error) {
	ids := make([]string, 0, len(bs))
	for _, b := range bs {
		ids = append(ids, b.ID)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	offers, err := s.store.OffersOfBookings(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]SubstituteOffer, len(offers))
	for _, off := range offers {
		off.Status = off.StateAt(s.cfg.Now())
		out[off.BookingID] = off
	}
	return out, nil
}

// CanStandIn says why sub may not stand in for orig at sess's clinic (替诊;
// nil when sub may): another doctor of the clinic's department — the
// session's, whatever orig's is now — of orig's fee level and title
// (SameLevelAs). The stop and the admin's list of substitutes both ask it.
func CanStandIn(sess *Session, orig, sub Doctor) error {
	at := orig
	at.DepartmentID = sess.DepartmentID
	switch {
	case sub.ID == orig.ID:
		return Errorf(ErrNotSameLevel, "the substitute is the doctor who cannot come")
	case sub.DepartmentID != sess.DepartmentID:
		return Errorf(ErrNotSameLevel, "the substitute works in another department")
	case sub.FeeLevel.OrGeneral() != orig.FeeLevel.OrGeneral():
		return Errorf(ErrNotSameLevel, "the substitute's fee level is %s, the clinic's %s", sub.FeeLevel.OrGeneral(), orig.FeeLevel.OrGeneral())
	case !sub.SameLevelAs(at):
		return Errorf(ErrNotSameLevel, "the substitute's title is %q, the doctor's %q", sub.Title, orig.Title)
	}
	return nil
}
