package booking

import (
	"context"
	"fmt"
	"time"

	"fairslot/internal/identity"
)

// The phone channel's use cases beyond BookFor/AttemptFor: a call-centre
// operator finds a caller by the number they ring from, and puts a caller
// on a sold-out session's waitlist. Both are audited like every staff action
// that reads or changes a person's data.

// maxCallers bounds how many people one phone number finds: a family shares
// a number, an identity farm shares more, and the operator needs no more
// than a page.
const maxCallers = 10

// CallersByPhone finds the people a phone number is known for, for an
// operator (or a clerk) on the phone: the people staff booked, entered or
// waitlisted by phone for a caller ringing from it (while the events keep
// its reference: retention.go), the family members an account gave it as
// their phone and still lists (a member the account removed is found by
// it no more, nor do the account's bookings for them answer to it: the
// account no longer speaks for them), and the account holder whose login
// it is.
// Each comes masked, with those of their bookings in the staff member's
// hospital from yesterday on that the number has a say in (BookingsOfCaller:
// not another account's bookings for the same person). The lookup is
// audited with the masked phone, found or not.
func (s *Service) CallersByPhone(ctx context.Context, actor Actor, phone string) ([]Lookup, error) {
	if actor.Role != RoleClerk && actor.Role != RoleOperator {
		return nil, ErrForbidden
	}
	p, err := identity.NormalizePhone(phone)
	if err != nil {
		return nil, ErrInvalidPhone
	}
	hash := s.keys.Hash("phone", p)
	who, err := s.store.IdentitiesByPhone(ctx, hash, s.phoneRef(hash), maxCallers)
	if err != nil {
		return nil, err
	}
	audit := AuditEntry{ID: newID(), TS: s.cfg.Now(), ActorID: actor.AccountID, ActorRole: actor.Role,
		Action: "caller_lookup", Target: "phone:" + identity.MaskPhone(p), Reason: fmt.Sprintf("%d found", len(who)),
		HospitalID: actor.HospitalID}
	if err := s.store.RecordAudit(ctx, audit); err != nil {
		return nil, err
	}
	if len(who) == 0 {
		return nil, ErrPatientNotFound
	}
	kin, err := s.store.PhoneKin(ctx, hash)
	if err != nil {
		return nil, err
	}
	out := make([]Lookup, 0, len(who))
	from := s.lookupFrom()
	for _, i := range who {
		// Only the bookings the number has a say in: another account
		// may have given its own number to a person it knows the ID
		// number and name of, and the person's own bookings are not its.
		all, err := s.store.BookingsOfCaller(ctx, i.ID, from, hash, s.phoneRef(hash))
		if err != nil {
			return nil, err
		}
		out = append(out, Lookup{Identity: i, Bookings: inReach(actor, all), Kin: kin[i.ID]})
	}
	return out, nil
}

// LookupCaller is the phone's lookup of a caller who rings from
// callerPhone and gave an ID document and a name: LookupIdentity (audited
// the same way, saying whether the name matched), keeping only the bookings made under that name (the name
// check-in compares a card with) that belong to the person (staff made
// them) or to an account the number has a say in (BookingsOfCaller). The ID
// number is no proof over the phone (it is printed on forms and copies of
// the card), and neither are number and name together of a right to the
// bookings another account made: over the API that account alone sees them.
func (s *Service) LookupCaller(ctx context.Context, actor Actor, req IdentityRequest, callerPhone string) (Lookup, error) {
	if actor.Role != RoleClerk && actor.Role != RoleOperator {
		return Lookup{}, ErrForbidden
	}
	p, err := identity.NormalizePhone(callerPhone)
	if err != nil {
		return Lookup{}, ErrInvalidPhone
	}
	want, err := s.resolve(req)
	if err != nil {
		return Lookup{}, err
	}
	l, err := s.lookupIdentity(ctx, actor, req.IDType, req.IDNumber, want.NameHash)
	if err != nil {
		return Lookup{}, err
	}
	hash := s.keys.Hash("phone", p)
	theirs, err := s.store.BookingsOfCaller(ctx, l.Identity.ID, s.lookupFrom(), hash, s.phoneRef(hash))
	if err != nil {
		return Lookup{}, err
	}
	said := map[string]bool{}
	for _, b := range theirs {
		said[b.ID] = true
	}
	kept := l.Bookings[:0]
	for _, b := range l.Bookings {
		bookedAs := b.NameHash
		if bookedAs == "" {
			bookedAs = string(l.Identity.NameHash) // booked before names were kept per booking
		}
		if bookedAs == string(want.NameHash) && (b.AccountID == "" || said[b.ID]) {
			kept = append(kept, b)
		}
	}
	l.Bookings = kept
	return l, nil
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
}

// JoinWaitlistFor puts a caller on the waitlist of a session whose phone
// pool is sold out: the phone channel's JoinWaitlist. The entry belongs to
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
	p, err := identity.NormalizePhone(req.CallerPhone)
	if err != nil {
		return WaitlistEntry{}, ErrInvalidPhone
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
	id := newID()
	if req.IdempotencyKey != "" {
		id = s.idempotentID(actor.AccountID, "waitlist\x00"+req.IdempotencyKey)
		if prev, err := s.store.WaitlistEntry(ctx, id); err == nil {
			if prev.SessionID != sess.ID || prev.IdentityKey != want.Key() {
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
	if rem[0][ChannelPhone] > 0 {
		return WaitlistEntry{}, ErrSlotsAvailable
	}
	// A join the hand-out would pass by is refused up front, as a booking is.
	if err := s.adm.Refusal(ctx, sess.HospitalID, sess.ID, want.Key(), s.placing(sess)); err != nil {
		return WaitlistEntry{}, err
	}
	who, err := s.store.EnsureIdentity(ctx, want.Identity)
	if err != nil {
		return WaitlistEntry{}, err
	}
	now := s.cfg.Now().Truncate(time.Microsecond)
	e := WaitlistEntry{ID: id, SessionID: sess.ID, HospitalID: sess.HospitalID, IdentityID: who.ID, IdentityKey: who.Key(),
		BookedBy: actor.AccountID, NameHash: string(want.NameHash), CreatedAt: now}
	ev := req.Origin.stamp(Event{ID: newID(), TS: now, Type: EventWaitlisted, IdentityID: who.ID, BookingID: id, SessionID: sess.ID,
		HospitalID: sess.HospitalID, DepartmentID: sess.DepartmentID, DoctorID: sess.DoctorID, Channel: ChannelPhone,
		StaffID: actor.AccountID, Phone: phoneRef})
	got, err := s.addWaitlist(ctx, e, ev, s.store.AddWaitlist)
	if err == nil {
		s.keepCallerPhone(ctx, got.ID, who.ID, req.CallerPhone, false) // for a call back (callback.go)
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
	return AuditEntry{ID: NameID("audit", e.ID), TS: e.CreatedAt, ActorID: e.BookedBy, ActorRole: RoleOperator,
		Action: "phone_waitlist", Target: "waitlist:" + e.ID, Reason: "phone waitlist, session " + e.SessionID,
		HospitalID: e.HospitalID}, true
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
