package booking_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestDeskCancelDuringSession is review16's finding: a walk-in booked
// during the session on a mistyped (valid) ID number could be cancelled by
// nobody — the desk was told to ask the desk, and a reissue made the
// stranger whose number was typed a no-show. The clerk cancels it now, with
// a reason, never late, never a no-show; the slot goes to the desk at once
// (the waitlist, else the on-site pool); and the walk-in's verification of
// the stranger's number is audited and corrected at the desk.
func TestDeskCancelDuringSession(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	db := h.sql()
	clerk := h.staff(booking.RoleClerk)
	admin, op := h.staff(booking.RoleAdmin), h.staff(booking.RoleOperator)

	for i, waiting := range []bool{false, true} {
		t.Run(fmt.Sprintf("someone waiting %v", waiting), func(t *testing.T) {
			s := h.deskSession(deskOpts{dept: fmt.Sprintf("Desk cancel %d", i), online: 2, onsite: 2})
			later := h.deskSession(deskOpts{dept: fmt.Sprintf("Desk cancel %d", i), online: 2, day: 1})
			stranger := h.person("王芳")
			strangerUser := h.userOf(stranger)
			patient := h.user(1)
			own := h.mustBook(patient, 0, s, "") // slot 1
			h.mustBook(h.user(1), 0, s, "")      // slot 2: the online pool is sold out
			var we booking.WaitlistEntry
			var w user
			if waiting {
				w = h.user(1)
				we = h.join(w, s)
			}

			// During the session the clerk walks in 李雷 on the stranger's
			// number, typed by mistake.
			reset := h.clock.at(s.StartsAt.Add(30 * time.Minute))
			mistyped := booking.IdentityRequest{IDType: stranger.IDType, IDNumber: stranger.IDNumber, Name: "李雷"}
			b := h.mustWalkIn(clerk, mistyped, s)
			reset()
			db.wantCount("identity_verified audit entries of the walk-in", 1,
				`SELECT count(*) FROM audit_log WHERE action = 'identity_verified' AND target = $1 AND actor_id = $2`,
				"identity:"+b.IdentityID, clerk.AccountID)

			slot, _ := s.Slot(b.SlotNo)
			defer h.clock.at(slot.StartsAt.Add(5 * time.Minute))()
			// A patient's deadline rules stand; staff other than the clerk
			// are sent to the desk's route.
			_, err := h.svc.Cancel(h.ctx, patient.actor, own.ID, booking.Origin{})
			wantErr(t, "a patient's cancellation during the session", err, booking.ErrSessionClosed)
			for _, a := range []booking.Actor{admin, clerk} {
				_, err = h.svc.Cancel(h.ctx, a, b.ID, booking.Origin{})
				wantErr(t, "DELETE during the session by "+string(a.Role), err, booking.ErrSessionClosed)
				wantMessage(t, "DELETE during the session", err, "/v1/desk/cancellations")
			}
			refusals := []struct {
				name   string
				actor  booking.Actor
				reason string
				want   *booking.Error
			}{
				{"without a reason", clerk, " ", booking.ErrInvalidField},
				// The reason stays in the audit log for good.
				{"with a phone number in the reason", clerk, "wrong person, her son is 139 1234 5678", booking.ErrInvalidField},
				{"with an ID number in the reason", clerk, "typed 11010519491231002X", booking.ErrInvalidField},
				{"by the admin", admin, "ID number mistyped", booking.ErrForbidden},
				{"by an operator", op, "ID number mistyped", booking.ErrForbidden},
				{"by a patient", patient.actor, "ID number mistyped", booking.ErrForbidden},
			}
			for _, r := range refusals {
				_, _, err := h.svc.DeskCancel(h.ctx, r.actor, booking.DeskCancelRequest{BookingID: b.ID, Reason: r.reason})
				wantErr(t, "DeskCancel "+r.name, err, r.want)
			}
			if got := h.stored(b.ID).Status; got != booking.StatusConfirmed {
				t.Fatalf("booking after refused cancellations: %s, want confirmed", got)
			}

			onsiteBefore := h.remaining(s)[booking.ChannelOnsite]
			// Numbers that are no phone or ID number stay in the reason
			// (review17b L7: twelve spaced digits were refused as a phone).
			got, pl, err := h.svc.DeskCancel(h.ctx, clerk, booking.DeskCancelRequest{BookingID: b.ID,
				ReasonCode: booking.DeskCancelRegistrationError, Reason: "rooms 0301 0302 0303 called at 2026-12-05 14:30, ID number mistyped"})
			testenv.Must(t, err, "cancel at the desk")
			if got.Status != booking.StatusCancelled || h.stored(b.ID).Status != booking.StatusCancelled {
				t.Errorf("cancelled at the desk: answer %s, stored %s; want cancelled", got.Status, h.stored(b.ID).Status)
			}
			db.wantCount("late cancellations", 0, `SELECT count(*) FROM bookings WHERE id = $1 AND late_cancel`, b.ID)
			db.wantCount("no-show events", 0, `SELECT count(*) FROM booking_events WHERE booking_id = $1 AND type = 'no_show'`, b.ID)
			db.wantCount("no-show bars", 0, `SELECT count(*) FROM bars WHERE identity_id = $1`, b.IdentityID)
			db.wantCount("cancellation audit entries with the reason", 1,
				`SELECT count(*) FROM audit_log WHERE action = 'booking_cancelled' AND target = $1 AND actor_id = $2 AND reason LIKE '%ID number mistyped%'`,
				"booking:"+b.ID, clerk.AccountID)
			var waiter *user
			if waiting {
				waiter = &w
			}
			h.wantGivenAtTheDesk(t, "DeskCancel", s, b, pl, waiter, we, clerk, onsiteBefore)
			h.checkClean()
			_, _, err = h.svc.DeskCancel(h.ctx, clerk, booking.DeskCancelRequest{BookingID: b.ID, Reason: "again"})
			wantErr(t, "cancelling twice", err, booking.ErrBookingNotActive)
			func() {
				defer h.clock.at(s.Closes())()
				_, _, err := h.svc.DeskCancel(h.ctx, clerk, booking.DeskCancelRequest{BookingID: own.ID, Reason: "too late"})
				wantErr(t, "after the session", err, booking.ErrSessionClosed)
			}()

			// The stranger's own name is refused until the desk corrects
			// the name the walk-in verified, with the card in hand.
			_, err = h.book(strangerUser, 0, later, "")
			wantErr(t, "the stranger books under their name", err, booking.ErrIdentityUnverified)
			_, err = h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: stranger,
				CorrectionReason: "a walk-in was typed on this number by mistake"})
			testenv.Must(t, err, "correct the verified name")
			db.wantCount("identity_name_corrected audit entries", 1,
				`SELECT count(*) FROM audit_log WHERE action = 'identity_name_corrected' AND target = $1`, "identity:"+b.IdentityID)
			if _, err := h.book(strangerUser, 0, later, ""); err != nil {
				t.Errorf("the stranger books after the correction: %v", err)
			}
		})
	}

	t.Run("before the session", func(t *testing.T) {
		s := h.deskSession(deskOpts{dept: "Desk cancel early", online: 2})
		b := h.mustBook(h.user(1), 0, s, "")
		_, pl, err := h.svc.DeskCancel(h.ctx, clerk, booking.DeskCancelRequest{BookingID: b.ID, Reason: "the patient asked at the window"})
		testenv.Must(t, err, "cancel at the desk before the session")
		if pl.Outcome != booking.PlacedDelayed || len(h.delayedOf(s)) != 1 {
			t.Errorf("placed %+v with delayed %+v; want the slot delayed as any returned slot", pl, h.delayedOf(s))
		}
		if strings.TrimSpace(string(h.stored(b.ID).Status)) != string(booking.StatusCancelled) {
			t.Errorf("booking %s, want cancelled", h.stored(b.ID).Status)
		}
	})
}

