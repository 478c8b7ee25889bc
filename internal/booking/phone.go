package booking

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"fairslot/internal/identity"
)

// The phone channel's use cases beyond BookFor/AttemptFor: a call-centre
// operator finds a caller by the number they ring from, and puts a caller
// on a sold-out session's waitlist. Both are audited like every staff action
// that reads or changes a person's data.

// CallerKnown tells an operator (or a clerk) on the phone whether the
// number a caller rings from is on file — staff booked, entered or
// waitlisted someone on a call from it (while the events keep its
// reference: retention.go), an account gave it to a family member it still
// lists, or an account logs in with it — and nothing of whom: a number is
// no one's proof. Carriers recycle numbers (运营商回收号码), a family
// shares one, and caller ID is a hint, not an authenticator: the console
// and the API list a person's bookings only for a caller who gives the
// person's ID number and name (LookupCaller). The lookup is audited with
// the masked phone, known or not; an unknown number is
// ErrPatientNotFound.
func (s *Service) CallerKnown(ctx context.Context, actor Actor, phone string) error {
	return s.CallerKnownOnCall(ctx, actor, phone, "")
}

// CallerKnownOnCall is CallerKnown on the phone console's call marked call:
// its pages write one audit entry of the check, not one each (review23 L2,
// auditOncePerCall).
func (s *Service) CallerKnownOnCall(ctx context.Context, actor Actor, phone, call string) error {
	if actor.Role != RoleClerk && actor.Role != RoleOperator {
		return ErrForbidden
	}
	p, err := callerLine(phone)
	if err != nil {
		return err
	}
	hash := s.keys.Hash("phone", p)
	who, err := s.store.IdentitiesByPhone(ctx, hash, s.phoneRef(hash), 1)
	if err != nil {
		return err
	}
	reason := "unknown"
	if len(who) > 0 {
		reason = "known"
	}
	audit := AuditEntry{ID: newID(), TS: s.cfg.Now(), ActorID: actor.AccountID, ActorRole: actor.Role,
		Action: "caller_lookup", Target: "phone:" + identity.MaskPhone(p), Reason: reason, HospitalID: actor.HospitalID}
	if err := s.auditOncePerCall(ctx, actor, call, &audit, func() error { return s.store.RecordAudit(ctx, audit) }); err != nil {
		return err
	}
	if len(who) == 0 {
		return ErrPatientNotFound
	}
	return nil
}

// LookupCaller is the phone's lookup of a caller who rings from
// callerPhone and gave an ID document and a name: LookupIdentity (audited
// the same way, saying whether the name matched), keeping only the
// bookings made under that name (the name check-in compares a card with)
// that belong to the person (staff made them) or to an account the number
// has a say in (BookingsOfCaller: its login, or a family member's contact
// phone). The ID number is no proof over the phone (it is printed on forms
// and copies of the card), and neither are number and name together of a
// right to the bookings another account made: over the API that account
// alone sees them. Lookup.FromCaller marks the staff bookings made on a
// call from this very number (their own booked, waitlisted or entered
// event): the only ones an operator cancels for the caller
// (CancelForCaller). Kin says who the person is to an account of the
// number, if anyone.
//
// check is how the identity was checked: over the telephone only
// CheckSpoken (the caller read the number aloud), which is also what an
// unsaid check ("") is taken for; a card check is refused (invalid_field
// on identity_check: no card comes down a telephone line). The audit entry
// says it, as a clerk's check is said (session 23).
func (s *Service) LookupCaller(ctx context.Context, actor Actor, req IdentityRequest, callerPhone string, check IdentityCheck) (Lookup, error) {
	return s.lookupCaller(ctx, actor, req, callerPhone, check, "")
}

// LookupCallerOnCall is LookupCaller (spoken) on the phone console's call
// marked call: the console shows the caller's bookings on every page of the
// call and looks them up for each, and the call's pages write one audit
// entry of the lookup between them, not one each (review23 L2,
// auditOncePerCall). A lookup that finds something else than the call's
// first (the person booked since) writes its own.
func (s *Service) LookupCallerOnCall(ctx context.Context, actor Actor, req IdentityRequest, callerPhone, call string) (Lookup, error) {
	return s.lookupCaller(ctx, actor, req, callerPhone, CheckSpoken, call)
}

