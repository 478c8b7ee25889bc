package booking

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"fairslot/internal/identity"
)

// Staff channels and the registration desk: operators book by phone for
// callers, clerks book walk-ins, check patients in, reissue slots and add
// extra slots; admins move unsold pools. Every rule of the online channel
// (release, bars, quotas) applies the same way, because every booking goes
// through the same admit → commit → confirm path.

// IdentityRequest names a person by their ID document and name.
type IdentityRequest struct {
	IDType   string
	IDNumber string
	Name     string
	// Card is how the desk read the document (cardread.go): a staff
	// member's desk act states it; the zero value is typed, reason
	// unspecified. Ignored where no card is at a desk (phone, online).
	Card CardRead
}

// parseID validates an ID document, in the domain's errors.
func parseID(idType, number string) (identity.ID, error) {
	id, err := identity.Parse(idType, number)
	switch {
	case errors.Is(err, identity.ErrInvalidType):
		return id, ErrInvalidIDType
	case err != nil:
		return id, Errorf(ErrInvalidIDNumber, "%s", publicDetail(err))
	}
	return id, nil
}

// person is an identity as a request gave it: validated, hashed and sealed,
// with the parsed document and the normalized name a verifier needs.
type person struct {
	Identity
	doc  identity.ID
	name string
}

// resolve validates an identity and returns its keyed hashes and sealed
// copies, ready to store or compare.
func (s *Service) resolve(req IdentityRequest) (person, error) {
	id, err := parseID(req.IDType, req.IDNumber)
	if err != nil {
		return person{}, err
	}
	name, err := identity.NormalizeName(req.Name)
	if err != nil {
		return person{}, Errorf(ErrInvalidName, "%s", publicDetail(err))
	}
	return person{Identity: Identity{
		ID:           newID(),
		IDType:       string(id.Type),
		IDHash:       s.keys.IDHash(id),
		NumberSealed: s.keys.Seal("id_number", id.Number),
		NumberMasked: id.Masked(),
		NameHash:     s.nameHash(name),
		NameSealed:   s.keys.Seal("name", name),
		NameMasked:   identity.MaskName(name),
	}, doc: id, name: name}, nil
}

// nameHash is the keyed hash names are compared by: of the name's key
// (identity.NameKey: 陳大文 and 陈大文, "SMITH JOHN" and "John Smith" are
// one name, review24 M1).
func (s *Service) nameHash(name string) []byte {
	return s.keys.Hash("name", identity.NameKey(name))
}

// CardOutranks says whether the name on file (known) stands against a
// verification of another (i): a name the desk read from the ID card is
// replaced only by the desk (a clerk's correction), never by a real-name
// provider's answer, which then counts as a claim.
func CardOutranks(known, i Identity) bool {
	return known.NameVerified && known.VerifiedBy == "desk" && i.NameVerified && i.VerifiedBy != "desk"
}

// StaffBookRequest is a booking an operator (phone) or a clerk (on site,
// referral) makes for a person who is not logged in.
type StaffBookRequest struct {
	IdentityRequest
	SessionID   string
	Channel     Channel
	CallerPhone string // phone channel: the number the caller rang from
	// ContactPhone is a walk-in's number for a call back (on site only,
	// optional): kept sealed with the booking as a caller's number is, so
	// a stop of the clinic can reach them (callback.go). It is no caller's
	// number: it goes into no event and gives no say in the booking.
	ContactPhone string
	// Consent is the person's consent to the privacy notice as the staff
	// member took it (review21 H3, session 23): the operator read the
	// notice to the caller and heard them agree, the clerk had the walk-in
	// read and sign (or confirm on the card reader) the notice; Guardian
	// when a parent or guardian gives it for a child under 14. A phone or
	// on-site booking of a person not known yet needs it
	// (ErrConsentRequired); one of a known person does not (it is recorded
	// when given).
	Consent        ConsentRequest
	IdempotencyKey string
	Origin         Origin
	// extra: the walk-in is the person an extra slot was just added for
	// (AddExtraSlots): counted in the clerk's extra slots, not walk-ins.
	extra bool
}

// BookFor books for a caller or a walk-in. The booking belongs to the
// identity and counts against its quotas like any other; the staff member is
// recorded as booked_by, in the event and in the audit log. A walk-in shows
// the desk the card, so an on-site booking verifies the name; a caller's
// name is a claim, refused only where the identity's verified name is
// another. Nothing is written for the person until admission has given a
// slot: a refused attempt leaves no identity behind. A lottery pool before
// its draw time refuses with ErrLotteryOnly (AttemptFor enters the draw).
func (s *Service) BookFor(ctx context.Context, actor Actor, req StaffBookRequest) (Booking, error) {
	r, err := s.attemptFor(ctx, actor, req, false)
	return r.Booking, err
}

// AttemptFor is BookFor on a pool of any release mode: on a lottery pool
// before its draw time it enters the caller or the walk-in in the draw.
func (s *Service) AttemptFor(ctx context.Context, actor Actor, req StaffBookRequest) (Result, error) {
	return s.attemptFor(ctx, actor, req, true)
}

func (s *Service) attemptFor(ctx context.Context, actor Actor, req StaffBookRequest, mayEnter bool) (Result, error) {
	// Only staff book for someone who is not on their list; a patient books
	// online for the people on their own list (Book).
	if (!actor.IsStaff() && actor.Role != RoleReferrer) || !mayBookOn(actor.Role, req.Channel) {
		return Result{}, ErrChannelForbidden
	}
	var phoneRef string
	keep := ""       // the number a call back about the booking rings
	contact := false // keep is a walk-in's contact number, not a caller's
	caller := ""     // the caller's number as the audit names it (callerTag)
	if req.Channel == ChannelPhone {
		p, err := callerLine(req.CallerPhone)
		if err != nil {
			return Result{}, err
		}
		phoneRef, keep, caller = s.phoneRef(s.keys.Hash("phone", p)), req.CallerPhone, s.callerTag(p)
	}
	if req.ContactPhone != "" {
		if req.Channel != ChannelOnsite {
			return Result{}, FieldErrorf(ErrInvalidField, "contact_phone", "a contact number is a walk-in's (on site): the phone channel keeps the caller's")
		}
		if _, err := identity.NormalizePhone(req.ContactPhone); err != nil {
			return Result{}, FieldErrorf(ErrInvalidPhone, "contact_phone", "the contact number is not a valid mainland mobile number")
		}
		keep, contact = req.ContactPhone, true
	}
	// identityID is the person's, once known, for the event of a refusal;
	// hospitalID the session's, for the words of a bar.
	var identityID, hospitalID string
	var consent *Consent // the consent to record once booked (staffConsent)
	var fact cardFact    // a walk-in's card, as the clerk read it
	r, err := func() (Result, error) {
		sess, h, err := s.attemptSession(req.SessionID, req.Channel, req.IdempotencyKey, true)
		if err != nil {
			return Result{}, err
		}
		hospitalID = sess.HospitalID
		if !worksFor(actor, sess.HospitalID) {
			return Result{}, Errorf(ErrForbidden, "this session is another hospital's")
		}
		q, hasPool := sess.Channel(req.Channel)
		entering := hasPool && q.TakesEntries(s.cfg.Now())
		if entering && !mayEnter {
			return Result{}, ErrLotteryOnly
		}
		want, err := s.resolve(req.IdentityRequest)
		if err != nil {
			return Result{}, err
		}
		if hasPool && !q.IsLottery() { // a drawn pool's key names its entry (keyedEntry)
			if b, found, err := s.keyedBooking(ctx, actor, sess, req.IdempotencyKey, want); found {
				return Result{Booking: b}, err
			}
		}
		if req.Channel == ChannelOnsite {
			// How the clerk read the card (review25 H1): only a reader's
			// read, or a document with no chip typed from it, verifies
			// the name (L1); a typed number is the walk-in's claim.
			if fact, err = s.cardOf(ctx, actor, req.IdentityRequest); err != nil {
				return Result{}, err
			}
			if fact.verifies(s.cfg.OnlyReadsVerify) {
				want.NameVerified, want.VerifiedBy = true, "desk"
			}
		} else if err := s.verify(ctx, actor, &want); err != nil {
			return Result{}, err
		}
		known, err := s.store.IdentityByHash(ctx, want.IDHash)
		// A walk-in whose card was read and names a person not verified
		// yet verifies them, and is audited as VerifyIdentity is.
		walkInVerifies := req.Channel == ChannelOnsite && fact.verifies(s.cfg.OnlyReadsVerify) && (errors.Is(err, ErrNotFound) || err == nil && !known.NameVerified)
		// Whom every per-person rule counts: the person the desk linked
		// the card's document to, else the document (personOf). The
		// names are the document's.
		counted := want.Identity
		var cerr error
		if consent, cerr = s.staffConsent(req, want.doc, errors.Is(err, ErrNotFound)); cerr != nil {
			return Result{}, cerr
		}
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return Result{}, err
		case known.NameVerified && req.Channel != ChannelOnsite && !want.NameVerified && string(known.NameHash) != string(want.NameHash):
			return Result{}, ErrIdentityUnverified
		case known.NameVerified && req.Channel == ChannelOnsite && string(known.NameHash) != string(want.NameHash):
			// A walk-in does not silently replace the name the desk
			// verified: VerifyIdentity corrects it, with a reason.
			identityID = known.ID
			return Result{}, verifiedNameDiffers(known)
		default:
			want.ID = known.ID
			if counted, err = s.personOf(ctx, known); err != nil {
				return Result{}, err
			}
			identityID = counted.ID
		}
		ev := Event{StaffID: actor.AccountID, Phone: phoneRef, IdentityID: counted.ID}
		if req.Channel == ChannelOnsite {
			ev.CardSource = string(fact.source)
		}
		if hasPool && !entering && counted.ID != "" {
			if e, found, err := s.keyedEntry(ctx, actor, sess, q, req.IdempotencyKey, counted.ID); found {
				return Result{Entry: e, Entered: err == nil}, err
			}
		}
		if req.Channel == ChannelPhone {
			// A household's persons a day, an operator's pace (callerbounds.go).
			if err := s.callerBounds(ctx, actor, h, phoneRef, counted.ID); err != nil {
				return Result{}, err
			}
		}
		if req.Channel == ChannelOnsite && !req.extra {
			// A clerk's day, and no walk-in into a slot the same clerk
			// just freed (deskbounds.go).
			if err := s.clerkDay(ctx, actor, h, s.cfg.ClerkWalkInsPerDay, "walk-in bookings and draw entries", deskWalkInActions...); err != nil {
				return Result{}, err
			}
			if err := s.freedSlotWait(ctx, actor, sess); err != nil {
				return Result{}, err
			}
		}
		if entering {
			// An entry is stored with its person, so a new person's
			// identity is written before the entry is admitted: a refused
			// entry may leave an identity behind, never an entry.
			who, err := s.ensureWalkIn(ctx, actor, want.Identity, &walkInVerifies, fact)
			if err != nil {
				return Result{}, err
			}
			counted, identityID, ev.IdentityID = who, who.ID, who.ID
			e := Entry{IdentityID: who.ID, IdentityKey: who.Key(), BookedBy: actor.AccountID, NameHash: string(want.NameHash),
				Caller: caller}
			e, err = s.enter(ctx, actor, sess, h, q, e, ev, req.IdempotencyKey, req.Origin, nil)
			if !errors.Is(err, ErrWindowClosed) {
				return Result{Entry: e, Entered: err == nil}, err
			}
			// The draw time came while the request travelled: it is a
			// booking attempt now, answered as the pool answers first-come.
		}
		b := Booking{IdentityID: counted.ID, IdentityKey: counted.Key(), NameHash: string(want.NameHash), BookedBy: actor.AccountID,
			BookedByRole: actor.Role, Caller: caller}
		ensure := func(b *Booking, ev *Event) error {
			who, err := s.ensureWalkIn(ctx, actor, want.Identity, &walkInVerifies, fact)
			if err != nil {
				return err
			}
			b.IdentityID, ev.IdentityID, identityID = who.ID, who.ID, who.ID
			return nil
		}
		b, err = s.admit(ctx, actor, sess, h, req.Channel, b, ev, req.IdempotencyKey, req.Origin, nil, ensure)
		return Result{Booking: b}, err
	}()
	if err != nil {
		err = s.explainBar(ctx, hospitalID, identityID, err)
		s.noteRefusal(actor, req.SessionID, "", identityID, phoneRef, req.Channel, req.Origin, err)
	} else if keep != "" {
		item := r.Booking.ID
		if r.Entered {
			item = r.Entry.ID // a won entry's booking has its id
		}
		s.keepCallerPhone(ctx, item, identityID, keep, contact) // for a call back (callback.go)
	}
	if err == nil && consent != nil {
		s.recordStaffConsent(ctx, actor, *consent, identityID)
	}
	if err == nil && req.Channel == ChannelOnsite && fact.verifies(s.cfg.OnlyReadsVerify) {
		// A walk-in showed the card: its name is the person's verified
		// name now (or was already), and a replay of the request finishes
		// a void that failed.
		if err := s.cardRead(ctx, actor, cmp.Or(r.Booking.IdentityID, r.Entry.IdentityID), "the walk-in is booked or entered"); err != nil {
			return Result{}, err
		}
	}
	return r, err
}

