package booking_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/cockroach"
	"fairslot/internal/testenv"
)

// TestClosingKeepsTheLateRules (review18b M5): closing an account is no
// way around the late-cancellation rules. A booking the closing cancels
// after the hospital's deadline is late, as the patient's own
// cancellation would be, and counts for the person; one before it is not.
// A blocked account is not closed while its block is in force (its number
// would be free for a new, unblocked account), and nothing is cancelled.
// A lottery entry still entered is withdrawn, its quota given back.
func TestClosingKeepsTheLateRules(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	tomorrow := h.deskSession(deskOpts{day: 0, dept: "Cardiology", online: 5})
	later := h.deskSession(deskOpts{day: 1, dept: "Cardiology", online: 5})
	draw := h.lotterySession(lotteryOpts{online: 2, dept: "Neurology"})
	db := h.sql()
	hosp, err := h.svc.Hospital(h.hosp.ID)
	testenv.Must(t, err, "hospital")
	deadline := hosp.LateAfter(tomorrow.VisitDate)

	// An entry in a draw not yet drawn: withdrawn by the closing.
	entrant := h.user(1)
	e := h.mustEnter(entrant, 0, draw)
	got, err := h.closeOnline(entrant)
	testenv.Must(t, err, "close the entrant's account")
	if got.Entries != 1 || got.Bookings != 0 {
		t.Errorf("the entrant's closing = %+v, want 1 lottery entry withdrawn", got)
	}
	db.wantCount("the entrant's entry withdrawn", 1, `SELECT count(*) FROM lottery_entries WHERE id = $1 AND status = 'withdrawn'`, e.ID)

	u := h.user(2)
	late := h.mustBook(u, 0, tomorrow, "")
	early := h.mustBook(u, 1, later, "")
	_, err = db.pool.Exec(h.ctx, `UPDATE accounts SET blocked = true, blocked_until = NULL WHERE id = $1`, u.actor.AccountID)
	testenv.Must(t, err, "block the account")
	defer h.clock.at(deadline.Add(time.Hour))()
	_, err = h.closeOnline(u)
	if !errors.Is(err, booking.ErrAccountBlocked) {
		t.Errorf("close a blocked account: %v, want account_blocked", err)
	}
	db.wantCount("bookings of the blocked account still confirmed", 2,
		`SELECT count(*) FROM bookings WHERE account_id = $1 AND status = 'confirmed'`, u.actor.AccountID)
	_, err = db.pool.Exec(h.ctx, `UPDATE accounts SET blocked = false WHERE id = $1`, u.actor.AccountID)
	testenv.Must(t, err, "lift the block")

	if _, err := h.svc.CloseAccount(h.ctx, u.actor, booking.CloseAccountRequest{Password: "not the password"}, booking.Origin{}); !errors.Is(err, booking.ErrBadCredentials) {
		t.Errorf("close with a wrong password: %v, want invalid_credentials", err)
	}
	tok, err := h.svc.Login(h.ctx, u.phone, password, booking.Origin{})
	testenv.Must(t, err, "log in before the closing")
	got, err = h.closeOnline(u)
	testenv.Must(t, err, "close the account after the deadline")
	if got.Bookings != 2 || got.LateBookings != 1 {
		t.Errorf("the closing = %+v, want 2 bookings cancelled, 1 of them late", got)
	}
	for _, tc := range []struct {
		name string
		id   string
		late bool
	}{{"tomorrow's, after the deadline", late.ID, true}, {"the day after's", early.ID, false}} {
		b, err := h.store.Booking(h.ctx, tc.id)
		testenv.Must(t, err, "read booking")
		if b.Status != booking.StatusCancelled || b.LateCancel != tc.late {
			t.Errorf("%s booking: status %s, late %v; want cancelled, late %v", tc.name, b.Status, b.LateCancel, tc.late)
		}
	}
	if _, err := h.svc.Authenticate([]byte(tok.Token)); err == nil {
		t.Errorf("a token of the closed account authenticates")
	}
	if _, err := h.svc.Login(h.ctx, u.phone, password, booking.Origin{}); !errors.Is(err, booking.ErrBadCredentials) {
		t.Errorf("login to the closed account: %v, want invalid_credentials", err)
	}
}

