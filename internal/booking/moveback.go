package booking

import (
	"context"
	"errors"

	"fairslot/internal/identity"
)

// A login someone took (docs/security.md): whoever phished the password
// moved the account's login to their own number and changed the password.
// The holder has the card, not the number: a reset code the desk issues
// by the card alone cannot be redeemed (redeeming needs the whole login
// number, the taker's), and closing the account punishes the victim
// (review19c M4). The desk moves the login back instead (MoveLoginBack):
// the holder's card checked as for a reset code (deskHolder, cardHolds),
// the account's login moves to a new number its holder gives, every token
// and device token ends, the password no longer opens it (the taker knows
// it) and a reset code is issued for the new number, as the desk's reset
// flow does. The account keeps its members, bookings and records.
//
// How the desk knows the new number is the holder's: fairslot sends no
// SMS (the one-time code a bank would text), so the clerk rings the number
// from the desk's phone and sees it ring in the holder's hand
// (NumberRung, recorded as done, as a release records the carrier's
// document as seen), as the phone restore takes the number on the
// holder's word at the desk; and the reset code is redeemed only with
// that whole number, so a number mistyped or not the holder's leaves the
// account locked, not opened, until the holder comes back.

// MoveLoginRequest is a clerk moving a taken login back to its holder: the
// card in hand, the account's current login number if the holder knows it
// (else the card's person's own account, as deskHolder finds it), and the
// new number the holder holds.
type MoveLoginRequest struct {
	IdentityRequest
	AccountPhone string
	NewPhone     string
	// NumberRung: the clerk rang NewPhone from the desk and it rang in the
	// holder's hand. Only that it was done is recorded.
	NumberRung bool
}

// MovedLogin is what the clerk is told: the numbers, masked, and the reset
// code to hand to the holder, shown once.
type MovedLogin struct {
	AccountID    string
	FromMasked   string
	PhoneMasked  string
	HolderMasked string
	Reset        ResetCode
}

// MoveLoginBack moves an account's login to a new number of its holder's,
// at the desk with their ID card (see above). Refused: not a clerk
// (forbidden); the number not rung (invalid_field number_rung); a bad card
// or number; no such account or the card not its holder's
// (not_account_holder, whether or not the ID number is anyone's: L2); an
// account naming no holder (reset_needs_holder); the new number already
// the account's (invalid_field) or another account's login (phone_taken).
// One transaction: the login number, every token ended, the password
// unusable, the account's members listed with the taker's number moved to
// the new one, the reset code, the audit entry (account_login_moved, the
// clerk's, masked values only) and the account's notification.
func (s *Service) MoveLoginBack(ctx context.Context, actor Actor, req MoveLoginRequest) (MovedLogin, error) {
	if actor.Role != RoleClerk {
		return MovedLogin{}, Errorf(ErrForbidden, "only registration clerks move a login back, with its holder's ID card in hand")
	}
	if !req.NumberRung {
		return MovedLogin{}, FieldErrorf(ErrInvalidField, "number_rung", "ring the new number from the desk's phone, see it ring in the holder's hand, and say so")
	}
	card, err := s.resolve(req.IdentityRequest)
	if err != nil {
		return MovedLogin{}, err
	}
	p, err := identity.NormalizePhone(req.NewPhone)
	if err != nil {
		return MovedLogin{}, FieldErrorf(ErrInvalidPhone, "new_phone", "the new number is not a valid mainland mobile number")
	}
	a, self, err := s.deskHolder(ctx, card, req.AccountPhone)
	if err != nil {
		return MovedLogin{}, err
	}
	hash := s.keys.Hash("phone", p)
	if string(hash) == string(a.PhoneHash) {
		return MovedLogin{}, FieldErrorf(ErrInvalidField, "new_phone", "this is already the account's login number")
	}
	now := s.cfg.Now()
	masked := identity.MaskPhone(p)
	code := newResetCode()
	rc := StoredResetCode{AccountID: a.ID, CodeHash: s.resetCodeHash(a.ID, code), IssuedBy: actor.AccountID,
		HospitalID: actor.HospitalID, IssuedAt: now, ExpiresAt: now.Add(ResetCodeTTL)}
	audit := AuditEntry{ID: newID(), TS: now, ActorID: actor.AccountID, ActorRole: actor.Role, Action: "account_login_moved",
		Target: "account:" + a.ID, HospitalID: actor.HospitalID,
		Reason: "the login moved back to its holder (" + card.IDType + " " + card.NumberMasked + ", checked at the desk): " +
			a.PhoneMasked + " -> " + masked + " (rung from the desk); every login ended, the password unusable, a reset code issued good for " +
			ResetCodeTTL.String() + ", once"}
	note := Notification{ID: newID(), Kind: "account_login_moved", HospitalID: actor.HospitalID, AccountID: a.ID, CreatedAt: now,
		Body: "您的账号登录手机号已在挂号窗口由本人（核验身份证）改为 " + masked + "，原号码 " + a.PhoneMasked + " 不能再登录，所有登录已退出，原密码已失效。请用窗口给您的重置码设置新密码。如非本人操作，请携带身份证到挂号窗口。 " +
			"Your login was moved back to you at the registration desk (your ID card checked): the account now logs in with " + masked +
			", not " + a.PhoneMasked + "; every login was ended and the old password no longer works. Set a new password with the reset code the desk gave you."}
	gen, err := s.store.MoveLogin(ctx, a.ID, AccountPhone{Hash: hash, Sealed: s.keys.Seal("phone", p), Masked: masked}, rc, now, audit, note)
	if errors.Is(err, ErrNotFound) {
		return MovedLogin{}, ErrNotAccountHolder // closed since it was read: no account the card holds
	}
	if err != nil {
		return MovedLogin{}, err
	}
	s.noteRevocation(Revocation{AccountID: a.ID, Generation: gen, At: now})
	return MovedLogin{AccountID: a.ID, FromMasked: a.PhoneMasked, PhoneMasked: masked, HolderMasked: self.MaskedName,
		Reset: ResetCode{Code: code, ExpiresAt: rc.ExpiresAt, PhoneMasked: masked, AccountID: a.ID, HolderMasked: self.MaskedName}}, nil
}