// ensureWalkIn is EnsureIdentity for a staff booking. *verifies says the
// desk's card makes the name the person's verified name (a walk-in of a
// person not verified yet): then the name is verified as VerifyIdentity
// verifies it — in one transaction with its audit entry (identity_verified)
// and the entry's copies to the other hospitals where the person is booked
// (a mistyped ID number verifies a stranger's number under the walk-in's
// name, and the audit is where the desk, theirs too, finds it to correct
// it) — and once: *verifies is cleared, so admission asking again writes
// no second entry. It returns the person the identity counts as (personOf).
func (s *Service) ensureWalkIn(ctx context.Context, actor Actor, i Identity, verifies *bool, fact cardFact) (Identity, error) {
	if *verifies {
		a := AuditEntry{ID: newID(), TS: s.cfg.Now(), ActorID: actor.AccountID, ActorRole: actor.Role, Action: "identity_verified",
			Target: "identity:" + i.ID, Reason: "name verified at a walk-in booking: " + fact.String(), HospitalID: actor.HospitalID}
		if err := s.store.VerifyName(ctx, i, SelfBinding{}, NameChange{}, a); err != nil {
			return Identity{}, err
		}
		*verifies = false
	}
	who, err := s.store.EnsureIdentity(ctx, i)
	if err != nil {
		return Identity{}, err
	}
	return s.personOf(ctx, who)
}

// keyedBooking answers a staff booking request whose Idempotency-Key made a
// booking already, before the name it gives is checked against the
// identity's: the desk may have verified another name since, or a
// check-in put the card's on the booking, and the replay of the request
// is still that request — its first answer, the booking as it is now.
// Not found: the request goes on as a new one (a key in flight is
// answered by admission, as any).
func (s *Service) keyedBooking(ctx context.Context, actor Actor, sess *Session, idemKey string, want person) (Booking, bool, error) {
	if idemKey == "" {
		return Booking{}, false, nil
	}
	got, err := s.store.Booking(ctx, s.idempotentID(actor.AccountID, idemKey))
	switch {
	case errors.Is(err, ErrBookingNotFound):
		return Booking{}, false, nil
	case err != nil:
		return Booking{}, true, nothingBooked(err)
	}
	if got.SessionID != sess.ID || !sameRequest(actor, got, string(want.NameHash)) {
		return Booking{}, true, ErrIdempotencyReuse
	}
	if got.IdentityKey != want.Key() {
		// A document the desk linked books under its person's key
		// (personOf): the same request still, when the card is the
		// person's.
		known, err := s.store.IdentityByHash(ctx, want.IDHash)
		if errors.Is(err, ErrNotFound) || err == nil && known.Person() != got.IdentityID {
			return Booking{}, true, ErrIdempotencyReuse
		}
		if err != nil {
			return Booking{}, true, nothingBooked(err)
		}
	}
	got.Replayed = true
	return got, true, nil
}

// worksFor reports whether a staff member or a referrer books in a
// hospital: staff where they are covered, a referrer at the hospital that
// registered it.
func worksFor(actor Actor, hospitalID string) bool {
	if actor.Role == RoleReferrer {
		return actor.HospitalID != "" && actor.HospitalID == hospitalID
	}
	return actor.Covers(hospitalID)
}

// CheckInRequest is a patient at the desk with their ID card.
type CheckInRequest struct {
	IdentityRequest
	BookingID string
	// OverrideReason is the clerk's word, when the card's name is not the
	// one the booking was made under and no name is verified yet, that the
	// booking is this card's person's all the same (a misheard name, 同音字):
	// the check-in override, audited with it.
	OverrideReason string
	Origin         Origin
}

// CheckIn checks a patient in for a booking when the card is the booking's
// person's: the same ID type and number, and the name the desk verified for
// it — or, while none is verified, the name the booking was made under (or
// another with the clerk's OverrideReason). The card is the truth: a
// booking made under another name is checked in on the card's verified
// name, and the difference is audited as a check-in override. A mismatch is
// refused (identity_mismatch; verified_name_differs when the card's name is
// not the verified one, which the check-in never replaces) and recorded
// (event and audit). A match is audited, and the card verifies the
// identity's name if none was.
func (s *Service) CheckIn(ctx context.Context, actor Actor, req CheckInRequest) (Booking, error) {
	if actor.Role != RoleClerk {
		return Booking{}, Errorf(ErrForbidden, "only registration clerks check patients in")
	}
	got, err := s.resolve(req.IdentityRequest)
	if err != nil {
		return Booking{}, err
	}
	fact, err := s.cardOf(ctx, actor, req.IdentityRequest)
	if err != nil {
		return Booking{}, err
	}
	if err := auditText("override_reason", req.OverrideReason, 500); err != nil {
		return Booking{}, err
	}
	b, err := s.Booking(ctx, actor, req.BookingID)
	if err != nil {
		return Booking{}, err
	}
	if b.Status != StatusConfirmed {
		return Booking{}, Errorf(ErrBookingNotActive, "the booking is %s", b.Status)
	}
	cat := s.catalog.Load()
	sess, ok := cat.Session(b.SessionID)
	h, _ := cat.Hospital(b.HospitalID)
	now := s.cfg.Now()
	if !ok || h == nil || now.In(h.Location()).Format(time.DateOnly) != b.VisitDate || !now.Before(sess.Closes()) {
		return Booking{}, ErrCheckinClosed
	}
	onFile, err := s.store.IdentityOf(ctx, b.IdentityID)
	if err != nil {
		return Booking{}, err
	}
	if string(got.IDHash) != string(onFile.IDHash) {
		// Another document of the person, linked at the desk
		// (LinkIdentities): the booking is the person's, whichever of
		// their documents it was made with.
		card, err := s.store.IdentityByHash(ctx, got.IDHash)
		switch {
		case err == nil && card.Person() == onFile.Person():
			got.IDHash = onFile.IDHash
		case err != nil && !errors.Is(err, ErrNotFound):
			return Booking{}, err
		}
	}
	ev := req.Origin.stamp(Event{ID: newID(), TS: now, AccountID: b.AccountID, PatientID: b.PatientID, IdentityID: b.IdentityID,
		BookingID: b.ID, SessionID: b.SessionID, HospitalID: b.HospitalID, DepartmentID: b.DepartmentID,
		DoctorID: b.DoctorID, Channel: b.Channel, StaffID: actor.AccountID, CardSource: string(fact.source)})
	// The row states the fact (review25 H1): read by which reader, or
	// typed by the clerk and why; never "matched" on the clerk's word.
	audit := AuditEntry{ID: newID(), TS: now, ActorID: actor.AccountID, ActorRole: actor.Role,
		Action: "checkin", Target: "booking:" + b.ID, Reason: fact.String() + "; it is the booking's patient's", HospitalID: b.HospitalID}
	refusal, override := cardFits(b, onFile, got, req.OverrideReason)
	if refusal != nil {
		ev.Type, ev.Reason = EventRejected, refusal.Code
		if ev.PresentedIdentityID, ev.PresentedOnAccount, err = s.presented(ctx, b, got.IDHash); err != nil {
			return Booking{}, err
		}
		audit.Action, audit.Reason = "checkin_refused", refusal.Code+"; "+fact.String()
		if err := s.store.RecordStaffAction(ctx, ev, audit); err != nil {
			return Booking{}, err
		}
		return Booking{}, refusal
	}
	if override != "" {
		audit.Action, audit.Reason = "checkin_override", override+"; "+fact.String()
	}
	ev.Type = EventCheckedIn
	got.ID = onFile.ID
	if fact.verifies(s.cfg.OnlyReadsVerify) { // a typed number verifies nothing (review25 L1)
		got.NameVerified, got.VerifiedBy = true, "desk"
	}
	in, err := s.store.CheckIn(ctx, b.ID, now, ev, audit, got.Identity)
	if err != nil {
		return Booking{}, err
	}
	if !fact.verifies(s.cfg.OnlyReadsVerify) {
		return in, nil
	}
	// The card's name is the person's verified name now (or was already).
	if err := s.cardRead(ctx, actor, onFile.ID, "the patient is checked in"); err != nil {
		return Booking{}, err
	}
	return in, nil
}

// cardFits says whether the card the desk read (got) is booking b's
// person's (onFile): a refusal when it is not, else the audit reason of a
// check-in override when the booking was made under a name other than the
// card's ("" when it was not).
func cardFits(b Booking, onFile Identity, got person, overrideReason string) (refusal *Error, override string) {
	bookedAs := b.NameHash
	if bookedAs == "" {
		bookedAs = string(onFile.NameHash) // booked before names were kept per booking
	}
	card := string(got.NameHash)
	const differs = "booked under another name than the ID card's"
	switch {
	case string(got.IDHash) != string(onFile.IDHash):
		return Errorf(ErrIdentityMismatch, "the ID or name does not match the booking's patient (%s, %s)", onFile.NumberMasked, onFile.NameMasked), ""
	case onFile.NameVerified && card != string(onFile.NameHash):
		return verifiedNameDiffers(onFile), ""
	case card == bookedAs:
		return nil, ""
	case onFile.NameVerified:
		// The card matches the number and its verified name: the person is
		// here, whatever name someone booked them under.
		return nil, joinReason(differs+"; it matches the number and the verified name", overrideReason)
	case strings.TrimSpace(overrideReason) != "":
		return nil, joinReason(differs+"; the clerk confirmed the person", overrideReason)
	}
	return Errorf(ErrIdentityMismatch, "the name is not the one the booking was made under (%s, %s); if it was misheard when booking, "+
		"check in with an override reason", onFile.NumberMasked, onFile.NameMasked), ""
}

func joinReason(what, reason string) string {
	if reason = strings.TrimSpace(reason); reason != "" {
		return what + ": " + reason
	}
	return what
}

// verifiedNameDiffers is the refusal of a desk action whose name is not the
// one the desk verified for the person (known).
func verifiedNameDiffers(known Identity) *Error {
	return Errorf(ErrVerifiedNameDiffers, "the registration desk verified another name for this ID number (%s, %s): check the card; "+
		"if the verified name is wrong, correct it (verify the identity with a correction reason) first", known.NumberMasked, known.NameMasked)
}

// presented says who showed a card the desk refused for a booking: the
// identity id of the card's person — for a card nobody registered, a keyed
// id derived from its number's keyed hash, so the same card gives the same
// id and the number never appears — and whether that person is on the
// booking's account (the booked person, or a member of the account's family
// list). Scalper detection counts the bookings strangers came for: a
// family member picked by mistake is on the account, a buyer is not.
func (s *Service) presented(ctx context.Context, b Booking, idHash []byte) (string, *bool, error) {
	who, err := s.store.IdentityByHash(ctx, idHash)
	switch {
	case errors.Is(err, ErrNotFound):
		no := false
		return KeyedID(s.keys.Hash("presented_card", string(idHash))), &no, nil
	case err != nil:
		return "", nil, err
	}
	on := who.ID == b.IdentityID
	if !on && b.AccountID != "" {
		if on, err = s.store.AccountHasIdentity(ctx, b.AccountID, who.ID); err != nil {
			return "", nil, err
		}
	}
	return who.ID, &on, nil
}

