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
	return s.createAccount(ctx, phone, password, RolePatient, idempotencyKey, o)
}

// CreateStaff registers a staff account; only the CLI calls it.
func (s *Service) CreateStaff(ctx context.Context, phone, password string, role Role) (string, error) {
	if role == RolePatient {
		return "", Errorf(ErrInvalidField, "staff role must be operator, clerk, referrer or admin")
	}
	id, err := s.createAccount(ctx, phone, password, role, "", Origin{})
	if err != nil {
		return "", err
	}
	err = s.store.RecordAudit(ctx, AuditEntry{ID: newID(), TS: s.cfg.Now(), ActorRole: "cli",
		Action: "staff_added", Target: "account:" + id, Reason: "role " + string(role)})
	return id, err
}

func (s *Service) createAccount(ctx context.Context, phone, password string, role Role, idempotencyKey string, o Origin) (string, error) {
	p, err := identity.NormalizePhone(phone)
	if err != nil {
		return "", ErrInvalidPhone
	}
	if err := auth.CheckPassword(password); err != nil {
		return "", ErrWeakPassword
	}
	hash, err := auth.HashPassword(password, s.cfg.PasswordIterations)
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
func (s *Service) Login(ctx context.Context, phone, password string, o Origin) (Token, error) {
	p, err := identity.NormalizePhone(phone)
	if err != nil {
		return Token{}, ErrBadCredentials
	}
	a, err := s.store.AccountByPhone(ctx, s.keys.Hash("phone", p))
	if errors.Is(err, ErrNotFound) {
		auth.VerifyPassword(s.dummyHash, password) // same cost as a real check
		return Token{}, ErrBadCredentials
	}
	if err != nil {
		return Token{}, err
	}
	if !auth.VerifyPassword(a.PasswordHash, password) {
		return Token{}, ErrBadCredentials
	}
	if a.Blocked {
		return Token{}, ErrAccountBlocked
	}
	now := s.cfg.Now()
	tok, exp := s.tokens.Mint(a.ID, string(a.Role), now)
	ev := o.stamp(Event{ID: newID(), TS: now, Type: EventLogin, AccountID: a.ID, Phone: s.phoneRef(a.PhoneHash)})
	if err := s.store.RecordEvent(ctx, ev); err != nil {
		return Token{}, err
	}
	if a.Role == RolePatient {
		s.warmPatients(ctx, a.ID)
	}
	return Token{Token: tok, ExpiresAt: exp}, nil
}
