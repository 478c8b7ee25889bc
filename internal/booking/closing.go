package booking

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"
	"unicode/utf8"
)

// Closing an account (docs/security.md, "Closing an account"). A patient
// closes their own account with the password, as a password change is
// proven; a registration clerk closes one for its holder (本人) who shows
// the ID card, as the desk's reset code is issued (deskHolder), found by
// its phone or by the card alone.
//
// What the account held ends; what the hospital's record is stays:
//   - the login number is free at once (its keyed hash gives way to a
//     tombstone): a new account registers it, and nothing finds the
//     closed one by it — a login with it is a wrong phone or password, as
//     for a number never registered;
//   - every token and device token ends, and the reset code goes;
//   - the list is released: every member removed, the self (bound or
//     claimed) no self, so another account may claim the person or the
//     desk bind them;
//   - the future bookings, waiting waitlist places and live lottery
//     entries the account made are cancelled under the rules of the
//     patient's own cancellation: a late one is late and counts as a
//     no-show of the person. Closing is no way around the late rules, and
//     the no-shows and bars stay with the person (the identity), not the
//     account;
//   - the person's record, past bookings, events, cases and the audit stay
//     under the retention rules as they are.
//
// A blocked account is not closed while its block is in force: its number
// would be free for a new, unblocked account of the same holder. Nor is an
// account an open scalper flag names (account_under_review), online or at
// the desk: the administrator decides the flag first, so a block it
// confirms lands on the live account, not a closed one whose number a new
// account already has (review19c M3).

// ClosingAfterChange is how long after a password or login-number change
// an online closing is refused (closing_too_soon): a phished password's
// taker changes both first, and the closing would make the taking final
// (review19c M6). Seven days is longer than a holder takes to notice they
// cannot log in, and a holder who wants out sooner closes at a desk with
// the card.
const ClosingAfterChange = 7 * 24 * time.Hour

// DefaultClosingCoolingOff is how long an online closing stays pending
// when the deployment does not say (FAIRSLOT_CLOSING_COOLING_OFF): a week,
// longer than a holder takes to notice they cannot log in.
const DefaultClosingCoolingOff = 7 * 24 * time.Hour

// ClosingPageSize is the most waiting places or lottery entries a closing
// reads at a time.
const ClosingPageSize = 200

// CloseAccountRequest is a holder closing their own account, with the
// password as proof that the holder, not a borrowed session, asks.
type CloseAccountRequest struct {
	Password string
	// DeviceToken: as ChangePasswordRequest's.
	DeviceToken string
}

// DeskCloseRequest is a clerk closing an account for its holder, who shows
// the ID card: the account is the phone's, or without one the card's
// person's own (deskHolder).
type DeskCloseRequest struct {
	IdentityRequest
	AccountPhone string
	// TakenReason: the clerk's word that someone took the login (moved it
	// to their number with a phished password), and how they know. The
	// closing then cancels without penalty, as a confirmed flag's
	// cancellations do: the late ones are not the holder's (review19c M4).
	// Empty: the holder's own closing, under the late rules.
	TakenReason string
}

// MaxTakenReason bounds a clerk's taken reason, in characters.
const MaxTakenReason = 200

// ClosedAccount is what a closing did.
type ClosedAccount struct {
	AccountID   string
	PhoneMasked string
	// What the account had made, cancelled by the closing.
	Bookings, Entries, Places int
	// LateBookings is how many of Bookings were cancelled after the
	// hospital's deadline: each counts as a no-show of its person.
	LateBookings int
	// Pending: the holder's online closing, asked for and not yet done;
	// it completes at DueAt unless its holder cancels it first.
	Pending bool
	DueAt   time.Time
}