// TestExtraSlotsReplay is review16's M2: a repeat of an Idempotency-Key
// answers the first request's slots only when it is the same request; the
// key on another session or with another count is idempotency_key_reused
// (as a desk booking's is), and adds nothing.
func TestExtraSlotsReplay(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	db := h.sql()
	clerk := h.staff(booking.RoleClerk)
	s1 := h.deskSession(deskOpts{dept: "Replay 1", online: 2, onsite: 1})
	s6 := h.deskSession(deskOpts{dept: "Replay 6", online: 2, onsite: 1})
	add := func(s *booking.Session, count int) ([]booking.Slot, error) {
		defer h.onVisitDay(s)()
		return h.svc.AddExtraSlots(h.ctx, clerk, booking.ExtraSlotsRequest{SessionID: s.ID, Count: count,
			Reason: "many patients from out of town", AuthorisedBy: "Dr Wang", IdempotencyKey: "x1"})
	}
	nos := func(sl []booking.Slot) []int {
		out := make([]int, len(sl))
		for i, x := range sl {
			out[i] = x.No
		}
		return out
	}
	first, err := add(s1, 2)
	testenv.Must(t, err, "add two extra slots")
	again, err := add(s1, 2)
	testenv.Must(t, err, "the same request again")
	if fmt.Sprint(nos(again)) != fmt.Sprint(nos(first)) {
		t.Errorf("a true replay answered slots %v, want the first answer %v", nos(again), nos(first))
	}
	for _, tt := range []struct {
		name  string
		s     *booking.Session
		count int
	}{{"another count", s1, 5}, {"another session", s6, 2}} {
		got, err := add(tt.s, tt.count)
		wantErr(t, "the key reused with "+tt.name, err, booking.ErrIdempotencyReuse)
		if len(got) != 0 {
			t.Errorf("the key reused with %s answered slots %v, want none", tt.name, nos(got))
		}
	}
	h.wantRemaining(s1, booking.ChannelOnsite, 3)
	h.wantRemaining(s6, booking.ChannelOnsite, 1)
	db.wantCount("extra_slots audit entries", 1, `SELECT count(*) FROM audit_log WHERE action = 'extra_slots'`)
}

