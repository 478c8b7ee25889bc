package booking_test

import (
	"cmp"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// These tests drive the round a returned slot is held for the waitlist
// (waitlist.go, release.lua, place.lua) over real Redis and PostgreSQL. The
// clock is the Service's (the round's end is by it), moved, never slept on.

const testRound = 10 * time.Minute

// poll is a bot's POST /v1/bookings on s: each with a fresh Idempotency-Key,
// so none is answered from the sold-out memory.
func (h *harness) poll(bot user, s *booking.Session) error {
	h.t.Helper()
	_, err := h.book(bot, 0, s, "poll-"+strconv.FormatInt(h.seq.Add(1), 10))
	return err
}

// bookedEntry says which of the entries got a booking (-1: none).
func (h *harness) bookedEntry(entries []booking.WaitlistEntry) []int {
	h.t.Helper()
	var got []int
	for i, e := range entries {
		if b, err := h.store.Booking(h.ctx, e.ID); err == nil && b.Status == booking.StatusConfirmed {
			got = append(got, i)
		} else if err != nil && !errors.Is(err, booking.ErrBookingNotFound) {
			h.t.Fatalf("booking of entry %d: %v", i, err)
		}
	}
	return got
}

// A slot returned to an empty waitlist is held for the round: a bot polling
// the booking endpoint never gets it, a second slot returned during the
// round waits for it too (though someone is now in line), and at the end
// both go to joiners of the round.
func TestReturnedSlotIsHeldForTheWaitlistRound(t *testing.T) {
	h := newHarness(t, harnessConfig{returnRound: testRound})
	s := h.session(sessionOpts{online: 2})
	holderA, holderB, bot := h.user(1), h.user(1), h.user(1)
	a, b := h.mustBook(holderA, 0, s, ""), h.mustBook(holderB, 0, s, "")
	t0 := time.Now()
	defer h.clock.reset()
	h.clock.set(t0)

	h.mustCancel(holderA.actor, a.ID)
	if got := h.delayedOf(s); len(got) != 1 || got[0].SlotNo != a.SlotNo {
		t.Fatalf("held slots after the cancellation = %+v, want slot %d", got, a.SlotNo)
	}
	var entries []booking.WaitlistEntry
	for i, at := range []time.Duration{0, time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute, 9*time.Minute + 59*time.Second} {
		h.clock.set(t0.Add(at))
		h.placeReturned()
		wantErr(t, "a bot polling "+at.String()+" into the round", h.poll(bot, s), booking.ErrSoldOut)
		h.wantOnline(s, 0)
		if i == 1 || i == 2 || i == 4 {
			entries = append(entries, h.join(h.user(1), s))
		}
		if i == 3 {
			// A second slot comes back while someone is in line: it is held
			// for the round as well, not handed to the first who joined.
			h.mustCancel(holderB.actor, b.ID)
			if got := h.bookedEntry(entries); len(got) != 0 {
				t.Fatalf("entries booked during the round: %v, want none", got)
			}
			if got := h.delayedOf(s); len(got) != 2 {
				t.Fatalf("held slots after the second cancellation = %+v, want 2", got)
			}
		}
	}
	h.clock.set(t0.Add(testRound + time.Second))
	h.placeReturned()
	wantErr(t, "the bot after the round", h.poll(bot, s), booking.ErrSoldOut)
	if got := h.bookedEntry(entries); len(got) != 2 {
		t.Fatalf("entries booked after the round: %v, want two of the three joiners", got)
	}
	if got := h.delayedOf(s); len(got) != 0 {
		t.Errorf("held slots after the round = %+v, want none", got)
	}
	h.checkClean()
}

// Within a round nobody is first: the slot is drawn among everyone who
// joined. Over many rounds the first to join does not always win (with
// three joiners a round, the chance that they would is 3^-15).
func TestReturnedSlotIsDrawnAmongTheRound(t *testing.T) {
	h := newHarness(t, harnessConfig{returnRound: testRound})
	s := h.session(sessionOpts{online: 1})
	holder := h.user(1)
	held := h.mustBook(holder, 0, s, "")
	at := time.Now()
	defer h.clock.reset()
	const rounds = 15
	wins := [3]int{}
	for r := range rounds {
		h.clock.set(at)
		h.mustCancel(holder.actor, held.ID)
		var joiners []user
		var entries []booking.WaitlistEntry
		for i := range 3 {
			h.clock.set(at.Add(time.Duration(i+1) * time.Minute))
			u := h.user(1)
			joiners = append(joiners, u)
			entries = append(entries, h.join(u, s))
		}
		at = at.Add(testRound + time.Second)
		h.clock.set(at)
		h.placeReturned()
		got := h.bookedEntry(entries)
		if len(got) != 1 {
			t.Fatalf("round %d: booked entries %v, want one", r, got)
		}
		w := got[0]
		wins[w]++
		// The others leave; the winner's booking is the next round's return.
		for i, e := range entries {
			if i != w {
				testenv.Must(t, h.svc.LeaveWaitlist(h.ctx, joiners[i].actor, e.ID, booking.Origin{}), "leave")
			}
		}
		holder, held = joiners[w], h.stored(entries[w].ID)
		at = at.Add(time.Minute)
	}
	t.Logf("wins by order of joining: %v", wins)
	if wins[0] == rounds {
		t.Errorf("the first to join won all %d rounds: the draw favours speed", rounds)
	}
	h.checkClean()
}

// Nobody joins during the round: the slot rejoins the pool only after the
// round (and the random delay, here none), and a bot polling meanwhile gets
// nothing; with a delay, the slot waits it out from the round's end.
func TestReturnedSlotNobodyAskedForGoesToThePoolAfterTheRound(t *testing.T) {
	h := newHarness(t, harnessConfig{returnRound: testRound})
	s := h.session(sessionOpts{online: 1})
	holder, bot := h.user(1), h.user(1)
	b := h.mustBook(holder, 0, s, "")
	t0 := time.Now()
	defer h.clock.reset()
	h.clock.set(t0)
	h.mustCancel(holder.actor, b.ID)
	h.placeReturned()
	wantErr(t, "polling right after the cancellation", h.poll(bot, s), booking.ErrSoldOut)
	h.clock.set(t0.Add(testRound - time.Second))
	h.placeReturned()
	wantErr(t, "polling just before the round's end", h.poll(bot, s), booking.ErrSoldOut)
	h.clock.set(t0.Add(testRound + time.Second))
	h.placeReturned()
	if err := h.poll(bot, s); err != nil {
		t.Errorf("polling after the round (no delay): %v, want the slot", err)
	}
	h.checkClean()

	t.Run("with a delay", func(t *testing.T) {
		h := newHarness(t, harnessConfig{returnRound: testRound, returnDelay: 5 * time.Minute})
		s := h.session(sessionOpts{online: 1})
		holder, bot := h.user(1), h.user(1)
		b := h.mustBook(holder, 0, s, "")
		defer h.clock.reset()
		h.clock.set(t0)
		h.mustCancel(holder.actor, b.ID)
		keys := h.prefix + ":{" + s.HospitalID + "}:"
		mark := "slot:" + strconv.Itoa(b.SlotNo)
		if held, _ := h.rdb.HExists(h.ctx, keys+"s:"+s.ID+":round", mark).Result(); !held {
			t.Fatalf("the returned slot is not held for the round")
		}
		h.clock.set(t0.Add(testRound + time.Second))
		before := time.Now()
		h.placeReturned()
		wantErr(t, "polling once the round is over", h.poll(bot, s), booking.ErrSoldOut)
		h.wantOnline(s, 0)
		// The random delay runs by Redis's clock from the round's end.
		due, err := h.rdb.ZScore(h.ctx, keys+"delayed", s.ID+"|"+strconv.Itoa(b.SlotNo)+"|"+string(booking.ChannelOnline)).Result()
		testenv.Must(t, err, "the slot's due time")
		if low := before.Add(5*time.Minute - time.Second).UnixMilli(); int64(due) < low {
			t.Errorf("due at %d, want the random delay after the round (at least %d)", int64(due), low)
		}
		if held, _ := h.rdb.HExists(h.ctx, keys+"s:"+s.ID+":round", mark).Result(); held {
			t.Errorf("the slot is still marked held for the round")
		}
		h.checkClean()
	})
}

// refIDs lists the entries' ids.
func refIDs(refs []booking.WaitlistRef) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = r.ID
	}
	return out
}