// closeOnline asks for u's closing with the password, then completes it as
// the job does once its cooling-off is over (the clock past its due time,
// then back); it answers the request's ClosedAccount.
func (h *harness) closeOnline(u user) (booking.ClosedAccount, error) {
	h.t.Helper()
	got, err := h.svc.CloseAccount(h.ctx, u.actor, booking.CloseAccountRequest{Password: password}, booking.Origin{})
	if err != nil {
		return got, err
	}
	if !got.Pending || got.DueAt.IsZero() {
		h.t.Fatalf("an online closing = %+v, want pending with its due time", got)
	}
	was := h.clock.offset.Load()
	defer h.clock.offset.Store(was)
	h.clock.set(got.DueAt.Add(time.Minute))
	if _, err := h.svc.CompleteClosings(h.ctx); err != nil {
		return got, err
	}
	return got, nil
}

// closingRace closes the account (through the service, as a desk or the
// holder would) just before a password or phone change already past its
// password check writes, as a closing landing during the change's hashing.
type closingRace struct {
	*cockroach.Store
	before atomic.Pointer[func()]
}

func (c *closingRace) fire() {
	if f := c.before.Swap(nil); f != nil {
		(*f)()
	}
}

func (c *closingRace) RevokeTokens(ctx context.Context, accountID, hash string, at time.Time) (int, error) {
	c.fire()
	return c.Store.RevokeTokens(ctx, accountID, hash, at)
}

func (c *closingRace) ChangeAccountPhone(ctx context.Context, accountID string, to booking.AccountPhone, at time.Time, a booking.AuditEntry) (int, error) {
	c.fire()
	return c.Store.ChangeAccountPhone(ctx, accountID, to, at, a)
}

// TestClosedAccountStaysClosed (review19c H1): a password or phone change
// already running when the account is closed writes nothing onto the
// closed account and mints no token; a change asked after the closing is
// refused; a closed row that somehow has a login number and password
// again still logs nobody in.
func TestClosedAccountStaysClosed(t *testing.T) {
	race := &closingRace{}
	h := newHarness(t, harnessConfig{wrap: func(s *cockroach.Store) booking.Store { race.Store = s; return race }})
	db := h.sql()
	closeFirst := func(u user) {
		f := func() {
			_, err := h.closeOnline(u)
			testenv.Must(t, err, "close the account during the change")
		}
		race.before.Store(&f)
	}

	u := h.user(1)
	closeFirst(u)
	tok, err := h.svc.ChangePassword(h.ctx, u.actor, booking.ChangePasswordRequest{Current: password, New: "an0ther-passw0rd!"}, booking.Origin{})
	if !errors.Is(err, booking.ErrInvalidToken) || tok.Token != "" {
		t.Errorf("a password change racing the closing: token %q, %v; want no token, invalid_token", tok.Token, err)
	}
	if tok.Token != "" {
		if _, err := h.svc.Authenticate([]byte(tok.Token)); err == nil {
			t.Errorf("the token minted onto the closed account authenticates")
		}
	}
	db.wantCount("the closed account's password still empty", 1, `SELECT count(*) FROM accounts WHERE id = $1 AND password_hash = '' AND closed_at IS NOT NULL`, u.actor.AccountID)

	v := h.user(1)
	closeFirst(v)
	newPhone := h.phone()
	tok, err = h.svc.ChangePhone(h.ctx, v.actor, booking.ChangePhoneRequest{Phone: newPhone, Password: password}, booking.Origin{})
	if !errors.Is(err, booking.ErrInvalidToken) || tok.Token != "" {
		t.Errorf("a phone change racing the closing: token %q, %v; want no token, invalid_token", tok.Token, err)
	}
	db.wantCount("the closed account's number still the tombstone", 1, `SELECT count(*) FROM accounts WHERE id = $1 AND phone_sealed = ''::BYTEA AND closed_at IS NOT NULL`, v.actor.AccountID)
	if _, err := h.svc.Login(h.ctx, newPhone, password, booking.Origin{}); !errors.Is(err, booking.ErrBadCredentials) {
		t.Errorf("login with the number the racing change wrote: %v, want invalid_credentials", err)
	}

	// Asked after the closing (a session token still in hand): refused.
	if _, err := h.svc.ChangePassword(h.ctx, u.actor, booking.ChangePasswordRequest{Current: password, New: "an0ther-passw0rd!"}, booking.Origin{}); !errors.Is(err, booking.ErrInvalidToken) {
		t.Errorf("a password change after the closing: %v, want invalid_token", err)
	}
	if _, err := h.svc.ChangePhone(h.ctx, v.actor, booking.ChangePhoneRequest{Phone: h.phone(), Password: password}, booking.Origin{}); !errors.Is(err, booking.ErrInvalidToken) {
		t.Errorf("a phone change after the closing: %v, want invalid_token", err)
	}
	if err := h.svc.Logout(h.ctx, u.actor); err != nil {
		t.Errorf("a logout after the closing: %v, want nothing to do", err)
	}

	// A closed row with a number and the password again (as the racing
	// writes left one before this fix): the login refuses it all the same.
	w := h.user(1)
	_, err = h.closeOnline(w)
	testenv.Must(t, err, "close w")
	x := h.user(0)
	_, err = db.pool.Exec(h.ctx, `UPDATE accounts SET phone_hash = phone_hash || '\x00'::BYTEA WHERE id = $1`, x.actor.AccountID)
	testenv.Must(t, err, "move x's number aside")
	_, err = db.pool.Exec(h.ctx, `UPDATE accounts SET phone_hash = substring(x.phone_hash FROM 1 FOR length(x.phone_hash) - 1),
		password_hash = x.password_hash FROM accounts x WHERE accounts.id = $1 AND x.id = $2`, w.actor.AccountID, x.actor.AccountID)
	testenv.Must(t, err, "give the closed row x's number and password")
	if _, err := h.svc.Login(h.ctx, x.phone, password, booking.Origin{}); !errors.Is(err, booking.ErrBadCredentials) {
		t.Errorf("login to a closed row with a number and password: %v, want invalid_credentials", err)
	}
}

