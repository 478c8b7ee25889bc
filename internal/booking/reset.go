package booking

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"time"

	"fairslot/internal/auth"
	"fairslot/internal/identity"
)

// A forgotten password is reset at the registration desk, with the ID card
// (docs/security.md, "Forgotten passwords"): fairslot sends no SMS, so the
// card is the one proof of who holds an account. The clerk checks the card
// against the account's holder (本人, its self) and issues a one-time code;
// the patient sets a new password with it (RedeemResetCode), which ends
// every token and device token of the account and clears the phone's
// lockout.

// ResetCodeTTL is how long a reset code is good for: the patient sets the
// new password at the desk or on the way home.
const ResetCodeTTL = 30 * time.Minute

// resetAlphabet is Crockford's base32: no I, L, O or U, so a code read
// aloud or copied from paper is typed right (normalizeResetCode maps the
// look-alikes).
const resetAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// resetCodeLen is 12 characters, 60 bits: out of reach of guessing in its
// half hour at any rate the per-IP limit lets through.
const resetCodeLen = 12

// ResetCodeRequest is a clerk's request for a reset code: the card in hand
// and the phone of the account its holder says is theirs, or none: then
// the account whose holder (本人) the card's person is (deskHolder).
type ResetCodeRequest struct {
	IdentityRequest
	AccountPhone string
}

// ResetCode is an issued code, to hand to the patient; it is shown once
// and stored only as a keyed hash.
type ResetCode struct {
	Code         string // XXXX-XXXX-XXXX
	ExpiresAt    time.Time
	PhoneMasked  string
	AccountID    string
	HolderMasked string // the holder's masked name, to show the clerk
}

// StoredResetCode is a reset code as the store keeps it.
type StoredResetCode struct {
	AccountID  string
	CodeHash   []byte
	IssuedBy   string
	HospitalID string
	IssuedAt   time.Time
	ExpiresAt  time.Time
}

// IssueResetCode is a clerk's reset of a forgotten password: the account
// is the phone's, or without one the card's person's own (deskHolder); the
// card's person must be the account's holder — its self (本人) under the card's
// name: the verified name where the desk verified one, else the name the
// holder gave. An account that names no holder has nobody the desk can
// check the card against, and is refused: anyone with any card could
// otherwise take it. A new code replaces the account's previous one; the
// issue is audited as the clerk's (password_reset_code_issued), the code
// itself nowhere.
func (s *Service) IssueResetCode(ctx context.Context, actor Actor, req ResetCodeRequest) (ResetCode, error) {
	if actor.Role != RoleClerk {
		return ResetCode{}, Errorf(ErrForbidden, "only registration clerks reset a patient's password, with the ID card in hand")
	}
	card, err := s.resolve(req.IdentityRequest)
	if err != nil {
		return ResetCode{}, err
	}
	fact, err := s.cardOf(ctx, actor, req.IdentityRequest)
	if err != nil {
		return ResetCode{}, err
	}
	a, self, err := s.deskHolder(ctx, card, req.AccountPhone)
	if err != nil {
		return ResetCode{}, err
	}
	code := newResetCode()
	now := s.cfg.Now()
	rc := StoredResetCode{AccountID: a.ID, CodeHash: s.resetCodeHash(a.ID, code), IssuedBy: actor.AccountID,
		HospitalID: actor.HospitalID, IssuedAt: now, ExpiresAt: now.Add(ResetCodeTTL)}
	audit := AuditEntry{ID: newID(), TS: now, ActorID: actor.AccountID, ActorRole: actor.Role, Action: "password_reset_code_issued",
		Target: "account:" + a.ID, Reason: "the account holder's ID card at the desk (" + fact.String() + "); the code is good for " +
			ResetCodeTTL.String() + ", once", HospitalID: actor.HospitalID}
	if err := s.store.SaveResetCode(ctx, rc, audit); err != nil {
		return ResetCode{}, err
	}
	return ResetCode{Code: code, ExpiresAt: rc.ExpiresAt, PhoneMasked: a.PhoneMasked, AccountID: a.ID, HolderMasked: self.MaskedName}, nil
}

// deskHolder finds the account a holder's card is shown for and checks
// the card against the account's holder (本人): its self, under the card's
// name — the verified name where the desk verified one, else the name the
// holder gave. With phone, the account is the one that logs in with it;
// without, it is the open account whose self (bound or claimed) is the
// card's person (review18c L2: whoever moved the login to their own number
// with a phished password took the phone out of the holder's hands, but
// not the card). An account that names no holder is ErrResetNeedsHolder:
// the desk has nobody to check the card against, and anyone with any card
// could otherwise act on it. Without phone, no such account is
// ErrNotAccountHolder, as a card not the holder's (review19c L2).
func (s *Service) deskHolder(ctx context.Context, card person, phone string) (Account, Patient, error) {
	var a Account
	var err error
	if phone != "" {
		p, perr := identity.NormalizePhone(phone)
		if perr != nil {
			return Account{}, Patient{}, ErrInvalidPhone
		}
		a, err = s.store.AccountByPhone(ctx, s.keys.Hash("phone", p))
	} else {
		a, err = s.accountOfCard(ctx, card)
	}
	if errors.Is(err, ErrNotFound) || err == nil && a.Role != RolePatient {
		if phone == "" {
			// The card alone: the same answer as a card whose name is not
			// the holder's, so the screen does not tell whether an ID
			// number is someone's self (review19c L2).
			return Account{}, Patient{}, ErrNotAccountHolder
		}
		return Account{}, Patient{}, Errorf(ErrPatientNotFound, "no patient account with that phone")
	}
	if err != nil {
		return Account{}, Patient{}, err
	}
	self, err := s.cardHolds(ctx, card, a)
	return a, self, err
}