// CloseAccount asks for the actor's own patient account's closing: the
// password is checked as at login (a wrong one counts as a failed login of
// the account's number, judged by the device token when there is one).
// The closing is pending for the cooling-off (Config.ClosingCoolingOff, 7
// days by default; review19c M6): at once, every token of the account
// ends (this one's too) and what it made is cancelled under the late rules
// of now; the account, its number, its list and its self stay until the
// job "pending closings" completes it (CompleteClosings). A login before
// then shows it, with the holder's 撤销注销 (CancelClosing); a change of
// the password or number cancels it. The answer is Pending, with its DueAt.
func (s *Service) CloseAccount(ctx context.Context, actor Actor, req CloseAccountRequest, o Origin) (ClosedAccount, error) {
	if actor.Role != RolePatient {
		return ClosedAccount{}, Errorf(ErrForbidden, "a staff account is disabled by its operator (fairslot staff disable), not closed")
	}
	a, err := s.reentered(ctx, actor, req.Password, req.DeviceToken, o)
	if err != nil {
		return ClosedAccount{}, err
	}
	if changed := a.CredentialsChangedAt; !changed.IsZero() && s.cfg.Now().Before(changed.Add(ClosingAfterChange)) {
		// A taker's first moves are the password and the number: the
		// closing that would make the taking final waits (review19c M6).
		return ClosedAccount{}, ErrClosingTooSoon
	}
	if err := s.closable(ctx, a); err != nil {
		return ClosedAccount{}, err
	}
	now := s.cfg.Now()
	due := now.Add(s.cfg.ClosingCoolingOff)
	out := ClosedAccount{AccountID: a.ID, PhoneMasked: a.PhoneMasked, Pending: true, DueAt: due}
	if !a.ClosingDueAt.IsZero() {
		// Pending already (its tokens ended then; this one raced it):
		// the first request's date stands.
		s.noteClosing(a.ID, true)
		out.DueAt = a.ClosingDueAt
		return out, nil
	}
	audit := AuditEntry{ID: newID(), TS: now, ActorID: a.ID, ActorRole: RolePatient, Action: "account_closing_requested",
		Target: "account:" + a.ID, Reason: "closing asked for by its holder, the password re-entered; every login ended; completes at " +
			due.UTC().Format(time.RFC3339) + " unless its holder cancels it"}
	gen, err := s.store.RequestClosing(ctx, a.ID, now, due, audit, closingNote(a.ID, now, due, true))
	switch {
	case errors.Is(err, ErrNoChange):
		// Closed, or pending, since it was read: read which.
		cur, rerr := s.store.AccountByID(ctx, a.ID)
		if rerr != nil || cur.Closed || cur.ClosingDueAt.IsZero() {
			return ClosedAccount{}, ErrInvalidToken
		}
		s.noteClosing(a.ID, true)
		out.DueAt = cur.ClosingDueAt
		return out, nil
	case err != nil:
		return ClosedAccount{}, err
	}
	s.noteRevocation(Revocation{AccountID: a.ID, Generation: gen, At: now})
	s.noteClosing(a.ID, true)
	// What the account made is cancelled now, under the late rules of
	// now: the slots go back to others at once, not a cooling-off later
	// when many would be late. A cancelled closing does not restore them.
	if err := s.cancelMadeBy(ctx, Actor{AccountID: a.ID, Role: RolePatient}, &out, o, time.Time{}); err != nil {
		// The request stands; the completion sweeps again what is left.
		s.log.Warn("cancel what a closing account made; its completion cancels the rest", "account_id", a.ID, "err", err)
	}
	return out, nil
}

// closable refuses a closing of a blocked account or one an open flag
// names: a block lands on a live account, its number still its own.
func (s *Service) closable(ctx context.Context, a Account) error {
	if a.Blocked {
		return Errorf(ErrAccountBlocked, "a blocked account is not closed while its block is in force: "+
			"its number would be free for a new account; it can be closed once the block ends or an appeal lifts it")
	}
	review, err := s.store.AccountUnderReview(ctx, a.ID)
	if err != nil {
		return err
	}
	if review {
		return Errorf(ErrAccountUnderReview, "an open scalper flag names this account: it is not closed, online or at the desk, "+
			"until an administrator decides the flag (a block confirmed then must land on a live account, its number still its own)")
	}
	return nil
}

// CancelClosing is the holder's 撤销注销: a signed-in patient cancels
// their account's pending closing (a login no longer does: it shows the
// closing, and the holder chooses). Audited as the holder's, and the
// account is told (a notification), as the request was. True when this
// call cancelled one; false when none was pending (done already, or never
// asked): the answer is the same, the account open and not closing.
func (s *Service) CancelClosing(ctx context.Context, actor Actor) (bool, error) {
	if actor.Role != RolePatient {
		return false, Errorf(ErrForbidden, "only a patient account has a closing to cancel")
	}
	a, err := s.store.AccountByID(ctx, actor.AccountID)
	if errors.Is(err, ErrNotFound) || err == nil && a.Closed {
		return false, ErrInvalidToken
	}
	if err != nil {
		return false, err
	}
	return s.cancelClosing(ctx, a, "its holder, signed in, cancelled it (撤销注销)")
}