// Lookup is what the desk sees of a person: their masked identity and their
// bookings from today on.
type Lookup struct {
	Identity Identity
	Bookings []Booking
	// Kin, for a person found by the number a caller rings from, is who
	// they are to an account of that number (zero: nobody's family, as a
	// caller staff booked for).
	Kin Kin
	// FromCaller marks, for a caller on the phone (LookupCaller), the
	// bookings staff made on a call from the number they ring from: the
	// ones an operator may cancel for them (CancelForCaller).
	FromCaller map[string]bool
	// ForPatient marks, for a caller on the phone, the bookings an account
	// made for a family member whose contact number, as that account gave
	// it, is the number the caller rings from: the caller who gave the
	// person's ID number and the name it was booked under is the patient,
	// and an operator may cancel it for them (CancelForCaller, review23
	// M2); the account is told.
	ForPatient map[string]bool
	// FormerName says the name the caller gave is a former name of the
	// person (曾用名, NameChange): they are found under it, and the staff
	// member is told their name on record is now another (Identity's,
	// masked).
	FormerName bool
}

// Kin is who a person is to an account holder: the relationship on the
// family list (本人 for the holder) and the birth year the document
// carries (0: none). It tells apart family members whose masked names are
// alike (陈一 and 陈二 are both 陈*).
type Kin struct {
	Relationship Relationship
	BirthYear    int
}

// IdentityCheck is how a clerk checked the identity of the person they
// look up by ID number alone (review21 L2): the lookup assumes the card
// is at the desk, and the clerk says so, or says why not.
type IdentityCheck string

// The identity checks a desk lookup states.
const (
	CheckCardRead  IdentityCheck = "card_read"  // read by the card reader
	CheckCardShown IdentityCheck = "card_shown" // the card itself seen, its number typed
	CheckOther     IdentityCheck = "other"      // no card: CheckReason says how, and why
	// CheckSpoken is a phone operator's (LookupCaller): the caller read
	// the number aloud. A telephone has no card; this is all an operator
	// can state, and the audit says it as a clerk's check is said.
	CheckSpoken IdentityCheck = "spoken"
)

// auditWords is how the audit entry of a lookup says the check.
func (c IdentityCheck) auditWords() string {
	switch c {
	case CheckCardRead:
		return "card read"
	case CheckCardShown:
		return "card shown"
	case CheckSpoken:
		return "spoken: the caller read the number aloud"
	}
	return noCardWords
}

// noCardWords begins the audit reason's part of a lookup without the card;
// lookups are counted by it (Config.NoCardLookups).
const noCardWords = "no card, identity checked otherwise: "

// Default limits of a clerk's lookups in any hour (Config.NoCardLookups,
// Config.LookupsMarkedOver; --lookups-without-card, --lookups-marked-over),
// counted in persons (audit targets), so the pages of one patient's visit,
// each of which looks the person up again, count once. A clerk at a busy
// window sees a patient a minute or two: 60 persons an hour is a full hour
// at the window, and more marks each further lookup's audit entry for the
// administrator. Without the card the desk has nothing but the clerk's
// word: 10 persons an hour, then 429 until the hour of the first has
// passed.
const (
	DefaultNoCardLookups     = 10
	DefaultLookupsMarkedOver = 60
)

// DeskMetrics receives what the desk's lookup limits did (deskLookups):
// a lookup without the card refused past Config.NoCardLookups, and a
// lookup marked in the audit past Config.LookupsMarkedOver.
type DeskMetrics interface {
	LookupRefused()
	LookupMarked()
}

type noDeskMetrics struct{}

func (noDeskMetrics) LookupRefused() {}
func (noDeskMetrics) LookupMarked()  {}

// DeskLookupRequest is a clerk's lookup of a person by ID document: the
// number, and how the clerk checked the identity (Check; with CheckOther,
// CheckReason says how, and why no card).
type DeskLookupRequest struct {
	IDType, IDNumber string
	Check            IdentityCheck
	CheckReason      string
	// Call is the phone console's mark of the call a caller's lookup is
	// made on (LookupCallerOnCall): the pages of one call write one audit
	// entry of the lookup, not one per page (review23 L2). Empty: every
	// lookup is audited.
	Call string
}

// StaffLookups is what the audit log holds of a staff member's recent
// lookups (Store.StaffLookupsSince).
type StaffLookups struct {
	Persons     int       // persons looked up
	NoCard      int       // of them, looked up without the card
	FirstNoCard time.Time // the first lookup without the card
}

// LookupIdentity finds a person by ID document for the registration desk:
// their masked identity and their bookings in the clerk's hospital. An
// unknown ID is patient_not_found, and so is a person who holds nothing at
// the clerk's hospital (ErrNothingHere). Every lookup, found or not, is
// audited with how the clerk checked the identity (DeskLookupRequest): it
// reads a person's data. Lookups without the card are limited per clerk
// (Config.NoCardLookups: ErrLookupsLimited), and a clerk's many lookups are
// marked in the audit (Config.LookupsMarkedOver). A phone operator has only what
// the caller says, and looks them up with LookupCaller, which keeps what
// the number and the name have a say in.
func (s *Service) LookupIdentity(ctx context.Context, actor Actor, req DeskLookupRequest) (Lookup, error) {
	if actor.Role != RoleClerk {
		if actor.Role == RoleOperator {
			return Lookup{}, Errorf(ErrForbidden, "a phone operator looks a caller up by the number they ring from and their name as well (LookupCaller)")
		}
		return Lookup{}, ErrForbidden
	}
	switch req.Check {
	case CheckCardRead, CheckCardShown:
		if strings.TrimSpace(req.CheckReason) != "" {
			return Lookup{}, FieldErrorf(ErrInvalidField, "identity_check_reason", "an identity check reason goes with identity_check other only")
		}
	case CheckOther:
		if err := requireText("identity_check_reason", req.CheckReason, 4, ": how the identity was checked, and why the card is not at the desk"); err != nil {
			return Lookup{}, err
		}
		if err := auditText("identity_check_reason", req.CheckReason, 200); err != nil {
			return Lookup{}, err
		}
	default:
		return Lookup{}, FieldErrorf(ErrInvalidField, "identity_check",
			"say how the identity was checked: identity_check card_read, card_shown, or other with an identity_check_reason")
	}
	return s.lookupIdentity(ctx, actor, req.IDType, req.IDNumber, nil, req)
}

// ErrLookupsLimited is a clerk's lookup without the card past
// Config.NoCardLookups persons in an hour.
var ErrLookupsLimited = newErr(KindRateLimited, "lookups_limited",
	"this clerk looked up as many persons without their card in the past hour as a clerk may; look the person up with their card, or ask another clerk")

// ErrNothingHere is a staff lookup's answer for an ID number that nobody
// registered, and word for word the same for a person who holds nothing at
// the staff member's hospital — no booking listed from yesterday on, no
// confirmed booking, lottery entry taking part or waiting waitlist place
// (review21 L1): what a person does at other hospitals, and that the
// platform knows them at all, is none of this desk's business. The desk
// needs nothing more: a walk-in's booking, a verification, a check-in all
// take the card itself.
var ErrNothingHere = Errorf(ErrPatientNotFound, "nobody with this ID number has a booking, lottery entry or waitlist place at this hospital")

// lookupIdentity is LookupIdentity for any staff member at a desk or a
// telephone, its caller checked. With nameHash (the name a caller gave),
// the audit entry says whether it is the person's name on record — never
// the name — so an administrator sees names being probed.
//
// A clerk's lookup (check.Check set) says in the entry how the identity was
// checked, and is limited or marked by the clerk's lookups of the past hour
// (LookupIdentity); a caller's (CheckSpoken) says it, and is not limited.
func (s *Service) lookupIdentity(ctx context.Context, actor Actor, idType, idNumber string, nameHash []byte, check DeskLookupRequest) (Lookup, error) {
	id, err := parseID(idType, idNumber)
	if err != nil {
		return Lookup{}, err
	}
	who, err := s.store.IdentityByHash(ctx, s.keys.IDHash(id))
	formerName := false
	audit := AuditEntry{ID: newID(), TS: s.cfg.Now(), ActorID: actor.AccountID, ActorRole: actor.Role,
		Action: "identity_lookup", Target: "identity:" + who.ID, Reason: "found", HospitalID: actor.HospitalID}
	switch {
	case errors.Is(err, ErrNotFound):
		audit.Target, audit.Reason = "identity:"+id.Masked(), "not found"
	case err != nil:
		return Lookup{}, err
	case nameHash != nil && string(nameHash) == string(who.NameHash):
		audit.Reason += "; the name given matches"
	case nameHash != nil:
		former, ferr := s.store.IsFormerName(ctx, who.ID, nameHash)
		if ferr != nil {
			return Lookup{}, ferr
		}
		if formerName = former; former {
			audit.Reason += "; the name given is a former name of the person"
		} else {
			audit.Reason += "; the name given does not match"
		}
	}
	switch check.Check {
	case "":
	case CheckSpoken:
		// A caller's: said in the entry; the desk's limits are a clerk's
		// (the caller's number and name bound what the operator sees).
		audit.Reason += "; " + check.Check.auditWords()
	default:
		if lerr := s.deskLookups(ctx, actor, &audit, check); lerr != nil {
			return Lookup{}, lerr
		}
	}
	var bs []Booking
	here := false
	if err == nil {
		// A document the desk linked to a person (LinkIdentities) lists the
		// person's bookings: its own were moved to the person. The
		// identity shown is the card's.
		if bs, err = s.bookingsInReach(ctx, actor, who.Person()); err != nil {
			return Lookup{}, err
		}
		if here = len(bs) > 0; !here {
			hs, err := s.store.HospitalsOfPerson(ctx, who.Person())
			if err != nil {
				return Lookup{}, err
			}
			here = slices.ContainsFunc(hs, actor.Covers)
		}
		if !here {
			audit.Reason += "; nothing at this hospital"
		}
	}
	// A person found: every hospital where they are booked, entered or
	// waitlisted sees that staff of another read them (lows17: the
	// clerk's hospital only).
	record := func() error { return s.store.RecordAudit(ctx, audit) }
	if err == nil {
		record = func() error { return s.store.RecordAuditOfPerson(ctx, who.Person(), audit) }
	}
	if aerr := s.auditOncePerCall(ctx, actor, check.Call, &audit, record); aerr != nil {
		return Lookup{}, aerr
	}
	if !here {
		return Lookup{}, ErrNothingHere
	}
	return Lookup{Identity: who, Bookings: bs, FormerName: formerName}, nil
}

// deskLookups adds a clerk's identity check to a lookup's audit entry, and
// holds the lookup to the clerk's limits of the past hour: a new person
// looked up without the card past Config.NoCardLookups is refused (and the
// refusal audited: the person is not read), and any lookup of a new person
// past Config.LookupsMarkedOver is marked; both counted (DeskMetrics).
func (s *Service) deskLookups(ctx context.Context, actor Actor, audit *AuditEntry, check DeskLookupRequest) error {
	audit.Reason += "; " + check.Check.auditWords()
	if check.Check == CheckOther {
		audit.Reason += strings.TrimSpace(check.CheckReason)
	}
	now := s.cfg.Now()
	n, err := s.store.StaffLookupsSince(ctx, actor.AccountID, now.Add(-time.Hour), audit.Target, "%; "+noCardWords+"%")
	if err != nil {
		return err
	}
	if check.Check == CheckOther && n.NoCard >= s.cfg.NoCardLookups {
		refused := *audit
		refused.Reason = fmt.Sprintf("refused: the clerk's %d persons looked up without the card in the past hour", n.NoCard)
		if err := s.store.RecordAudit(ctx, refused); err != nil {
			return err
		}
		s.cfg.DeskMetrics.LookupRefused()
		return &LimitError{Wait: max(time.Second, n.FirstNoCard.Add(time.Hour).Sub(now)),
			Err: Errorf(ErrLookupsLimited, "this clerk looked up %d persons without their card in the past hour (at most %d); "+
				"look the person up with their card, or ask another clerk", n.NoCard, s.cfg.NoCardLookups)}
	}
	if n.Persons >= s.cfg.LookupsMarkedOver {
		audit.Reason += fmt.Sprintf("; marked: the clerk's person %d looked up in an hour (more than %d)", n.Persons+1, s.cfg.LookupsMarkedOver)
		s.cfg.DeskMetrics.LookupMarked()
	}
	return nil
}

