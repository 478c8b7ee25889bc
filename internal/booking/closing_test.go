package booking_test

import (
	"errors"
	"testing"
	"time"

	"fairslot/internal/booking"
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
	got, err := h.svc.CloseAccount(h.ctx, entrant.actor, booking.CloseAccountRequest{Password: password}, booking.Origin{})
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
	_, err = h.svc.CloseAccount(h.ctx, u.actor, booking.CloseAccountRequest{Password: password}, booking.Origin{})
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
	got, err = h.svc.CloseAccount(h.ctx, u.actor, booking.CloseAccountRequest{Password: password}, booking.Origin{})
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
