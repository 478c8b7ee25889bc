package booking

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"fairslot/internal/auth"
	"fairslot/internal/identity"
)

// Session tokens handed out by Login.
type Token struct {
	Token     string
	ExpiresAt time.Time
	// HospitalID is the staff account's hospital (empty for a patient or a
	// platform administrator): the zone its answer tells times in.
	HospitalID string
	// DeviceToken is the login's device token (login.go): the client keeps
	// it and presents it at its next login. Empty where none is issued.
	DeviceToken string
	// ClosingCancelled: this change of the password or number (or a reset
	// with the desk's code) cancelled the account's pending closing (its
	// holder is told so).
	ClosingCancelled bool
	// ClosingDueAt: a login's account has a pending closing, due then
	// (zero: none); the client shows it with its 撤销注销 (CancelClosing).
	ClosingDueAt time.Time
	// ConsentNeeded: a patient account that has not agreed to the current
	// privacy notice (made before consents were recorded, or the notice
	// changed since): the client asks its holder (AgreeToNotice).
	ConsentNeeded bool
}

// CreateAccount registers a patient account under a mainland mobile number,
// with its holder's consent to the current privacy notice (recorded with
// the account: version, time, online). With an idempotency key, a repeat
// returns the first account's id.
func (s *Service) CreateAccount(ctx context.Context, phone, password, idempotencyKey string, consent ConsentRequest, o Origin) (string, error) {
	if err := checkConsent(consent); err != nil {
		return "", err
	}
	return s.createAccount(ctx, Account{Role: RolePatient, Consent: &Consent{ID: newID(), NoticeVersion: consent.Version,
		By: ConsentByHolder, Channel: ConsentOnline}}, phone, password, idempotencyKey, o)
}

// StaffRequest is a staff account to create.
type StaffRequest struct {
	Phone, Password string
	Role            Role
	HospitalID      string
	// Name is the work name the audit log shows (1 to 40 characters,
	// optional): a staff member's name is their badge, not a patient's
	// secret, and their administrators see it.
	Name string
}

// CreateStaff registers a staff account; only the CLI calls it. A clerk or
// an operator works for one hospital; an administrator for one, or, with
// no hospital, for the whole platform. The hospital must be in the catalog
// (Refresh first).
func (s *Service) CreateStaff(ctx context.Context, req StaffRequest) (string, error) {
	phone, password, role, hospitalID := req.Phone, req.Password, req.Role, req.HospitalID
	name := strings.TrimSpace(req.Name)
	if n := utf8.RuneCountInString(name); n > 40 || strings.ContainsFunc(name, unicode.IsControl) {
		return "", Errorf(ErrInvalidField, "a staff name has at most 40 characters and no control characters")
	}
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
	id, err := s.createAccount(ctx, Account{Role: role, HospitalID: hospitalID, Name: name}, phone, password, "", Origin{})
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

// createAccount makes an account of a's role, hospital and name.
func (s *Service) createAccount(ctx context.Context, a Account, phone, password, idempotencyKey string, o Origin) (string, error) {
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
	a.ID = newID()
	a.PhoneHash, a.PhoneSealed, a.PhoneMasked = s.keys.Hash("phone", p), s.keys.Seal("phone", p), identity.MaskPhone(p)
	a.PasswordHash, a.CreatedAt = hash, s.cfg.Now()
	if idempotencyKey != "" {
		// Derived from the phone and the key: a repeat names the same account.
		a.ID = s.idempotentID(IdentityKey(a.PhoneHash), "account\x00"+idempotencyKey)
	}
	if a.Consent != nil {
		a.Consent.AccountID, a.Consent.At = a.ID, a.CreatedAt
		a.ConsentVersion = a.Consent.NoticeVersion
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
func (s *Service) phoneRef(hash []byte) string { return phoneRefOf(hash) }

func phoneRefOf(hash []byte) string { return "hash:" + IdentityKey(hash) }

// Login checks a phone and password and returns a bearer token.
func (s *Service) Login(ctx context.Context, phone, password string, o Origin) (Token, error) {
	return s.LoginDevice(ctx, phone, password, "", o)
}

// LoginDevice checks a phone and password and returns a bearer token and a
// device token: presented at the next login, it has that client judged by
// its own failures only (login.go).
//
// Failed attempts count (LoginGuard, LoginPhoneGuard: across instances)
// against a known device, or against the phone from the client's address
// and from everywhere, known phone or not, so the answers do not tell
// registered phones apart; past a limit the client waits before its
// password is checked again. The hash runs in one of PasswordHashers
// slots, so a login flood queues instead of taking every core from
// bookings.
func (s *Service) LoginDevice(ctx context.Context, phone, password, deviceToken string, o Origin) (Token, error) {
	p, err := identity.NormalizePhone(phone)
	if err != nil {
		return Token{}, ErrBadCredentials
	}
	phoneHash, key := s.phoneKey(p)
	a, err := s.store.AccountByPhone(ctx, phoneHash)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Token{}, err
	}
	known := err == nil && !a.Closed // a closed account is as an unregistered number
	var at loginAttempt
	if known {
		at = s.attemptOf(key, &a, deviceToken, o)
	} else {
		at = s.attemptOf(key, nil, "", o)
	}
	if err := s.loginAllowed(ctx, at); err != nil {
		return Token{}, err
	}
	hash := s.dummyHash // an unknown phone costs the same as a known one
	if known {
		hash = a.PasswordHash
	}
	ok, err := s.checkPassword(ctx, hash, password)
	if err != nil {
		return Token{}, err
	}
	if !ok || !known {
		s.loginFailed(ctx, at)
		return Token{}, ErrBadCredentials
	}
	s.loginSucceeded(ctx, at)
	if a.Disabled {
		return Token{}, ErrAccountDisabled // after the password, as a block: nobody learns it without one
	}
	if a.Blocked {
		return Token{}, s.blockedLogin(ctx, a) // the reason and an appeal token: the password was right
	}
	// A login during a pending closing's cooling-off signs in and shows
	// it: the holder cancels it (CancelClosing) or lets it complete.
	now := s.cfg.Now()
	tok := s.mint(a, now)
	tok.DeviceToken = s.mintDevice(a, now)
	tok.ClosingDueAt = a.ClosingDueAt
	s.noteClosing(a.ID, !a.ClosingDueAt.IsZero())
	tok.ConsentNeeded = a.Role == RolePatient && a.ConsentVersion != PrivacyNoticeVersion
	ev := o.stamp(Event{ID: newID(), TS: now, Type: EventLogin, AccountID: a.ID, Phone: s.phoneRef(a.PhoneHash)})
	if err := s.store.RecordEvent(ctx, ev); err != nil {
		return Token{}, err
	}
	if a.Role == RolePatient {
		s.warmPatients(ctx, a.ID)
	}
	return tok, nil
}