// cancelClosing cancels the account's pending closing, audited as the
// holder's with how (by: the holder's button, or a change of the password
// or number, which is the holder back in), and tells the account. True
// when this call cancelled it.
func (s *Service) cancelClosing(ctx context.Context, a Account, by string) (bool, error) {
	if a.ClosingDueAt.IsZero() {
		s.noteClosing(a.ID, false)
		return false, nil
	}
	now := s.cfg.Now()
	audit := AuditEntry{ID: newID(), TS: now, ActorID: a.ID, ActorRole: RolePatient, Action: "account_closing_cancelled",
		Target: "account:" + a.ID, Reason: by + "; the closing was due " + a.ClosingDueAt.UTC().Format(time.RFC3339)}
	err := s.store.CancelClosing(ctx, a.ID, audit, closingNote(a.ID, now, a.ClosingDueAt, false))
	if errors.Is(err, ErrNoChange) {
		s.noteClosing(a.ID, false)
		return false, nil // completed or cancelled meanwhile
	}
	if err == nil {
		s.noteClosing(a.ID, false)
	}
	return err == nil, err
}

// Notification kinds of a holder's online closing: asked for (read at the
// next login, which shows the closing and its 撤销注销), and cancelled. Its
// completion writes none: the account, where notices are read, is gone.
const (
	NotificationClosingRequested = "account_closing_requested"
	NotificationClosingCancelled = "account_closing_cancelled"
)

// closingNote is the account's notice of its closing asked for (requested)
// or cancelled. The due time is told in the stand-in zone (China Standard
// Time): a patient account is of no one hospital.
func closingNote(accountID string, now, due time.Time, requested bool) Notification {
	day := due.In(StandInLocation()).Format("2006-01-02 15:04")
	n := Notification{ID: newID(), AccountID: accountID, CreatedAt: now}
	if requested {
		n.Kind = NotificationClosingRequested
		n.Body = "本账号已申请注销，将于 " + day + "（北京时间）生效：届时账号注销、手机号释放、就诊人移出账号。本账号办理的预约、候补和摇号报名已在申请时取消（截止时间后取消的计为爽约），撤销注销也不会恢复；注销生效前不能再预约。生效前登录后可随时撤销注销。如果不是您申请的，说明有人知道您的密码：请撤销注销并立即修改密码。 " +
			"This account was asked to close; the closing takes effect at " + day + " (Beijing time): the account closes, its number is freed and the people on it are released. " +
			"The bookings, waitlist places and lottery entries it made were cancelled at the request (past the deadline, as a no-show), and cancelling the closing does not restore them; until then it books nothing. " +
			"Until then you can cancel the closing once logged in. If you did not ask for it, someone knows your password: cancel the closing and change your password now."
		return n
	}
	n.Kind = NotificationClosingCancelled
	n.Body = "本账号的注销申请已撤销，账号照常使用（申请注销时已取消的预约不会恢复）。 " +
		"This account's closing was cancelled: the account stays (bookings cancelled when the closing was asked for are not restored)."
	return n
}

// backIn cancels the account's pending closing for a change with the
// password or the login number (a change, a reset with the desk's code):
// the holder is back, and a taker who changed them must not see the
// closing through (the change's 7 days then hold a new request back).
func (s *Service) backIn(ctx context.Context, accountID string) (bool, error) {
	a, err := s.store.AccountByID(ctx, accountID)
	if err != nil {
		return false, err
	}
	return s.cancelClosing(ctx, a, "a change of the password or the login number cancelled it (the holder is back in)")
}