func (s *Service) lookupCaller(ctx context.Context, actor Actor, req IdentityRequest, callerPhone string, check IdentityCheck, call string) (Lookup, error) {
	if actor.Role != RoleClerk && actor.Role != RoleOperator {
		return Lookup{}, ErrForbidden
	}
	switch check {
	case "", CheckSpoken:
	default:
		return Lookup{}, FieldErrorf(ErrInvalidField, "identity_check",
			"a caller's lookup states identity_check spoken (the caller read the number aloud), or nothing: no card comes down a telephone line")
	}
	p, err := callerLine(callerPhone)
	if err != nil {
		return Lookup{}, err
	}
	want, err := s.resolve(req)
	if err != nil {
		return Lookup{}, err
	}
	l, err := s.lookupIdentity(ctx, actor, req.IDType, req.IDNumber, want.NameHash, DeskLookupRequest{Check: CheckSpoken, Call: call})
	if err != nil {
		return Lookup{}, err
	}
	if l.FormerName {
		// A former name finds what was made under it, which carries the
		// person's name now (NameChange); the operator is told.
		want.NameHash = l.Identity.NameHash
	}
	hash := s.keys.Hash("phone", p)
	theirs, err := s.store.BookingsOfCaller(ctx, l.Identity.Person(), s.lookupFrom(), hash, s.phoneRef(hash))
	if err != nil {
		return Lookup{}, err
	}
	said := map[string]bool{}
	for _, b := range theirs {
		said[b.ID] = true
	}
	// The family list entries that were given this number as their own
	// (not an account's login: that is the account holder's, who cancels
	// in the account).
	members, err := s.store.PatientsWithPhone(ctx, hash)
	if err != nil {
		return Lookup{}, err
	}
	kept := l.Bookings[:0]
	l.FromCaller, l.ForPatient = map[string]bool{}, map[string]bool{}
	for _, b := range l.Bookings {
		if madeUnder(b.NameHash, l.Identity) == string(want.NameHash) && (b.AccountID == "" || said[b.ID]) {
			kept = append(kept, b)
			if b.AccountID == "" && said[b.ID] {
				l.FromCaller[b.ID] = true
			}
			if b.AccountID != "" && b.PatientID != "" && slices.Contains(members, b.PatientID) {
				l.ForPatient[b.ID] = true
			}
		}
	}
	l.Bookings = kept
	kin, err := s.store.PhoneKin(ctx, hash)
	if err != nil {
		return Lookup{}, err
	}
	k, ok := kin[l.Identity.ID]
	if !ok {
		k = kin[l.Identity.Person()] // the family lists the person by their other document
	}
	l.Kin = k
	return l, nil
}

// CancelForCaller is an operator's cancellation for a caller on the line:
// the caller rings from callerPhone and gave the person's ID document and
// name (LookupCaller), and the booking is one made on a call from that
// number (Lookup.FromCaller). A number's say is per booking: not every
// booking of a person staff ever acted for on a call from it, and never
// because a refused attempt from it named the person. Another booking of
// the person the caller may hear of (staff made it on a call from another
// number) is refused with forbidden: the desk cancels it with the ID card,
// or the person's verified account. A booking the caller has no say in at
// all is booking_not_found, as if there were none. The cancellation is
// Cancel's (late after the deadline, audited).
func (s *Service) CancelForCaller(ctx context.Context, actor Actor, bookingID string, req IdentityRequest, callerPhone string, o Origin) (Booking, error) {
	if actor.Role != RoleOperator {
		return Booking{}, Errorf(ErrForbidden, "operators cancel for a caller on the line")
	}
	l, err := s.LookupCaller(ctx, actor, req, callerPhone, CheckSpoken)
	if errors.Is(err, ErrPatientNotFound) {
		return Booking{}, ErrBookingNotFound
	}
	if err != nil {
		return Booking{}, err
	}
	i := slices.IndexFunc(l.Bookings, func(b Booking) bool { return b.ID == bookingID })
	if i < 0 {
		return Booking{}, ErrBookingNotFound
	}
	if l.ForPatient[bookingID] {
		// The person the booking is for, ringing from the number the
		// account gave for them (review23 M2).
		return s.cancelForPatient(ctx, actor, l, l.Bookings[i], callerPhone, o)
	}
	if l.Bookings[i].Channel != ChannelPhone {
		// An account's (or the desk's) booking was booked from no number
		// (review23 L3): the patient cancels it in the account that made
		// it, or at the desk.
		return Booking{}, Errorf(ErrForbidden, "this is not a phone booking: the account that made it cancels it, the patient by ringing from the contact number that account gave for them, or the registration desk with the ID card")
	}
	if !l.FromCaller[bookingID] {
		return Booking{}, Errorf(ErrForbidden, "this booking was not made on a call from this number: the caller cancels it from the number it was booked from, at the registration desk with the ID card, or in the person's own account")
	}
	return s.cancelBooking(ctx, actor, bookingID, o)
}

