package booking

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"fairslot/internal/identity"
)

// A recycled number (运营商回收号码) whose previous holder never moved the
// account to a new one: the number's new holder cannot register with it
// (phone_taken), and the account's holder is not there to change it. The
// registration desk releases it (docs/security.md, "A number is not a
// person"): the clerk checks the new holder's ID card and sees the
// carrier's document that the number is theirs now (recorded only as
// seen), and the account loses its login number — it keeps its members,
// bookings and records, its logins end, and the members it listed with the
// number lose it (a recycled number keeps no say in their bookings). Its
// holder gets a login number back only at a desk, with their own card
// (RestorePhone): fairslot sends no SMS, the card is the one proof. The
// account is told in its notifications, which its holder reads at the
// next login; no other channel remains (the number is someone else's).

// releaseUnusedFor: an account used more recently than this (created, a
// login, a booking or any other event, a token change) keeps its number —
// a carrier recycles a number only after months without use, so its holder
// still has it (number_in_use). releasesPerClerkDay bounds one clerk's
// releases in any 24 hours (releases_limited): a clerk who releases more is
// an insider or a clerk being used, and the audit names them.
const (
	releaseUnusedFor    = 90 * 24 * time.Hour
	releasesPerClerkDay = 5
)

// ReleasedPhoneMasked is the masked login number of an account whose
// number was released: what its pages and the staff's show instead of a
// number. Its hash is random, so no number finds it.
const ReleasedPhoneMasked = "released"

// ReleasePhoneRequest is a clerk's release of a recycled number: the new
// holder's card, the number, and that the carrier's document was seen.
type ReleasePhoneRequest struct {
	IdentityRequest
	Phone string
	// CarrierProofSeen: the clerk saw the carrier's document that the
	// number is the card's person's now (a contract, the carrier's app).
	// Only that it was seen is recorded.
	CarrierProofSeen bool
}

// ReleasedPhone is what the clerk is told: the number, masked.
type ReleasedPhone struct{ PhoneMasked string }

