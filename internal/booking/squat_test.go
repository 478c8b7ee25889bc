package booking_test

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/cockroach"
	"fairslot/internal/testenv"
)

// TestDeskVerificationVoidsASquattersBookings is the reviewer's scenario: an
// account that knows only a person's ID number adds it under a false name
// and books a pediatrics clinic (and enters a draw, joins a waitlist); the person's own account is refused the
// clinic and another that day (person_booked_elsewhere, counted by
// identity) and sees nothing made by others. The desk verifies the card's
// name with the person's account phone: the squatter's booking is void —
// cancelled for the hospital (never late), audited, its maker told — its
// slot is given back, and the person books it. The near miss: a family
// member's booking made by another account under the verified name stands.
func TestDeskVerificationVoidsASquattersBookings(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	clinic := h.session(sessionOpts{online: 1, dept: "Pediatrics"})
	other := h.session(sessionOpts{online: 2, dept: "Pediatrics", period: "afternoon"})
	later := h.session(sessionOpts{online: 2, dept: "Dermatology", day: h.day.AddDate(0, 0, 1)})
	person := h.person("真名字")
	squatter := h.userOf(h.person("李娜"), booking.IdentityRequest{IDType: person.IDType, IDNumber: person.IDNumber, Name: "假名字"})
	sb := h.mustBook(squatter, 1, clinic, "")
	// The squatter's entry in a draw and place on a sold-out session's
	// waitlist, under the false name too.
	draw := h.lotterySession(lotteryOpts{online: 2, dept: "Neurology", period: "evening"})
	se := h.mustEnter(squatter, 1, draw)
	full := h.session(sessionOpts{online: 1, dept: "Cardiology", day: h.day.AddDate(0, 0, 2)})
	h.mustBook(h.user(1), 0, full, "")
	sw, err := h.svc.JoinWaitlist(h.ctx, squatter.actor, booking.JoinWaitlistRequest{SessionID: full.ID, PatientID: squatter.patients[1].ID})
	testenv.Must(t, err, "the squatter puts the person on the waitlist")
	family := h.userOf(h.person("赵强"), person)
	fb := h.mustBook(family, 1, later, "")
	owner := h.userOf(person)

	_, err = h.book(owner, 0, other, "")
	wantUniform(t, "the owner books another pediatrics clinic that day", err)
	_, err = h.book(owner, 0, clinic, "")
	wantUniform(t, "the owner books the squatter's clinic", err)
	if m := h.madeByOthers(owner); len(m.Bookings) != 0 {
		t.Errorf("the unverified owner sees %d bookings made by others, want none", len(m.Bookings))
	}

	clerk := h.staff(booking.RoleClerk)
	_, err = h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: person, AccountPhone: owner.phone, NumberRung: true})
	testenv.Must(t, err, "the desk verifies the owner's card with the owner's account phone")

	got, err := h.svc.Booking(h.ctx, squatter.actor, sb.ID)
	testenv.Must(t, err, "the squatter reads its booking")
	if got.Status != booking.StatusCancelled || got.LateCancel {
		t.Errorf("the squatter's booking = %s (late %v), want cancelled, not late", got.Status, got.LateCancel)
	}
	if got, err := h.svc.Booking(h.ctx, family.actor, fb.ID); err != nil || got.Status != booking.StatusConfirmed {
		t.Errorf("the family's booking under the verified name = %+v, %v; want it confirmed", got, err)
	}
	if n := h.count(`SELECT count(*) FROM booking_events WHERE type = 'cancelled' AND booking_id = $1 AND reason = 'name_disproved'
		AND staff_id = $2`, sb.ID, clerk.AccountID); n != 1 {
		t.Errorf("name_disproved cancellation events of the squatter's booking = %d, want 1", n)
	}
	if n := h.count(`SELECT count(*) FROM audit_log WHERE action = 'booking_cancelled' AND target = $1 AND actor_id = $2
		AND reason LIKE '%name_disproved%'`, "booking:"+sb.ID, clerk.AccountID); n != 1 {
		t.Errorf("audit entries of the void = %d, want 1", n)
	}
	if n := h.count(`SELECT count(*) FROM booking_events WHERE type = 'cancelled' AND booking_id = $1`, fb.ID); n != 0 {
		t.Errorf("cancellation events of the family's booking = %d, want none", n)
	}

	if n := h.count(`SELECT count(*) FROM lottery_entries WHERE id = $1 AND status = 'withdrawn'`, se.ID); n != 1 {
		t.Errorf("the squatter's entry is not withdrawn")
	}
	if n := h.count(`SELECT count(*) FROM waitlist WHERE id = $1 AND status = 'cancelled'`, sw.ID); n != 1 {
		t.Errorf("the squatter's waitlist place is not taken off")
	}
	if n := h.count(`SELECT count(*) FROM audit_log WHERE target IN ($1, $2) AND actor_id = $3 AND reason LIKE '%name_disproved%'`,
		"lottery_entry:"+se.ID, "waitlist:"+sw.ID, clerk.AccountID); n != 2 {
		t.Errorf("audit entries of the voided entry and place = %d, want 2", n)
	}
	if _, err := h.enter(owner, 0, draw, ""); err != nil {
		t.Errorf("the owner enters the draw after the desk: %v", err)
	}
	h.placeReturned()
	if _, err := h.book(owner, 0, clinic, ""); err != nil {
		t.Errorf("the owner books the clinic after the desk: %v, want the returned slot", err)
	}

	_, err = h.svc.NotifyEvents(h.ctx)
	testenv.Must(t, err, "notify")
	toldOf := func(u user) []string {
		ns, _, err := h.svc.MyNotifications(h.ctx, u.actor)
		testenv.Must(t, err, "notifications")
		var told []string
		for _, n := range ns {
			if strings.Contains(n.Body, "it is not the name you gave") {
				told = append(told, n.Body)
			}
		}
		return told
	}
	if told := toldOf(squatter); len(told) != 3 || !strings.Contains(told[0], "已作废") {
		t.Errorf("the squatter was told %q; want the booking's, the entry's and the place's void, in Chinese and English", told)
	}
	if told := toldOf(family); len(told) != 0 {
		t.Errorf("the family was told %q; its booking stands", told)
	}
	if m := h.madeByOthers(owner); slices.ContainsFunc(m.Bookings, func(b booking.Booking) bool {
		return b.ID == sb.ID && b.Status == booking.StatusConfirmed
	}) {
		t.Errorf("the owner sees the squatter's booking still confirmed")
	}
	h.checkClean()
}

