package booking

import (
	"cmp"
	"context"
	"errors"

	"fairslot/internal/identity"
)

// AddPatientRequest is an identity to add to the caller's account.
type AddPatientRequest struct {
	IDType   string
	IDNumber string
	Name     string
	Phone    string // optional contact phone
	IsSelf   bool   // this identity is the account holder
	// Relationship to the account holder: self, spouse, child, parent or
	// other; empty means self when IsSelf, else other. Self implies IsSelf.
	Relationship string
	// IdempotencyKey, when set, makes a repeat return the first patient.
	IdempotencyKey string
	// Consent is the holder's consent to the privacy notice for this
	// person (review21 H3): for a child under 14, given as the child's
	// parent or guardian.
	Consent ConsentRequest
}

// AddPatient validates a real-name identity and adds it to the actor's
// account, subject to the account rules, under the name the account gives
// (its claim). Another account's claim never stands in the way: the first
// account to type an ID number does not decide whose it is. The identity
// verifier (a real-name provider) may refuse the name, or confirm it, which
// makes it the identity's verified name; where the identity's name is
// already verified, only that name is accepted.
func (s *Service) AddPatient(ctx context.Context, actor Actor, req AddPatientRequest, o Origin) (Patient, error) {
	if actor.Role != RolePatient {
		return Patient{}, Errorf(ErrForbidden, "only patient accounts keep a list of patients")
	}
	if err := checkConsent(req.Consent); err != nil {
		return Patient{}, err
	}
	rel, isSelf, err := relationshipOf(req.Relationship, req.IsSelf)
	if err != nil {
		return Patient{}, err
	}
	if err := s.claimsAllowed(ctx, actor, o); err != nil {
		s.noteClaimRefusal(actor, o, "", err)
		return Patient{}, err
	}
	p, idHash, err := s.addPatient(ctx, actor, req, rel, isSelf, o)
	s.claimRefused(ctx, actor, o, idHash, err)
	return p, err
}

// addPatient is AddPatient past the checks of the caller; it returns the
// ID number's keyed hash once the number is read (for claimRefused).
func (s *Service) addPatient(ctx context.Context, actor Actor, req AddPatientRequest, rel Relationship, isSelf bool, o Origin) (Patient, []byte, error) {
	who, err := s.resolve(IdentityRequest{IDType: req.IDType, IDNumber: req.IDNumber, Name: req.Name})
	if err != nil {
		return Patient{}, nil, err
	}
	p, err := s.addResolved(ctx, actor, req, who, rel, isSelf, o)
	return p, who.Identity.IDHash, err
}

// addResolved is addPatient once the identity is read.
func (s *Service) addResolved(ctx context.Context, actor Actor, req AddPatientRequest, who person, rel Relationship, isSelf bool, o Origin) (Patient, error) {
	if isSelf && who.doc.Type == identity.BirthCertificate {
		return Patient{}, Errorf(ErrInvalidField, "a birth certificate is a newborn's: add the child as a family member of a parent's account")
	}
	if err := selfOfAge(who.doc, isSelf, s.cfg.Now()); err != nil {
		return Patient{}, err
	}
	by, err := s.consentFor(req.Consent, who.doc, s.cfg.Now())
	if err != nil {
		return Patient{}, err
	}
	if err := s.verify(ctx, actor, &who); err != nil {
		return Patient{}, err
	}
	np := NewPatient{ID: newID(), AccountID: actor.AccountID, IsSelf: isSelf, Identity: who.Identity,
		Relationship: rel, BirthYear: who.doc.BirthYear(),
		Consent: &Consent{ID: newID(), AccountID: actor.AccountID, NoticeVersion: req.Consent.Version, By: by, Channel: ConsentOnline}}
	if by == ConsentByGuardian {
		// From the 14th birthday the child consents for themselves
		// (ownConsent); a birth certificate carries no date, and its
		// child is asked when listed under a resident ID.
		np.ConsentDue, _ = who.doc.AgeReached(identity.ChildAge)
	}
	if req.Phone != "" {
		p, err := identity.NormalizePhone(req.Phone)
		if err != nil {
			return Patient{}, ErrInvalidPhone
		}
		np.PhoneHash, np.PhoneSealed, np.PhoneMasked = s.keys.Hash("phone", p), s.keys.Seal("phone", p), identity.MaskPhone(p)
	}
	ev := o.stamp(Event{ID: newID(), TS: s.cfg.Now(), Type: EventPatientAdded, AccountID: actor.AccountID, PatientID: np.ID})
	np.Consent.At = ev.TS
	// The identity row may already exist (another account's family member):
	// the store fills in the id it ends up using.
	if np.PhoneHash != nil {
		ev.Phone = s.phoneRef(np.PhoneHash)
	}
	if req.IdempotencyKey != "" {
		np.ID = s.idempotentID(actor.AccountID, "patient\x00"+req.IdempotencyKey)
		ev.PatientID = np.ID
	}
	limits, err := s.accountLimits(ctx, ev.TS)
	if err != nil {
		return Patient{}, err
	}
	p, err := s.store.AddPatient(ctx, np, limits, ev)
	if err != nil && req.IdempotencyKey != "" && (errors.Is(err, ErrPatientExists) || errors.Is(err, ErrIdempotencyReuse)) {
		if prev, perr := s.store.Patient(ctx, np.ID); perr == nil && prev.AccountID == actor.AccountID {
			if prev.IdentityKey != IdentityKey(np.Identity.IDHash) {
				return Patient{}, ErrIdempotencyReuse
			}
			return prev, nil // the first answer
		}
	}
	if err != nil {
		return Patient{}, err
	}
	s.patients.put(p)
	if p.Namesake {
		// Its namesake, cached before, is a namesake now too (one person
		// at a draw): read the account's members again. Rare.
		if _, err := s.Patients(ctx, actor); err != nil {
			s.log.Warn("read the account's members again after a namesake was added", "err", err)
		}
	}
	return p, nil
}