// cancelForPatient cancels, for the caller on the line, a booking an
// account made for them (review23 M2: an elderly patient with no account
// of her own could not undo what her daughter's account booked for her, and
// a no-show strike was her only way out). Ownership holds — nobody acts on
// what is not theirs: the booking is the person's, and the caller proved to
// be the person as the phone channel proves anyone (the ID number and the
// name it was booked under, spoken: LookupCaller) and, beyond what a
// phone booking asks, rings from the number the booking's own account gave
// as that person's contact number (Lookup.ForPatient): the account itself
// said the number is theirs. The account holder's login number is not
// enough (the holder cancels in the account). The caller bounds apply as
// to a booking (a number acts for at most a household's persons a day, an
// operator at a human pace), the cancellation is the person's (late after
// the deadline, as the verified self's), its event carries the number's
// reference and the reason cancelled_by_person_on_phone, the audit entry
// names the caller as a phone booking's does, and the account that made it
// is told the patient cancelled by phone (notificationOf).
func (s *Service) cancelForPatient(ctx context.Context, actor Actor, l Lookup, b Booking, callerPhone string, o Origin) (Booking, error) {
	o, err := s.onTheLine(ctx, actor, l, b.HospitalID, callerPhone, o)
	if err != nil {
		return Booking{}, err
	}
	return s.cancelBooking(ctx, actor, b.ID, o)
}

// onTheLine is the caller bounds and the origin of an operator's act for
// the patient on the line, whose say was proven (Lookup.ForPatient,
// patientOnLine): a number acts for at most a household's persons a day,
// an operator at a human pace; the act then carries the number's
// reference and tag (Origin.patientCall).
func (s *Service) onTheLine(ctx context.Context, actor Actor, l Lookup, hospitalID, callerPhone string, o Origin) (Origin, error) {
	p, err := callerLine(callerPhone)
	if err != nil {
		return o, err
	}
	h, _ := s.catalog.Load().Hospital(hospitalID)
	phoneRef := s.phoneRef(s.keys.Hash("phone", p))
	if err := s.callerBounds(ctx, actor, h, phoneRef, l.Identity.Person()); err != nil {
		return o, err
	}
	o.patientCall = &patientCall{phoneRef: phoneRef, caller: s.callerTag(p)}
	return o, nil
}

// madeUnder is the name hash an item (a booking, an entry, a place) was
// made under: its own, or the person's for one made before names were kept
// per item.
func madeUnder(nameHash string, person Identity) string {
	if nameHash == "" {
		return string(person.NameHash)
	}
	return nameHash
}

// madeFor is what an account made for a person — a lottery entry, a
// waitlist place — as patientOnLine reads it.
type madeFor struct {
	accountID, patientID, identityID, nameHash, hospitalID string
}

// patientOnLine is, for a lottery entry or a waitlist place an account
// made for a family member, the rule a booking's cancellation by phone
// keeps (cancelForPatient, Lookup.ForPatient; session 25: one rule for
// the three): the caller gave the person's ID number and the name it was
// made under, spoken (LookupCaller, audited), and rings from the number
// that account gave as that person's contact number; the caller bounds
// apply. Anything else is notFound, as if there were none: the account
// withdraws or leaves it, or the desk with the ID card. The answer is the
// origin to act with (the number's reference and tag on its event and
// audit entry; the account is told).
func (s *Service) patientOnLine(ctx context.Context, actor Actor, req IdentityRequest, callerPhone string, it madeFor, o Origin, notFound error) (Origin, error) {
	if actor.Role != RoleOperator {
		return o, Errorf(ErrForbidden, "operators act for a caller on the line")
	}
	p, err := callerLine(callerPhone)
	if err != nil {
		return o, err
	}
	want, err := s.resolve(req)
	if err != nil {
		return o, err
	}
	l, err := s.LookupCaller(ctx, actor, req, callerPhone, CheckSpoken)
	if errors.Is(err, ErrPatientNotFound) {
		return o, notFound
	}
	if err != nil {
		return o, err
	}
	if l.FormerName {
		want.NameHash = l.Identity.NameHash // as LookupCaller reads a former name
	}
	if it.accountID == "" || it.patientID == "" || !actor.Covers(it.hospitalID) ||
		(it.identityID != l.Identity.ID && it.identityID != l.Identity.Person()) ||
		madeUnder(it.nameHash, l.Identity) != string(want.NameHash) {
		return o, notFound
	}
	members, err := s.store.PatientsWithPhone(ctx, s.keys.Hash("phone", p))
	if err != nil {
		return o, err
	}
	if !slices.Contains(members, it.patientID) {
		return o, notFound
	}
	return s.onTheLine(ctx, actor, l, it.hospitalID, callerPhone, o)
}