// voidFailsOnce is a store whose first listing of what other accounts made
// for a person fails.
type voidFailsOnce struct {
	*cockroach.Store
	failed atomic.Bool
}

func (v *voidFailsOnce) MadeByOthers(ctx context.Context, identityID, accountID, fromDate string, since time.Time) (booking.MadeByOthers, error) {
	if v.failed.CompareAndSwap(false, true) {
		return booking.MadeByOthers{}, booking.ErrUnavailable
	}
	return v.Store.MadeByOthers(ctx, identityID, accountID, fromDate, since)
}

// TestDeskVerificationAgainFinishesAFailedVoid: a void that fails after the
// verification committed answers the clerk 503 unavailable, the name
// verified and the squatter's entry still entered; the same verification
// again is accepted and withdraws it.
func TestDeskVerificationAgainFinishesAFailedVoid(t *testing.T) {
	v := &voidFailsOnce{}
	h := newHarness(t, harnessConfig{soldOutFor: -1, wrap: func(s *cockroach.Store) booking.Store { v.Store = s; return v }})
	draw := h.lotterySession(lotteryOpts{online: 2})
	person := h.person("真名字")
	squatter := h.userOf(h.person("李娜"), booking.IdentityRequest{IDType: person.IDType, IDNumber: person.IDNumber, Name: "假名字"})
	se := h.mustEnter(squatter, 1, draw)
	clerk := h.staff(booking.RoleClerk)
	verify := booking.VerifyRequest{IdentityRequest: person}
	_, err := h.svc.VerifyIdentity(h.ctx, clerk, verify)
	wantErr(t, "the verification whose void fails", err, booking.ErrUnavailable)
	if e, _ := booking.AsError(err); e == nil || !strings.Contains(e.Message, "verify the card again") {
		t.Errorf("the clerk is told %v; want what to do", err)
	}
	if n := h.count(`SELECT count(*) FROM lottery_entries WHERE id = $1 AND status = 'entered'`, se.ID); n != 1 {
		t.Errorf("the squatter's entry is not entered after the failed void")
	}
	if n := h.count(`SELECT count(*) FROM audit_log WHERE action = 'identity_verified' AND actor_id = $1`, clerk.AccountID); n != 1 {
		t.Errorf("identity_verified audit entries = %d, want 1 (the verification committed)", n)
	}
	_, err = h.svc.VerifyIdentity(h.ctx, clerk, verify)
	testenv.Must(t, err, "the same verification again")
	if n := h.count(`SELECT count(*) FROM lottery_entries WHERE id = $1 AND status = 'withdrawn'`, se.ID); n != 1 {
		t.Errorf("the squatter's entry is not withdrawn after the verification again")
	}
	h.checkClean()
}