// TestDeskCancelAfterTheSlot is the desk's open finding: once a slot's time
// has passed, a desk cancellation (never late, never a no-show) would wipe
// a missed visit that a reissue counts as a no-show. From the slot's start
// only a registration error (reason_code registration_error: a mistyped ID
// number, the wrong person) is cancelled at the desk; any other reason is
// refused (slot_time_passed) and the booking stays for the reissue. Before
// the slot's start every code cancels; an unknown code is invalid_field.
func TestDeskCancelAfterTheSlot(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	db := h.sql()
	clerk := h.staff(booking.RoleClerk)
	s := h.deskSession(deskOpts{dept: "Desk cancel after the slot", online: 4, onsite: 1})
	missed := h.mustBook(h.user(1), 0, s, "") // slot 1
	later := h.mustBook(h.user(1), 0, s, "")  // slot 2
	slot, _ := s.Slot(missed.SlotNo)
	// A walk-in the desk made on the visit day (review25 H2: a
	// registration error is only such a booking).
	restore := h.clock.at(s.StartsAt.Add(-time.Hour))
	mistyped := h.mustWalkIn(clerk, h.person("李误"), s)
	restore()
	next, _ := s.Slot(later.SlotNo)
	if !slot.StartsAt.Before(next.StartsAt) {
		t.Fatalf("slots %d and %d start at once (%s)", missed.SlotNo, later.SlotNo, slot.StartsAt)
	}
	defer h.clock.at(slot.StartsAt.Add(time.Minute))()

	cancel := func(id, code, reason string) error {
		_, _, err := h.svc.DeskCancel(h.ctx, clerk, booking.DeskCancelRequest{BookingID: id, ReasonCode: code, Reason: reason})
		return err
	}
	refusals := []struct {
		name, code string
		want       *booking.Error
	}{
		{"no code", "", booking.ErrSlotTimePassed},
		{"the patient's request", booking.DeskCancelPatientRequest, booking.ErrSlotTimePassed},
		{"another reason", booking.DeskCancelOther, booking.ErrSlotTimePassed},
		{"an unknown code", "no_show", booking.ErrInvalidField},
	}
	for _, r := range refusals {
		t.Run(r.name, func(t *testing.T) {
			err := cancel(missed.ID, r.code, "the patient did not come")
			wantErr(t, "DeskCancel after the slot's start, "+r.name, err, r.want)
			if r.want == booking.ErrSlotTimePassed {
				wantMessage(t, "the refusal", err, "reissue")
			}
			if got := h.stored(missed.ID).Status; got != booking.StatusConfirmed {
				t.Errorf("booking after the refusal: %s, want confirmed", got)
			}
		})
	}
	db.wantCount("cancellation audit entries of the missed booking", 0,
		`SELECT count(*) FROM audit_log WHERE action = 'booking_cancelled' AND target = $1`, "booking:"+missed.ID)

	// A registration error is cancelled after the slot's start, and says so.
	err := cancel(mistyped.ID, booking.DeskCancelRegistrationError, "ID number mistyped")
	testenv.Must(t, err, "cancel a registration error")
	if got := h.stored(mistyped.ID).Status; got != booking.StatusCancelled {
		t.Errorf("the mistyped booking: %s, want cancelled", got)
	}
	db.wantCount("the registration error's audit entry with its code", 1,
		`SELECT count(*) FROM audit_log WHERE action = 'booking_cancelled' AND target = $1 AND reason LIKE '%registration_error%ID number mistyped%'`,
		"booking:"+mistyped.ID)
	db.wantCount("no-show events of the registration error", 0,
		`SELECT count(*) FROM booking_events WHERE booking_id = $1 AND type = 'no_show'`, mistyped.ID)

	// Before its slot's start, a patient withdrawing at the window is cancelled.
	testenv.Must(t, cancel(later.ID, booking.DeskCancelPatientRequest, "withdraws at the window"), "cancel before the slot's start")
	if got := h.stored(later.ID).Status; got != booking.StatusCancelled {
		t.Errorf("the later booking: %s, want cancelled", got)
	}

	// The missed visit is reissued once its slot has ended: a no-show, as
	// the desk's rule says.
	defer h.clock.at(slot.EndsAt)()
	_, err = h.svc.Reissue(h.ctx, clerk, booking.ReissueRequest{BookingID: missed.ID, Reason: "did not come"})
	testenv.Must(t, err, "reissue the missed visit")
	if got := h.stored(missed.ID).Status; got != booking.StatusNoShow {
		t.Errorf("the missed booking after its reissue: %s, want no_show", got)
	}
	h.checkClean()
}