// AuditOfPersonHere ends the reason of the copy of a verification's,
// correction's or lookup's audit entry that a hospital other than the
// staff member's reads: identities are platform-wide, so a clerk anywhere
// may verify or look up a person (an operator look up a caller), and every
// hospital where the person is booked, entered or waitlisted sees it in its
// audit log (Store.VerifyName, Store.RecordAuditOfPerson).
const AuditOfPersonHere = "by staff of another hospital, of a person with a booking, lottery entry or waitlist place here"

// VerifyRequest is a clerk confirming a person's name from their ID card.
type VerifyRequest struct {
	IdentityRequest
	// AccountPhone, when set, is the phone of the patient account that is
	// this person's own: it becomes the account's self (verified), taking
	// it from any other account that claimed it.
	AccountPhone string
	// CorrectionReason, when the desk verified another name for the ID
	// number before, says why the card's name replaces it (a name typed
	// wrong, or changed by law): audited. Without it such a verification
	// is refused. The name it replaces becomes a former name (NameChange).
	CorrectionReason string
	// NumberRung, with AccountPhone: the clerk rang the account's login
	// number from the desk's phone and it rang in the hand of the person
	// whose card this is: the proof that the person controls the login
	// (mayBind). Only that it was done is recorded.
	NumberRung bool
	// FormerName, when set, is a former name of the person (曾用名) the
	// clerk saw on the 户口簿 or the police's 更名证明, for a person whose
	// former name the desk never verified (their own account, a family's,
	// listed them under it): with a CorrectionReason saying what was seen,
	// it is kept as a former name, and nothing listed or made under it is
	// voided (NameChange).
	FormerName string
	// Consent, with AccountPhone: the holder, at the window with the card,
	// read and signed the privacy notice as the clerk asked (the box
	// 持证人已阅读告知并签字同意): recorded with the binding as the
	// account's consent (deskBindingConsent). Never required.
	Consent ConsentRequest
}

// VerifyIdentity is how a person regains control of their identity: the
// clerk reads the physical card, and its name becomes the identity's
// verified name. From then on only that name may book for the ID number
// (claims of other names are refused, identity_unverified), and with an
// account phone, that account becomes the person's verified self: the one
// that sees the bookings staff make for them. A name verified before is
// replaced only with a correction reason (verified_name_differs without).
// All of it is one transaction with its audit entry (copied to every other
// hospital where the person is booked, entered or waitlisted): a refused
// verification changes nothing about the person.
func (s *Service) VerifyIdentity(ctx context.Context, actor Actor, req VerifyRequest) (Identity, error) {
	if actor.Role != RoleClerk {
		return Identity{}, Errorf(ErrForbidden, "only registration clerks verify identities, with the card in hand")
	}
	card, err := s.resolve(req.IdentityRequest)
	if err != nil {
		return Identity{}, err
	}
	if err := auditText("correction_reason", req.CorrectionReason, 500); err != nil {
		return Identity{}, err
	}
	if req.Consent != (ConsentRequest{}) && req.AccountPhone == "" {
		return Identity{}, FieldErrorf(ErrInvalidField, "privacy_consent", "the holder's consent to the privacy notice is taken with the binding of their account: give account_phone")
	}
	// The verification is the clerk's deliberate act and stands on a
	// typed number too; its row says which it was (review25 H1).
	fact, err := s.cardOf(ctx, actor, req.IdentityRequest)
	if err != nil {
		return Identity{}, err
	}
	card.NameVerified, card.VerifiedBy = true, "desk"
	var change NameChange
	if strings.TrimSpace(req.FormerName) != "" {
		former, err := identity.NormalizeName(req.FormerName)
		if err != nil {
			return Identity{}, FieldErrorf(ErrInvalidField, "former_name", "%s", publicDetail(err))
		}
		if err := requireText("correction_reason", req.CorrectionReason, 2, ": what the clerk saw of the former name (户口簿, 更名证明)"); err != nil {
			return Identity{}, err
		}
		if h := s.nameHash(former); string(h) != string(card.NameHash) {
			change.Former = append(change.Former, FormerName{Hash: h, Sealed: s.keys.Seal("name", former)})
		}
	}
	var accountID string
	bind := SelfBinding{}
	if req.AccountPhone != "" {
		p, err := identity.NormalizePhone(req.AccountPhone)
		if err != nil {
			return Identity{}, ErrInvalidPhone
		}
		a, err := s.store.AccountByPhone(ctx, s.keys.Hash("phone", p))
		if errors.Is(err, ErrNotFound) || err == nil && a.Role != RolePatient {
			return Identity{}, Errorf(ErrPatientNotFound, "no patient account with that phone")
		}
		if err != nil {
			return Identity{}, err
		}
		if err := s.mayBind(ctx, card, a, req.NumberRung); err != nil {
			return Identity{}, err
		}
		accountID = a.ID
		limits, err := s.accountLimits(ctx, s.cfg.Now())
		if err != nil {
			return Identity{}, err
		}
		bind = SelfBinding{AccountID: a.ID, NewPatientID: newID(), BirthYear: card.doc.BirthYear(), MaxPatients: limits.MaxPatients,
			HolderChanged: holderChangedNotice(a, card, actor.HospitalID, s.cfg.Now())}
		if bind.Consent, err = s.deskBindingConsent(actor, req.Consent, card.doc, a.ID); err != nil {
			return Identity{}, err
		}
	}
	audit := AuditEntry{ID: newID(), TS: s.cfg.Now(), ActorID: actor.AccountID, ActorRole: actor.Role,
		Action: "identity_verified", Reason: "name verified at the desk: " + fact.String(), HospitalID: actor.HospitalID}
	known, err := s.store.IdentityByHash(ctx, card.IDHash)
	switch {
	case errors.Is(err, ErrNotFound): // a new person: card.ID is theirs
	case err != nil:
		return Identity{}, err
	default:
		card.ID = known.ID
	}
	replace := err == nil && known.NameVerified && string(known.NameHash) != string(card.NameHash)
	change.Replace = replace
	if replace || len(change.Former) > 0 {
		change.Notice = Notification{Kind: NoticeNameCorrected, Body: "经窗口核验身份证件，该就诊人的姓名已更新为证件上的姓名（依法更名或更正）。" +
			"您以原姓名为其所做的预约、抽签和候补均保留，就诊人信息已随之更新为新姓名。 " +
			"The registration desk read this person's ID card: their name is now the one on the card (a change of name, or a " +
			"correction). What you made for them under the former name stands, and your list shows the new name."}
	}
	if len(change.Former) > 0 && !replace {
		audit.Reason += "; former name seen: " + strings.TrimSpace(req.CorrectionReason)
	}
	if replace {
		if strings.TrimSpace(req.CorrectionReason) == "" {
			return Identity{}, verifiedNameDiffers(known)
		}
		if err := requireText("correction reason", req.CorrectionReason, 2, ""); err != nil {
			return Identity{}, err
		}
		audit.Action = "identity_name_corrected"
		audit.Reason = "the name on the ID card (" + fact.String() + ") replaces the verified name: " + strings.TrimSpace(req.CorrectionReason)
	}
	audit.Target = "identity:" + card.ID
	if accountID != "" {
		audit.Reason += "; self of account " + accountID + ", its login number rung at the desk in the card's person's hand"
		if bind.Consent != nil {
			audit.Reason += "; the holder signed the privacy notice, version " + bind.Consent.NoticeVersion
		}
	}
	if err := s.store.VerifyName(ctx, card.Identity, bind, change, audit); err != nil {
		return Identity{}, err
	}
	if err := s.cardRead(ctx, actor, card.ID, "the name is verified"); err != nil {
		return Identity{}, err
	}
	return card.Identity, nil
}

// cardRead follows every desk action that read a person's name from the
// ID card and made it their verified name — VerifyIdentity (and its
// correction), a check-in, a walk-in's booking or entry — once the action
// has committed (done says what committed): it voids what the card
// disproves (voidDisproved). A void that failed in part is answered 503
// unavailable, saying what committed and that the same verification again
// (POST /v1/desk/identities/verify, which voids only what is still there)
// finishes it; each failure is logged with its cause.
//
// It voids against the person's verified name as the store holds it, read
// afresh, not the card's: a replayed walk-in's request, or a correction
// committed in between, never voids under a name the desk no longer holds.
func (s *Service) cardRead(ctx context.Context, actor Actor, identityID, done string) error {
	person, err := s.store.IdentityOf(ctx, identityID)
	if err == nil && !person.NameVerified {
		return nil // nothing verified: nothing disproved
	}
	n := 1
	if err == nil {
		n, err = s.voidDisproved(ctx, actor, person)
	}
	if err != nil {
		return Errorf(ErrUnavailable, "%s, but %d of the bookings, lottery entries, waitlist places or self claims "+
			"made for the person under another name could not be voided yet; verify the card again to finish", done, n)
	}
	return nil
}

// ReasonNameDisproved is the reason of a booking, lottery entry or waitlist
// place voided because the desk verified another name for its person
// (voidDisproved).
const ReasonNameDisproved = "name_disproved"

