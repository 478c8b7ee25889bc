package booking

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"fairslot/internal/identity"
)

// The call-back list (停诊 told by phone). A stop's notice of a person no
// account lists — a caller an operator booked, entered or waitlisted by
// phone, a walk-in booked at the desk — has no channel that reaches them:
// the notify job does not stamp it delivered (nobody was told), and it waits
// on its hospital's call-back list for the call centre (or the desk) to ring
// the person and say why the clinic stopped, and, with a substitute doctor
// (替诊), to take their answer to the slot held for them before it lapses.
// Each call is audited with its outcome; "told" (or an answer to the offer)
// marks the notice delivered and takes the row off the list; "no_answer"
// keeps it there, counted.
//
// The number the person rang from — for a walk-in, the contact number the
// desk took (StaffBookRequest.ContactPhone) — is kept sealed per item
// (caller_phones) and shown masked on the list; an operator opens it for
// one row at a time (CallBackNumber), audited as a read. Nothing here logs
// it.

// happenedOffTheLine says whether an event of a person no account lists
// happened while they were not on the line, so that only a call back tells
// them: a returned slot their waitlist place became a booking with, a draw
// that booked their entry, a cancellation after a review of their booking,
// a substitute's slot that lapsed. What an operator or a clerk did with the
// person there — a booking, their own cancellation, their answer to an
// offer — they heard then; a no-show they know of. A draw's other results
// are rung for every entry no account made (drawNotifications), a stop's
// notices for every item (the stop's SQL).
func happenedOffTheLine(ev Event) bool {
	switch ev.Type {
	case EventBooked:
		return ev.Reason == "waitlist" || ev.Reason == "lottery"
	case EventCancelled:
		return strings.HasPrefix(ev.Reason, "flag_confirmed") || ev.Reason == "substitute_lapsed"
	}
	return false
}

// Call-back outcomes.
const (
	CallTold     = "told"      // the person was told of the stop
	CallNoAnswer = "no_answer" // nobody answered: the row stays on the list
	CallAccepted = "accepted"  // told, and accepted the substitute's slot
	CallDeclined = "declined"  // told, and declined it (cancelled, no penalty)
)

// CallBack is one person to ring about a stopped clinic.
type CallBack struct {
	NotificationID string
	Kind           string // the notification's: session_stopped, booked, cancelled, lottery_*
	HospitalID     string
	SessionID      string // the stopped session
	// What the stop ended: one of a booking, a waitlist place, a lottery
	// entry; Channel is the booking's.
	BookingID, WaitlistID, EntryID string
	Channel                        Channel
	IdentityID                     string
	IDType, NumberMasked           string
	NameMasked                     string
	Reason                         string // the stop's reason, as the administrator gave it
	Body                           string // the notice, as the person is to be told it
	CreatedAt                      time.Time
	// PhoneMasked is the number kept with the item, masked: the one the
	// call that made it came from, or a walk-in's contact number (empty:
	// none on file — a walk-in who left none, or an item from before
	// numbers were kept).
	PhoneMasked string
	// ContactNumber says PhoneMasked is a walk-in's contact number, which
	// the desk took, not the number a caller rang from: how the number was
	// kept, whatever channel the booking is on (a caller's waitlist place
	// may be served with an on-site slot).
	ContactNumber bool
	phoneSealed   []byte
	// Offer is the slot a substitute doctor holds for the person (nil:
	// none); its Status is offered, accepted, declined or lapsed.
	Offer *SubstituteOffer
	// Attempts counts the calls so far; the last one's time and outcome.
	Attempts    int
	LastCallAt  time.Time
	LastOutcome string
	// VisitDate is the stopped session's day (YYYY-MM-DD, the hospital's).
	VisitDate string
}

// Over says whether the row has left the list as of now (today is the
// hospital's date): once the stopped session's day has passed there is
// nothing left to tell the person — they came and were told at the desk,
// or they did not — unless a substitute's slot is still held for their
// answer. The store's list keeps the same rule (CallBackPage).
func (c CallBack) Over(today string, now time.Time) bool {
	return c.VisitDate < today && !c.AwaitsAnswer(now)
}

// CallBackPage is a page of a hospital's call-back list: rows oldest
// first after the row of id After ("" from the first), at most Limit, of
// the stopped sessions from Today (the hospital's date) on or with a
// substitute's slot held at Now.
type CallBackPage struct {
	After string
	Limit int
	Today string
	Now   time.Time
}

