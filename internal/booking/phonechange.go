package booking

import (
	"context"
	"errors"

	"fairslot/internal/identity"
)

// Numbers change hands. A patient moves to a new mobile number, and the
// carrier gives the old one to someone else after a while (运营商回收号码).
// An account's number is its login and, on the phone, a hint of who rings
// (never a proof: LookupCaller); a family member's number is where the
// hospital rings about their bookings. Both change in place.

// ChangePhoneRequest is an account's move to a new login number, with the
// password as proof that the holder, not a borrowed session, asks.
type ChangePhoneRequest struct {
	Password string
	Phone    string
	// DeviceToken: as ChangePasswordRequest's.
	DeviceToken string
}

// ChangePhone moves a patient account to a new login number. The password
// is checked as at login (a wrong one counts against the account's number
// like a failed login). The new number must be no other account's login
// (ErrPhoneTaken). Other accounts listing it as a family member's number
// do not count (review18c L4: three throw-away accounts listing a victim's
// new number kept the victim on the old one): a login number is its
// holder's, as at registration, and the accounts-per-phone rule limits the
// accounts listing it for members (AddPatient, ChangePatient). Every token of the account ends, this session's too,
// and a fresh one for this session is returned: whoever held a session on
// the old number (a lost phone, the number's next holder) is out. The old
// number is free at once: its next holder registers with it. The family
// members the account gave its old number as theirs get the new one in the
// same transaction (a recycled number keeps no say in their bookings). Audited
// (account_phone_changed) with the masked numbers only.
func (s *Service) ChangePhone(ctx context.Context, actor Actor, req ChangePhoneRequest, o Origin) (Token, error) {
	if actor.Role != RolePatient {
		return Token{}, Errorf(ErrForbidden, "a staff account's number is changed by an administrator")
	}
	p, err := identity.NormalizePhone(req.Phone)
	if err != nil {
		return Token{}, FieldErrorf(ErrInvalidPhone, "phone", "the new number is not a valid mainland mobile number")
	}
	a, err := s.reentered(ctx, actor, req.Password, req.DeviceToken, o)
	if err != nil {
		return Token{}, err
	}
	hash := s.keys.Hash("phone", p)
	if string(hash) == string(a.PhoneHash) {
		return Token{}, FieldErrorf(ErrInvalidField, "phone", "this is already the account's number")
	}
	now := s.cfg.Now()
	audit := AuditEntry{ID: newID(), TS: now, ActorID: a.ID, ActorRole: a.Role, Action: "account_phone_changed",
		Target: "account:" + a.ID, Reason: a.PhoneMasked + " -> " + identity.MaskPhone(p)}
	gen, err := s.store.ChangeAccountPhone(ctx, a.ID, AccountPhone{Hash: hash, Sealed: s.keys.Seal("phone", p), Masked: identity.MaskPhone(p)},
		now, audit)
	if errors.Is(err, ErrNotFound) {
		return Token{}, ErrInvalidToken // closed while the password was checked: nothing written, nothing minted
	}
	if err != nil {
		return Token{}, err
	}
	s.noteRevocation(Revocation{AccountID: a.ID, Generation: gen, At: now})
	a.TokenGeneration = gen
	cancelled, err := s.backIn(ctx, a.ID)
	if err != nil {
		return Token{}, err
	}
	tok := s.mint(a, now)
	tok.ClosingCancelled = cancelled
	return tok, nil
}

// AccountPhone is a number as it is stored: its keyed hash (lookups),
// sealed (a call back reads it) and masked (pages show it).
type AccountPhone struct {
	Hash   []byte
	Sealed []byte
	Masked string
}

// OwnAccount is the actor's account as its holder's pages show it: the
// role, the login number masked, when it was made, a pending closing's due
// time; never the number's
// hash or seal, nor the password hash.
func (s *Service) OwnAccount(ctx context.Context, actor Actor) (Account, error) {
	a, err := s.store.AccountByID(ctx, actor.AccountID)
	if errors.Is(err, ErrNotFound) {
		return Account{}, ErrInvalidToken
	}
	if err != nil {
		return Account{}, err
	}
	if a.Role == RolePatient && !a.Closed {
		s.noteClosing(a.ID, !a.ClosingDueAt.IsZero()) // read by key: what this instance refuses follows SQL at once
	}
	return Account{ID: a.ID, Role: a.Role, PhoneMasked: a.PhoneMasked, CreatedAt: a.CreatedAt, Blocked: a.Blocked,
		ClosingDueAt: a.ClosingDueAt}, nil
}