// The line is by round, then by each join's random key: a join in a later
// round stays behind every join of an earlier one, however early in its
// round it came; while a round is open nobody is told a place in it, only
// who is ahead and when it is drawn. SQL keeps what decides the order, so
// reconciliation rebuilds the same line, open round included.
func TestWaitlistIsByRoundThenDrawn(t *testing.T) {
	h := newHarness(t, harnessConfig{returnRound: testRound})
	s := h.session(sessionOpts{online: 1})
	holder := h.user(1)
	held := h.mustBook(holder, 0, s, "")
	t0 := time.Now().Truncate(time.Millisecond)
	defer h.clock.frozen.Store(0)

	join := func(at time.Duration) (user, booking.WaitlistEntry) {
		t.Helper()
		u := h.user(1)
		h.clock.freeze(t0.Add(at))
		return u, h.join(u, s)
	}
	type joined struct {
		u user
		e booking.WaitlistEntry
	}
	var first, second []joined
	for _, at := range []time.Duration{0, 5 * time.Minute, 9*time.Minute + 59*time.Second} {
		u, e := join(at)
		first = append(first, joined{u, e})
	}
	for _, at := range []time.Duration{10*time.Minute + time.Millisecond, 15 * time.Minute} {
		u, e := join(at)
		second = append(second, joined{u, e})
	}
	end1, end2 := t0.Add(testRound), t0.Add(2*testRound)
	for i, j := range first {
		if !j.e.RoundEndsAt.Equal(end1) || j.e.Position != 0 || j.e.Ahead != 0 || j.e.InRound != i+1 {
			t.Errorf("join %d of round 1 = round end %s, position %d, ahead %d, in round %d; want %s, 0 (not known yet), 0, %d",
				i, j.e.RoundEndsAt, j.e.Position, j.e.Ahead, j.e.InRound, end1, i+1)
		}
	}
	for i, j := range second {
		if !j.e.RoundEndsAt.Equal(end2) || j.e.Position != 0 || j.e.Ahead != 3 || j.e.InRound != i+1 {
			t.Errorf("join %d of round 2 = round end %s, position %d, ahead %d, in round %d; want %s, 0, 3, %d",
				i, j.e.RoundEndsAt, j.e.Position, j.e.Ahead, j.e.InRound, end2, i+1)
		}
	}
	// The line as it must be: round 1 by key, then round 2 by key.
	byKey := func(js []joined) []string {
		sorted := slices.Clone(js)
		slices.SortFunc(sorted, func(a, b joined) int { return cmp.Compare(a.e.Key, b.e.Key) })
		var out []string
		for _, j := range sorted {
			out = append(out, j.e.ID)
		}
		return out
	}
	want := append(byKey(first), byKey(second)...)

	// During round 2, Redis and a reconciliation from SQL agree on it.
	inRedis, err := h.gate.Waitlist(h.ctx, h.hosp.ID, s.ID)
	testenv.Must(t, err, "waitlist")
	if got := refIDs(inRedis); !slices.Equal(got, want) {
		t.Errorf("the line in Redis during round 2 = %v, want %v", got, want)
	}
	if n := h.dropRedis(); n == 0 {
		t.Fatal("no Redis keys under the gate's prefix")
	}
	testenv.Must(t, h.svc.Reconcile(h.ctx), "reconcile")
	rebuilt, err := h.gate.Waitlist(h.ctx, h.hosp.ID, s.ID)
	testenv.Must(t, err, "waitlist")
	if !slices.Equal(rebuilt, inRedis) {
		t.Errorf("the line rebuilt from SQL = %+v, want %+v", rebuilt, inRedis)
	}

	// Round 2 over: every place is known and told.
	h.clock.freeze(end2.Add(time.Second))
	for i, id := range want {
		if got := h.entry(id); got.Position != i+1 {
			t.Errorf("entry %s at %d, want %d", id, got.Position, i+1)
		}
	}
	last := second[len(second)-1]
	list, err := h.svc.Waitlist(h.ctx, last.u.actor)
	testenv.Must(t, err, "waitlist of the last joiner")
	if len(list) != 1 || list[0].Position != slices.Index(want, last.e.ID)+1 || list[0].Ahead != 0 {
		t.Errorf("the last joiner's waitlist once its round ended = %+v, want its place %d", list, slices.Index(want, last.e.ID)+1)
	}
	// The returned slot goes to the head: round 1's first by key, not its
	// first to join unless the draw said so.
	h.mustCancel(holder.actor, held.ID)
	if got := h.bookedEntry([]booking.WaitlistEntry{h.entry(want[0])}); len(got) != 1 {
		t.Errorf("the head of the line (%s) did not get the returned slot", want[0])
	}
	h.checkClean()
}