// CallOutcomeGrace is how long after a row leaves the list as over (its
// session's day has passed) the outcome of a call about it is still
// recorded: a call begun at 23:58 ends after midnight, and its outcome is
// the audit of a call made while the row was open. No new call is begun
// from a row over: its number is not opened, and it is not listed.
const CallOutcomeGrace = time.Hour

// Call-back list pages: CallBackPageSize rows unless the reader asks for
// fewer or more, at most CallBackPageMax.
const (
	CallBackPageSize = 50
	CallBackPageMax  = 200
)

// AwaitsAnswer says whether a substitute's slot is still held for the
// person as of now: the row stays on the list for their answer.
func (c CallBack) AwaitsAnswer(now time.Time) bool {
	return c.Offer != nil && c.Offer.StateAt(now) == OfferOpen
}

// SetPhoneSealed is for the store: the number as sealed (never shown).
func (c *CallBack) SetPhoneSealed(sealed []byte) { c.phoneSealed = sealed }

// CallBackStore keeps the call-back list (callback.go).
type CallBackStore interface {
	// CallBacks lists a page of a hospital's stop notices of people on no
	// account's list not yet told and not over (CallBack.Over), oldest
	// first; a page.After that is not a row of the hospital's is
	// ErrNotFound. CallBack reads one notice (ErrCallBackNotFound once it
	// is told).
	CallBacks(ctx context.Context, hospitalID string, page CallBackPage) ([]CallBack, error)
	CallBack(ctx context.Context, id string) (CallBack, error)
	// RecordCallBack counts one call with its outcome and, when told,
	// stamps the notice delivered by actor, in one transaction with the
	// audit entry; ErrCallBackDone when it was told already.
	RecordCallBack(ctx context.Context, id string, at time.Time, by, outcome string, told bool, a AuditEntry) error
	// KeepCallerPhone keeps the number (sealed and masked) the call that
	// made an item — a booking, a waitlist place, a lottery entry — for a
	// person came from: its call back rings that caller, never another
	// who rang about the same person. contact marks a walk-in's contact
	// number (CallBack.ContactNumber) instead.
	KeepCallerPhone(ctx context.Context, itemID, identityID string, sealed []byte, masked string, contact bool, at time.Time) error
	// NumberOpened says when actorID last opened the number of the
	// call-back row notificationID (its callback_number_read audit entry)
	// at or after since; zero when it did not.
	NumberOpened(ctx context.Context, actorID, notificationID string, since time.Time) (time.Time, error)
}

// CallAnswerWindow is how long after an operator opened a row's number
// (CallBackNumber) their answer to its substitute's slot — accepted or
// declined — is taken as the answer the person gave on that call
// (review23 M4): the number must have been opened by the operator who
// marks the answer, for this row, within a call's time. An answer without
// it is refused (number_not_opened): nobody was asked.
const CallAnswerWindow = 30 * time.Minute

// callBackStaff checks that actor is an operator or a clerk of one
// hospital: the call centre and the desk ring their own hospital's people.
func callBackStaff(actor Actor) error {
	if (actor.Role != RoleOperator && actor.Role != RoleClerk) || actor.HospitalID == "" {
		return Errorf(ErrForbidden, "the call centre and the desk of a hospital call its patients back")
	}
	return nil
}

// CallBacks lists the actor's hospital's people to ring about stopped
// clinics, oldest first, their numbers masked: the first page
// (CallBacksAfter).
func (s *Service) CallBacks(ctx context.Context, actor Actor) ([]CallBack, error) {
	return s.CallBacksAfter(ctx, actor, "", 0)
}

// CallBacksAfter is a page of the list: up to limit rows (0:
// CallBackPageSize; at most CallBackPageMax) after the row of id after
// (the previous page's last; "" from the first). A full page may have
// more behind it. A row leaves the list when it is told, or once it is
// over (CallBack.Over: its session's day has passed in the hospital's
// zone, and no substitute's slot is held for an answer).
func (s *Service) CallBacksAfter(ctx context.Context, actor Actor, after string, limit int) ([]CallBack, error) {
	if err := callBackStaff(actor); err != nil {
		return nil, err
	}
	switch {
	case limit == 0:
		limit = CallBackPageSize
	case limit < 0 || limit > CallBackPageMax:
		return nil, FieldErrorf(ErrInvalidField, "limit", "limit is from 1 to %d rows", CallBackPageMax)
	}
	if after != "" && !isUUID(after) {
		return nil, FieldErrorf(ErrInvalidCursor, "after", "after is the id of a call-back row (the last of the previous page)")
	}
	page := CallBackPage{After: after, Limit: limit, Today: s.hospitalToday(actor.HospitalID), Now: s.cfg.Now()}
	cbs, err := s.store.CallBacks(ctx, actor.HospitalID, page)
	if errors.Is(err, ErrNotFound) {
		return nil, FieldErrorf(ErrInvalidCursor, "after", "after names no call-back row of your hospital")
	}
	for i := range cbs {
		cbs[i].phoneSealed = nil
	}
	return cbs, err
}