// voidDisproved voids what another account made for the person under a
// name the desk's verification has just disproved: every confirmed booking
// of the person whose booked name is not person's (now verified) name,
// made by a patient account other than the person's verified self. Such a
// booking counts toward the person's quotas and one-booking rules
// (admission counts by identity) while nobody may use it (check-in
// compares the card with the booked name): a squatter who knew only the ID
// number would otherwise keep the person out. Each is cancelled for the
// hospital (reason name_disproved: never late, no strike), audited as the
// clerk's, its maker told, its slot given back as any cancelled slot
// (the waitlist first; to the desk at once once its session has started).
// A booking made under a near miss of the verified name (misheard: a
// relative's 同音字, identity.NearName) is kept instead, its name corrected
// (correctName).
// Bookings under the verified name — the person's own, a family member's
// made by another account, staff's — are untouched, and so are staff's
// bookings under another name (the desk cancels those by hand,
// registration_error). It runs after the verification commits: it returns
// how many it could not void and the first error; a repeat of the
// verification finishes them. Another account's lottery entries (still
// entered) and waiting waitlist places under another name are withdrawn
// and taken off alike.
func (s *Service) voidDisproved(ctx context.Context, actor Actor, person Identity) (int, error) {
	now := s.cfg.Now()
	// Another account's self claim under another name is a self no more
	// (VerifyName drops it in its transaction; a check-in's card did not
	// go through it): the person's own account may then add them as its
	// self, or the desk bind it.
	dropped, err := s.store.DropDisprovedSelves(ctx, person.ID, person.NameHash, AuditEntry{TS: now, ActorID: actor.AccountID,
		ActorRole: actor.Role, HospitalID: actor.HospitalID})
	if err != nil {
		s.log.Warn("drop a self claimed under a disproved name; verify again to finish", "identity_id", person.ID, "err", err)
		return 1, err
	}
	for _, id := range dropped {
		if p, err := s.store.Patient(ctx, id); err == nil {
			s.patients.put(p) // no self any more
		}
	}
	// A day back: a visit date is the hospital's civil date, and a session
	// still open is never skipped for a zone's sake.
	bs, err := s.store.BookingsOfIdentity(ctx, person.ID, now.AddDate(0, 0, -1).Format(time.DateOnly))
	if err != nil {
		return 1, err
	}
	selves, err := s.store.VerifiedSelfAccounts(ctx, []string{person.ID})
	if err != nil {
		return 1, err
	}
	self := selves[person.ID]
	cat := s.catalog.Load()
	failed, first := 0, error(nil)
	fail := func(what, id string, err error) {
		s.log.Warn("void a "+what+" made under a disproved name; verify again to finish", "id", id, "err", err)
		failed++
		if first == nil {
			first = err
		}
	}
	unproven := bs[:0:0]
	for _, b := range bs {
		if b.Status != StatusConfirmed || b.AccountID == "" || b.AccountID == self || b.NameHash == "" ||
			b.NameHash == string(person.NameHash) {
			continue
		}
		if sess, ok := cat.Session(b.SessionID); ok && !now.Before(sess.Closes()) {
			continue // over: nothing to give back, nothing it holds any more
		}
		unproven = append(unproven, b)
	}
	near, err := s.misheard(ctx, person, unproven)
	if err != nil {
		return len(unproven) + 1, err
	}
	for _, b := range unproven {
		if near[b.ID] {
			if err := s.correctName(ctx, actor, b, person, now); err != nil {
				fail("booking's name", b.ID, err)
			}
			continue
		}
		sess, ok := cat.Session(b.SessionID)
		how := cancelHow{reason: ReasonNameDisproved, deskReason: "(" + ReasonNameDisproved + "): the desk verified another name for the person",
			onsite: ok && !now.Before(sess.StartsAt)}
		if _, err := s.cancel(ctx, actor, b, sess, ok, how, Origin{}); err != nil && !errors.Is(err, ErrBookingNotActive) {
			fail("booking", b.ID, err)
		}
	}
	// Lottery entries and waiting places another account made: an entry
	// names its claim (its name hash), a place its patient's, or the
	// caller's an operator gave.
	others := self
	if others == "" {
		others = noAccount
	}
	made, err := s.store.MadeByOthers(ctx, person.ID, others, now.Format(time.DateOnly), now)
	if err != nil {
		return failed + 1, cmp.Or(first, err)
	}
	for _, e := range made.Entries {
		if e.Status != EntryEntered || e.NameHash == "" || e.NameHash == string(person.NameHash) {
			continue
		}
		// An entry's name is written once (its draw's record): one made
		// under a former name of the person stays, for the draw to judge.
		if former, err := s.store.IsFormerName(ctx, person.ID, []byte(e.NameHash)); err != nil || former {
			if err != nil {
				fail("lottery entry", e.ID, err)
			}
			continue
		}
		if err := s.voidEntry(ctx, actor, e, now, disproved); err != nil && !errors.Is(err, ErrEntryClosed) {
			fail("lottery entry", e.ID, err)
		}
	}
	for _, w := range made.Waitlist {
		if w.Status != WaitlistWaiting {
			continue
		}
		name := w.NameHash
		if name == "" && w.PatientID != "" {
			p, err := s.store.Patient(ctx, w.PatientID)
			if err != nil {
				fail("waitlist place", w.ID, err)
				continue
			}
			name = p.NameHash
		}
		if name == "" || name == string(person.NameHash) {
			continue
		}
		if err := s.voidPlace(ctx, actor, w, now, disproved); err != nil {
			fail("waitlist place", w.ID, err)
		}
	}
	return failed, first
}

// misheard says which of bookings bs, made under names other than the
// person's verified one, were made under a near miss of it
// (identity.NearName, 同音字): the name a relative booking by ear gives, which
// the desk's check-in takes as the person's (CheckIn's override). A
// booking's name is known in full through the claim of the patient row it
// was made for (the booking keeps only its hash): one whose claim is gone or
// is not the booking's name is far.
func (s *Service) misheard(ctx context.Context, person Identity, bs []Booking) (map[string]bool, error) {
	if len(bs) == 0 {
		return nil, nil
	}
	ids := make([]string, 0, len(bs))
	for _, b := range bs {
		if b.PatientID != "" {
			ids = append(ids, b.PatientID)
		}
	}
	names, err := s.store.SealedNames(ctx, person.ID, ids)
	if err != nil {
		return nil, err
	}
	open := func(n SealedName, hash string) (string, bool) {
		if len(n.Sealed) == 0 || string(n.Hash) != hash {
			return "", false
		}
		name, err := s.keys.Open("name", n.Sealed)
		if err != nil {
			s.log.Warn("open a sealed name; its booking is judged far", "err", err)
			return "", false
		}
		return name, true
	}
	verified, ok := open(names[person.ID], string(person.NameHash))
	if !ok {
		return nil, nil
	}
	near := map[string]bool{}
	for _, b := range bs {
		if claim, ok := open(names[b.PatientID], b.NameHash); ok && identity.NearName(verified, claim) {
			near[b.ID] = true
		}
	}
	return near, nil
}

// NoticeNameCorrected is the kind of the notice to an account whose
// booking the desk kept under the person's verified name (correctName).
const NoticeNameCorrected = "name_corrected"

// correctName keeps a booking another account made for the person under a
// near miss of the name the desk just verified (misheard): its name becomes
// the verified one — check-in, the desk's lookup and the phone's go by it —
// in one transaction with the clerk's audit entry and the notice to the
// account that made it, which should correct the name on its list too.
func (s *Service) correctName(ctx context.Context, actor Actor, b Booking, person Identity, now time.Time) error {
	cat := s.catalog.Load()
	zh, en := "（出诊已变更）", "(the session changed)"
	if sess, ok := cat.Session(b.SessionID); ok {
		zh, en = sessionLines(cat, sess)
	}
	who, err := s.memberLabels(ctx, []string{b.PatientID})
	if err != nil {
		return err
	}
	n := Notification{ID: newID(), Kind: NoticeNameCorrected, HospitalID: b.HospitalID, SessionID: b.SessionID, AccountID: b.AccountID,
		IdentityID: b.IdentityID, BookingID: b.ID, CreatedAt: now,
		Body: told(who[b.PatientID], "经窗口核验身份证，您为其预约时填写的姓名与证件姓名相近（疑为同音字），该预约保留，姓名已更正为证件姓名；请在就诊人信息中一并更正："+zh,
			"The registration desk read this person's ID card: the name you booked them under is a near miss of theirs (a misheard "+
				"character), so the booking stands, its name corrected to the card's; please correct it on your list too: "+en)}
	a := AuditEntry{ID: newID(), TS: now, ActorID: actor.AccountID, ActorRole: actor.Role, Action: "booking_name_corrected",
		Target: "booking:" + b.ID, HospitalID: b.HospitalID,
		Reason: "booked under a near miss of the name the desk verified from the ID card (one character apart, 同音字): kept, its name corrected to the verified one"}
	_, err = s.store.CorrectBookingName(ctx, b.ID, []byte(b.NameHash), person.NameHash, a, n)
	return err
}

// noAccount is an account id no account has: "other than no account".
const noAccount = "00000000-0000-0000-0000-000000000000"

// voidWhy is why the desk voids a booking, entry or place someone made:
// its stable reason code (the events', the notices') and the audit's words.
type voidWhy struct{ code, because string }

// disproved: the desk verified another name for the person (voidDisproved).
var disproved = voidWhy{ReasonNameDisproved, "the desk verified another name for the person"}

// voidEntry withdraws a lottery entry as the clerk's (voidDisproved,
// voidLinked): its quota is given back.
func (s *Service) voidEntry(ctx context.Context, actor Actor, e Entry, now time.Time, why voidWhy) error {
	ev := Event{ID: newID(), TS: now, Type: EventCancelled, AccountID: e.AccountID, PatientID: e.PatientID,
		IdentityID: e.IdentityID, BookingID: e.ID, SessionID: e.SessionID, HospitalID: e.HospitalID, Channel: e.Channel,
		Reason: why.code, StaffID: actor.AccountID}
	audit := &AuditEntry{ID: newID(), TS: now, ActorID: actor.AccountID, ActorRole: actor.Role, Action: "lottery_withdrawn",
		Target: "lottery_entry:" + e.ID, HospitalID: e.HospitalID,
		Reason: fmt.Sprintf("%s lottery entry of session %s withdrawn (%s): %s",
			e.Channel, e.SessionID, why.code, why.because)}
	if _, err := s.store.WithdrawEntry(ctx, e.ID, now, ev, audit); err != nil {
		return err
	}
	if _, err := s.adm.ReleaseEntries(context.WithoutCancel(ctx), []EntryRef{e.ref()}, false, false); err != nil {
		s.log.Warn("release a voided entry; reconciliation will", "entry_id", e.ID, "err", err)
	}
	return nil
}

// voidPlace takes a waiting place off its waitlist as the clerk's
// (voidDisproved, voidLinked).
func (s *Service) voidPlace(ctx context.Context, actor Actor, w WaitlistEntry, now time.Time, why voidWhy) error {
	ev := Event{ID: newID(), TS: now, Type: EventCancelled, AccountID: w.AccountID, IdentityID: w.IdentityID,
		PatientID: w.PatientID, SessionID: w.SessionID, HospitalID: w.HospitalID, Reason: why.code, StaffID: actor.AccountID}
	audit := &AuditEntry{ID: newID(), TS: now, ActorID: actor.AccountID, ActorRole: actor.Role, Action: "waitlist_left",
		Target: "waitlist:" + w.ID, HospitalID: w.HospitalID,
		Reason: fmt.Sprintf("waitlist place of session %s taken off (%s): %s", w.SessionID, why.code, why.because)}
	if err := s.store.CloseWaitlist(ctx, []string{w.ID}, WaitlistCancelled, now, &ev, audit); err != nil {
		return err
	}
	bg, done := s.followUp(ctx)
	defer done()
	if err := s.adm.LeaveWaitlist(bg, w.HospitalID, w.SessionID, w.Ref(), now); err != nil {
		s.log.Warn("leave waitlist in redis; the session will be reconciled", "waitlist_id", w.ID, "err", err)
		s.reconcileLater(w.SessionID)
	}
	return nil
}

// ReissueRequest returns a booking's slot: a patient who did not come for
// their time (a no-show, during the session), or a cancelled slot still
// waiting out its delay.
type ReissueRequest struct {
	BookingID string
	Reason    string
	Origin    Origin
}

