package booking_test

import (
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
			got, pl, err := h.svc.DeskCancel(h.ctx, clerk, booking.DeskCancelRequest{BookingID: b.ID, Reason: "ID number mistyped"})
			testenv.Must(t, err, "cancel at the desk")
			if got.Status != booking.StatusCancelled || h.stored(b.ID).Status != booking.StatusCancelled {
				t.Errorf("cancelled at the desk: answer %s, stored %s; want cancelled", got.Status, h.stored(b.ID).Status)
			}
			db.wantCount("late cancellations", 0, `SELECT count(*) FROM bookings WHERE id = $1 AND late_cancel`, b.ID)
			db.wantCount("no-show events", 0, `SELECT count(*) FROM booking_events WHERE booking_id = $1 AND type = 'no_show'`, b.ID)
			db.wantCount("no-show bars", 0, `SELECT count(*) FROM bars WHERE identity_id = $1`, b.IdentityID)
			db.wantCount("cancellation audit entries with the reason", 1,
				`SELECT count(*) FROM audit_log WHERE action = 'booking_cancelled' AND target = $1 AND actor_id = $2 AND reason LIKE '%ID number mistyped'`,
				"booking:"+b.ID, clerk.AccountID)
			if d := h.delayedOf(s); len(d) != 0 {
				t.Errorf("delayed slots after the desk's cancellation = %+v, want none: the desk gives it at once", d)
			}
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