// TestAccountUnderReviewIsNotClosed (review19c M3): an account an open
// scalper flag names is not closed (its number freed for a clean new
// account, the block the administrator confirms later landing on a closed
// row): account_under_review, nothing cancelled; once the flag is decided
// (here dismissed) it closes.
func TestAccountUnderReviewIsNotClosed(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	later := h.deskSession(deskOpts{day: 1, dept: "Cardiology", online: 5})
	db := h.sql()
	u := h.user(1)
	b := h.mustBook(u, 0, later, "")
	_, err := db.pool.Exec(h.ctx, `INSERT INTO flags (id, score, status, reasons, account_ids, patient_ids, created_at, updated_at)
		VALUES ('flag-review-'||$1, 0.9, 'open', '[]', jsonb_build_array($1::TEXT), '[]', now(), now())`, u.actor.AccountID)
	testenv.Must(t, err, "flag the account")
	_, err = h.closeOnline(u)
	if !errors.Is(err, booking.ErrAccountUnderReview) {
		t.Errorf("close an account under review: %v, want account_under_review", err)
	}
	got, err := h.store.Booking(h.ctx, b.ID)
	testenv.Must(t, err, "read booking")
	if got.Status != booking.StatusConfirmed {
		t.Errorf("the booking of the account under review: %s, want still confirmed", got.Status)
	}
	db.wantCount("the account under review still open", 1, `SELECT count(*) FROM accounts WHERE id = $1 AND closed_at IS NULL`, u.actor.AccountID)

	_, err = db.pool.Exec(h.ctx, `UPDATE flags SET status = 'dismissed', decided_at = now() WHERE id = 'flag-review-'||$1`, u.actor.AccountID)
	testenv.Must(t, err, "dismiss the flag")
	if _, err := h.closeOnline(u); err != nil {
		t.Errorf("close once the flag is dismissed: %v", err)
	}
}