// TestDeskCancelReplay: a desk cancellation takes an Idempotency-Key as the
// other desk writes do. A repeat of one that committed (its answer lost)
// answers the booking, cancelled, instead of booking_not_active, and
// cancels nothing more; the key on another booking, or on the same one
// with another reason or reason code (review17b L4: it answered the first
// cancellation), is idempotency_key_reused; without a key a repeat is
// booking_not_active.
func TestDeskCancelReplay(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	db := h.sql()
	clerk, other := h.staff(booking.RoleClerk), h.staff(booking.RoleClerk)
	s := h.deskSession(deskOpts{dept: "Desk cancel replay", online: 3, onsite: 1})
	a := h.mustBook(h.user(1), 0, s, "")
	b := h.mustBook(h.user(1), 0, s, "")
	c := h.mustBook(h.user(1), 0, s, "")
	cancelFor := func(who booking.Actor, id, key, code, reason string) (booking.Booking, error) {
		got, _, err := h.svc.DeskCancel(h.ctx, who, booking.DeskCancelRequest{BookingID: id, ReasonCode: code,
			Reason: reason, IdempotencyKey: key})
		return got, err
	}
	cancel := func(who booking.Actor, id, key string) (booking.Booking, error) {
		return cancelFor(who, id, key, booking.DeskCancelPatientRequest, "withdraws at the window")
	}
	first, err := cancel(clerk, a.ID, "k1")
	testenv.Must(t, err, "cancel at the desk")
	again, err := cancel(clerk, a.ID, "k1")
	testenv.Must(t, err, "the same cancellation again")
	if again.ID != a.ID || again.Status != booking.StatusCancelled || !again.Replayed {
		t.Errorf("the repeat answered %s %s (replayed %v), want %s cancelled, replayed", again.ID, again.Status, again.Replayed, a.ID)
	}
	if first.Replayed {
		t.Errorf("the first cancellation answered replayed")
	}
	// Padding of the reason is no other request (the reason is trimmed).
	if again, err := cancelFor(clerk, a.ID, "k1", booking.DeskCancelPatientRequest, "  withdraws at the window "); err != nil || !again.Replayed {
		t.Errorf("the repeat with the reason padded answered replayed %v, %v; want the first answer", again.Replayed, err)
	}
	_, err = cancelFor(clerk, a.ID, "k1", booking.DeskCancelPatientRequest, "withdraws at the window, came back later")
	wantErr(t, "the key on the same booking with another reason", err, booking.ErrIdempotencyReuse)
	_, err = cancelFor(clerk, a.ID, "k1", booking.DeskCancelRegistrationError, "withdraws at the window")
	wantErr(t, "the key on the same booking with another reason code", err, booking.ErrIdempotencyReuse)
	_, err = cancel(clerk, b.ID, "k1")
	wantErr(t, "the key on another booking", err, booking.ErrIdempotencyReuse)
	if got := h.stored(b.ID).Status; got != booking.StatusConfirmed {
		t.Errorf("the other booking after the reused key: %s, want confirmed", got)
	}
	// Another clerk's key k1 is another request.
	_, err = cancel(other, a.ID, "k1")
	wantErr(t, "another clerk's key on the cancelled booking", err, booking.ErrBookingNotActive)
	testenv.Must(t, func() error { _, err := cancel(other, c.ID, "k1"); return err }(), "another clerk's k1 on another booking")
	_, err = cancel(clerk, a.ID, "")
	wantErr(t, "a repeat without a key", err, booking.ErrBookingNotActive)
	db.wantCount("cancellation audit entries of the first booking", 1,
		`SELECT count(*) FROM audit_log WHERE action = 'booking_cancelled' AND target = $1`, "booking:"+a.ID)
	h.checkClean()
}