// WithdrawEntryForCaller is an operator's withdrawal, for the patient on
// the line, of a lottery entry an account made for them (patientOnLine):
// WithdrawEntry's, as the person's (reason
// lottery_withdrawn_by_person_on_phone), the account told.
func (s *Service) WithdrawEntryForCaller(ctx context.Context, actor Actor, entryID string, req IdentityRequest, callerPhone string, o Origin) (Entry, error) {
	if !isUUID(entryID) || actor.Role != RoleOperator {
		return Entry{}, ErrEntryNotFound
	}
	e, err := s.store.Entry(ctx, entryID)
	if err != nil {
		return Entry{}, err
	}
	o, err = s.patientOnLine(ctx, actor, req, callerPhone,
		madeFor{accountID: e.AccountID, patientID: e.PatientID, identityID: e.IdentityID, nameHash: e.NameHash, hospitalID: e.HospitalID}, o, ErrEntryNotFound)
	if err != nil {
		return Entry{}, err
	}
	return s.WithdrawEntry(ctx, actor, entryID, o)
}

// LeaveWaitlistForCaller is an operator's taking off, for the patient on
// the line, a waitlist place an account made for them (patientOnLine):
// LeaveWaitlist's, as the person's (reason left_waitlist_by_person_on_phone),
// the account told.
func (s *Service) LeaveWaitlistForCaller(ctx context.Context, actor Actor, placeID string, req IdentityRequest, callerPhone string, o Origin) error {
	if !isUUID(placeID) || actor.Role != RoleOperator {
		return ErrWaitlistNotFound
	}
	w, err := s.store.WaitlistEntry(ctx, placeID)
	if err != nil {
		return err
	}
	o, err = s.patientOnLine(ctx, actor, req, callerPhone,
		madeFor{accountID: w.AccountID, patientID: w.PatientID, identityID: w.IdentityID, nameHash: w.NameHash, hospitalID: w.HospitalID}, o, ErrWaitlistNotFound)
	if err != nil {
		return err
	}
	return s.LeaveWaitlist(ctx, actor, placeID, o)
}

// patientCall is a cancellation by phone for the person a booking is for
// (cancelForPatient; Origin.patientCall): the number's event reference and
// its audit tag.
type patientCall struct {
	phoneRef, caller string
}

// bookingsInReach lists an identity's bookings from yesterday on (in China
// Standard Time, so a hospital ahead or behind still sees its today) in the
// hospitals the staff member covers.
func (s *Service) bookingsInReach(ctx context.Context, actor Actor, identityID string) ([]Booking, error) {
	all, err := s.store.BookingsOfIdentity(ctx, identityID, s.lookupFrom())
	if err != nil {
		return nil, err
	}
	return inReach(actor, all), nil
}

// lookupFrom is the first visit date a staff lookup lists: yesterday in
// China Standard Time, so a hospital ahead or behind still sees its today.
func (s *Service) lookupFrom() string {
	return s.cfg.Now().In(chinaStandardTime).AddDate(0, 0, -1).Format(time.DateOnly)
}

// inReach keeps the bookings in the hospitals the staff member covers.
func inReach(actor Actor, all []Booking) []Booking {
	var bs []Booking
	for _, b := range all {
		if actor.Covers(b.HospitalID) {
			bs = append(bs, b)
		}
	}
	return bs
}

// StaffWaitlistRequest puts a caller on a session's waitlist by phone.
type StaffWaitlistRequest struct {
	IdentityRequest
	SessionID      string
	CallerPhone    string // the number the caller rang from
	IdempotencyKey string // a repeat with the same key returns the first entry
	Origin         Origin
	// Consent is the caller's consent to the privacy notice, as a phone
	// booking's (staffConsent): asked of a person not on file yet.
	Consent ConsentRequest
}