// CompleteClosings completes the pending closings that are due (the job
// "pending closings"): each as its holder's closing (account_closed), what
// the request left made cancelled again first. One blocked, or named by an
// open flag, since its request stays pending and is tried at each run: it
// completes once the block ends or the flag is decided without one. It
// answers how many it closed.
func (s *Service) CompleteClosings(ctx context.Context) (int, error) {
	ids, err := s.store.ClosingsDue(ctx, s.cfg.Now())
	if err != nil {
		return 0, err
	}
	n := 0
	var failed error
	for _, id := range ids {
		a, err := s.store.AccountByID(ctx, id)
		if err == nil && (a.Closed || a.ClosingDueAt.IsZero()) {
			continue // completed or cancelled since the list was read
		}
		if err == nil {
			if err = s.closable(ctx, a); errors.Is(err, ErrAccountBlocked) || errors.Is(err, ErrAccountUnderReview) {
				s.log.Info("a pending closing waits for a block or a flag", "account_id", id, "reason", err)
				continue
			}
		}
		if err == nil {
			audit := AuditEntry{ID: newID(), ActorID: a.ID, ActorRole: RolePatient, Action: "account_closed",
				Target: "account:" + a.ID, Reason: "closed by its holder: asked for with the password, completed after the cooling-off (due " +
					a.ClosingDueAt.UTC().Format(time.RFC3339) + ") without being cancelled"}
			_, err = s.closeAccount(ctx, a, audit, Origin{})
		}
		switch {
		case errors.Is(err, ErrAccountBlocked):
			continue
		case err != nil:
			s.log.Warn("complete a pending closing; tried again at the next run", "account_id", id, "err", err)
			failed = fmt.Errorf("complete the closing of account %s: %w", id, err)
			continue
		}
		n++
	}
	return n, failed
}

// CloseAccountAtDesk closes a patient account for its holder, who shows
// the ID card at the registration desk (deskHolder checks it). Audited as
// the clerk's, in the clerk's hospital.
func (s *Service) CloseAccountAtDesk(ctx context.Context, actor Actor, req DeskCloseRequest) (ClosedAccount, error) {
	if actor.Role != RoleClerk {
		return ClosedAccount{}, Errorf(ErrForbidden, "only registration clerks close a patient's account, with the holder's ID card in hand")
	}
	taken := strings.TrimSpace(req.TakenReason)
	if utf8.RuneCountInString(taken) > MaxTakenReason {
		return ClosedAccount{}, FieldErrorf(ErrInvalidField, "taken_reason", "at most %d characters", MaxTakenReason)
	}
	card, err := s.resolve(req.IdentityRequest)
	if err != nil {
		return ClosedAccount{}, err
	}
	fact, err := s.cardOf(ctx, actor, req.IdentityRequest)
	if err != nil {
		return ClosedAccount{}, err
	}
	a, _, err := s.deskHolder(ctx, card, req.AccountPhone)
	if err != nil {
		return ClosedAccount{}, err
	}
	audit := AuditEntry{ID: newID(), ActorID: actor.AccountID, ActorRole: actor.Role, Action: "account_closed",
		Target: "account:" + a.ID, HospitalID: actor.HospitalID,
		Reason: "closed at the desk for its holder (本人), the ID card: " + fact.String()}
	if taken != "" {
		audit.Reason += "; the login taken, in the clerk's words: " + taken + "; cancelled without penalty"
	}
	// The cancellations are in the clerk's name (closedAtDesk), not the
	// patient's own: detection links the clerk to the slots freed.
	return s.closeAccount(ctx, a, audit, Origin{deskClosing: actor.AccountID, takenAtDesk: taken != ""})
}

// closeAccount cancels what the account made, then closes it in one
// transaction with audit, then cancels what raced in between. The first
// sweep runs while the account is still open: if it fails part way the
// account stays open, the answer is an error, and the same request again
// cancels the rest and closes it. After the close, no booking or entry of
// its members commits any more (the store refuses a removed member), and
// its tokens are ended; the second sweep cancels what committed between
// the two, and what it cannot is logged (the desk cancels it by hand).
func (s *Service) closeAccount(ctx context.Context, a Account, audit AuditEntry, o Origin) (ClosedAccount, error) {
	if err := s.closable(ctx, a); err != nil {
		return ClosedAccount{}, err
	}
	out := ClosedAccount{AccountID: a.ID, PhoneMasked: a.PhoneMasked}
	own := Actor{AccountID: a.ID, Role: RolePatient}
	if err := s.cancelMadeBy(ctx, own, &out, o, time.Time{}); err != nil {
		return out, err
	}
	members, err := s.store.Patients(ctx, a.ID)
	if err != nil {
		return out, err
	}
	now := s.cfg.Now()
	audit.Reason += fmt.Sprintf("; %d bookings (%d late), %d lottery entries and %d waitlist places cancelled; the login number freed",
		out.Bookings, out.LateBookings, out.Entries, out.Places)
	gen, err := s.store.CloseAccount(ctx, a.ID, s.keys.Hash("closed_account", a.ID), now, ClosedBy{ClerkID: o.deskClosing, Taken: o.takenAtDesk}, audit)
	switch {
	case errors.Is(err, ErrNoChange): // closed meanwhile by another request: its tokens ended then
	case errors.Is(err, ErrAccountBlocked):
		// Blocked since it was read (a flag confirmed during the sweep):
		// not closed; what the sweep cancelled stays cancelled (review19c L1).
		return out, Errorf(ErrAccountBlocked, "the account was blocked while it was being closed: it is not closed while its block is in force; "+
			"what was cancelled stays cancelled")
	case err != nil:
		return out, err
	default:
		s.noteRevocation(Revocation{AccountID: a.ID, Generation: gen, At: now})
	}
	for _, p := range members {
		p.Removed, p.IsSelf = true, false
		s.patients.put(p)
	}
	if err := s.cancelMadeBy(ctx, own, &out, o, time.Time{}); err != nil {
		s.log.Warn("cancel what a closed account made; the desk cancels the rest", "account_id", a.ID, "err", err)
	}
	return out, nil
}

