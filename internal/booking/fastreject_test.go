package booking_test

import (
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestFastRejectPath: once admission answers sold_out, attempts without an
// Idempotency-Key are answered from memory for SoldOutFor (100ms), keyed
// attempts still reach admission (a retry gets its booking back), a slot that
// comes back through this instance is bookable at once, and one that comes
// back through another instance is hidden for at most SoldOutFor. The clock
// is frozen ahead of the real one, so nothing here depends on how fast the
// machine is.
func TestFastRejectPath(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	s := h.session(sessionOpts{online: 1})
	us := h.users(4, 1)
	alice, bob, carol, dave := us[0], us[1], us[2], us[3]
	t0 := time.Now().Add(time.Minute) // ahead of Redis's clock: see TestFastRejectRenewed
	h.clock.freeze(t0)

	first := h.mustBook(alice, 0, s, "alice-1")
	_, err := h.book(bob, 0, s, "")
	wantErr(t, "bob meets the empty pool in Redis", err, booking.ErrSoldOut)
	wantFastRejects(t, h.svc, 0)

	_, err = h.book(carol, 0, s, "")
	wantErr(t, "carol, within the TTL", err, booking.ErrSoldOut)
	wantFastRejects(t, h.svc, 1)

	again := h.mustBook(alice, 0, s, "alice-1")
	if !again.Replayed || again.ID != first.ID {
		t.Errorf("alice's keyed retry = %s (replayed %v), want her booking %s back", again.ID, again.Replayed, first.ID)
	}
	_, err = h.book(carol, 0, s, "carol-1")
	wantErr(t, "carol with a key", err, booking.ErrSoldOut)
	// The memo knows pools, not people: the holder's own attempt without a
	// key is answered sold_out too; with a key, admission says already_booked.
	_, err = h.book(alice, 0, s, "")
	wantErr(t, "alice again without a key", err, booking.ErrSoldOut)
	_, err = h.book(alice, 0, s, "alice-2")
	wantErr(t, "alice again with a new key", err, booking.ErrAlreadyBooked)
	wantFastRejects(t, h.svc, 2)

	// A slot back through this instance clears the memo at once: alice
	// cancels, nobody waits, the returned slot is placed (nanosecond delay).
	if _, err := h.svc.Cancel(h.ctx, alice.actor, first.ID, booking.Origin{}); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	h.clock.freeze(t0.Add(time.Second)) // the returned slot's delay is over
	h.placeReturned()
	bobs, err := h.book(bob, 0, s, "")
	if err != nil {
		t.Fatalf("bob, after the slot came back through this instance: %v", err)
	}
	wantFastRejects(t, h.svc, 2)

	// Through another instance: bob cancels there; carol meets the empty
	// pool before the other instance places the slot, and her answer then
	// hides the slot from dave until SoldOutFor has passed, never longer.
	other := h.stack.Instance(t, booking.Config{Now: h.clock.Now, ReturnDelayMin: time.Nanosecond, ReturnDelayMax: time.Nanosecond, ReturnRound: -1})
	if _, err := other.Cancel(h.ctx, bob.actor, bobs.ID, booking.Origin{}); err != nil {
		t.Fatalf("cancel on the other instance: %v", err)
	}
	t2 := t0.Add(2 * time.Second)
	h.clock.freeze(t2)
	_, err = h.book(carol, 0, s, "")
	wantErr(t, "carol, before the other instance places the slot", err, booking.ErrSoldOut)
	if _, err := other.PlaceDelayed(h.ctx); err != nil {
		t.Fatalf("place on the other instance: %v", err)
	}
	h.wantOnline(s, 1)
	_, err = h.book(dave, 0, s, "")
	wantErr(t, "dave, within SoldOutFor of carol's answer", err, booking.ErrSoldOut)
	wantFastRejects(t, h.svc, 3)

	h.clock.freeze(t2.Add(100 * time.Millisecond))
	if _, err := h.book(dave, 0, s, ""); err != nil {
		t.Fatalf("dave, once SoldOutFor has passed: %v", err)
	}
	wantFastRejects(t, h.svc, 3)
	h.checkClean()
}

func wantFastRejects(t *testing.T, svc *booking.Service, want uint64) {
	t.Helper()
	if got := svc.FastRejects(); got != want {
		t.Errorf("FastRejects = %d, want %d", got, want)
	}
}

// TestFastRejectBeforeRelease: a not_released answer is reused from memory
// for SoldOutFor, with its message, but never past the release time in the
// catalog: from then on every attempt asks admission again.
func TestFastRejectBeforeRelease(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	release := time.Now().Add(time.Hour).Truncate(time.Second)
	s := h.session(sessionOpts{online: 2, release: release})
	us := h.users(2, 1)
	t0 := release.Add(-50 * time.Millisecond)
	h.clock.freeze(t0)

	_, first := h.book(us[0], 0, s, "")
	wantErr(t, "admission's answer", first, booking.ErrNotReleased)
	wantFastRejects(t, h.svc, 0)
	_, again := h.book(us[1], 0, s, "")
	wantErr(t, "from memory", again, booking.ErrNotReleased)
	wantFastRejects(t, h.svc, 1)
	if first.Error() != again.Error() {
		t.Errorf("from memory %q, from admission %q: want the same answer", again, first)
	}

	// At the catalog's release time the memory steps aside, though its
	// 100ms are not over (Redis's clock still says not yet: an hour early).
	h.clock.freeze(release)
	_, err := h.book(us[1], 0, s, "")
	wantErr(t, "at the release time", err, booking.ErrNotReleased)
	wantFastRejects(t, h.svc, 1)
}

// TestFastRejectForStaff: an operator's booking for a caller meets the same
// memory, before anything is done for the caller: a refused caller's
// identity is not even written.
func TestFastRejectForStaff(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	s := h.session(sessionOpts{phone: 1})
	op := h.staff(booking.RoleOperator)
	h.clock.freeze(time.Now())
	identities := func() int {
		var n int
		testenv.Must(t, h.stack.DB.Pool().QueryRow(h.ctx, `SELECT count(*) FROM identities`).Scan(&n), "count identities")
		return n
	}

	if _, err := h.staffBook(op, h.person("张一"), s, booking.ChannelPhone, "13800000001"); err != nil {
		t.Fatalf("first caller: %v", err)
	}
	_, err := h.staffBook(op, h.person("张二"), s, booking.ChannelPhone, "13800000002")
	wantErr(t, "second caller, from admission", err, booking.ErrSoldOut)
	wantFastRejects(t, h.svc, 0)
	before := identities()
	_, err = h.staffBook(op, h.person("张三"), s, booking.ChannelPhone, "13800000003")
	wantErr(t, "third caller, from memory", err, booking.ErrSoldOut)
	wantFastRejects(t, h.svc, 1)
	if after := identities(); after != before {
		t.Errorf("identities %d → %d: the refused caller's identity was written", before, after)
	}
}

// TestFastRejectRenewed: from half of SoldOutFor on, one attempt renews the
// remembered sold_out by asking admission whether the pool still is empty
// (Admission.SoldOut: no attempt of its own), and is answered from memory
// too; the answer then lasts a new SoldOutFor from when it asked. When a
// slot has come back (through another instance, which this one's memory
// does not hear of) the renewing attempt finds it and goes on to admission,
// before the remembered answer would have run out. The clock is frozen at
// each step.
func TestFastRejectRenewed(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	s := h.session(sessionOpts{online: 1})
	us := h.users(6, 1)
	// The frozen clock runs ahead of the real one: a returned slot is due
	// by Redis's clock (release.lua), and the instance asks for due slots
	// by its own, so at a frozen time behind the real one a return made
	// after a slow start would never be due (a loaded -race run met it).
	t0 := time.Now().Add(time.Minute)
	h.clock.freeze(t0)

	first := h.mustBook(us[0], 0, s, "")
	_, err := h.book(us[1], 0, s, "")
	wantErr(t, "admission's sold_out", err, booking.ErrSoldOut)
	wantFastRejects(t, h.svc, 0)

	h.clock.freeze(t0.Add(60 * time.Millisecond))
	_, err = h.book(us[2], 0, s, "")
	wantErr(t, "past half of SoldOutFor: renews, answered from memory", err, booking.ErrSoldOut)
	wantFastRejects(t, h.svc, 1)
	_, err = h.book(us[3], 0, s, "")
	wantErr(t, "the next one, from memory", err, booking.ErrSoldOut)
	wantFastRejects(t, h.svc, 2)

	// Past the first answer's 100ms, within the renewed one's (to 160ms).
	h.clock.freeze(t0.Add(105 * time.Millisecond))
	_, err = h.book(us[4], 0, s, "")
	wantErr(t, "past the first SoldOutFor, from the renewed memory", err, booking.ErrSoldOut)
	wantFastRejects(t, h.svc, 3)

	// The slot comes back through another instance at 106ms; from 110ms
	// (half the renewed answer) the next attempt asks, finds it and books.
	other := h.stack.Instance(t, booking.Config{Now: h.clock.Now, ReturnDelayMin: time.Nanosecond, ReturnDelayMax: time.Nanosecond, ReturnRound: -1})
	h.clock.freeze(t0.Add(106 * time.Millisecond))
	if _, err := other.Cancel(h.ctx, us[0].actor, first.ID, booking.Origin{}); err != nil {
		t.Fatalf("cancel on the other instance: %v", err)
	}
	h.clock.freeze(t0.Add(107 * time.Millisecond))
	if _, err := other.PlaceDelayed(h.ctx); err != nil {
		t.Fatalf("place on the other instance: %v", err)
	}
	h.wantOnline(s, 1)
	_, err = h.book(us[5], 0, s, "")
	wantErr(t, "107ms, before half the renewed answer: from memory", err, booking.ErrSoldOut)
	wantFastRejects(t, h.svc, 4)
	h.clock.freeze(t0.Add(111 * time.Millisecond))
	if _, err := h.book(us[5], 0, s, ""); err != nil {
		t.Fatalf("111ms: the renewing attempt should find the returned slot and book it: %v", err)
	}
	wantFastRejects(t, h.svc, 4)
	h.checkClean()
}

// TestFastRejectAskedAgainBeforeAdmission: an attempt the memory let
// through when the API asked it (before the shared limits: the pool not yet
// known empty) asks again just before admission, and is answered from
// memory if the pool was learnt empty meanwhile, as it is in the release
// second. One let through on purpose, to renew a not_released, goes on to
// admission, whose answer renews the memory.
func TestFastRejectAskedAgainBeforeAdmission(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	s := h.session(sessionOpts{online: 1})
	us := h.users(3, 1)
	h.clock.freeze(time.Now())
	req := booking.BookRequest{SessionID: s.ID, PatientID: us[2].patients[0].ID, Channel: booking.ChannelOnline}
	if err := h.svc.KnownRefusalOf(us[2].actor, &req); err != nil {
		t.Fatalf("the API's ask, nothing known yet: %v", err)
	}
	h.mustBook(us[0], 0, s, "")
	_, err := h.book(us[1], 0, s, "")
	wantErr(t, "admission's sold_out", err, booking.ErrSoldOut)
	wantFastRejects(t, h.svc, 0)
	_, err = h.svc.Attempt(h.ctx, us[2].actor, req)
	wantErr(t, "the attempt let through before the pool was known empty", err, booking.ErrSoldOut)
	wantFastRejects(t, h.svc, 1)
	h.checkClean()

	release := time.Now().Add(time.Hour).Truncate(time.Second)
	later := h.session(sessionOpts{online: 1, release: release})
	t0 := release.Add(-time.Second)
	h.clock.freeze(t0)
	_, err = h.book(us[1], 0, later, "")
	wantErr(t, "admission's not_released", err, booking.ErrNotReleased)
	h.clock.freeze(t0.Add(60 * time.Millisecond))
	req = booking.BookRequest{SessionID: later.ID, PatientID: us[2].patients[0].ID, Channel: booking.ChannelOnline}
	if err := h.svc.KnownRefusalOf(us[2].actor, &req); err != nil {
		t.Fatalf("past half the memory's time: want the attempt let through to renew, got %v", err)
	}
	_, err = h.svc.Attempt(h.ctx, us[2].actor, req)
	wantErr(t, "the renewing attempt, at admission", err, booking.ErrNotReleased)
	wantFastRejects(t, h.svc, 1)
	h.clock.freeze(t0.Add(105 * time.Millisecond))
	_, err = h.book(us[1], 0, later, "")
	wantErr(t, "past the first answer's time, from the renewed memory", err, booking.ErrNotReleased)
	wantFastRejects(t, h.svc, 2)
}