// ReleasePhone takes a recycled number off the patient account that logs
// in with it, for its new holder at the desk (see above). Refused: not a
// clerk; no carrier's document seen (invalid_field); a bad card or number;
// no patient account logs in with it (patient_not_found); the card is the
// account's own holder (release_own_number); the account is blocked
// (account_blocked); the account was used in the last 90 days
// (number_in_use); the clerk released 5 in the last 24 hours
// (releases_limited). One transaction: the login
// number becomes a placeholder (ReleasedPhoneMasked), every token of the
// account ends, its members listed with the number lose it, the audit
// entry (account_phone_released, masked values only) and the account's
// notification.
func (s *Service) ReleasePhone(ctx context.Context, actor Actor, req ReleasePhoneRequest) (ReleasedPhone, error) {
	if actor.Role != RoleClerk {
		return ReleasedPhone{}, Errorf(ErrForbidden, "only registration clerks release a number, with the new holder's ID card in hand")
	}
	if !req.CarrierProofSeen {
		return ReleasedPhone{}, FieldErrorf(ErrInvalidField, "carrier_proof_seen", "see the carrier's document that the number is the card's person's now, and say so")
	}
	card, err := s.resolve(req.IdentityRequest)
	if err != nil {
		return ReleasedPhone{}, err
	}
	fact, err := s.cardOf(ctx, actor, req.IdentityRequest)
	if err != nil {
		return ReleasedPhone{}, err
	}
	p, err := identity.NormalizePhone(req.Phone)
	if err != nil {
		return ReleasedPhone{}, FieldErrorf(ErrInvalidPhone, "phone", "the number is not a valid mainland mobile number")
	}
	a, err := s.store.AccountByPhone(ctx, s.keys.Hash("phone", p))
	if errors.Is(err, ErrNotFound) || err == nil && a.Role != RolePatient {
		return ReleasedPhone{}, FieldErrorf(ErrPatientNotFound, "phone", "no patient account logs in with that number: it is free to register")
	}
	if err != nil {
		return ReleasedPhone{}, err
	}
	if a.Blocked {
		// Released, the number would be free for a new, unblocked account
		// of the same person: kept, as a closing keeps it (review19c M2).
		return ReleasedPhone{}, Errorf(ErrAccountBlocked, "the account that logs in with that number is blocked: its number is not released while the block stands")
	}
	used, err := s.store.AccountLastUsed(ctx, a.ID)
	if err != nil {
		return ReleasedPhone{}, err
	}
	if now := s.cfg.Now(); now.Sub(used) < releaseUnusedFor {
		// A carrier recycles a number only after months without use: an
		// account used lately means its holder still has the number
		// (review19c M1).
		return ReleasedPhone{}, ErrNumberInUse
	}
	switch _, err := s.cardHolds(ctx, card, a); {
	case err == nil:
		return ReleasedPhone{}, ErrReleaseOwnNumber
	case !errors.Is(err, ErrNotAccountHolder) && !errors.Is(err, ErrResetNeedsHolder):
		return ReleasedPhone{}, err
	}
	now := s.cfg.Now()
	done, err := s.store.StaffActionsSince(ctx, actor.AccountID, now.Add(-24*time.Hour), "account_phone_released")
	if err != nil {
		return ReleasedPhone{}, err
	}
	if done >= releasesPerClerkDay {
		return ReleasedPhone{}, ErrReleasesLimited
	}
	masked := identity.MaskPhone(p)
	var nonce [16]byte
	_, _ = rand.Read(nonce[:])
	placeholder := AccountPhone{Hash: s.keys.Hash("phone_released", a.ID+"\x00"+hex.EncodeToString(nonce[:])), Sealed: []byte{}, Masked: ReleasedPhoneMasked}
	audit := AuditEntry{ID: newID(), TS: now, ActorID: actor.AccountID, ActorRole: actor.Role, Action: "account_phone_released",
		Target: "account:" + a.ID, HospitalID: actor.HospitalID,
		Reason: "login number " + masked + " released to its new holder: " + card.IDType + " " + card.NumberMasked +
			" (" + fact.String() + "), the carrier's document seen; the account keeps its records and gets a number back at a desk with its holder's card"}
	note := Notification{ID: newID(), Kind: "account_phone_released", HospitalID: actor.HospitalID, AccountID: a.ID, CreatedAt: now,
		Body: "您的登录手机号 " + masked + " 已释放：运营商已回收该号码并交给新机主，新机主在挂号窗口出示了证件和运营商证明。您的就诊人、预约和记录都保留；请本人携带身份证到任一挂号窗口登记新的手机号，之后用新号码和原密码登录。 " +
			"Your login number " + masked + " was recycled by the carrier and released at the registration desk for its new holder, who showed their ID card and the carrier's document. Your family members, bookings and records are kept: bring your ID card to a registration desk to register a new number, then log in with it and your password."}
	gen, err := s.store.ReleaseAccountPhone(ctx, a.ID, a.PhoneHash, placeholder, now, audit, note)
	if errors.Is(err, ErrNotFound) {
		// Released, or moved to another number, since it was read.
		return ReleasedPhone{}, FieldErrorf(ErrPatientNotFound, "phone", "no patient account logs in with that number any more")
	}
	if err != nil {
		return ReleasedPhone{}, err
	}
	s.noteRevocation(Revocation{AccountID: a.ID, Generation: gen, At: now})
	return ReleasedPhone{PhoneMasked: masked}, nil
}

// RestorePhoneRequest is a released account's holder at the desk: their
// card and the new number.
type RestorePhoneRequest struct {
	IdentityRequest
	Phone string
}