// TestEveryDeskReadOfTheCardVoidsWhatItDisproves: the desk reads a
// person's card not only when a clerk verifies it but at a check-in and at
// a walk-in's booking, and each makes the card's name the verified one; each
// voids what the card disproves, as VerifyIdentity does (one void,
// voidDisproved): another account's booking under a false name is
// cancelled name_disproved as the clerk's, another account's self claim
// under a false name is no self any more (self_disproved). The near
// misses stand: a family member's booking under the true name, and a phone
// operator's booking under the false name (staff's: the desk cancels those
// by hand).
func TestEveryDeskReadOfTheCardVoidsWhatItDisproves(t *testing.T) {
	for _, tc := range []struct {
		name string
		read func(h *harness, clerk booking.Actor, person booking.IdentityRequest, own booking.Booking, clinic *booking.Session) error
	}{
		{"check-in", func(h *harness, clerk booking.Actor, person booking.IdentityRequest, own booking.Booking, clinic *booking.Session) error {
			defer h.clock.at(clinic.StartsAt.Add(-30 * time.Minute))()
			_, err := h.svc.CheckIn(h.ctx, clerk, booking.CheckInRequest{IdentityRequest: person, BookingID: own.ID})
			return err
		}},
		{"walk-in", func(h *harness, clerk booking.Actor, person booking.IdentityRequest, _ booking.Booking, _ *booking.Session) error {
			walkIn := h.deskSession(deskOpts{onsite: 1, dept: "Neurology", period: "afternoon"})
			_, err := h.staffBook(clerk, person, walkIn, booking.ChannelOnsite, "")
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, harnessConfig{soldOutFor: -1})
			clinic := h.deskSession(deskOpts{online: 1, onsite: 1, dept: "Pediatrics"})
			later := h.deskSession(deskOpts{online: 2, dept: "Dermatology", day: 1})
			other := h.deskSession(deskOpts{online: 2, dept: "Orthopedics", day: 2})
			phone := h.deskSession(deskOpts{phone: 2, dept: "Urology", day: 3})
			person := h.person("真名字")
			falseName := booking.IdentityRequest{IDType: person.IDType, IDNumber: person.IDNumber, Name: "假名字"}
			squatter := h.userOf(h.person("李娜"), falseName)
			sb := h.mustBook(squatter, 1, later, "")
			falseSelf := h.userOf(falseName)
			family := h.userOf(h.person("赵强"), person)
			fb := h.mustBook(family, 1, other, "")
			op := h.staff(booking.RoleOperator)
			ob, err := h.staffBook(op, falseName, phone, booking.ChannelPhone, "13912345678")
			testenv.Must(t, err, "an operator books the person under the false name a caller gave")
			owner := h.userOf(h.person("王五"), person)
			own := h.mustBook(owner, 1, clinic, "")

			clerk := h.staff(booking.RoleClerk)
			testenv.Must(t, tc.read(h, clerk, person, own, clinic), "the desk reads the person's card")

			if n := h.count(`SELECT count(*) FROM bookings WHERE id = $1 AND status = 'cancelled'`, sb.ID); n != 1 {
				t.Errorf("the squatter's booking under the false name is not void")
			}
			if n := h.count(`SELECT count(*) FROM booking_events WHERE type = 'cancelled' AND booking_id = $1 AND reason = 'name_disproved'
				AND staff_id = $2`, sb.ID, clerk.AccountID); n != 1 {
				t.Errorf("name_disproved cancellations of the squatter's booking by the clerk = %d, want 1", n)
			}
			if n := h.count(`SELECT count(*) FROM patients WHERE id = $1 AND NOT is_self`, falseSelf.patients[0].ID); n != 1 {
				t.Errorf("the false self is still its account's self")
			}
			if n := h.count(`SELECT count(*) FROM audit_log WHERE action = 'self_disproved' AND target = $1 AND actor_id = $2`,
				"patient:"+falseSelf.patients[0].ID, clerk.AccountID); n != 1 {
				t.Errorf("self_disproved audit entries of the false self = %d, want 1", n)
			}
			for what, id := range map[string]string{"the family's booking under the true name": fb.ID,
				"the operator's booking under the false name": ob.ID} {
				if n := h.count(`SELECT count(*) FROM bookings WHERE id = $1 AND status = 'confirmed'`, id); n != 1 {
					t.Errorf("%s is not confirmed", what)
				}
			}
			if n := h.count(`SELECT count(*) FROM patients WHERE account_id = $1 AND is_self`, family.actor.AccountID); n != 1 {
				t.Errorf("the family account's own self was dropped")
			}
			_, err = h.svc.NotifyEvents(h.ctx)
			testenv.Must(t, err, "notify")
			ns, _, err := h.svc.MyNotifications(h.ctx, falseSelf.actor)
			testenv.Must(t, err, "the false self's notifications")
			if !slices.ContainsFunc(ns, func(n booking.Notification) bool {
				return strings.Contains(n.Body, "no longer this account's own") && strings.Contains(n.Body, "已不再是本账号的本人")
			}) {
				t.Errorf("the false self's account was told %+v; want that the person is no longer its own", ns)
			}
			h.checkClean()
		})
	}
}