// JoinWaitlistFor puts a caller on the waitlist of a session once a pool
// remote people book from is sold out (waitlistOpen: the session's one
// line, which patients join on the same terms): the phone channel's
// JoinWaitlist. The entry belongs to
// the identity and to no account (as a phone booking does); the operator is
// recorded as booked_by, in the event and, in the same commit, the audit
// log. A returned slot reaches the entry in its turn like any other, and
// becomes a booking under the name the caller gave, which must not be
// another than the identity's verified name. The identity is written first,
// as an entry is stored with its person.
func (s *Service) JoinWaitlistFor(ctx context.Context, actor Actor, req StaffWaitlistRequest) (WaitlistEntry, error) {
	if actor.Role != RoleOperator {
		return WaitlistEntry{}, Errorf(ErrForbidden, "operators put callers on waitlists; patients join for the people on their list")
	}
	p, err := callerLine(req.CallerPhone)
	if err != nil {
		return WaitlistEntry{}, err
	}
	phoneRef := s.phoneRef(s.keys.Hash("phone", p))
	sess, h, err := s.bookableSession(req.SessionID, ChannelPhone)
	if err != nil {
		return WaitlistEntry{}, err
	}
	if !worksFor(actor, sess.HospitalID) {
		return WaitlistEntry{}, Errorf(ErrForbidden, "this session is another hospital's")
	}
	if err := s.stateWhole(sess.HospitalID); err != nil {
		return WaitlistEntry{}, err
	}
	if q, ok := sess.Channel(ChannelPhone); ok && q.TakesEntries(s.cfg.Now()) {
		return WaitlistEntry{}, Errorf(ErrLotteryOnly, "this session's phone slots are drawn by lottery: enter the caller in the draw")
	}
	if err := drawPending(sess, s.cfg.Now()); err != nil {
		return WaitlistEntry{}, err
	}
	want, err := s.resolve(req.IdentityRequest)
	if err != nil {
		return WaitlistEntry{}, err
	}
	if err := s.verify(ctx, actor, &want); err != nil {
		return WaitlistEntry{}, err
	}
	// Whom the per-person rules count: the person the desk linked the
	// card's document to, else the document (personOf).
	counted := want.Identity
	known, err := s.store.IdentityByHash(ctx, want.IDHash)
	if err == nil {
		if counted, err = s.personOf(ctx, known); err != nil {
			return WaitlistEntry{}, err
		}
	} else if !errors.Is(err, ErrNotFound) {
		return WaitlistEntry{}, err
	}
	id := newID()
	if req.IdempotencyKey != "" {
		id = s.idempotentID(actor.AccountID, "waitlist\x00"+req.IdempotencyKey)
		if prev, err := s.store.WaitlistEntry(ctx, id); err == nil {
			if prev.SessionID != sess.ID || prev.IdentityKey != counted.Key() {
				return WaitlistEntry{}, ErrIdempotencyReuse
			}
			return prev, nil // the first answer
		}
	}
	if err := unreleased(h, sess, ChannelPhone, s.cfg.Now()); err != nil {
		return WaitlistEntry{}, err
	}
	rem, err := s.adm.Remaining(ctx, []*Session{sess})
	if err != nil {
		return WaitlistEntry{}, err
	}
	if !waitlistOpen(sess, rem[0]) {
		return WaitlistEntry{}, ErrSlotsAvailable
	}
	// A household's persons a day, an operator's pace (callerbounds.go).
	if err := s.callerBounds(ctx, actor, h, phoneRef, counted.ID); err != nil {
		return WaitlistEntry{}, err
	}
	// A join the hand-out would pass by is refused up front, as a booking is.
	if err := s.adm.Refusal(ctx, sess.HospitalID, sess.ID, counted.Key(), s.placing(sess)); err != nil {
		return WaitlistEntry{}, s.explainBar(ctx, sess.HospitalID, counted.ID, err)
	}
	// A place of a person not on file yet needs their consent, as a
	// booking does (review21 H3, session 24); a known person's is
	// recorded when given, never asked.
	consent, err := s.staffConsent(StaffBookRequest{Channel: ChannelPhone, Consent: req.Consent}, want.doc, known.ID == "")
	if err != nil {
		return WaitlistEntry{}, err
	}
	who, err := s.store.EnsureIdentity(ctx, want.Identity)
	if err == nil {
		who, err = s.personOf(ctx, who)
	}
	if err != nil {
		return WaitlistEntry{}, err
	}
	now := s.cfg.Now().Truncate(time.Microsecond)
	e := WaitlistEntry{ID: id, SessionID: sess.ID, HospitalID: sess.HospitalID, IdentityID: who.ID, IdentityKey: who.Key(),
		BookedBy: actor.AccountID, NameHash: string(want.NameHash), CreatedAt: now, Caller: s.callerTag(p)}
	ev := req.Origin.stamp(Event{ID: newID(), TS: now, Type: EventWaitlisted, IdentityID: who.ID, BookingID: id, SessionID: sess.ID,
		HospitalID: sess.HospitalID, DepartmentID: sess.DepartmentID, DoctorID: sess.DoctorID, Channel: ChannelPhone,
		StaffID: actor.AccountID, Phone: phoneRef})
	got, err := s.addWaitlist(ctx, e, ev, s.store.AddWaitlist)
	if err == nil {
		s.keepCallerPhone(ctx, got.ID, who.ID, req.CallerPhone, false) // for a call back (callback.go)
		if consent != nil {
			s.recordStaffConsent(ctx, actor, *consent, who.ID)
		}
	}
	return got, err
}