// TestDeskClosingNamesTheClerk (review19c M5): a closing at the desk
// cancels in the clerk's name, not as the patient's own cancellations:
// every cancellation event carries the clerk (staff_id) and the reason
// account_closed_at_desk (a late one still reads as late), so detection
// links the clerk to the slots the closing freed.
func TestDeskClosingNamesTheClerk(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	tomorrow := h.deskSession(deskOpts{day: 0, dept: "Cardiology", online: 5})
	later := h.deskSession(deskOpts{day: 1, dept: "Cardiology", online: 5})
	hosp, err := h.svc.Hospital(h.hosp.ID)
	testenv.Must(t, err, "hospital")
	clerk := h.staff(booking.RoleClerk)
	card := h.person("李娜")
	u := h.userOf(card)
	h.mustBook(u, 0, tomorrow, "")
	h.mustBook(u, 0, later, "")
	defer h.clock.at(hosp.LateAfter(tomorrow.VisitDate).Add(time.Hour))()

	got, err := h.svc.CloseAccountAtDesk(h.ctx, clerk, booking.DeskCloseRequest{IdentityRequest: card})
	testenv.Must(t, err, "close at the desk")
	if got.Bookings != 2 || got.LateBookings != 1 {
		t.Errorf("the desk's closing = %+v, want 2 bookings cancelled, 1 late", got)
	}
	h.sql().wantCount("cancellations in the clerk's name", 2, `SELECT count(*) FROM booking_events
		WHERE type = 'cancelled' AND account_id = $1 AND staff_id = $2 AND reason LIKE 'account_closed_at_desk%'`, u.actor.AccountID, clerk.AccountID)
	h.sql().wantCount("the late one still late", 1, `SELECT count(*) FROM booking_events
		WHERE type = 'cancelled' AND account_id = $1 AND reason = 'account_closed_at_desk:late'`, u.actor.AccountID)
	h.sql().wantCount("cancellations without the clerk", 0, `SELECT count(*) FROM booking_events
		WHERE type = 'cancelled' AND account_id = $1 AND staff_id IS NULL`, u.actor.AccountID)
}

// TestDeskClosingOfATakenAccountIsNotLate (review19c M4): a clerk closing
// an account whose login someone took, and saying so (a reason), cancels
// its bookings without penalty, as a confirmed flag's cancellations are:
// the late one is not late (no no-show of the victim), the reason is on
// every cancellation and in the audit. Without the reason the late rules
// stand (TestDeskClosingNamesTheClerk).
func TestDeskClosingOfATakenAccountIsNotLate(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	tomorrow := h.deskSession(deskOpts{day: 0, dept: "Cardiology", online: 5})
	later := h.deskSession(deskOpts{day: 1, dept: "Cardiology", online: 5})
	hosp, err := h.svc.Hospital(h.hosp.ID)
	testenv.Must(t, err, "hospital")
	clerk := h.staff(booking.RoleClerk)
	card := h.person("李娜")
	u := h.userOf(card)
	h.mustBook(u, 0, tomorrow, "")
	h.mustBook(u, 0, later, "")
	defer h.clock.at(hosp.LateAfter(tomorrow.VisitDate).Add(time.Hour))()

	got, err := h.svc.CloseAccountAtDesk(h.ctx, clerk, booking.DeskCloseRequest{IdentityRequest: card, TakenReason: "登录号码被改为陌生号码"})
	testenv.Must(t, err, "close a taken account at the desk")
	if got.Bookings != 2 || got.LateBookings != 0 {
		t.Errorf("the desk's closing of a taken account = %+v, want 2 bookings cancelled, none late", got)
	}
	db := h.sql()
	db.wantCount("late cancellations of the taken account", 0, `SELECT count(*) FROM bookings WHERE account_id = $1 AND late_cancel`, u.actor.AccountID)
	db.wantCount("cancellations in the clerk's name, as taken", 2, `SELECT count(*) FROM booking_events
		WHERE type = 'cancelled' AND account_id = $1 AND staff_id = $2 AND reason = 'account_closed_at_desk:taken'`, u.actor.AccountID, clerk.AccountID)
	db.wantCount("the audit names the reason", 1, `SELECT count(*) FROM audit_log
		WHERE action = 'account_closed' AND target = 'account:' || $1 AND strpos(reason, '登录号码被改为陌生号码') > 0`, u.actor.AccountID)
}