// TestDeskCancelLateIsThePatients is review25 H2 (1, 3): a clerk
// cancelled a scalper's online booking past the deadline "for the patient"
// and no strike was counted, where the patient's own cancellation is late;
// and registration_error, meant for a walk-in typed wrong, wiped an online
// booking's missed visit after its slot. Now a desk cancellation past the
// deadline is the patient's late cancellation (late_cancel, a no-show
// toward the bars) unless its reason is the hospital's own, and the audit
// says which; registration_error is refused on a booking the desk did not
// make that day (registration_error_not_desk).
func TestDeskCancelLateIsThePatients(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	db := h.sql()
	clerk := h.staff(booking.RoleClerk)
	s := h.deskSession(deskOpts{dept: "Desk cancel late", online: 4, onsite: 3})
	scalper := h.user(2)
	p1 := h.mustBook(scalper, 0, s, "")
	p2 := h.mustBook(scalper, 1, s, "")
	missed := h.mustBook(h.user(1), 0, s, "")
	early := h.mustWalkIn(clerk, h.person("张早"), s) // made before the visit day

	// Past the deadline (15:00 the day before), the evening before.
	reset := h.clock.at(h.day.Add(-2 * time.Hour))
	walkIn := h.mustWalkIn(clerk, h.person("李误"), s)
	own, err := h.svc.Cancel(h.ctx, scalper.actor, p2.ID, booking.Origin{})
	testenv.Must(t, err, "the patient's own cancellation")
	if !own.LateCancel {
		t.Fatalf("the patient's own cancellation past the deadline: late_cancel false")
	}
	got, _, err := h.svc.DeskCancel(h.ctx, clerk, booking.DeskCancelRequest{BookingID: p1.ID,
		ReasonCode: booking.DeskCancelPatientRequest, Reason: "患者本人来电要求取消"})
	testenv.Must(t, err, "the desk's cancellation past the deadline")
	if !got.LateCancel || !h.stored(p1.ID).LateCancel {
		t.Errorf("the desk's cancellation past the deadline: answer late_cancel %v, stored %v; want the patient's late cancellation",
			got.LateCancel, h.stored(p1.ID).LateCancel)
	}
	db.wantCount("the audit entry saying it counts", 1, `SELECT count(*) FROM audit_log WHERE action = 'booking_cancelled' AND target = $1
		AND reason LIKE '%late: counts as the patient''s no-show%'`, "booking:"+p1.ID)

	// The registration error of a walk-in the desk made today is the
	// hospital's: late, waived, and said so.
	_, _, err = h.svc.DeskCancel(h.ctx, clerk, booking.DeskCancelRequest{BookingID: walkIn.ID,
		ReasonCode: booking.DeskCancelRegistrationError, Reason: "挂错号"})
	testenv.Must(t, err, "the registration error of today's walk-in")
	if h.stored(walkIn.ID).LateCancel {
		t.Errorf("the registration error of the desk's walk-in counted late")
	}
	db.wantCount("the audit entry saying it is waived", 1, `SELECT count(*) FROM audit_log WHERE action = 'booking_cancelled' AND target = $1
		AND reason LIKE '%late, waived: hospital''s reason registration_error%'`, "booking:"+walkIn.ID)
	reset()

	// After its slot, a registration error of an online booking, or of a
	// walk-in of another day, is refused and the booking stays for the
	// reissue.
	slot, _ := s.Slot(missed.SlotNo)
	defer h.clock.at(slot.EndsAt.Add(time.Minute))()
	for _, b := range []booking.Booking{missed, early} {
		_, _, err = h.svc.DeskCancel(h.ctx, clerk, booking.DeskCancelRequest{BookingID: b.ID,
			ReasonCode: booking.DeskCancelRegistrationError, Reason: "挂错号"})
		wantErr(t, "registration_error of a booking the desk did not make today", err, booking.ErrNotDeskMade)
		if st := h.stored(b.ID).Status; st != booking.StatusConfirmed {
			t.Errorf("booking %s after the refusal: %s, want confirmed", b.ID, st)
		}
	}
	h.checkClean()
}