// What a draw leaves (fewer entries than slots) is held for the waitlist's
// round like a returned slot nobody waits for: a bot polling from the draw
// time gets nothing; at the round's end a slot goes to whoever joined, and
// the rest, which nobody asked for, to the pool after the delay (here none).
func TestWhatADrawLeavesIsHeldForTheRound(t *testing.T) {
	h := newHarness(t, harnessConfig{returnRound: testRound})
	s := h.lotterySession(lotteryOpts{online: 3})
	q, _ := s.Channel(booking.ChannelOnline)
	entrant, bot, person := h.user(1), h.user(1), h.user(1)
	h.mustEnter(entrant, 0, s)
	if n := h.drawAll(h.svc, s); n != 1 {
		t.Fatalf("drew %d pools, want 1", n)
	}
	defer h.clock.reset()
	drawn := q.DrawAt.Add(3 * time.Second)
	for _, at := range []time.Duration{0, time.Second, 5 * time.Minute, testRound - time.Second} {
		h.clock.set(drawn.Add(at))
		h.placeReturned()
		wantErr(t, "a bot polling "+at.String()+" after the draw", h.poll(bot, s), booking.ErrSoldOut)
	}
	e := h.join(person, s)
	h.clock.set(drawn.Add(testRound + time.Second))
	h.placeReturned()
	if got := h.bookedEntry([]booking.WaitlistEntry{e}); len(got) != 1 {
		t.Errorf("the person who joined during the round has no booking")
	}
	if err := h.poll(bot, s); err != nil {
		t.Errorf("polling after the round, the slot nobody asked for: %v, want it", err)
	}
	h.wantOnline(s, 0)
	h.checkClean()
}