// Reissue gives a slot that its patient will not use to the session's
// waitlist, else to the on-site pool, at once. A confirmed booking whose slot
// has ended without a check-in is marked a no-show first (it counts toward a
// bar): not before (ReissuableFrom), as a patient running late for their
// time is late, not absent, and may still come and check in.
func (s *Service) Reissue(ctx context.Context, actor Actor, req ReissueRequest) (Placement, error) {
	if actor.Role != RoleClerk {
		return Placement{}, Errorf(ErrForbidden, "only registration clerks reissue slots")
	}
	if err := deskReason(req.Reason); err != nil {
		return Placement{}, err
	}
	b, err := s.Booking(ctx, actor, req.BookingID)
	if err != nil {
		return Placement{}, err
	}
	cat := s.catalog.Load()
	sess, ok := cat.Session(b.SessionID)
	now := s.cfg.Now()
	if !ok || !now.Before(sess.Closes()) {
		return Placement{}, Errorf(ErrNotReissuable, "the session is over")
	}
	audit := AuditEntry{ID: newID(), TS: now, ActorID: actor.AccountID, ActorRole: actor.Role,
		Action: "reissue", Target: "booking:" + b.ID, Reason: req.Reason, HospitalID: b.HospitalID}
	ev := req.Origin.stamp(Event{ID: newID(), TS: now, Type: EventReissued, AccountID: b.AccountID, IdentityID: b.IdentityID,
		PatientID: b.PatientID, BookingID: b.ID, SessionID: b.SessionID, HospitalID: b.HospitalID,
		DepartmentID: b.DepartmentID, DoctorID: b.DoctorID, Channel: ChannelOnsite, StaffID: actor.AccountID, Reason: req.Reason})
	var pl Placement
	switch b.Status {
	case StatusConfirmed:
		if from := ReissuableFrom(b); now.Before(from) {
			loc := time.UTC
			if h, ok := cat.Hospital(b.HospitalID); ok {
				loc = h.Location()
			}
			return Placement{}, Errorf(ErrNotReissuable, "the patient's slot has not ended yet: they may still come until %s; reissue it then",
				from.In(loc).Format("15:04"))
		}
		if open, err := s.openOffer(ctx, b.ID); err != nil {
			return Placement{}, err
		} else if open {
			return s.reissueUnanswered(ctx, actor, sess, b, req, ev, audit)
		}
		noShow := ev
		noShow.ID, noShow.Type, noShow.Reason = newID(), EventNoShow, "reissued at the desk"
		bars, err := s.store.MarkNoShow(ctx, b.ID, now, s.noShowRules(b.HospitalID, now), noShow, audit)
		if err != nil {
			return Placement{}, err
		}
		bctx, done := s.followUp(ctx)
		s.applyBars(bctx, bars)
		done()
		pl, err := s.placeOnsite(ctx, actor, sess, b, "reissue")
		if err != nil {
			return Placement{}, err
		}
		if err := s.store.RecordEvent(ctx, ev); err != nil {
			s.log.Warn("record reissue event", "booking_id", b.ID, "err", err)
		}
		return pl, nil
	case StatusCancelled:
		pl, err = s.adm.Place(ctx, DelayedSlot{HospitalID: b.HospitalID, SessionID: b.SessionID, SlotNo: b.SlotNo, Channel: b.Channel},
			s.placing(sess), ChannelOnsite, PlaceNow)
		if err != nil {
			s.settle(ctx, sess, b.SlotNo, ChannelOnsite, pl) // those passed by have left the line
			return Placement{}, err
		}
		if pl.Outcome == PlacedGone {
			return Placement{}, Errorf(ErrNotReissuable, "the cancelled slot was already given out")
		}
		if err := s.store.RecordStaffAction(ctx, ev, audit); err != nil {
			s.log.Warn("record reissue", "booking_id", b.ID, "err", err)
		}
	default:
		return Placement{}, Errorf(ErrNotReissuable, "the booking is %s", b.Status)
	}
	return s.settleOnsite(ctx, actor, sess, b, pl, "reissue")
}

// openOffer says whether booking id is a slot held with a substitute
// doctor whose offer nobody has answered (settled in SQL or not: by a
// reissue, after the slot's end, its time has passed).
func (s *Service) openOffer(ctx context.Context, id string) (bool, error) {
	offers, err := s.store.OffersOfBookings(ctx, []string{id})
	if err != nil {
		return false, err
	}
	for _, off := range offers {
		if off.BookingID == id && off.Status == OfferOpen {
			return true, nil
		}
	}
	return false, nil
}

// reissueUnanswered reissues a slot held with a substitute doctor that
// nobody accepted, the lapse job not having reached it: the offer lapses
// as the lapse job would lapse it — the held booking cancelled without
// penalty, never a no-show, for the patient never took the slot — and the
// slot goes to the desk at once, as any reissued slot.
func (s *Service) reissueUnanswered(ctx context.Context, actor Actor, sess *Session, b Booking, req ReissueRequest, ev Event, audit AuditEntry) (Placement, error) {
	pl := Placement{Outcome: PlacedNone}
	how := cancelHow{reason: "substitute_" + OfferLapsed, deskReason: req.Reason, onsite: true, placed: &pl}
	if _, err := s.cancel(ctx, actor, b, sess, true, how, req.Origin); err != nil {
		return Placement{}, err
	}
	if err := s.store.RecordStaffAction(ctx, ev, audit); err != nil {
		s.log.Warn("record reissue", "booking_id", b.ID, "err", err)
	}
	return pl, nil
}

// ReissuableFrom is when a confirmed booking nobody checked in may be
// reissued as a no-show: the end of its slot (its start, for a booking
// whose slot has no end on record). Check-in stays open until the session
// ends; the grace is the slot itself, so a patient a few minutes late
// for their time still finds their slot.
func ReissuableFrom(b Booking) time.Time {
	if b.SlotEnd.After(b.SlotStart) {
		return b.SlotEnd
	}
	return b.SlotStart
}

// placeOnsite gives the slot of booking b, no longer held for it (a no-show
// or a cancellation at the desk during the session), to the desk by the
// path of any returned slot (review25 H2: the clerk who freed it booked
// the buyer into it in the same second): the session's waitlist first,
// else held for the waitlist's round, else the on-site pool after the
// random delay; why names it in the audit. The clerk who freed it books
// no walk-in into the session meanwhile (freedSlotWait).
func (s *Service) placeOnsite(ctx context.Context, actor Actor, sess *Session, b Booking, why string) (Placement, error) {
	// From now on the slot serves the desk, also when a waitlisted
	// identity gets it: its hold must name the on-site channel, as
	// Place does for a cancelled slot; the returned route delays it
	// in the on-site channel.
	hold := HoldOf(b)
	hold.Channel = ChannelOnsite
	pl, err := s.adm.Return(ctx, hold, Return{To: ChannelOnsite, Placing: s.placing(sess)})
	if err != nil {
		s.settle(ctx, sess, b.SlotNo, ChannelOnsite, pl) // those passed by have left the line
		return Placement{}, err
	}
	return s.settleOnsite(ctx, actor, sess, b, pl, why)
}

// settleOnsite carries out a placement of b's slot for the desk, and moves
// the slot to the on-site pool in SQL too.
func (s *Service) settleOnsite(ctx context.Context, actor Actor, sess *Session, b Booking, pl Placement, why string) (Placement, error) {
	now := s.cfg.Now()
	bg, done := s.followUp(ctx)
	defer done()
	s.settle(bg, sess, b.SlotNo, ChannelOnsite, pl)
	if b.Channel != ChannelOnsite && (pl.Outcome == PlacedPool || pl.Outcome == PlacedWaitlist || pl.Outcome == PlacedDelayed || pl.Outcome == PlacedHeld) {
		// SQL must move the slot to the on-site pool too: reconciliation
		// rebuilds the pools from SQL and would put it back where it was.
		releaseAt := b.SlotStart
		if q, ok := sess.Channel(ChannelOnsite); ok {
			releaseAt = q.ReleaseAt
		} else if q, ok := sess.Channel(b.Channel); ok {
			releaseAt = q.ReleaseAt
		}
		err := s.store.MoveSlots(bg, sess.ID, []int{b.SlotNo}, b.Channel, ChannelOnsite, releaseAt, AuditEntry{ID: newID(), TS: now,
			ActorID: actor.AccountID, ActorRole: actor.Role, Action: "move_pool", Target: "session:" + sess.ID, HospitalID: sess.HospitalID,
			Reason: fmt.Sprintf("slot %d %s→%s: %s of booking %s", b.SlotNo, b.Channel, ChannelOnsite, why, b.ID)})
		if err == nil {
			err = s.reload(bg, sess.ID)
		}
		if err != nil {
			s.log.Warn("move the reissued slot to the on-site pool in SQL", "booking_id", b.ID, "err", err)
		}
	}
	return pl, nil
}

// DeskCancelRequest is a clerk's cancellation of a booking at the desk,
// with the reason (a walk-in booked on a mistyped ID number, a patient who
// asks at the window to withdraw).
type DeskCancelRequest struct {
	BookingID string
	// ReasonCode says what kind of cancellation it is (DeskCancelOther when
	// empty; the DeskCancel… constants):
	// once the slot's time has passed only a registration error may be
	// cancelled; a patient who did not come is reissued (a no-show).
	ReasonCode string
	Reason     string
	// IdempotencyKey, when set, makes a repeat of a cancellation that
	// committed answer the booking as it is now instead of
	// booking_not_active.
	IdempotencyKey string
	Origin         Origin
}

// The reason codes of a desk cancellation.
const (
	// DeskCancelRegistrationError: the booking should never have been
	// made as it stands — a walk-in typed on a wrong ID number, booked for
	// the wrong person, doctor or session at the desk. The only code
	// accepted once the slot's time has passed.
	DeskCancelRegistrationError = "registration_error"
	// DeskCancelPatientRequest: the patient withdraws at the window,
	// before their slot's time.
	DeskCancelPatientRequest = "patient_request"
	// DeskCancelOther: any other reason of the hospital's, before the
	// slot's time (the default when no code is given).
	DeskCancelOther = "other"
)

// DeskCancel cancels a confirmed booking of the clerk's hospital for the
// hospital until the session is over — also once it has started, when a
// patient may no longer cancel (Cancel). Past the cancel deadline it is
// the patient's late cancellation (a no-show toward the bars), unless its
// reason is the hospital's own (HospitalsReason); either way it is audited
// with the clerk's reason code and reason, and whether it was late
// (review25 H2). A registration error is a booking the desk made that
// day only (madeHereToday).
// Before the session starts the slot is returned as any cancelled slot is
// (the waitlist, else its pool after a random delay); during the session it
// goes to the desk at once, as a reissued slot does: the waitlist, else the
// on-site pool. The service handles no money: a refund is the hospital's
// cashier's (HIS), who act on the cancellation record.
//
// Once the booking's slot time has passed, a cancellation would wipe a
// missed visit that a reissue counts as a no-show: then only a
// registration error (DeskCancelRegistrationError: the booking should not
// have been made so) is cancelled; any other reason is ErrSlotTimePassed,
// and a patient who did not come is reissued. With an IdempotencyKey, a
// repeat of a cancellation that committed answers the booking as it is
// now (Replayed, placed none); the key on another booking, or with another
// reason code or reason, is ErrIdempotencyReuse.
func (s *Service) DeskCancel(ctx context.Context, actor Actor, req DeskCancelRequest) (Booking, Placement, error) {
	if actor.Role != RoleClerk {
		return Booking{}, Placement{}, Errorf(ErrForbidden, "only registration clerks cancel at the desk")
	}
	code := req.ReasonCode
	if code == "" {
		code = DeskCancelOther
	}
	switch code {
	case DeskCancelRegistrationError, DeskCancelPatientRequest, DeskCancelOther:
	default:
		return Booking{}, Placement{}, FieldErrorf(ErrInvalidField, "reason_code", "reason_code is one of %s, %s, %s",
			DeskCancelRegistrationError, DeskCancelPatientRequest, DeskCancelOther)
	}
	if err := deskReason(req.Reason); err != nil {
		return Booking{}, Placement{}, err
	}
	b, err := s.Booking(ctx, actor, req.BookingID)
	if err != nil {
		return Booking{}, Placement{}, err
	}
	auditID := newID()
	if req.IdempotencyKey != "" {
		// The cancellation's audit entry has the key's id: written in the
		// transaction that cancels, it says whether this request did.
		auditID = s.idempotentID(actor.AccountID, "desk_cancel\x00"+req.IdempotencyKey)
		a, err := s.store.KeyedAudit(ctx, auditID)
		switch {
		case err == nil && a.Target == "booking:"+b.ID && deskCancelledFor(a.Reason, b.Channel, deskCancelReason(code, req.Reason)):
			b.Replayed = true
			return b, Placement{Outcome: PlacedNone}, nil
		case err == nil: // another booking, reason code or reason
			return Booking{}, Placement{}, ErrIdempotencyReuse
		case !errors.Is(err, ErrNotFound):
			return Booking{}, Placement{}, err
		}
	}
	if b.Status != StatusConfirmed {
		return Booking{}, Placement{}, ErrBookingNotActive
	}
	sess, ok := s.catalog.Load().Session(b.SessionID)
	now := s.cfg.Now()
	if !ok || !now.Before(sess.Closes()) {
		return Booking{}, Placement{}, Errorf(ErrSessionClosed, "the session is over")
	}
	if !now.Before(b.SlotStart) && code != DeskCancelRegistrationError {
		return Booking{}, Placement{}, Errorf(ErrSlotTimePassed, "the patient's slot time has passed: a patient who did not come is "+
			"reissued (a no-show); only a booking made in error (reason_code %s: a mistyped ID number, the wrong person) is cancelled now",
			DeskCancelRegistrationError)
	}
	if code == DeskCancelRegistrationError {
		if err := s.madeHereToday(b, actor, now); err != nil {
			return Booking{}, Placement{}, err
		}
	}
	late := s.deskLate(ctx, b, sess, now)
	reason := deskCancelReason(code, req.Reason)
	if late {
		// Past the deadline the desk's cancellation is the patient's late
		// one (review25 H2), unless the reason is the hospital's own.
		reason += deskLateNote(code)
		late = !HospitalsReason(code)
	}
	var pl Placement
	how := cancelHow{late: late, reason: "desk " + reason, deskReason: reason, auditID: auditID, onsite: !now.Before(sess.StartsAt), placed: &pl}
	got, err := s.cancel(ctx, actor, b, sess, ok, how, req.Origin)
	return got, pl, err
}