// TestDeskFreedSlotIsNotTheClerks is review25 H2 (2): during the session a
// clerk cancelled a scalper's online booking and booked the buyer into its
// slot within the same second — nobody was on the waitlist, so the slot
// went to the on-site pool at once. Now a slot the desk frees (a
// cancellation, a reissued no-show) goes the way of any returned slot —
// the waitlist first, else held for the waitlist's round or its random
// delay, never straight to the pool — and the clerk who freed it books no
// walk-in into the session for FreedSlotWait (429 freed_slot_wait);
// another clerk's walk-in is not held up by it.
func TestDeskFreedSlotIsNotTheClerks(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	clerk, other := h.staff(booking.RoleClerk), h.staff(booking.RoleClerk)
	s := h.deskSession(deskOpts{dept: "Desk hand-off", online: 3, onsite: 2})
	sold := h.mustBook(h.user(1), 0, s, "")
	h.mustBook(h.user(1), 0, s, "")
	noShow := h.mustBook(h.user(1), 0, s, "")
	slot, _ := s.Slot(sold.SlotNo)
	defer h.clock.at(s.StartsAt.Add(time.Minute))()
	if !s.StartsAt.Add(time.Minute).Before(slot.StartsAt) {
		// the first slot starts with the session: cancel before a later one
		sold, noShow = noShow, sold
	}
	h.mustWalkIn(other, h.person("先来甲"), s) // the on-site pool: one left

	_, pl, err := h.svc.DeskCancel(h.ctx, clerk, booking.DeskCancelRequest{BookingID: sold.ID,
		ReasonCode: booking.DeskCancelPatientRequest, Reason: "患者本人来电取消"})
	testenv.Must(t, err, "the desk's cancellation during the session")
	if pl.Outcome == booking.PlacedPool {
		t.Errorf("the freed slot went to the on-site pool at once (placed %s), want the return path", pl.Outcome)
	}
	if pl.Outcome != booking.PlacedDelayed && pl.Outcome != booking.PlacedHeld {
		t.Errorf("the freed slot placed %s, want delayed or held for the waitlist's round", pl.Outcome)
	}
	h.wantRemaining(s, booking.ChannelOnsite, 1) // the pool's own slot only

	// The same clerk's walk-in is refused, also into the pool's other slot.
	_, err = h.staffBook(clerk, h.person("买家辰"), s, booking.ChannelOnsite, "")
	wantErr(t, "the freeing clerk's walk-in", err, booking.ErrFreedSlotWait)
	var le *booking.LimitError
	if !errors.As(err, &le) || le.Wait <= 0 {
		t.Errorf("the refusal %v carries no wait (429 Retry-After)", err)
	}
	// Another window books its walk-in into the pool's own slot.
	if _, err := h.staffBook(other, h.person("后来乙"), s, booking.ChannelOnsite, ""); err != nil {
		t.Errorf("another clerk's walk-in: %v", err)
	}
	// Past the wait, the clerk books again (the pool is empty: sold out,
	// not the wait).
	func() {
		defer h.clock.at(s.StartsAt.Add(time.Minute + booking.DefaultFreedSlotWait + time.Second))()
		_, err := h.staffBook(clerk, h.person("买家辰"), s, booking.ChannelOnsite, "")
		if errors.Is(err, booking.ErrFreedSlotWait) {
			t.Errorf("the clerk's walk-in after the wait: %v", err)
		}
	}()

	// A reissued no-show is a slot the desk freed too.
	ns, _ := s.Slot(noShow.SlotNo)
	defer h.clock.at(ns.EndsAt.Add(time.Minute))()
	pl, err = h.svc.Reissue(h.ctx, other, booking.ReissueRequest{BookingID: noShow.ID, Reason: "未到"})
	testenv.Must(t, err, "reissue the no-show")
	if pl.Outcome == booking.PlacedPool {
		t.Errorf("the reissued slot went to the on-site pool at once, want the return path")
	}
	_, err = h.staffBook(other, h.person("买家巳"), s, booking.ChannelOnsite, "")
	wantErr(t, "the reissuing clerk's walk-in", err, booking.ErrFreedSlotWait)
}