// TestClosingCancelsEveryFutureBooking (review19c L5): the closing read the
// account's bookings through the list the patient's page reads (newest
// 500): an account with 500 newer bookings in its history kept its older
// future booking confirmed after the closing. The closing reads the
// account's future confirmed bookings only, however long its history.
func TestClosingCancelsEveryFutureBooking(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	later := h.deskSession(deskOpts{day: 1, dept: "Cardiology", online: 5})
	u := h.user(1)
	b := h.mustBook(u, 0, later, "")
	db := h.sql()
	// 500 newer bookings in the account's history, all cancelled.
	_, err := db.pool.Exec(h.ctx, `INSERT INTO bookings
		SELECT (jsonb_populate_record(b, jsonb_build_object('id', gen_random_uuid(), 'status', 'cancelled',
		        'idempotency_key', 'history-' || g, 'cancelled_at', b.created_at + g * interval '1 second',
		        'created_at', b.created_at + g * interval '1 second'))).*
		  FROM bookings b, generate_series(1, 500) g WHERE b.id = $1`, b.ID)
	testenv.Must(t, err, "write the account's history")

	got, err := h.closeOnline(u)
	testenv.Must(t, err, "close")
	if got.Bookings != 1 {
		t.Errorf("the closing cancelled %d bookings, want 1", got.Bookings)
	}
	db.wantCount("the future booking cancelled", 1, `SELECT count(*) FROM bookings WHERE id = $1 AND status = 'cancelled'`, b.ID)
}

// TestClosingDoesNotCloseABlockedAccount (review19c L1): the closing's
// write itself refuses an account blocked since it was read (a block
// confirmed during the first sweep): the account stays open, its number
// its own.
func TestClosingDoesNotCloseABlockedAccount(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	u := h.user(1)
	db := h.sql()
	_, err := db.pool.Exec(h.ctx, `UPDATE accounts SET blocked = true, blocked_until = NULL WHERE id = $1`, u.actor.AccountID)
	testenv.Must(t, err, "block the account")
	_, err = h.store.CloseAccount(h.ctx, u.actor.AccountID, []byte("tombstone-"+u.actor.AccountID), time.Now(), booking.ClosedBy{},
		booking.AuditEntry{ID: booking.NewID(), ActorID: u.actor.AccountID, ActorRole: booking.RolePatient, Action: "account_closed", Target: "account:" + u.actor.AccountID})
	if !errors.Is(err, booking.ErrAccountBlocked) {
		t.Errorf("close a blocked account: %v, want account_blocked", err)
	}
	db.wantCount("the blocked account still open", 1, `SELECT count(*) FROM accounts WHERE id = $1 AND closed_at IS NULL`, u.actor.AccountID)
}

// TestClosedAccountsAreSweptAgain (session 19's note "sweep after closing
// not retried"): a booking the closed account made that the closing's
// second sweep did not cancel (it committed between the two sweeps, and
// the second failed) stayed confirmed, logged for the desk. The periodic
// job (closed accounts) sweeps closed accounts again until nothing they
// made is left, and answers how many it cancelled.
func TestClosedAccountsAreSweptAgain(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	later := h.deskSession(deskOpts{day: 1, dept: "Cardiology", online: 5})
	u := h.user(1)
	b := h.mustBook(u, 0, later, "")
	got, err := h.closeOnline(u)
	testenv.Must(t, err, "close")
	if got.Bookings != 1 {
		t.Fatalf("the closing cancelled %d bookings, want 1", got.Bookings)
	}
	// What a failed second sweep leaves: the booking still confirmed.
	h.sweptAgain(b.ID)
	if n, err := h.svc.SweepClosedAccounts(h.ctx); err != nil || n != 0 {
		t.Errorf("a second sweep: %d, %v; want nothing left", n, err)
	}
}

// sweptAgain puts a booking a closing cancelled back as confirmed in SQL
// (what a closing's sweep that failed leaves, or a booking another
// instance took) and checks that the job "closed accounts" cancels it, and
// nothing else.
func (h *harness) sweptAgain(id string) {
	h.t.Helper()
	db := h.sql()
	_, err := db.pool.Exec(h.ctx, `UPDATE bookings SET status = 'confirmed', cancelled_at = NULL, late_cancel = false WHERE id = $1`, id)
	testenv.Must(h.t, err, "leave the booking as a failed sweep would")
	n, err := h.svc.SweepClosedAccounts(h.ctx)
	testenv.Must(h.t, err, "sweep closed accounts")
	if n != 1 {
		h.t.Errorf("the job cancelled %d, want the 1 left", n)
	}
	db.wantCount("the booking left cancelled by the job", 1, `SELECT count(*) FROM bookings WHERE id = $1 AND status = 'cancelled'`, id)
}