// RestorePhone gives the account whose number was released (ReleasePhone)
// a new login number, for its holder at the desk with their ID card: the
// account is the card's person's own (本人), checked as for a reset code
// (cardHolds). Refused: not a clerk; a bad card or number; no account
// holds the card's person as its self, or the card is not its holder's
// (not_account_holder alike: review19c L2); that account
// still has a number (account_not_released); the new number is another
// account's login (phone_taken) or on too many accounts (phone_limit).
// Audited (account_phone_restored); the holder logs in with the new number
// and the password, or has it reset at the same desk.
func (s *Service) RestorePhone(ctx context.Context, actor Actor, req RestorePhoneRequest) (ReleasedPhone, error) {
	if actor.Role != RoleClerk {
		return ReleasedPhone{}, Errorf(ErrForbidden, "only registration clerks give a released account a number, with its holder's ID card in hand")
	}
	card, err := s.resolve(req.IdentityRequest)
	if err != nil {
		return ReleasedPhone{}, err
	}
	fact, err := s.cardOf(ctx, actor, req.IdentityRequest)
	if err != nil {
		return ReleasedPhone{}, err
	}
	p, err := identity.NormalizePhone(req.Phone)
	if err != nil {
		return ReleasedPhone{}, FieldErrorf(ErrInvalidPhone, "phone", "the new number is not a valid mainland mobile number")
	}
	// No account holding the card's person is not_account_holder, as a
	// card not the holder's: the screen does not tell whether an ID number
	// is someone's self (review19c L2).
	known, err := s.store.IdentityByHash(ctx, card.IDHash)
	if errors.Is(err, ErrNotFound) {
		return ReleasedPhone{}, ErrNotAccountHolder
	}
	if err != nil {
		return ReleasedPhone{}, err
	}
	a, err := s.store.SelfAccount(ctx, known.ID)
	if errors.Is(err, ErrNotFound) {
		return ReleasedPhone{}, ErrNotAccountHolder
	}
	if err != nil {
		return ReleasedPhone{}, err
	}
	if _, err := s.cardHolds(ctx, card, a); err != nil {
		return ReleasedPhone{}, err
	}
	if a.PhoneMasked != ReleasedPhoneMasked {
		return ReleasedPhone{}, ErrAccountNotReleased
	}
	now := s.cfg.Now()
	masked := identity.MaskPhone(p)
	audit := AuditEntry{ID: newID(), TS: now, ActorID: actor.AccountID, ActorRole: actor.Role, Action: "account_phone_restored",
		Target: "account:" + a.ID, HospitalID: actor.HospitalID,
		Reason: "the released account's holder (" + card.IDType + " " + card.NumberMasked + ", " + fact.String() + ") logs in with " + masked + " from now on"}
	gen, err := s.store.RestoreAccountPhone(ctx, a.ID, AccountPhone{Hash: s.keys.Hash("phone", p), Sealed: s.keys.Seal("phone", p), Masked: masked},
		now, audit)
	if err != nil {
		return ReleasedPhone{}, err
	}
	s.noteRevocation(Revocation{AccountID: a.ID, Generation: gen, At: now})
	return ReleasedPhone{PhoneMasked: masked}, nil
}

// cardHolds says whether the card's person is account a's holder — its
// self (本人) under the card's name: the verified name where the desk
// verified one, else the name the holder gave — and returns the self.
// ErrResetNeedsHolder: a names no holder; ErrNotAccountHolder: another
// person, or another name.
func (s *Service) cardHolds(ctx context.Context, card person, a Account) (Patient, error) {
	members, err := s.store.Patients(ctx, a.ID)
	if err != nil {
		return Patient{}, err
	}
	var self *Patient
	for i := range members {
		if members[i].IsSelf && !members[i].Removed {
			self = &members[i]
		}
	}
	if self == nil {
		return Patient{}, ErrResetNeedsHolder
	}
	known, err := s.store.IdentityByHash(ctx, card.IDHash)
	if errors.Is(err, ErrNotFound) {
		return Patient{}, ErrNotAccountHolder
	}
	if err != nil {
		return Patient{}, err
	}
	name := []byte(self.NameHash)
	if known.NameVerified {
		name = known.NameHash
	}
	// The holder reads as their person (patient_rows): either card of a
	// person the desk linked (LinkIdentities) is the holder's.
	if known.Person() != self.IdentityID || string(card.NameHash) != string(name) {
		return Patient{}, ErrNotAccountHolder
	}
	return *self, nil
}