// When Redis loses a hospital's state, the slots bookings gave back do not
// land in their pools for the first poller: the reload sends them through
// the return path again. A slot held for a round still goes to the round's
// joiner; one waiting out its delay waits again. (Before, the load put both
// straight in the pool, and a bot polling after the reload booked them.)
func TestReturnedSlotsWaitAgainAfterRedisLosesState(t *testing.T) {
	lose := func(t *testing.T, h *harness) {
		t.Helper()
		if n := h.dropRedis(); n == 0 {
			t.Fatal("no Redis keys under the gate's prefix")
		}
		reloads := h.svc.Reloads()
		testenv.Must(t, h.svc.Heal(h.ctx), "heal")
		eventually(t, healBound, "the reload", func() bool { return h.svc.Reloads() > reloads })
	}
	t.Run("held for an open round", func(t *testing.T) {
		h := newHarness(t, harnessConfig{returnRound: testRound})
		s := h.session(sessionOpts{online: 1})
		holder, person, bot := h.user(1), h.user(1), h.user(1)
		b := h.mustBook(holder, 0, s, "")
		t0 := time.Now()
		defer h.clock.reset()
		h.clock.set(t0)
		e := h.join(person, s)
		h.clock.set(t0.Add(time.Minute))
		h.mustCancel(holder.actor, b.ID)

		lose(t, h)
		for _, at := range []time.Duration{time.Minute, 5 * time.Minute, testRound - time.Second} {
			h.clock.set(t0.Add(at))
			h.placeReturned()
			wantErr(t, "a bot polling "+at.String()+" after the reload", h.poll(bot, s), booking.ErrSoldOut)
		}
		h.clock.set(t0.Add(testRound + time.Second))
		h.placeReturned()
		if got := h.bookedEntry([]booking.WaitlistEntry{e}); len(got) != 1 {
			t.Error("the person who joined the round has no booking after it")
		}
		h.checkClean()
	})
	t.Run("waiting out its delay", func(t *testing.T) {
		h := newHarness(t, harnessConfig{returnDelay: time.Hour})
		s := h.session(sessionOpts{online: 1})
		holder, bot := h.user(1), h.user(1)
		b := h.mustBook(holder, 0, s, "")
		h.mustCancel(holder.actor, b.ID)
		if got := h.delayedOf(s); len(got) != 1 {
			t.Fatalf("delayed slots after the cancellation = %+v, want 1", got)
		}

		lose(t, h)
		h.placeReturned()
		wantErr(t, "a bot polling after the reload", h.poll(bot, s), booking.ErrSoldOut)
		if got := h.delayedOf(s); len(got) != 1 || got[0].SlotNo != b.SlotNo {
			t.Errorf("delayed slots after the reload = %+v, want slot %d", got, b.SlotNo)
		}
		h.checkClean()
	})
}