// publicDetail is the part of a validation error that is safe to show: the
// identity package's details name the rule broken, never the value.
func publicDetail(err error) string { return err.Error() }

// Patients lists the actor's patients.
func (s *Service) Patients(ctx context.Context, actor Actor) ([]Patient, error) {
	ps, err := s.store.Patients(ctx, actor.AccountID)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		s.patients.put(p)
	}
	return ps, nil
}

// patientOf returns a patient of the actor's account. Patients never change
// owner or identity, so a cached copy is always right; a miss costs one point
// read in SQL, and Login warms the cache so the release-hour stampede does not
// reach SQL for patients.
func (s *Service) patientOf(ctx context.Context, actor Actor, id string) (Patient, error) {
	if !isUUID(id) {
		return Patient{}, ErrPatientNotFound
	}
	p, ok := s.patients.get(id)
	if !ok {
		var err error
		p, err = s.store.Patient(ctx, id)
		if errors.Is(err, ErrNotFound) {
			return Patient{}, ErrPatientNotFound
		}
		if err != nil {
			return Patient{}, err
		}
		s.patients.put(p)
	}
	if p.AccountID != actor.AccountID {
		return Patient{}, ErrPatientNotFound // do not reveal other accounts' patients
	}
	if p.Removed {
		return Patient{}, ErrPatientRemoved
	}
	return p, nil
}

// RemovePatient takes a family member (就诊人) off the actor's list: a soft
// delete that frees the member's place (the row stays for the bookings and
// the audit that name it; the identity may be added again later, by this
// account, which gets the same row back, or by another as the binding rules
// allow). A member with a confirmed booking, a live lottery entry or a
// waiting waitlist place is refused (ErrPatientPending: cancel first), as
// hospital apps refuse it; the holder's own entry (本人) is never removed.
// Audited. A booking racing the removal is refused by SQL at its commit
// (ErrPatientRemoved), whichever instance's patient cache admitted it.
func (s *Service) RemovePatient(ctx context.Context, actor Actor, patientID string) error {
	p, err := s.ownPatient(ctx, actor, patientID)
	if err != nil {
		return err
	}
	if p.IsSelf {
		return ErrPatientIsSelf
	}
	now := s.cfg.Now()
	a := AuditEntry{ID: newID(), TS: now, ActorID: actor.AccountID, ActorRole: actor.Role, Action: "patient_removed",
		Target: "patient:" + p.ID, Reason: "removed by the account holder (" + p.Relationship.Label() + ")"}
	if err := s.store.RemovePatient(ctx, actor.AccountID, p.ID, now, a); err != nil {
		return err
	}
	p.Removed = true
	s.patients.put(p)
	return nil
}

// EditPatient changes what a real-name system lets an account holder
// change of a member: the relationship (not to or from 本人, which is the
// holder's verified self). The name and ID number are verified facts: a
// wrong one is removed and added again. Audited.
func (s *Service) EditPatient(ctx context.Context, actor Actor, patientID, relationship string) (Patient, error) {
	return s.ChangePatient(ctx, actor, patientID, PatientChange{Relationship: &relationship})
}

// PatientChange is an account holder's change of a member (PATCH
// /v1/patients/{id}): a nil field stays as it is.
type PatientChange struct {
	Relationship *string
	Phone        *string
	// Password, re-entered, is asked for a change of Phone (review19c L6):
	// a member's number has a say on the phone over the bookings the
	// account made for them, and a borrowed session must not give it to
	// its borrower. Judged as a login's (reentered), with DeviceToken and
	// Origin as ChangePhone's.
	Password, DeviceToken string
	Origin                Origin
}

