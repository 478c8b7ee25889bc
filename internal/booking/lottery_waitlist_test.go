package booking_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/cockroach"
	"fairslot/internal/testenv"
)

// joinDuringDraw runs during once, as the draw puts its first loser on the
// waitlist: the moment a bot polling the waitlist from the draw time would
// find the pool's slots gone and the losers not all on the list yet.
type joinDuringDraw struct {
	booking.Store
	once   sync.Once
	during func()
}

func (j *joinDuringDraw) AddWaitlist(ctx context.Context, e booking.WaitlistEntry, ev booking.Event) (booking.WaitlistEntry, error) {
	if ev.Reason == "lottery" {
		j.once.Do(j.during)
	}
	return j.Store.AddWaitlist(ctx, e, ev)
}

// TestWaitlistClosedWhileTheDrawRuns: the losers who asked for the waitlist
// join it in drawn order, and nobody gets in front of them by joining while
// the draw books its winners and lists its losers (review11: a bot polling
// POST /v1/waitlist from the draw time joined at place 1, ahead of every
// loser, and so took the first returned slot). A join is refused until the
// pool is drawn; after it, it goes behind the losers, with waitlist rounds
// too (the losers have none: they are in line at once, the join is in a
// round that ends later).
func TestWaitlistClosedWhileTheDrawRuns(t *testing.T) {
	for _, round := range []time.Duration{0, testRound} {
		t.Run("round "+round.String(), func(t *testing.T) { testWaitlistClosedWhileTheDrawRuns(t, round) })
	}
}

func testWaitlistClosedWhileTheDrawRuns(t *testing.T, round time.Duration) {
	jd := &joinDuringDraw{}
	h := newHarness(t, harnessConfig{returnRound: round, wrap: func(s *cockroach.Store) booking.Store { jd.Store = s; return jd }})
	const slots, entrants = 2, 6
	s := h.lotterySession(lotteryOpts{online: slots, phoneFirst: 1})
	q, _ := s.Channel(booking.ChannelOnline)
	// The phone pool, first-come, is sold out: its waitlist takes callers.
	op := h.staff(booking.RoleOperator)
	_, err := h.staffBook(op, h.person("蒋琴"), s, booking.ChannelPhone, "13700002222")
	testenv.Must(t, err, "book the phone slot")
	users := h.users(entrants, 1)
	for i, u := range users {
		_, err := h.svc.Attempt(h.ctx, u.actor, booking.BookRequest{SessionID: s.ID, PatientID: u.patients[0].ID,
			Channel: booking.ChannelOnline, Waitlist: true, Origin: booking.Origin{IP: "203.0.113.9"}})
		testenv.Must(t, err, "enter %d", i)
	}
	bot := h.user(1)
	joinBot := func() (booking.WaitlistEntry, error) {
		return h.svc.JoinWaitlist(h.ctx, bot.actor, booking.JoinWaitlistRequest{SessionID: s.ID, PatientID: bot.patients[0].ID})
	}
	var duringErr, phoneErr error
	var during, phoned booking.WaitlistEntry
	jd.during = func() {
		during, duringErr = joinBot()
		phoned, phoneErr = h.svc.JoinWaitlistFor(h.ctx, op, booking.StaffWaitlistRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, IdentityRequest: h.person("韩梅"),
			SessionID: s.ID, CallerPhone: "13700003333"})
	}
	if n := h.drawAll(h.svc, s); n != 1 {
		t.Fatalf("drew %d pools, want 1", n)
	}
	if duringErr == nil {
		t.Errorf("a waitlist join while the draw listed its losers = %s; want refused", during.ID)
	}
	wantErr(t, "a waitlist join while the draw runs", duringErr, booking.ErrLotteryOnly)
	if phoneErr == nil {
		t.Errorf("a caller's waitlist join while the draw listed its losers = %s; want refused", phoned.ID)
	}
	wantErr(t, "a caller's waitlist join while the draw runs", phoneErr, booking.ErrLotteryOnly)

	defer h.clock.at(q.DrawAt.Add(5 * time.Second))()
	botEntry := during
	if duringErr != nil {
		botEntry, err = joinBot()
		testenv.Must(t, err, "join the waitlist once the pool is drawn")
	}
	if round > 0 {
		if botEntry.Position != 0 || botEntry.Ahead != entrants-slots || botEntry.RoundEndsAt.IsZero() {
			t.Errorf("the join after the draw = position %d, ahead %d, round end %s; want 0 (its round is open), %d (the losers), a round end",
				botEntry.Position, botEntry.Ahead, botEntry.RoundEndsAt, entrants-slots)
		}
		// Its round has ended when the slot comes back: it stays behind.
		defer h.clock.at(botEntry.RoundEndsAt.Add(time.Second))()
	}

	// A winner gives the slot back: it goes to the first loser in drawn
	// order, not to the bot.
	d := h.drawn(s)[0]
	var winner booking.Entry
	first := booking.Entry{Rank: entrants + 1}
	for _, e := range d.Entries {
		switch {
		case e.Status == booking.EntryWon && winner.ID == "":
			winner = e
		case e.Status == booking.EntryWaitlisted && e.Rank < first.Rank:
			first = e
		}
	}
	if winner.ID == "" || first.WaitlistID() == "" {
		t.Fatalf("draw %+v: want a winner and a waitlisted loser", d.Entries)
	}
	var owner booking.Actor
	for _, u := range users {
		if es, err := h.svc.Entries(h.ctx, u.actor); err == nil && len(es) == 1 && es[0].ID == winner.ID {
			owner = u.actor
		}
	}
	h.mustCancel(owner, winner.ID)
	if got := h.entry(first.WaitlistID()).Status; got != booking.WaitlistServed {
		t.Errorf("the first loser in drawn order (place %d) is %s after a winner cancelled; want served", first.Rank, got)
	}
	if got := h.entry(botEntry.ID).Status; got != booking.WaitlistWaiting {
		t.Errorf("the waitlist join after the draw is %s; want still waiting behind the losers", got)
	}
}

// TestLotterySlotsStayInTheDraw: from the seed's commitment until the draw,
// the slots of a lottery pool are promised to it, and an administrator who
// has seen the entries cannot move them to a first-come pool (review11: two
// of four slots moved to the desk's on-site pool mid-window, where a clerk
// books walk-ins first-come, and the draw gave out two). Once the pool is
// drawn, what it left moves as any free slot.
func TestLotterySlotsStayInTheDraw(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	admin := h.staff(booking.RoleAdmin)
	const slots = 4
	s := h.lotterySession(lotteryOpts{online: slots})
	q, _ := s.Channel(booking.ChannelOnline)
	u := h.user(1)
	h.mustEnter(u, 0, s)
	move := func() error {
		_, err := h.svc.MovePool(h.ctx, admin, booking.MovePoolRequest{SessionID: s.ID, From: booking.ChannelOnline,
			To: booking.ChannelOnsite, Count: 2, Reason: "desk is short"})
		return err
	}
	wantErr(t, "moving slots out of a lottery pool taking entries", move(), booking.ErrLotteryOnly)
	h.wantOnline(s, slots)
	if n := h.drawAll(h.svc, s); n != 1 {
		t.Fatalf("drew %d pools, want 1", n)
	}
	if d := h.drawn(s)[0]; d.Slots != slots || d.Winners != 1 {
		t.Errorf("the draw had %d slots and %d winners; want %d and 1", d.Slots, d.Winners, slots)
	}
	defer h.clock.at(q.DrawAt.Add(5 * time.Second))()
	testenv.Must(t, move(), "move what the draw left")
}