// TestClerkDayBudgets is review25 H3's bound: one clerk added 20 extra
// slots and booked 12 invented walk-ins in 15 seconds, where the phone
// operator is bounded (review23). A clerk's day has budgets now, counted
// by the operator's one rule (staffBudget): Config.ClerkExtraSlotsPerDay
// extra-slot requests and Config.ClerkWalkInsPerDay walk-ins, 429
// clerk_day_limit past them with a wait until the hospital's midnight;
// another clerk is not held up, and a replay of a request is no new one.
func TestClerkDayBudgets(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	clerk, other := h.staff(booking.RoleClerk), h.staff(booking.RoleClerk)
	s := h.deskSession(deskOpts{dept: "Clerk budgets", online: 1, onsite: 1})
	defer h.onVisitDay(s)()
	add := func(a booking.Actor, key string) error {
		_, err := h.svc.AddExtraSlots(h.ctx, a, booking.ExtraSlotsRequest{SessionID: s.ID, Count: 1,
			Reason: "医生同意加号", AuthorisedBy: "Dr Wang", IdempotencyKey: key})
		return err
	}
	for i := range booking.DefaultClerkExtraSlotsPerDay {
		testenv.Must(t, add(clerk, fmt.Sprintf("k%d", i)), "extra slot %d", i+1)
	}
	err := add(clerk, "over")
	wantErr(t, "the clerk's extra slot past the day's budget", err, booking.ErrClerkDayLimit)
	var le *booking.LimitError
	if !errors.As(err, &le) || le.Wait <= 0 {
		t.Errorf("the refusal %v carries no wait", err)
	}
	testenv.Must(t, add(clerk, "k0"), "a replay of the first request")
	testenv.Must(t, add(other, "o1"), "another clerk's extra slot")
	h.wantRemaining(s, booking.ChannelOnsite, 1+booking.DefaultClerkExtraSlotsPerDay+1)
}
