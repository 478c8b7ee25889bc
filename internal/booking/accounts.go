package booking

import (
	"context"
	"errors"
	"time"

	"fairslot/internal/auth"
	"fairslot/internal/identity"
)

// Session tokens handed out by Login.
type Token struct {
	Token     string
	ExpiresAt time.Time
}

// CreateAccount registers a patient account under a mainland mobile number.
// With an idempotency key, a repeat returns the first account's id.
func (s *Service) CreateAccount(ctx context.Context, phone, password, idempotencyKey string, o Origin) (string, error) {
	return s.createAccount(ctx, phone, password, RolePatient, "", idempotencyKey, o)
}

// CreateStaff registers a staff account; only the CLI calls it. A clerk or
// an operator works for one hospital; an administrator for one, or, with
// no hospital, for the whole platform. The hospital must be in the catalog
// (Refresh first).
func (s *Service) CreateStaff(ctx context.Context, phone, password string, role Role, hospitalID string) (string, error) {
	if role == RolePatient {
		return "", Errorf(ErrInvalidField, "staff role must be operator, clerk, referrer or admin")
	}
	if hospitalID == "" && role != RoleAdmin {
		return "", Errorf(ErrInvalidField, "a %s works for one hospital: give its id", role)
	}
	if hospitalID != "" {
		if _, ok := s.catalog.Load().Hospital(hospitalID); !ok {
			return "", Errorf(ErrHospitalNotFound, "no hospital %s", hospitalID)
		}
	}
	id, err := s.createAccount(ctx, phone, password, role, hospitalID, "", Origin{})
	if err != nil {
		return "", err
	}
	scope := "platform-wide"
	if hospitalID != "" {
		scope = "hospital " + hospitalID
	}
	err = s.store.RecordAudit(ctx, AuditEntry{ID: newID(), TS: s.cfg.Now(), ActorRole: "cli",
		Action: "staff_added", Target: "account:" + id, Reason: "role " + string(role) + ", " + scope, HospitalID: hospitalID})
	return id, err
}

func (s *Service) createAccount(ctx context.Context, phone, password string, role Role, hospitalID, idempotencyKey string, o Origin) (string, error) {
	p, err := identity.NormalizePhone(phone)
	if err != nil {
		return "", ErrInvalidPhone
	}
	if err := auth.CheckPassword(password); err != nil {
		return "", Errorf(ErrWeakPassword, "%s", err)
	}
	var hash string
	if err := s.withHashSlot(ctx, func() { hash, err = auth.HashPassword(password, s.cfg.PasswordIterations) }); err != nil {
		return "", err
	}
	if err != nil {
		return "", err
	}
	a := Account{
		ID:           newID(),
		Role:         role,
		PhoneHash:    s.keys.Hash("phone", p),
		PhoneSealed:  s.keys.Seal("phone", p),
		PhoneMasked:  identity.MaskPhone(p),
		PasswordHash: hash,
		CreatedAt:    s.cfg.Now(),
		HospitalID:   hospitalID,
	}
	if idempotencyKey != "" {
		// Derived from the phone and the key: a repeat names the same account.
		a.ID = s.idempotentID(IdentityKey(a.PhoneHash), "account\x00"+idempotencyKey)
	}
	ev := o.stamp(Event{ID: newID(), TS: a.CreatedAt, Type: EventAccountCreated, AccountID: a.ID, Phone: s.phoneRef(a.PhoneHash)})
	err = s.store.CreateAccount(ctx, a, ev)
	if errors.Is(err, ErrPhoneTaken) && idempotencyKey != "" {
		if prev, perr := s.store.AccountByPhone(ctx, a.PhoneHash); perr == nil && prev.ID == a.ID {
			return a.ID, nil // the first answer
		}
	}
	if err != nil {
		return "", err
	}
	return a.ID, nil
}

// phoneRef is how a phone appears in events: its keyed hash.
func (s *Service) phoneRef(hash []byte) string {
	return "hash:" + IdentityKey(hash)
}

// Login checks a phone and password and returns a bearer token.
//
// Failed attempts count against the phone (LoginGuard: across instances),
// known or not, so the answers do not tell registered phones apart; past the
// limit the phone waits before its password is checked again. The hash runs
// in one of PasswordHashers slots, so a login flood queues instead of taking
// every core from bookings.
func (s *Service) Login(ctx context.Context, phone, password string, o Origin) (Token, error) {
	p, err := identity.NormalizePhone(phone)
	if err != nil {
		return Token{}, ErrBadCredentials
	}
	phoneHash, key := s.phoneKey(p)
	if err := s.loginAllowed(ctx, key); err != nil {
		return Token{}, err
	}
	a, err := s.store.AccountByPhone(ctx, phoneHash)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Token{}, err
	}
	known := err == nil
	hash := s.dummyHash // an unknown phone costs the same as a known one
	if known {
		hash = a.PasswordHash
	}
	ok, err := s.checkPassword(ctx, hash, password)
	if err != nil {
		return Token{}, err
	}
	if !ok || !known {
		s.loginFailed(ctx, key)
		return Token{}, ErrBadCredentials
	}
	s.loginSucceeded(ctx, key)
	if a.Blocked {
		return Token{}, ErrAccountBlocked
	}
	now := s.cfg.Now()
	tok := s.mint(a, now)
	ev := o.stamp(Event{ID: newID(), TS: now, Type: EventLogin, AccountID: a.ID, Phone: s.phoneRef(a.PhoneHash)})
	if err := s.store.RecordEvent(ctx, ev); err != nil {
		return Token{}, err
	}
	if a.Role == RolePatient {
		s.warmPatients(ctx, a.ID)
	}
	return tok, nil
}