// hospitalToday is the date in a hospital's zone (the stand-in zone for
// one the catalog does not know).
func (s *Service) hospitalToday(hospitalID string) string {
	return s.hospitalDate(hospitalID, s.cfg.Now())
}

// hospitalDate is the date at t in a hospital's zone.
func (s *Service) hospitalDate(hospitalID string, t time.Time) string {
	loc := StandInLocation()
	if h, ok := s.catalog.Load().Hospital(hospitalID); ok {
		loc = h.Location()
	}
	return t.In(loc).Format(time.DateOnly)
}

// callBackOf reads a row of the actor's hospital's list; another
// hospital's is not told apart from none, nor is a row over as of grace
// ago (0: now; CallOutcomeGrace for the outcome of a call begun before).
func (s *Service) callBackOf(ctx context.Context, actor Actor, id string, grace time.Duration) (CallBack, error) {
	if err := callBackStaff(actor); err != nil {
		return CallBack{}, err
	}
	if !isUUID(id) {
		return CallBack{}, ErrCallBackNotFound
	}
	cb, err := s.store.CallBack(ctx, id)
	if err != nil {
		return CallBack{}, err
	}
	// Another hospital's, or one that left the list as over, is none.
	at := s.cfg.Now().Add(-grace)
	if cb.HospitalID != actor.HospitalID || cb.Over(s.hospitalDate(cb.HospitalID, at), at) {
		return CallBack{}, ErrCallBackNotFound
	}
	return cb, nil
}

// CallBackNumber opens the number of one row for an operator about to
// ring it, and audits the read (who, which row, the masked number). Clerks
// do not ring: theirs is the desk.
func (s *Service) CallBackNumber(ctx context.Context, actor Actor, id string) (string, error) {
	if actor.Role != RoleOperator {
		return "", Errorf(ErrForbidden, "operators ring callers back")
	}
	cb, err := s.callBackOf(ctx, actor, id, 0)
	if err != nil {
		return "", err
	}
	if len(cb.phoneSealed) == 0 {
		return "", ErrNoCallerPhone
	}
	phone, err := s.keys.Open("phone", cb.phoneSealed)
	if err != nil {
		return "", fmt.Errorf("open the caller's number of call-back %s: %w", id, err)
	}
	a := AuditEntry{ID: newID(), TS: s.cfg.Now(), ActorID: actor.AccountID, ActorRole: actor.Role, Action: "callback_number_read",
		Target: "notification:" + cb.NotificationID, HospitalID: cb.HospitalID,
		Reason: "opened " + identity.MaskPhone(identity.CallerLine(phone)) + " to call back about " + cb.about()}
	if err := s.store.RecordAudit(ctx, a); err != nil {
		return "", err
	}
	return phone, nil
}

// about names what a row's call is about, for its audit entries: the
// notice's kind (review23 L4) — a stopped session, or a waitlist place or
// a draw that booked, a cancellation, a draw's result — and its session.
func (c CallBack) about() string {
	what := map[string]string{
		"session_stopped": "stopped session", "booked": "booking in session", "cancelled": "cancellation in session",
	}[c.Kind]
	if what == "" {
		what = strings.ReplaceAll(c.Kind, "_", " ")
		if what == "" {
			what = "notice"
		}
		what += " of session"
	}
	return what + " " + c.SessionID
}