// TestDeskReadSparesAMisheardName: a son books for his mother under a
// homophone of her name (李玫 for 李梅, 同音字), as the desk's check-in
// would take it; when the desk reads her card, his booking is kept, its
// name corrected to the card's (so check-in and the lookups go by it), his
// account told, the correction audited as the clerk's. The near misses,
// voided as a squatter's: a name one character apart but in the family
// name (张梅), another name altogether (王芳).
func TestDeskReadSparesAMisheardName(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	person := h.person("李梅")
	named := func(name string) booking.IdentityRequest {
		return booking.IdentityRequest{IDType: person.IDType, IDNumber: person.IDNumber, Name: name}
	}
	son := h.userOf(h.person("赵强"), named("李玫"))
	near := h.mustBook(son, 1, h.session(sessionOpts{online: 1, dept: "Cardiology"}), "")
	var far []booking.Booking
	for i, name := range []string{"张梅", "王芳"} {
		other := h.userOf(h.person([]string{"钱多", "孙立"}[i]), named(name))
		far = append(far, h.mustBook(other, 1, h.session(sessionOpts{online: 1, dept: "Dermatology", day: h.day.AddDate(0, 0, 1+i)}), ""))
	}

	clerk := h.staff(booking.RoleClerk)
	_, err := h.svc.VerifyIdentity(h.ctx, clerk, booking.VerifyRequest{IdentityRequest: person})
	testenv.Must(t, err, "the desk verifies the mother's card")

	got, err := h.svc.Booking(h.ctx, son.actor, near.ID)
	testenv.Must(t, err, "the son reads his booking")
	if got.Status != booking.StatusConfirmed {
		t.Errorf("the son's booking under the misheard name = %s, want confirmed", got.Status)
	}
	if n := h.count(`SELECT count(*) FROM bookings b JOIN identities i ON i.id = b.identity_id
		WHERE b.id = $1 AND b.name_hash = i.name_hash AND b.booked_name_hash IS NOT NULL AND b.booked_name_hash <> i.name_hash`, near.ID); n != 1 {
		t.Errorf("the son's booking does not carry the card's name (keeping the one it was booked under)")
	}
	if n := h.count(`SELECT count(*) FROM booking_events WHERE type = 'cancelled' AND booking_id = $1`, near.ID); n != 0 {
		t.Errorf("cancellation events of the son's booking = %d, want none", n)
	}
	if n := h.count(`SELECT count(*) FROM audit_log WHERE action = 'booking_name_corrected' AND target = $1 AND actor_id = $2`,
		"booking:"+near.ID, clerk.AccountID); n != 1 {
		t.Errorf("booking_name_corrected audit entries of the son's booking = %d, want 1", n)
	}
	for i, b := range far {
		if n := h.count(`SELECT count(*) FROM bookings WHERE id = $1 AND status = 'cancelled'`, b.ID); n != 1 {
			t.Errorf("the booking under the far name %d is not void", i)
		}
	}
	_, err = h.svc.NotifyEvents(h.ctx)
	testenv.Must(t, err, "notify")
	ns, _, err := h.svc.MyNotifications(h.ctx, son.actor)
	testenv.Must(t, err, "the son's notifications")
	var corrected, void []string
	for _, n := range ns {
		if strings.Contains(n.Body, "姓名已更正") && strings.Contains(n.Body, "name corrected") {
			corrected = append(corrected, n.Body)
		}
		if strings.Contains(n.Body, "已作废") {
			void = append(void, n.Body)
		}
	}
	if len(corrected) != 1 || len(void) != 0 {
		t.Errorf("the son was told of a correction %q and of a void %q; want one correction, in Chinese and English, and no void", corrected, void)
	}
	// The mother checks in with her card as any booking of hers.
	sess, _ := h.svc.Catalog().Session(near.SessionID)
	defer h.clock.at(sess.StartsAt.Add(-30 * time.Minute))()
	if _, err := h.svc.CheckIn(h.ctx, clerk, booking.CheckInRequest{IdentityRequest: person, BookingID: near.ID}); err != nil {
		t.Errorf("the mother checks in: %v", err)
	}
	if n := h.count(`SELECT count(*) FROM audit_log WHERE action = 'checkin' AND target = $1`, "booking:"+near.ID); n != 1 {
		t.Errorf("plain check-ins of the corrected booking = %d, want 1 (no override)", n)
	}
	h.checkClean()
}