// StaffWaitlistAudit is the audit entry of a waitlist entry staff made
// (e.BookedBy set), written in the entry's own commit; its id is derived
// from the entry's, so a retried commit writes it once.
func StaffWaitlistAudit(e WaitlistEntry) (AuditEntry, bool) {
	if e.BookedBy == "" {
		return AuditEntry{}, false
	}
	reason := "phone waitlist, session " + e.SessionID
	if e.Caller != "" {
		reason += ", caller " + e.Caller
	}
	return AuditEntry{ID: NameID("audit", e.ID), TS: e.CreatedAt, ActorID: e.BookedBy, ActorRole: RoleOperator,
		Action: "phone_waitlist", Target: "waitlist:" + e.ID, Reason: reason, HospitalID: e.HospitalID}, true
}

// StaffEntryAudit is the audit entry of a draw entry staff made (e.BookedBy
// set): an operator's for a caller (phone_lottery_entry, naming the caller
// as callerTag does) or a clerk's for a walk-in (desk_lottery_entry),
// written in the entry's own commit, as StaffWaitlistAudit is for a
// waitlist place; its id is derived from the entry's, so a retried commit
// writes it once (review23 H3: entries were the one staff action without),
// and apart from the id of the audit entry of the booking a won entry
// becomes (that booking takes the entry's id).
func StaffEntryAudit(e Entry) (AuditEntry, bool) {
	if e.BookedBy == "" {
		return AuditEntry{}, false
	}
	role, action := RoleClerk, "desk_lottery_entry"
	switch e.Channel {
	case ChannelPhone:
		role, action = RoleOperator, "phone_lottery_entry"
	case ChannelReferral:
		role = RoleReferrer // as a referral booking is desk_booking by its referrer
	}
	reason := fmt.Sprintf("%s draw entry, session %s", e.Channel, e.SessionID)
	if e.Caller != "" {
		reason += ", caller " + e.Caller
	}
	return AuditEntry{ID: NameID("audit-entry", e.ID), TS: e.CreatedAt, ActorID: e.BookedBy, ActorRole: role,
		Action: action, Target: "lottery_entry:" + e.ID, Reason: reason, HospitalID: e.HospitalID}, true
}

// RosterEntry is a booking on a session's roster, with its person masked.
type RosterEntry struct {
	Booking
	IDType       string
	NumberMasked string
	NameMasked   string
	// Relationship of the person to the account that booked, and the birth
	// year their document carries (0: none): what tells apart a family's
	// members whose masked names are alike. Empty for staff bookings.
	Relationship Relationship
	BirthYear    int
}

// Roster lists a hospital's bookings of a visit date that are booked,
// checked in or no-shows, by session and slot, with their people masked:
// the registration desk's list of the day, read in one go for every
// session. Only clerks of the hospital read it. It is not audited per read
// (the desk shows it all day, masked); the actions taken from it are.
func (s *Service) Roster(ctx context.Context, actor Actor, hospitalID, visitDate string) ([]RosterEntry, error) {
	if actor.Role != RoleClerk {
		return nil, Errorf(ErrForbidden, "only registration clerks read the day's roster")
	}
	if !actor.Covers(hospitalID) {
		return nil, ErrHospitalNotFound
	}
	if _, err := time.Parse(time.DateOnly, visitDate); err != nil {
		return nil, ErrInvalidDate
	}
	return s.store.Roster(ctx, hospitalID, visitDate)
}