// cancelMadeBy cancels, as the account's own, every confirmed booking of a
// session not yet started, every waiting waitlist place and every lottery
// entry still entered that the account made (before before, when it is not
// zero), and counts them into out. A
// booking whose session has started is left to the desk (the patient may
// still come). Bookings staff made for the account's self are the
// person's, not the account's, and are left as they are.
func (s *Service) cancelMadeBy(ctx context.Context, own Actor, out *ClosedAccount, o Origin, before time.Time) error {
	// made is whether x is the account's, made before before (zero: any time).
	made := func(account string, at time.Time) bool {
		return account == own.AccountID && (before.IsZero() || at.Before(before))
	}
	bs, err := s.store.FutureBookingsMadeBy(ctx, own.AccountID, s.cfg.Now())
	if err != nil {
		return err
	}
	for _, b := range bs {
		if !made(b.AccountID, b.CreatedAt) || b.Status != StatusConfirmed {
			continue
		}
		got, err := s.cancelBooking(ctx, own, b.ID, o)
		switch {
		case errors.Is(err, ErrBookingNotActive) || errors.Is(err, ErrSessionClosed):
			continue
		case err != nil:
			return fmt.Errorf("cancel booking %s: %w", b.ID, err)
		}
		out.Bookings++
		if got.LateCancel {
			out.LateBookings++
		}
	}
	// Every waiting place and live entry, page by page (review19c: the
	// list's newest 200 left older ones live on a long history).
	for after := ""; ; {
		ws, err := s.store.WaitingPlacesMadeBy(ctx, own.AccountID, after, s.cfg.ClosingPage)
		if err != nil {
			return err
		}
		for _, w := range ws {
			after = w.ID
			if !made(w.AccountID, w.CreatedAt) || w.Status != WaitlistWaiting {
				continue
			}
			err := s.LeaveWaitlist(ctx, own, w.ID, o)
			switch {
			case errors.Is(err, ErrWaitlistNotWaiting):
				continue
			case err != nil:
				return fmt.Errorf("leave waitlist place %s: %w", w.ID, err)
			}
			out.Places++
		}
		if len(ws) < s.cfg.ClosingPage {
			break
		}
	}
	for after := ""; ; {
		es, err := s.store.LiveEntriesMadeBy(ctx, own.AccountID, after, s.cfg.ClosingPage)
		if err != nil {
			return err
		}
		for _, e := range es {
			after = e.ID
			if !made(e.AccountID, e.CreatedAt) || e.Status != EntryEntered {
				continue
			}
			_, err := s.WithdrawEntry(ctx, own, e.ID, o)
			switch {
			case errors.Is(err, ErrEntryClosed):
				continue
			case err != nil:
				return fmt.Errorf("withdraw lottery entry %s: %w", e.ID, err)
			}
			out.Entries++
		}
		if len(es) < s.cfg.ClosingPage {
			break
		}
	}
	return nil
}

// closedSweepSince bounds how far back SweepClosedAccounts looks: further
// than any session is booked ahead, so nothing a closed account made and
// the closing left is out of its reach.
const closedSweepSince = 120 * 24 * time.Hour

