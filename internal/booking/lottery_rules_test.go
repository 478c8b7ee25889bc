package booking_test

import (
	"testing"
	"time"

	"fairslot/internal/booking"
)

// Unit tests of lottery entries' rules over the fakes (world,
// rules_test.go): who may enter, the quota an entry holds from its
// admission, and its give-back on withdrawal. No Redis, no PostgreSQL. (The
// draw runs over the real servers: lottery_test.go.)

// lotterySession publishes a morning session of dept on date whose n
// online slots are a lottery taking entries from opens to draws, its seed
// committed, and returns its id.
func (w *world) lotterySession(date, dept string, n int, opens, draws time.Time) string {
	w.t.Helper()
	return w.publish(date, dept, map[booking.Channel]int{booking.ChannelOnline: n}, func(s *booking.Session) {
		q := &s.Channels[0]
		q.Mode, q.ReleaseAt, q.OpensAt, q.DrawAt = booking.Lottery, opens, opens, draws
		q.Draw = &booking.DrawRecord{Commitment: make([]byte, 32), Status: booking.DrawOpen}
	})
}

func (w *world) enter(p person, sessionID string) (booking.Result, error) {
	return w.svc.Attempt(w.ctx, p.actor, booking.BookRequest{SessionID: sessionID, PatientID: p.patient.ID, Channel: booking.ChannelOnline})
}

// An entry holds its person's quota from its admission, as a booking does:
// no booking of the same day and department meanwhile, no second entry in
// the draw; withdrawn, it gives the quota back at once.
func TestRuleLotteryEntryHoldsTheQuota(t *testing.T) {
	w := newWorld(t, booking.Policy{PerDay: 1, PerWeek: 8, PerMonth: 12}, booking.Config{})
	now := w.clock.Now()
	draw := w.lotterySession("2026-12-09", "cardio", 2, now.Add(-time.Hour), now.Add(2*time.Hour))
	first := w.session("2026-12-09", "derm", 2)
	p, q := w.person(), w.person()

	r, err := w.enter(p, draw)
	if err != nil || !r.Entered || r.Entry.Status != booking.EntryEntered {
		t.Fatalf("enter = %+v, %v; want an entry", r, err)
	}
	_, err = w.book(p, first)
	wantErr(t, "a booking the same day while the entry waits", err, booking.ErrQuotaDay)
	_, err = w.enter(p, draw)
	wantErr(t, "a second entry in the same draw", err, booking.ErrAlreadyEntered)
	_, err = w.book(q, draw)
	wantErr(t, "booking a lottery pool before its draw", err, booking.ErrLotteryOnly)

	e, err := w.svc.WithdrawEntry(w.ctx, p.actor, r.Entry.ID, booking.Origin{})
	if err != nil || e.Status != booking.EntryWithdrawn {
		t.Fatalf("withdraw = %s, %v; want withdrawn", e.Status, err)
	}
	if _, err := w.book(p, first); err != nil {
		t.Errorf("after the withdrawal, the day's quota = %v, want a booking", err)
	}
	_, err = w.svc.WithdrawEntry(w.ctx, p.actor, r.Entry.ID, booking.Origin{})
	wantErr(t, "withdrawing twice", err, booking.ErrEntryClosed)
	_, err = w.svc.WithdrawEntry(w.ctx, q.actor, r.Entry.ID, booking.Origin{})
	wantErr(t, "another account withdrawing the entry", err, booking.ErrEntryNotFound)
}

// Who may enter: the window must be open (before it: not released; from
// the draw time: the attempt is a booking, which waits for the draw), and a
// barred person is refused as at a booking.
func TestRuleLotteryEligibility(t *testing.T) {
	w := newWorld(t, booking.DefaultPolicy, booking.Config{})
	now := w.clock.Now()
	later := w.lotterySession("2026-12-10", "eye", 2, now.Add(time.Hour), now.Add(3*time.Hour))
	open := w.lotterySession("2026-12-09", "cardio", 2, now.Add(-time.Hour), now.Add(2*time.Hour))
	p, barred := w.person(), w.person()

	_, err := w.enter(p, later)
	wantErr(t, "before the window opens", err, booking.ErrNotReleased)
	if err := w.adm.Bar(w.ctx, []string{w.hospital.ID}, barred.patient.IdentityKey, now.Add(90*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	_, err = w.enter(barred, open)
	wantErr(t, "a barred person", err, booking.ErrPatientBarred)
	if r, err := w.enter(p, open); err != nil || !r.Entered {
		t.Fatalf("enter the open window = %+v, %v; want an entry", r, err)
	}
	w.clock.Set(now.Add(2 * time.Hour)) // the draw time: the window is closed, the draw not run
	r, err := w.enter(w.person(), open)
	if r.Entered {
		t.Errorf("an attempt at the draw time entered, want a booking attempt")
	}
	wantErr(t, "a booking attempt before the draw is done", err, booking.ErrNotReleased)
}