// HospitalsReason reports whether a desk cancellation's reason code is
// the hospital's own doing, which never counts against the patient, also
// past the cancel deadline (review25 H2): a registration error — the desk
// made the booking wrong, and it is cancelled only on a booking the desk
// made that day (madeHereToday). A stopped clinic, a death, a name the
// desk disproved or a lapsed substitute offer cancel through their own
// paths (StopSession, RecordDeath, voidDisproved, the reissue), never late;
// a patient's request and any other reason given at the window are the
// patient's: past the deadline they count as the patient's late
// cancellation, exactly as the patient's own cancellation would.
func HospitalsReason(code string) bool {
	return code == DeskCancelRegistrationError
}

// deskLateNote is what the audit entry of a desk cancellation past the
// deadline adds: counted against the patient, or waived for the hospital's
// reason.
func deskLateNote(code string) string {
	if HospitalsReason(code) {
		return "; late, waived: hospital's reason " + code
	}
	return "; late: counts as the patient's no-show"
}

// deskLate says whether a desk cancellation of b comes after the
// hospital's cancel deadline as the patient's own would (cancelBooking):
// not for a clinic the hospital moved, nor a slot held with a substitute
// doctor nobody answered (the hospital's offer).
func (s *Service) deskLate(ctx context.Context, b Booking, sess *Session, now time.Time) bool {
	h, ok := s.catalog.Load().Hospital(b.HospitalID)
	if !ok || !h.lateToCancel(b, now) || sess.MovedAfter(b) {
		return false
	}
	if off, err := s.store.Offer(ctx, b.ID); err == nil && off.StateAt(now) == OfferOpen {
		return false // as cancelBooking: no offer (or none read) is no offer
	}
	return true
}

// ErrNotDeskMade refuses a registration error's cancellation of a booking
// the desk did not make that day (review25 H2): the code wiped an online
// booking's missed visit after its slot.
var ErrNotDeskMade = newErr(KindRule, "registration_error_not_desk",
	"only a booking the registration desk made today is cancelled as a registration error; a patient's own booking is cancelled as the patient's (patient_request), or reissued once its slot has passed")

// MayCancelAsError says whether actor, a clerk, may cancel b now as a
// registration error — the one desk cancellation left once its slot's
// time has passed (madeHereToday): the consoles offer it by this rule.
func (s *Service) MayCancelAsError(b Booking, actor Actor) bool {
	return s.madeHereToday(b, actor, s.cfg.Now()) == nil
}

// madeHereToday refuses the registration error of a booking the desk did
// not make (an on-site booking by a clerk) on the hospital's day of now.
func (s *Service) madeHereToday(b Booking, actor Actor, now time.Time) error {
	loc := chinaStandardTime
	if h, ok := s.catalog.Load().Hospital(b.HospitalID); ok {
		loc = h.Location()
	}
	desk := b.Channel == ChannelOnsite && b.BookedBy != "" || b.BookedBy == actor.AccountID
	if desk && b.CreatedAt.In(loc).Format(time.DateOnly) == now.In(loc).Format(time.DateOnly) {
		return nil
	}
	return Errorf(ErrNotDeskMade, "this %s booking was not made at the desk today: a registration error is cancelled only on a booking the desk made, "+
		"the same day; the patient's own is cancelled as theirs (patient_request, late past the deadline), or reissued once its slot has passed", b.Channel)
}

// deskCancelReason is how a desk cancellation's code and reason read in
// its audit entry (cancelAuditReason).
func deskCancelReason(code, reason string) string {
	return fmt.Sprintf("(%s): %s", code, strings.TrimSpace(reason))
}

// deskCancelledFor reports whether an audit entry's reason is a desk
// cancellation's of a booking of channel ch with deskReason: the request
// an Idempotency-Key was first used for, whether or not it was late.
func deskCancelledFor(auditReason string, ch Channel, deskReason string) bool {
	for _, r := range []string{deskReason, deskReason + deskLateNote(""), deskReason + deskLateNote(DeskCancelRegistrationError)} {
		if auditReason == cancelAuditReason(ch, false, r) || auditReason == cancelAuditReason(ch, true, r) {
			return true
		}
	}
	return false
}

// deskReason checks a clerk's reason for a desk write (a reissue, a
// cancellation): at least 2 characters, at most 500, no control
// characters, no phone or ID number (auditText: it stays in the audit).
func deskReason(reason string) error {
	if err := requireText("reason", reason, 2, ""); err != nil {
		return err
	}
	return auditText("reason", reason, 500)
}

// ExtraSlotsRequest adds slots (加号) to a session that a doctor authorised.
type ExtraSlotsRequest struct {
	SessionID    string
	Count        int
	Reason       string
	AuthorisedBy string // the doctor who agreed to see more patients
	// IdempotencyKey, when set, makes a repeat return the first request's
	// slots and add none.
	IdempotencyKey string
	Origin         Origin
}

// AddExtraSlots adds slots to a session's on-site pool, after its last slot.
// Who may (review19b L4): a registration clerk on the visit day only, in
// the hospital's calendar — the doctor in front of them agrees to see more
// patients that day; an administrator on any day, the scheduler enlarging
// a session (released or not) ahead. Both within the policy's
// extra_slots_max, both audited.
func (s *Service) AddExtraSlots(ctx context.Context, actor Actor, req ExtraSlotsRequest) ([]Slot, error) {
	if actor.Role != RoleClerk && actor.Role != RoleAdmin {
		return nil, Errorf(ErrForbidden, "only registration clerks (on the visit day) and administrators add extra slots")
	}
	if req.Count < 1 || req.Count > 20 {
		return nil, Errorf(ErrInvalidField, "count must be 1 to 20")
	}
	if err := requireText("reason", req.Reason, 2, ""); err != nil {
		return nil, err
	}
	if err := requireText("authorised_by", req.AuthorisedBy, 2, ""); err != nil {
		return nil, err
	}
	if err := auditText("reason", req.Reason, 500); err != nil {
		return nil, err
	}
	if err := auditText("authorised_by", req.AuthorisedBy, 100); err != nil {
		return nil, err
	}
	sess, ok := s.catalog.Load().Session(req.SessionID) // a malformed id is simply not there
	if !ok {
		return nil, ErrSessionNotFound
	}
	if !actor.Covers(sess.HospitalID) {
		return nil, Errorf(ErrForbidden, "this session is another hospital's")
	}
	if undrawnLottery(sess) {
		// Where the slots go hangs on the draw, which another instance may
		// have run since this one's catalog was loaded (review22 M1): SQL's
		// state decides, not this instance's memory of it — the session's
		// pools' records, not the whole catalog (session 23).
		var err error
		if sess, err = s.withDrawsFromSQL(ctx, sess); err != nil {
			return nil, err
		}
	}
	if sess.Stopped() {
		return nil, ErrSessionStopped
	}
	now := s.cfg.Now()
	if !now.Before(sess.EndsAt) {
		return nil, Errorf(ErrSessionClosed, "the session has ended")
	}
	if actor.Role == RoleClerk {
		hosp, _ := s.catalog.Load().Hospital(sess.HospitalID)
		loc := chinaStandardTime
		if hosp != nil {
			loc = hosp.Location()
		}
		if today := now.In(loc).Format(time.DateOnly); sess.VisitDate != today {
			return nil, Errorf(ErrForbidden, "a clerk adds extra slots on the visit day only (this session is on %s, today is %s): an administrator enlarges a session ahead",
				sess.VisitDate, today)
		}
		// A clerk's day of 加号 (deskbounds.go, review25 H3); a replay of
		// a request that added its slots is no new request.
		replay := false
		if req.IdempotencyKey != "" {
			_, err := s.store.KeyedAudit(ctx, s.idempotentID(actor.AccountID, "extra\x00"+req.IdempotencyKey))
			if err != nil && !errors.Is(err, ErrNotFound) {
				return nil, err
			}
			replay = err == nil // AddSlots answers it: the first request's slots
		}
		if !replay {
			if err := s.clerkDay(ctx, actor, hosp, s.cfg.ClerkExtraSlotsPerDay, "extra slot requests", deskExtraActions...); err != nil {
				return nil, err
			}
		}
	}
	step := 10 * time.Minute
	if n := len(sess.Slots); n > 0 {
		step = sess.Slots[n-1].EndsAt.Sub(sess.Slots[n-1].StartsAt)
	}
	reason := fmt.Sprintf("%s; authorised by %s", req.Reason, req.AuthorisedBy)
	auditID := newID()
	if req.IdempotencyKey != "" {
		auditID = s.idempotentID(actor.AccountID, "extra\x00"+req.IdempotencyKey)
	}
	// The policy's bound counts every request's slots: SQL checks it in the
	// transaction that adds them, so two clerks at once cannot pass it.
	h, ok := s.catalog.Load().Hospital(sess.HospitalID)
	if !ok {
		return nil, ErrHospitalNotFound
	}
	p, _ := h.PolicyAt(now)
	ch, err := extraSlotsPool(sess, now)
	if err != nil {
		return nil, err
	}
	added, err := s.store.AddSlots(ctx, sess.ID, ch, req.Count, p.ExtraSlotsLimit(), sess.EndsAt, sess.EndsAt.Add(step), now,
		AuditEntry{ID: auditID, TS: now, ActorID: actor.AccountID, ActorRole: actor.Role, Action: "extra_slots",
			Target: "session:" + sess.ID, Reason: fmt.Sprintf("%d slots: %s", req.Count, reason), HospitalID: sess.HospitalID})
	if err != nil {
		return nil, err
	}
	ev := req.Origin.stamp(Event{ID: newID(), TS: now, Type: EventReissued, SessionID: sess.ID, HospitalID: sess.HospitalID,
		DepartmentID: sess.DepartmentID, DoctorID: sess.DoctorID, Channel: ch, StaffID: actor.AccountID,
		Reason: fmt.Sprintf("extra_slots:%d; %s", req.Count, reason)})
	if err := s.store.RecordEvent(ctx, ev); err != nil {
		s.log.Warn("record extra slots event", "session_id", sess.ID, "err", err)
	}
	if err := s.reload(ctx, sess.ID); err != nil {
		return added, err
	}
	// The reload read SQL after the slots committed: a draw finished
	// meanwhile, by any instance, is in it.
	if cur, ok := s.catalog.Load().Session(sess.ID); ok && ch == ChannelOnsite && drawnLottery(cur) {
		s.extraToWaitlist(ctx, cur, len(added))
	}
	return added, nil
}

// extraSlotsPool is the pool a session's extra slots join at now: the
// on-site pool, for the desk, unless a lottery pool of the session is still
// to be drawn — then that pool (the first such, by channel), so that the
// slots are drawn among its entrants, every one's chance grown alike,
// instead of going first-come to whoever the desk or the phone serves while
// the entrants wait (review20 L1, before the draw; after it they serve the
// waitlist first, extraToWaitlist). The draw counts the pool's free slots
// when it ranks, so the slots must be in Redis before then: within
// PoolEditMargin of the draw time, or once the draw has begun, the slots
// are refused (lottery_release) until it is drawn.
func extraSlotsPool(sess *Session, now time.Time) (Channel, error) {
	for _, q := range sess.Channels {
		if !q.IsLottery() || q.Quota == 0 || q.Draw != nil && q.Draw.Status == DrawDrawn {
			continue
		}
		if !now.Add(PoolEditMargin).Before(q.DrawAt) || q.Draw != nil && q.Draw.Status != DrawOpen {
			return "", Errorf(ErrLotteryOnly, "the %s pool's draw is due (%s): add the extra slots once it is drawn — they then go to its waitlist first, the losers in drawn order",
				q.Channel, q.DrawAt.Format(time.RFC3339))
		}
		return q.Channel, nil
	}
	return ChannelOnsite, nil
}