// TestHeldCountIsTheSessionsWaitlists: the consoles show on a sold-out
// pool's card how many of the session's slots are held for the waitlist's
// round, whichever pool they came from (Gate.HeldForWaitlist counts the
// session's, not the pool's). That is what a place joined from that card
// competes for: the waitlist is the session's, and a held slot goes to the
// head of its one line whatever channel the place was made on. Here an
// online slot returned during the round is shown on the phone pool's card
// (phone sold out), and the caller the operator puts on the waitlist from
// it gets that slot when the round ends (lows17: checked, not changed).
func TestHeldCountIsTheSessionsWaitlists(t *testing.T) {
	h := newHarness(t, harnessConfig{returnRound: testRound})
	s := h.deskSession(deskOpts{online: 1, phone: 1})
	holder, op := h.user(1), h.staff(booking.RoleOperator)
	online := h.mustBook(holder, 0, s, "")
	_, err := h.staffBook(op, h.person("钱七"), s, booking.ChannelPhone, "13800000077")
	testenv.Must(t, err, "an operator books the phone pool's one slot")
	t0 := time.Now()
	defer h.clock.reset()
	h.clock.set(t0)
	h.mustCancel(holder.actor, online.ID) // held for the round

	views, err := h.svc.Sessions(h.ctx, h.hosp.ID, s.VisitDate, "")
	testenv.Must(t, err, "the sessions")
	testenv.Must(t, h.svc.WaitlistHolds(h.ctx, views), "held for the waitlist")
	i := slices.IndexFunc(views, func(v booking.SessionView) bool { return v.ID == s.ID })
	if i < 0 {
		t.Fatalf("session %s not listed", s.ID)
	}
	if v := views[i]; v.Remaining[booking.ChannelPhone] != 0 || v.Remaining[booking.ChannelOnline] != 0 || v.Held != 1 {
		t.Fatalf("view = remaining %v, held %d; want both pools empty and the online slot held", v.Remaining, v.Held)
	}

	h.clock.set(t0.Add(time.Minute))
	place, err := h.svc.JoinWaitlistFor(h.ctx, op, booking.StaffWaitlistRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, IdentityRequest: h.person("孙八"),
		SessionID: s.ID, CallerPhone: "13800000078"})
	testenv.Must(t, err, "the operator puts a caller on the waitlist from the phone card")
	h.clock.set(t0.Add(testRound + time.Second))
	h.placeReturned()
	if got := h.bookedEntry([]booking.WaitlistEntry{place}); len(got) != 1 {
		t.Fatalf("the caller's place after the round: booked %v, want the held online slot", got)
	}
	if b := h.stored(place.ID); b.SlotNo != online.SlotNo {
		t.Errorf("the caller got slot %d, want the returned online slot %d", b.SlotNo, online.SlotNo)
	}
}

// TestReissueWaitsForTheOpenRound was review16's L1 (a slot given on at
// the desk went at once to the on-site pool, not waiting for the joins of
// a round still open), decided again by review25 H2: the clerk who freed a
// slot booked the buyer into it in the same second. A slot the desk frees
// (a reissue, a cancellation at the desk during the session) now goes the
// way of any returned slot: the waitlist's line, else held for the open
// round — its joins draw for it at the round's end — else the random
// delay; the desk gets it back only when nobody asked.
func TestReissueWaitsForTheOpenRound(t *testing.T) {
	h := newHarness(t, harnessConfig{returnRound: 3 * time.Hour})
	clerk := h.staff(booking.RoleClerk)
	s := h.deskSession(deskOpts{dept: "Reissue and the round", online: 2, onsite: 1})
	holderA := h.user(1)
	a := h.mustBook(holderA, 0, s, "")
	b := h.mustBook(h.user(1), 0, s, "")
	defer h.clock.reset()

	// A minute before the session, a's holder gives the slot back: nobody
	// waits, so it is held for a round of three hours, and w joins it.
	h.clock.set(s.StartsAt.Add(-time.Minute))
	h.mustCancel(holderA.actor, a.ID)
	w := h.user(1)
	we := h.join(w, s)

	// b never came: once b's slot has ended (the round still open), the
	// reissue holds it for the round, as any returned slot; w's entry
	// still waits.
	h.clock.set(b.SlotEnd)
	onsiteBefore := h.remaining(s)[booking.ChannelOnsite]
	pl, err := h.svc.Reissue(h.ctx, clerk, booking.ReissueRequest{BookingID: b.ID, Reason: "did not come"})
	testenv.Must(t, err, "reissue b's slot")
	if pl.Outcome != booking.PlacedHeld {
		t.Errorf("the reissue placed %+v, want held for the open round (review25 H2: the return path)", pl)
	}
	h.wantRemaining(s, booking.ChannelOnsite, onsiteBefore)
	if got := h.entry(we.ID).Status; got != booking.WaitlistWaiting {
		t.Errorf("w's entry after the reissue: %s, want still waiting for the round's draw", got)
	}

	// At the round's end w gets the slot held for it.
	h.clock.set(s.StartsAt.Add(-time.Minute + 3*time.Hour + time.Second))
	h.placeReturned()
	if got := h.bookedEntry([]booking.WaitlistEntry{we}); len(got) != 1 {
		t.Errorf("w after the round: booked %v, want the slot held for the round", got)
	}
	h.checkClean()
}