// ChangePatient applies every field of c or none (EditPatient's
// relationship, a member's contact number, the password re-entered): each is checked before anything
// is written, and the store writes them, with an audit entry each, in one
// transaction — a relationship beside a number refused is not applied
// either.
func (s *Service) ChangePatient(ctx context.Context, actor Actor, patientID string, c PatientChange) (Patient, error) {
	p, err := s.ownPatient(ctx, actor, patientID)
	if err != nil {
		return Patient{}, err
	}
	now := s.cfg.Now()
	var e PatientEdit
	var audits []AuditEntry
	if c.Relationship != nil {
		rel := Relationship(*c.Relationship)
		switch {
		case relationshipLabels[rel] == "":
			return Patient{}, Errorf(ErrInvalidField, "relationship is one of spouse, child, parent, other")
		case p.IsSelf:
			return Patient{}, ErrPatientIsSelf
		case rel == RelSelf:
			return Patient{}, Errorf(ErrPatientIsSelf, "a family member cannot become the account holder's own entry (本人): the holder adds themselves as self")
		}
		if rel != p.Relationship {
			e.Relationship = rel
			audits = append(audits, AuditEntry{ID: newID(), TS: now, ActorID: actor.AccountID, ActorRole: actor.Role, Action: "patient_edited",
				Target: "patient:" + p.ID, Reason: "relationship " + string(p.Relationship) + " -> " + string(rel)})
		}
	}
	if c.Phone != nil {
		if c.Password == "" {
			return Patient{}, FieldErrorf(ErrInvalidField, "password", "re-enter the account's password to change a member's contact number: it has a say on the phone over their bookings")
		}
		if _, err := s.reentered(ctx, actor, c.Password, c.DeviceToken, c.Origin); err != nil {
			return Patient{}, err
		}
		var to AccountPhone
		if *c.Phone != "" {
			n, err := identity.NormalizePhone(*c.Phone)
			if err != nil {
				return Patient{}, FieldErrorf(ErrInvalidPhone, "phone", "the number is not a valid mainland mobile number")
			}
			to = AccountPhone{Hash: s.keys.Hash("phone", n), Sealed: s.keys.Seal("phone", n), Masked: identity.MaskPhone(n)}
		}
		e.Phone = &to
		from, into := cmp.Or(p.PhoneMasked, "none"), cmp.Or(to.Masked, "none")
		audits = append(audits, AuditEntry{ID: newID(), TS: now, ActorID: actor.AccountID, ActorRole: actor.Role, Action: "patient_phone_changed",
			Target: "patient:" + p.ID, Reason: "phone " + from + " -> " + into})
	}
	if len(audits) == 0 {
		return p, nil
	}
	limits, err := s.accountLimits(ctx, now)
	if err != nil {
		return Patient{}, err
	}
	np, err := s.store.UpdatePatient(ctx, actor.AccountID, p.ID, e, limits, audits)
	if err != nil {
		return Patient{}, err
	}
	s.patients.put(np)
	return np, nil
}

// ownPatient is a patient of the actor's account still on its list, read
// from SQL (not the cache): what a change is checked against.
func (s *Service) ownPatient(ctx context.Context, actor Actor, id string) (Patient, error) {
	if actor.Role != RolePatient {
		return Patient{}, Errorf(ErrForbidden, "only patient accounts keep a list of patients")
	}
	if !isUUID(id) {
		return Patient{}, ErrPatientNotFound
	}
	p, err := s.store.Patient(ctx, id)
	if errors.Is(err, ErrNotFound) || err == nil && (p.AccountID != actor.AccountID || p.Removed) {
		return Patient{}, ErrPatientNotFound
	}
	return p, err
}

// forgetRemoved marks removed a patient this instance still had cached as
// on its list, once SQL refused a booking for it: another instance removed
// it, and the next attempt is refused before admission.
func (s *Service) forgetRemoved(patientID string) {
	if p, ok := s.patients.get(patientID); ok && !p.Removed {
		p.Removed = true
		s.patients.put(p)
	}
}

// renamed reads a patient again from SQL after a refusal of its name
// (identity_unverified) and reports whether SQL holds another name than
// the one the attempt used (p's, from the cache): a clerk's correction of
// the person's verified name, carried to the account the desk bound as
// their self (Store.VerifyName), reaches no instance's patient cache. The
// fresh patient replaces the cached one.
func (s *Service) renamed(ctx context.Context, p Patient) bool {
	if p.ID == "" {
		return false
	}
	fresh, err := s.store.Patient(ctx, p.ID)
	if err != nil || fresh.AccountID != p.AccountID || fresh.NameHash == p.NameHash {
		return false
	}
	s.patients.put(fresh)
	return true
}

func (s *Service) warmPatients(ctx context.Context, accountID string) {
	ps, err := s.store.Patients(ctx, accountID)
	if err != nil {
		s.log.Warn("warm patient cache", "err", err)
		return
	}
	for _, p := range ps {
		s.patients.put(p)
	}
}