// SweepClosedAccounts cancels, as each account's own, what closed accounts
// made and their closing left live (its second sweep failed, or the
// process died between the close and the sweep), and what accounts whose
// online closing is pending made and the request left (its sweep failed
// part way, or another instance took a booking within the second before it
// learnt of the request): the job "closed accounts" runs it until nothing
// is left, so a failed sweep is retried and a pending closing's slots go
// back to others within a minute, not at its completion, late.
// It answers how many bookings, places and entries it cancelled; an
// account it cannot finish now is logged and tried at the next run.
func (s *Service) SweepClosedAccounts(ctx context.Context) (int, error) {
	now := s.cfg.Now()
	left, err := s.store.ClosedAccountsLeft(ctx, now, now.Add(-closedSweepSince))
	if err != nil {
		return 0, err
	}
	n := 0
	var failed error
	for _, c := range left {
		var out ClosedAccount
		// As the closing itself would have: a desk closing's in its
		// clerk's name, a taken one without penalty; a pending one as its
		// request, the holder's own.
		o := Origin{deskClosing: c.ClerkID, takenAtDesk: c.ClerkID != "" && c.Taken}
		var before time.Time
		if c.Pending {
			// Still pending as of now (read again: the holder may have
			// cancelled it since the list was read); what the account
			// makes after now is the holder's, back in, and stays.
			before = s.cfg.Now()
			a, err := s.store.AccountByID(ctx, c.AccountID)
			if err != nil || a.Closed || a.ClosingDueAt.IsZero() {
				continue // gone, closed (the next run sweeps it as closed), or cancelled
			}
		}
		err := s.cancelMadeBy(ctx, Actor{AccountID: c.AccountID, Role: RolePatient}, &out, o, before)
		n += out.Bookings + out.Entries + out.Places
		if err != nil {
			s.log.Warn("sweep a closed account; tried again at the next run", "account_id", c.AccountID, "err", err)
			failed = fmt.Errorf("sweep closed account %s: %w", c.AccountID, err)
		}
	}
	return n, failed
}

// ClosedBy is who closed an account: the clerk of a desk closing (empty:
// its holder online) and whether the clerk said the login was taken.
type ClosedBy struct {
	AccountID string
	ClerkID   string
	Taken     bool
	// Pending: not closed yet, its holder's online closing pending
	// (ClosedAccountsLeft).
	Pending bool
}

// Refusing what a pending closing's account would make (session 24).
//
// During the cooling-off the account may still be signed in (a login shows
// the closing), but whatever it booked would be cancelled at the completion
// under the late rules, counting as its person's no-shows, and would hold a
// slot from other patients meanwhile. So its new bookings, lottery entries
// and waitlist places are refused (409 account_closing) until its holder
// cancels the closing; cancelling and viewing keep working. The check is a
// map lookup: the set is read every RevocationPoll and with the catalog, and
// this instance's own request, cancellation, login and account read set it
// at once. Another instance follows within that second: a booking there
// just after the request is cancelled by the job "closed accounts" within a
// minute (SweepClosedAccounts), as what a failed request's sweep left is,
// and one just after a cancellation is refused once more.

// closingRefused answers ErrAccountClosing for an account whose online
// closing is pending, as this instance knows.
func (s *Service) closingRefused(accountID string) error {
	if m := s.closing.Load(); m != nil && (*m)[accountID] {
		return Errorf(ErrAccountClosing, "this account's closing is pending: cancel the closing (撤销注销, DELETE /v1/me/close) to book, enter a draw or join a waitlist. "+
			"The bookings, waitlist places and lottery entries it made were cancelled when the closing was asked for (anything left is cancelled within a minute), "+
			"and cancelling the closing does not restore them; bookings staff made for its people stay, and can be viewed and cancelled")
	}
	return nil
}

// noteClosing records what this instance learnt of an account's closing:
// pending or not.
func (s *Service) noteClosing(accountID string, pending bool) {
	s.closingMu.Lock()
	defer s.closingMu.Unlock()
	cur := s.closing.Load()
	if cur != nil && (*cur)[accountID] == pending {
		return
	}
	m := map[string]bool{}
	if cur != nil {
		m = maps.Clone(*cur)
	}
	if pending {
		m[accountID] = true
	} else {
		delete(m, accountID)
	}
	s.closing.Store(&m)
}

// loadClosings reads every pending closing.
func (s *Service) loadClosings(ctx context.Context) error {
	ids, err := s.store.PendingClosings(ctx)
	if err != nil {
		return err
	}
	m := make(map[string]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	s.closingMu.Lock()
	s.closing.Store(&m)
	s.closingMu.Unlock()
	return nil
}