// MarkCallBack records a call about one row: told, no_answer, or the
// person's answer to the substitute's slot (accepted, declined), which is
// given through AnswerOffer as the desk or the call centre gives it and
// counts as told. An answer is the person's only when the operator rang
// them: one who opened the row's number (CallBackNumber) within
// CallAnswerWindow; otherwise it is refused with number_not_opened, and a
// clerk (who does not ring) answers for the person at the desk, with their
// ID card (AnswerOffer there). The audit entry says when the number was
// opened. Told, while a substitute's slot is still held for the
// person, keeps the row until their answer. A row over is still marked for
// CallOutcomeGrace after it left the list. note (optional, 200 bytes)
// goes into the audit entry, which is append-only and kept for good: a
// note that holds a phone number is refused (invalid_field) before
// anything is written — the number is on the row, and goes with it
// (retention.go).
func (s *Service) MarkCallBack(ctx context.Context, actor Actor, id, outcome, note string, o Origin) (CallBack, error) {
	if err := auditText("note", note, 200); err != nil {
		return CallBack{}, err
	}
	switch outcome {
	case CallTold, CallNoAnswer, CallAccepted, CallDeclined:
	default:
		return CallBack{}, Errorf(ErrInvalidField, "outcome must be told, no_answer, accepted or declined")
	}
	// A call begun while the row was open may end after it is over.
	cb, err := s.callBackOf(ctx, actor, id, CallOutcomeGrace)
	if err != nil {
		return CallBack{}, err
	}
	var opened time.Time
	if outcome == CallAccepted || outcome == CallDeclined {
		if cb.Offer == nil {
			return CallBack{}, Errorf(ErrOfferNotFound, "no substitute slot is held for this person")
		}
		if actor.Role != RoleOperator {
			return CallBack{}, Errorf(ErrNumberNotOpened, "the desk takes a person's answer to a substitute's slot with their ID card, at the booking (the desk's lookup)")
		}
		if opened, err = s.store.NumberOpened(ctx, actor.AccountID, cb.NotificationID, s.cfg.Now().Add(-CallAnswerWindow)); err != nil {
			return CallBack{}, err
		}
		if opened.IsZero() {
			return CallBack{}, ErrNumberNotOpened
		}
		got, err := s.answerOffer(ctx, actor, cb.Offer.BookingID, outcome == CallAccepted, o)
		// A repeat after the answer went through but the mark did not
		// finds the offer settled as asked: the mark goes on.
		if err != nil && !(errors.Is(err, ErrOfferClosed) && got.Status == outcome) {
			return CallBack{}, err
		}
		cb.Offer = &got
	}
	now := s.cfg.Now()
	// Told while a substitute's slot is still held for them is a call, not
	// the end of the row: the notice promised the hospital would ask for
	// their answer, so the row stays until it is given or the hold lapses.
	done := outcome != CallNoAnswer && (outcome != CallTold || !cb.AwaitsAnswer(now))
	reason := fmt.Sprintf("call back about %s: %s", cb.about(), outcome)
	if !opened.IsZero() {
		reason += fmt.Sprintf(", on a call to the number opened at %s UTC", opened.UTC().Format(time.DateTime))
	}
	if note != "" {
		reason += "; " + note
	}
	a := AuditEntry{ID: newID(), TS: now, ActorID: actor.AccountID, ActorRole: actor.Role, Action: "callback",
		Target: "notification:" + cb.NotificationID, HospitalID: cb.HospitalID, Reason: reason}
	if err := s.store.RecordCallBack(ctx, cb.NotificationID, now, actor.AccountID, outcome, done, a); err != nil {
		return CallBack{}, err
	}
	cb.phoneSealed = nil
	cb.Attempts, cb.LastCallAt, cb.LastOutcome = cb.Attempts+1, now, outcome
	return cb, nil
}

// keepCallerPhone keeps the number the call that booked, entered or
// waitlisted a person (itemID) came from, for a call back about that item.
// Per item, not per person: anyone who knows an ID number and a name can
// ring and waitlist the person, and the call back about the person's own
// booking must not ring them. The booking stands whatever happens here: a
// failure is logged (without the number) and the row then shows no number.
// contact: phone is the contact number a walk-in left, not a caller's.
func (s *Service) keepCallerPhone(ctx context.Context, itemID, identityID, phone string, contact bool) {
	p, err := identity.NormalizeCallerPhone(phone) // a walk-in's contact number was checked a mobile
	if err != nil || identityID == "" || itemID == "" {
		return
	}
	if err := s.store.KeepCallerPhone(ctx, itemID, identityID, s.keys.Seal("phone", p), identity.MaskPhone(identity.CallerLine(p)),
		contact, s.cfg.Now()); err != nil {
		s.log.Warn("keep the caller's number for a call back", "identity_id", identityID, "err", err)
	}
}
