package booking

import (
	"context"
	"errors"
	"fmt"
	"time"

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
// code to hand to the holder, shown once. Pending: the move waits for its
// cooling-off until DueAt (the code works for the new number from then).
type MovedLogin struct {
	AccountID    string
	FromMasked   string
	PhoneMasked  string
	HolderMasked string
	Reset        ResetCode
	Pending      bool
	DueAt        time.Time
}

// PendingLoginMove is a desk login move waiting for its cooling-off
// (review25 H4): the new number, the reset code's keyed hash (the clerk
// handed the code over), who asked at which hospital's desk, when it is
// due, and the card fact as audited.
type PendingLoginMove struct {
	AccountID   string
	To          AccountPhone
	CodeHash    []byte
	RequestedBy string
	HospitalID  string
	RequestedAt time.Time
	DueAt       time.Time
	Card        string
}

// PendingMoveCodeTTL is how long the reset code of a login move that
// waited is good for once the move takes effect: the holder comes back to
// it a day later, not within the half hour of a code used at once.
const PendingMoveCodeTTL = 72 * time.Hour

// MoveLoginBack moves an account's login to a new number of its holder's,
// at the desk with their ID card (see above). Refused: not a clerk
// (forbidden); the number not rung (invalid_field number_rung); a bad card
// marker or number; no such account or the card not its holder's
// (not_account_holder, whether or not the ID number is anyone's: L2); an
// account naming no holder (reset_needs_holder); the new number already
// the account's (invalid_field) or another account's login (phone_taken);
// a move of the account already waiting (login_move_pending).
//
// With the card read by a registered reader of the clerk's hospital
// (review25 H4) the move is immediate: the reader proves the holder's
// card is at the window, which is what a phished holder has and a
// scalper's note does not. One transaction: the login number, every token
// ended, the password unusable, the account's members listed with the
// taker's number moved to the new one, the reset code, the audit entry
// (account_login_moved, the clerk's, masked values only) and the
// account's notification.
//
// A typed number (any reason) is the clerk's word alone: the move waits
// Config.LoginMoveCoolingOff (24 h). The account's holder, still logged in,
// is told at once (who asked, at which hospital's desk, to which masked
// number) and cancels it (CancelLoginMove); the old login keeps working
// until it takes effect (CompleteLoginMoves). Audited as
// account_login_move_requested.
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
	fact, err := s.cardOf(ctx, actor, req.IdentityRequest)
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
	to := AccountPhone{Hash: hash, Sealed: s.keys.Seal("phone", p), Masked: masked}
	out := MovedLogin{AccountID: a.ID, FromMasked: a.PhoneMasked, PhoneMasked: masked, HolderMasked: self.MaskedName}
	if !fact.read() {
		m := PendingLoginMove{AccountID: a.ID, To: to, CodeHash: s.resetCodeHash(a.ID, code), RequestedBy: actor.AccountID,
			HospitalID: actor.HospitalID, RequestedAt: now, DueAt: now.Add(s.cfg.LoginMoveCoolingOff), Card: fact.String()}
		audit := AuditEntry{ID: newID(), TS: now, ActorID: actor.AccountID, ActorRole: actor.Role, Action: "account_login_move_requested",
			Target: "account:" + a.ID, HospitalID: actor.HospitalID,
			Reason: "a login move asked for at the desk (" + card.IDType + " " + card.NumberMasked + ", " + fact.String() + "): " +
				a.PhoneMasked + " -> " + masked + " (rung from the desk); takes effect at " + m.DueAt.UTC().Format(time.RFC3339) +
				" unless the account's holder cancels it; the old login works until then"}
		if err := s.store.RequestLoginMove(ctx, m, audit, s.loginMoveNote(a.ID, m, a.PhoneMasked)); err != nil {
			return MovedLogin{}, err
		}
		out.Pending, out.DueAt = true, m.DueAt
		out.Reset = ResetCode{Code: code, ExpiresAt: m.DueAt.Add(PendingMoveCodeTTL), PhoneMasked: masked, AccountID: a.ID, HolderMasked: self.MaskedName}
		return out, nil
	}
	rc := StoredResetCode{AccountID: a.ID, CodeHash: s.resetCodeHash(a.ID, code), IssuedBy: actor.AccountID,
		HospitalID: actor.HospitalID, IssuedAt: now, ExpiresAt: now.Add(ResetCodeTTL)}
	audit := AuditEntry{ID: newID(), TS: now, ActorID: actor.AccountID, ActorRole: actor.Role, Action: "account_login_moved",
		Target: "account:" + a.ID, HospitalID: actor.HospitalID,
		Reason: "the login moved back to its holder (" + card.IDType + " " + card.NumberMasked + ", " + fact.String() + "): " +
			a.PhoneMasked + " -> " + masked + " (rung from the desk); every login ended, the password unusable, a reset code issued good for " +
			ResetCodeTTL.String() + ", once"}
	note := Notification{ID: newID(), Kind: "account_login_moved", HospitalID: actor.HospitalID, AccountID: a.ID, CreatedAt: now,
		Body: "您的账号登录手机号已在挂号窗口由本人（读卡器读取身份证）改为 " + masked + "，原号码 " + a.PhoneMasked + " 不能再登录，所有登录已退出，原密码已失效。请用窗口给您的重置码设置新密码。如非本人操作，请携带身份证到挂号窗口。 " +
			"Your login was moved back to you at the registration desk (your ID card read by the desk's reader): the account now logs in with " + masked +
			", not " + a.PhoneMasked + "; every login was ended and the old password no longer works. Set a new password with the reset code the desk gave you."}
	gen, err := s.store.MoveLogin(ctx, a.ID, to, rc, now, audit, note)
	if errors.Is(err, ErrNotFound) {
		return MovedLogin{}, ErrNotAccountHolder // closed since it was read: no account the card holds
	}
	if err != nil {
		return MovedLogin{}, err
	}
	s.noteRevocation(Revocation{AccountID: a.ID, Generation: gen, At: now})
	out.Reset = ResetCode{Code: code, ExpiresAt: rc.ExpiresAt, PhoneMasked: masked, AccountID: a.ID, HolderMasked: self.MaskedName}
	return out, nil
}

