package booking

import (
	"context"
	"errors"

	"fairslot/internal/auth"
	"fairslot/internal/identity"
)

// Staff accounts from the command line (`fairslot staff`): an operator on
// the host lists them, resets a password, disables and enables one. Each
// change and its audit row (actor cli) share one transaction.

// StaffChange is the account a staff command changed.
type StaffChange struct {
	AccountID, HospitalID string
	Role                  Role
}

// String names the account as the commands print it: role, id and scope.
func (c StaffChange) String() string {
	scope := "platform-wide"
	if c.HospitalID != "" {
		scope = "of hospital " + c.HospitalID
	}
	return string(c.Role) + " account " + c.AccountID + ", " + scope
}

// staffByPhone finds the staff account of a phone; a patient's is refused.
func (s *Service) staffByPhone(ctx context.Context, phone string) (Account, error) {
	p, err := identity.NormalizePhone(phone)
	if err != nil {
		return Account{}, ErrInvalidPhone
	}
	a, err := s.store.AccountByPhone(ctx, s.keys.Hash("phone", p))
	if errors.Is(err, ErrNotFound) {
		return Account{}, Errorf(ErrNotFound, "no account has this phone")
	}
	if err != nil {
		return Account{}, err
	}
	if a.Role == RolePatient {
		return Account{}, Errorf(ErrForbidden, "this phone is a patient's account: patients change their own password (POST /v1/auth/password)")
	}
	return a, nil
}

// staffAudit is the audit row of a staff command's change of a.
func staffAudit(a Account, action, reason string) AuditEntry {
	return AuditEntry{ID: newID(), ActorRole: "cli", Action: action, Target: "account:" + a.ID,
		Reason: "role " + string(a.Role) + ", " + reason, HospitalID: a.HospitalID}
}

// ResetStaffPassword sets a staff account's password from the command line
// (an operator on the host) and ends every token of the account: on this
// instance at once, on every serving instance within their RevocationPoll.
// It is how a forgotten staff password is replaced. The audit row
// (staff_password_reset) is written with the change, and the phone's failed
// logins are forgotten, so a member of staff locked out by wrong passwords
// logs in with the new one at once. A patient's account is refused: its
// holder changes their own password.
func (s *Service) ResetStaffPassword(ctx context.Context, phone, password string) (StaffChange, error) {
	if _, err := identity.NormalizePhone(phone); err != nil {
		return StaffChange{}, ErrInvalidPhone
	}
	if err := auth.CheckPassword(password); err != nil {
		return StaffChange{}, Errorf(ErrWeakPassword, "%s", err)
	}
	a, err := s.staffByPhone(ctx, phone)
	if err != nil {
		return StaffChange{}, err
	}
	audit := staffAudit(a, "staff_password_reset", "every login ended")
	if _, _, err := s.setPassword(ctx, &a, password, &audit); err != nil {
		return StaffChange{}, err
	}
	s.forgetPhoneFailures(ctx, IdentityKey(a.PhoneHash))
	return StaffChange{AccountID: a.ID, HospitalID: a.HospitalID, Role: a.Role}, nil
}

// DisableStaff disables a staff account (a member of staff who left): every
// token of it ends, here at once and on every serving instance within their
// RevocationPoll, and its logins are refused (403 account_disabled) until
// EnableStaff; audited staff_disabled in the same transaction. An account
// already disabled is ErrNoChange.
func (s *Service) DisableStaff(ctx context.Context, phone string) (StaffChange, error) {
	return s.setDisabled(ctx, phone, true)
}

// EnableStaff lets a disabled staff account log in again with its password
// (audited staff_enabled) and forgets the phone's failed logins. An
// account not disabled is ErrNoChange.
func (s *Service) EnableStaff(ctx context.Context, phone string) (StaffChange, error) {
	return s.setDisabled(ctx, phone, false)
}

func (s *Service) setDisabled(ctx context.Context, phone string, disabled bool) (StaffChange, error) {
	a, err := s.staffByPhone(ctx, phone)
	if err != nil {
		return StaffChange{}, err
	}
	audit := staffAudit(a, "staff_enabled", "may log in again")
	if disabled {
		audit = staffAudit(a, "staff_disabled", "every login ended, logins refused")
	}
	now := s.cfg.Now()
	audit.TS = now
	gen, err := s.store.SetDisabled(ctx, a.ID, disabled, now, audit)
	if errors.Is(err, ErrNoChange) {
		state := "enabled"
		if disabled {
			state = "disabled"
		}
		return StaffChange{}, Errorf(ErrNoChange, "this %s account is already %s", a.Role, state)
	}
	if err != nil {
		return StaffChange{}, err
	}
	if disabled {
		s.noteRevocation(Revocation{AccountID: a.ID, Generation: gen, At: now})
	} else {
		s.forgetPhoneFailures(ctx, IdentityKey(a.PhoneHash))
	}
	return StaffChange{AccountID: a.ID, HospitalID: a.HospitalID, Role: a.Role}, nil
}

// StaffAccounts lists the staff accounts of a hospital (every hospital's,
// and the platform-wide administrators, with hospitalID empty), or, with a
// phone, that phone's.
func (s *Service) StaffAccounts(ctx context.Context, hospitalID, phone string) ([]StaffAccount, error) {
	var hash []byte
	if phone != "" {
		p, err := identity.NormalizePhone(phone)
		if err != nil {
			return nil, ErrInvalidPhone
		}
		hash = s.keys.Hash("phone", p)
	}
	return s.store.StaffAccounts(ctx, hospitalID, hash)
}