// accountOfCard is the open account whose self is the card's person.
func (s *Service) accountOfCard(ctx context.Context, card person) (Account, error) {
	known, err := s.store.IdentityByHash(ctx, card.IDHash)
	if err != nil {
		return Account{}, err
	}
	id, err := s.store.AccountOfSelf(ctx, known.ID)
	if err != nil {
		return Account{}, err
	}
	return s.store.AccountByID(ctx, id)
}

// RedeemResetCode sets a new password with a code the desk issued for the
// phone's account. The code is used up (a second use, another account's
// code, a wrong or expired one: invalid_reset_code, all alike), every
// token and device token of the account ends, the phone's lockout is
// cleared, and the answer is a fresh token with a device token. It is not
// held back by the login limits — a stranger's failures must not keep the
// holder from the desk's remedy — and needs none: the code's 60 bits are
// out of reach of guessing at the per-IP limit.
func (s *Service) RedeemResetCode(ctx context.Context, phone, code, newPassword string, o Origin) (Token, error) {
	if err := auth.CheckPassword(newPassword); err != nil {
		return Token{}, Errorf(ErrWeakPassword, "%s", err)
	}
	p, err := identity.NormalizePhone(phone)
	if err != nil {
		return Token{}, ErrInvalidResetCode
	}
	c, ok := normalizeResetCode(code)
	if !ok {
		return Token{}, ErrInvalidResetCode
	}
	phoneHash, key := s.phoneKey(p)
	a, err := s.store.AccountByPhone(ctx, phoneHash)
	if errors.Is(err, ErrNotFound) || err == nil && a.Role != RolePatient {
		return Token{}, ErrInvalidResetCode
	}
	if err != nil {
		return Token{}, err
	}
	var hash string
	if serr := s.withHashSlot(ctx, func() { hash, err = auth.HashPassword(newPassword, s.cfg.PasswordIterations) }); serr != nil {
		return Token{}, serr
	}
	if err != nil {
		return Token{}, err
	}
	now := s.cfg.Now()
	audit := AuditEntry{ID: newID(), TS: now, ActorID: a.ID, ActorRole: RolePatient, Action: "password_reset_with_code",
		Target: "account:" + a.ID, Reason: "the holder set a new password with the desk's code; every login ended"}
	gen, err := s.store.RedeemResetCode(ctx, a.ID, s.resetCodeHash(a.ID, c), now, hash, audit)
	if err != nil {
		return Token{}, err
	}
	s.noteRevocation(Revocation{AccountID: a.ID, Generation: gen, At: now})
	s.forgetPhoneFailures(ctx, key) // the address counts start afresh with the generation (attemptOf)
	a.PasswordHash, a.TokenGeneration = hash, gen
	// The desk's code is the holder at the desk and a new password: it
	// cancels a pending closing, as a change of the password does.
	cancelled, err := s.cancelClosing(ctx, a, "a new password set with the desk's reset code cancelled it (the holder is back in)")
	if err != nil {
		return Token{}, err
	}
	tok := s.mint(a, now)
	tok.DeviceToken = s.mintDevice(a, now)
	tok.ClosingCancelled = cancelled
	ev := o.stamp(Event{ID: newID(), TS: now, Type: EventLogin, AccountID: a.ID, Phone: s.phoneRef(a.PhoneHash)})
	if err := s.store.RecordEvent(ctx, ev); err != nil {
		s.log.Warn("record the login of a password reset", "err", err)
	}
	return tok, nil
}

// resetCodeHash is how a code is stored: keyed, and bound to its account,
// so another account's code never matches.
func (s *Service) resetCodeHash(accountID, code string) []byte {
	return s.keys.Hash("reset_code", accountID+"\x00"+code)
}

// newResetCode is a random code, grouped by four.
func newResetCode() string {
	b := make([]byte, resetCodeLen)
	_, _ = rand.Read(b)
	var sb strings.Builder
	for i, x := range b {
		if i > 0 && i%4 == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(resetAlphabet[int(x)%len(resetAlphabet)]) // 256 is a multiple of 32: no bias
	}
	return sb.String()
}

// normalizeResetCode reads a typed code: case, spaces and hyphens do not
// matter, and O, I and L are read as 0, 1 and 1.
func normalizeResetCode(code string) (string, bool) {
	var sb strings.Builder
	for _, r := range strings.ToUpper(code) {
		switch {
		case r == ' ' || r == '-':
			continue
		case r == 'O':
			r = '0'
		case r == 'I' || r == 'L':
			r = '1'
		}
		if !strings.ContainsRune(resetAlphabet, r) {
			return "", false
		}
		sb.WriteRune(r)
	}
	if sb.Len() != resetCodeLen {
		return "", false
	}
	c := sb.String()
	return c[0:4] + "-" + c[4:8] + "-" + c[8:12], true
}