// Notification kinds of a desk login move that waits (review25 H4).
const (
	NotificationLoginMoveRequested = "account_login_move_requested"
	NotificationLoginMoveCancelled = "account_login_move_cancelled"
)

// loginMoveNote tells the account's holder of a login move asked for at a
// desk: which hospital's desk, to which masked number, when it takes
// effect, and that they cancel it in the console if it was not them.
func (s *Service) loginMoveNote(accountID string, m PendingLoginMove, from string) Notification {
	hospital := "医院"
	if h, ok := s.catalog.Load().Hospital(m.HospitalID); ok {
		hospital = h.Name
	}
	day := m.DueAt.In(StandInLocation()).Format("2006-01-02 15:04")
	return Notification{ID: newID(), Kind: NotificationLoginMoveRequested, HospitalID: m.HospitalID, AccountID: accountID, CreatedAt: m.RequestedAt,
		Body: hospital + "挂号窗口的工作人员申请把本账号的登录手机号从 " + from + " 改为 " + m.To.Masked + "，将于 " + day + "（北京时间）生效；生效前原号码照常登录。" +
			"如果不是您本人在窗口办理，请在“我的账号”中撤销这次改号，并立即修改密码。 " +
			"A clerk at " + hospital + "'s registration desk asked to move this account's login from " + from + " to " + m.To.Masked +
			"; it takes effect at " + day + " (Beijing time), and the old number logs in until then. If this was not you at the desk, cancel the move under My account and change your password now."}
}

// PendingLoginMoveOf is the signed-in patient's account's waiting login
// move, for the console's notice and GET /v1/me; false when none waits.
func (s *Service) PendingLoginMoveOf(ctx context.Context, actor Actor) (PendingLoginMove, bool, error) {
	if actor.Role != RolePatient {
		return PendingLoginMove{}, false, nil
	}
	m, err := s.store.PendingLoginMove(ctx, actor.AccountID)
	if errors.Is(err, ErrNotFound) {
		return PendingLoginMove{}, false, nil
	}
	return m, err == nil, err
}