// withDrawsFromSQL is a copy of sess whose lottery pools carry their draw
// records and windows as SQL has them now (LotteryPools: one read of the
// session's pools), for a decision that hangs on a draw another instance
// may have run or a window it may have moved since this one's catalog.
func (s *Service) withDrawsFromSQL(ctx context.Context, sess *Session) (*Session, error) {
	pools, err := s.store.LotteryPools(ctx, []string{sess.ID})
	if err != nil {
		return nil, err
	}
	cp := *sess
	cp.Channels = slices.Clone(sess.Channels)
	for i, q := range cp.Channels {
		if !q.IsLottery() {
			continue
		}
		for _, p := range pools {
			if p.Channel == q.Channel {
				rec := p.DrawRecord
				cp.Channels[i].Draw, cp.Channels[i].OpensAt, cp.Channels[i].DrawAt = &rec, p.OpensAt, p.DrawAt
			}
		}
	}
	return &cp, nil
}

// undrawnLottery reports whether a session has a lottery pool not drawn
// yet.
func undrawnLottery(sess *Session) bool {
	for _, q := range sess.Channels {
		if q.IsLottery() && q.Quota > 0 && (q.Draw == nil || q.Draw.Status != DrawDrawn) {
			return true
		}
	}
	return false
}

// drawnLottery reports whether a session has a drawn lottery pool: its
// losers who asked wait on its waitlist in drawn order.
func drawnLottery(sess *Session) bool {
	for _, q := range sess.Channels {
		if q.IsLottery() && q.Draw != nil && q.Draw.Status == DrawDrawn {
			return true
		}
	}
	return false
}

// extraToWaitlist hands a drawn lottery session's n extra slots to its
// waitlist first, as a reissued slot goes (review20 L1): the losers wait in
// the order the draw gave them, and a 加号 given first-come at the desk or
// the phone would pass them by. The newest n free on-site slots (the extra
// ones, just added) leave the pool for the delayed set and are placed at
// once: the head of the line, else back to the on-site pool (handOutMoved,
// as a slot moved to the on-site pool). It logs rather than fails: the
// slots are added, and one not handed out here is placed by the sweeper,
// the waitlist first.
func (s *Service) extraToWaitlist(ctx context.Context, sess *Session, n int) {
	bg, done := s.followUp(ctx)
	defer done()
	moved, _, err := s.adm.MoveFree(bg, sess, ChannelOnsite, ChannelOnsite, n, s.cfg.Now(), nil, nil)
	if err != nil {
		s.log.Warn("offer extra slots to the lottery's waitlist; they stay in the on-site pool", "session_id", sess.ID, "err", err)
		return
	}
	s.handOutMoved(bg, sess.ID, moved, ChannelOnsite)
}

// reload refreshes the catalog and rebuilds one session in Redis from SQL,
// after its slots changed.
func (s *Service) reload(ctx context.Context, sessionID string) error {
	if _, err := s.Refresh(ctx); err != nil {
		return err
	}
	cat := s.catalog.Load()
	sess, ok := cat.Session(sessionID)
	if !ok {
		return ErrSessionNotFound
	}
	return s.reconcile(ctx, cat, []*Session{sess})
}

// MovePoolRequest moves unsold slots of a session from one channel pool to
// another (an admin, e.g. phone slots nobody booked, to on-site).
type MovePoolRequest struct {
	SessionID string
	From, To  Channel
	Count     int
	Reason    string
}

// MovePool moves up to Count free slots; it returns the slots moved. Redis
// moves them first (only free slots can move); SQL follows, and if SQL
// refuses, Redis moves them back.
func (s *Service) MovePool(ctx context.Context, actor Actor, req MovePoolRequest) ([]int, error) {
	if actor.Role != RoleAdmin {
		return nil, Errorf(ErrForbidden, "only administrators move channel pools")
	}
	if req.From == req.To || req.Count < 1 {
		return nil, Errorf(ErrInvalidField, "move at least one slot between two different channels")
	}
	if err := requireText("reason", req.Reason, 2, ""); err != nil {
		return nil, err
	}
	if err := auditText("reason", req.Reason, 500); err != nil {
		return nil, err
	}
	sess, ok := s.catalog.Load().Session(req.SessionID) // a malformed id is simply not there
	if !ok {
		return nil, ErrSessionNotFound
	}
	if !actor.Covers(sess.HospitalID) {
		return nil, Errorf(ErrForbidden, "this session is another hospital's")
	}
	if sess.Stopped() {
		return nil, ErrSessionStopped
	}
	if req.Count > len(sess.Slots) {
		return nil, Errorf(ErrInvalidField, "count must be at most the session's %d slots", len(sess.Slots))
	}
	now := s.cfg.Now()
	if q, ok := sess.Channel(req.From); ok && s.promisedToDraw(q, now) {
		return nil, Errorf(ErrLotteryOnly, "the %s pool's slots are promised to its lottery draw (%s): move what the draw leaves once it is drawn",
			req.From, q.DrawAt.Format(time.RFC3339))
	}
	releaseAt := now
	if q, ok := sess.Channel(req.To); ok {
		releaseAt = q.ReleaseAt
	}
	moved, held, err := s.adm.MoveFree(ctx, sess, req.From, req.To, req.Count, releaseAt, nil, s.returnDelay)
	if err != nil {
		return nil, err
	}
	if len(moved) == 0 {
		if held > 0 {
			hw, herr := s.adm.HeldForWaitlist(ctx, []*Session{sess})
			until := ""
			if h, ok := s.catalog.Load().Hospital(sess.HospitalID); ok && herr == nil && !hw[0].Until.IsZero() {
				until = " until " + hw[0].Until.In(h.Location()).Format("15:04")
			}
			return nil, Errorf(ErrInvalidField, "the %s pool has no free slot: its %d unsold slots are held for the waitlist's round%s, "+
				"to go to those who joined it; what nobody takes comes back to the pool after a random delay, and can be moved then",
				req.From, held, until)
		}
		return nil, Errorf(ErrInvalidField, "the %s pool has no free slot", req.From)
	}
	err = s.store.MoveSlots(ctx, sess.ID, moved, req.From, req.To, releaseAt, AuditEntry{ID: newID(), TS: now,
		ActorID: actor.AccountID, ActorRole: actor.Role, Action: "move_pool", Target: "session:" + sess.ID, HospitalID: sess.HospitalID,
		Reason: fmt.Sprintf("%d slots %s→%s: %s", len(moved), req.From, req.To, req.Reason)})
	if err != nil {
		bctx, done := s.followUp(ctx)
		defer done()
		back, _, berr := s.adm.MoveFree(bctx, sess, req.To, req.From, 0, releaseAt, moved, nil)
		if berr != nil || len(back) < len(moved) {
			// Visible and repaired: counted (fairslot_pool_move_put_backs_failed_total),
			// and the session reconciled from SQL, which puts every slot in
			// the pool SQL has it in and takes it out of the delayed set
			// where it waited as the other pool's (load.lua); retried until
			// it succeeds (retryDirty).
			s.stats.putBacksFailed.Add(1)
			s.log.Warn("move slots back after SQL refused; the session will be reconciled", "session_id", sess.ID,
				"slots", len(moved), "put_back", len(back), "err", berr)
			s.reconcileLater(sess.ID)
		}
		return nil, err
	}
	rerr := s.reload(ctx, sess.ID)
	s.handOutMoved(ctx, sess.ID, moved, req.To)
	return moved, rerr
}

// handOutMoved hands out the slots a pool move took (each waiting out its
// random delay, free in no pool: MoveFree) as returned slots are
// (PRODUCT.md: a slot that comes back never reappears at a predictable
// moment): to the session's waitlist in its order, else held for the
// waitlist's round, else after the random delay. Slots moved to the
// on-site pool go as the desk's reissue does: the waitlist first, else the
// on-site pool at once: the desk books walk-ins in person, no bot polls
// it, and a clerk who asked for the slots is waiting for them. It logs
// rather than fails: the move is committed, and a slot not handed out here
// is placed by the sweeper when its delay is over, the waitlist first.
func (s *Service) handOutMoved(ctx context.Context, sessionID string, slots []int, to Channel) {
	ctx, done := s.followUp(ctx)
	defer done()
	sess, ok := s.catalog.Load().Session(sessionID)
	if !ok {
		return
	}
	when := PlaceReturned
	if to == ChannelOnsite {
		when = PlaceNow
	}
	for _, n := range slots {
		pl, err := s.adm.Place(ctx, DelayedSlot{HospitalID: sess.HospitalID, SessionID: sess.ID, SlotNo: n, Channel: to},
			s.placing(sess), to, when)
		s.settle(ctx, sess, n, to, pl) // on an error, those passed by have left the line
		if err != nil {
			s.log.Warn("hand out a moved slot; the sweeper places it after its delay", "session_id", sess.ID, "err", err)
		}
	}
}

// promisedToDraw reports whether a pool's free slots belong to its lottery
// draw at now: from the seed's commitment (or SeedLead before the window,
// should this instance's catalog not show the seed yet) until the pool is
// drawn. Moving them out then, with the entries in view, would take slots
// from the draw into a first-come pool (review11).
func (s *Service) promisedToDraw(q ChannelQuota, now time.Time) bool {
	if !q.IsLottery() || (q.Draw != nil && q.Draw.Status == DrawDrawn) {
		return false
	}
	return q.Draw != nil || !now.Before(q.OpensAt.Add(-s.cfg.SeedLead))
}

// MarkNoShows marks the bookings of ended sessions that nobody checked in
// as no-shows and bars identities that crossed a threshold. Safe to run twice
// and on several instances at once.
func (s *Service) MarkNoShows(ctx context.Context) (int, []Bar, error) {
	now := s.cfg.Now()
	n, bars, err := s.store.MarkNoShows(ctx, now, func(hospitalID string) NoShowRules { return s.noShowRules(hospitalID, now) })
	if err != nil {
		return 0, nil, err
	}
	s.applyBars(ctx, bars)
	if n > 0 {
		// A no-show's slot is still held in Redis for a booking SQL no longer
		// counts as active: rebuild the ended sessions so Redis agrees.
		cat := s.catalog.Load()
		var ended []*Session
		for _, h := range cat.Hospitals() {
			for _, ss := range cat.HospitalSessions(h.ID) {
				if !now.Before(ss.Closes()) {
					ended = append(ended, ss)
				}
			}
		}
		if len(ended) > 0 {
			if err := s.reconcile(ctx, cat, ended); err != nil {
				s.log.Warn("release the holds of no-shows; reconciliation will", "err", err)
			}
		}
	}
	return n, bars, nil
}

// auditOncePerCall records a caller lookup's audit entry (record writes a)
// once per call of the phone console (call, its mark; empty: every time):
// the entry's id is derived from the operator, the call and what the entry
// says, so the pages of one call, which each look the caller up again to
// show their bookings, write one entry, and a lookup that finds something
// else (the person booked since, another name) writes its own (review23
// L2: every page view wrote another row, and a misheard name was counted a
// mismatch once per page). A page racing another of the same call may
// meet the entry the other wrote: that is the one entry, not an error.
func (s *Service) auditOncePerCall(ctx context.Context, actor Actor, call string, a *AuditEntry, record func() error) error {
	if call == "" {
		return record()
	}
	a.ID = NameID("caller-lookup", actor.AccountID, call, a.Action, a.Target, a.Reason)
	_, err := s.store.KeyedAudit(ctx, a.ID)
	switch {
	case err == nil:
		return nil // this call's lookup is on the record
	case !errors.Is(err, ErrNotFound):
		return err
	}
	if err := record(); err != nil {
		if _, again := s.store.KeyedAudit(ctx, a.ID); again == nil {
			return nil
		}
		return err
	}
	return nil
}