// CancelLoginMove is the holder, signed in, cancelling a desk login move
// of their account that waits (DELETE /v1/me/login-move): audited as the
// holder's (account_login_move_cancelled), the account told, and the
// desk's reset code never stored. True when this call cancelled one.
func (s *Service) CancelLoginMove(ctx context.Context, actor Actor) (bool, error) {
	if actor.Role != RolePatient {
		return false, Errorf(ErrForbidden, "only a patient account has a login move to cancel")
	}
	m, err := s.store.PendingLoginMove(ctx, actor.AccountID)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	now := s.cfg.Now()
	audit := AuditEntry{ID: newID(), TS: now, ActorID: actor.AccountID, ActorRole: RolePatient, Action: "account_login_move_cancelled",
		Target: "account:" + actor.AccountID, HospitalID: m.HospitalID,
		Reason: "its holder, signed in, cancelled the login move to " + m.To.Masked + " asked for at the desk (" + m.Card + "); it was due " +
			m.DueAt.UTC().Format(time.RFC3339)}
	note := Notification{ID: newID(), Kind: NotificationLoginMoveCancelled, HospitalID: m.HospitalID, AccountID: actor.AccountID, CreatedAt: now,
		Body: "您已撤销把登录手机号改为 " + m.To.Masked + " 的申请，账号照常使用。 You cancelled the move of your login to " + m.To.Masked + ": the account stays as it was."}
	err = s.store.CancelLoginMove(ctx, actor.AccountID, audit, note)
	if errors.Is(err, ErrNoChange) {
		return false, nil
	}
	return err == nil, err
}

// CompleteLoginMoves makes the desk login moves that waited their
// cooling-off take effect (the job "pending login moves"): each as the
// clerk's move (account_login_moved), the reset code the clerk handed over
// good for PendingMoveCodeTTL from now. A move whose new number another
// account took meanwhile is dropped, audited. It answers how many moved.
func (s *Service) CompleteLoginMoves(ctx context.Context) (int, error) {
	now := s.cfg.Now()
	due, err := s.store.LoginMovesDue(ctx, now)
	if err != nil {
		return 0, err
	}
	n := 0
	var failed error
	for _, m := range due {
		rc := StoredResetCode{AccountID: m.AccountID, CodeHash: m.CodeHash, IssuedBy: m.RequestedBy, HospitalID: m.HospitalID,
			IssuedAt: m.RequestedAt, ExpiresAt: now.Add(PendingMoveCodeTTL)}
		audit := AuditEntry{ID: newID(), TS: now, ActorID: m.RequestedBy, ActorRole: RoleClerk, Action: "account_login_moved",
			Target: "account:" + m.AccountID, HospitalID: m.HospitalID,
			Reason: "the login move asked for at the desk (" + m.Card + ") took effect after its cooling-off (due " + m.DueAt.UTC().Format(time.RFC3339) +
				") without the holder cancelling it: -> " + m.To.Masked + "; every login ended, the password unusable, the desk's reset code good for " +
				PendingMoveCodeTTL.String() + ", once"}
		note := Notification{ID: newID(), Kind: "account_login_moved", HospitalID: m.HospitalID, AccountID: m.AccountID, CreatedAt: now,
			Body: "在挂号窗口申请的改号已生效：账号登录手机号现为 " + m.To.Masked + "，所有登录已退出，原密码已失效。请用窗口给您的重置码设置新密码。如非本人操作，请携带身份证到挂号窗口。 " +
				"The login move asked for at the registration desk took effect: the account now logs in with " + m.To.Masked +
				"; every login was ended and the old password no longer works. Set a new password with the reset code the desk gave you."}
		gen, err := s.store.CompleteLoginMove(ctx, m, rc, now, audit, note)
		switch {
		case errors.Is(err, ErrNoChange):
			continue // cancelled since the list was read
		case errors.Is(err, ErrPhoneTaken), errors.Is(err, ErrNotFound):
			s.log.Info("a waiting login move cannot take effect: dropped", "account_id", m.AccountID, "reason", err)
			drop := AuditEntry{ID: newID(), TS: now, ActorID: m.RequestedBy, ActorRole: RoleClerk, Action: "account_login_move_cancelled",
				Target: "account:" + m.AccountID, HospitalID: m.HospitalID,
				Reason: "the login move to " + m.To.Masked + " was dropped when due: the number is another account's login now, or the account closed"}
			if err := s.store.CancelLoginMove(ctx, m.AccountID, drop, Notification{}); err != nil && !errors.Is(err, ErrNoChange) {
				failed = fmt.Errorf("drop the login move of account %s: %w", m.AccountID, err)
			}
			continue
		case err != nil:
			failed = fmt.Errorf("complete the login move of account %s: %w", m.AccountID, err)
			continue
		}
		s.noteRevocation(Revocation{AccountID: m.AccountID, Generation: gen, At: now})
		n++
	}
	return n, failed
}
