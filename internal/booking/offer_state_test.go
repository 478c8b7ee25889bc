package booking_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// offerStatus reads a substitute offer's status as SQL holds it.
func (h *harness) offerStatus(heldID string) string {
	h.t.Helper()
	var st string
	testenv.Must(h.t, h.stack.DB.Pool().QueryRow(h.ctx, `SELECT status FROM substitute_offers WHERE booking_id = $1`, heldID).Scan(&st),
		"read the offer of %s", heldID)
	return st
}

// ownOffer is the offer of held as its patient's list shows it, and its
// status as of now.
func (h *harness) ownOffer(u user, held string) string {
	h.t.Helper()
	offers, err := h.svc.Offers(h.ctx, u.actor)
	testenv.Must(h.t, err, "the patient's offers")
	for _, o := range offers {
		if o.BookingID == held {
			return o.StateAt(h.clockNow())
		}
	}
	h.t.Fatalf("the patient's offers %+v do not list %s", offers, held)
	return ""
}

func (h *harness) clockNow() time.Time { return time.Now().Add(time.Duration(h.clock.offset.Load())) }

// TestOfferEndsWithTheSubstitutesStop (review17 H, A): the substitute's
// clinic is stopped too. The offers of its held bookings end with the stop,
// in its transaction (withdrawn): the patient's list and the call-back row
// no longer say the slot is held, and neither the patient nor the call
// centre can accept a slot in a stopped clinic (offer_closed), nor is an
// acceptance audited.
func TestOfferEndsWithTheSubstitutesStop(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	admin := h.staffOf(booking.RoleAdmin, h.hosp.ID)
	op := h.staffOf(booking.RoleOperator, h.hosp.ID)
	sess := h.deskSession(deskOpts{day: 1, online: 2, phone: 2})
	sub := h.colleague("Cardiology", "attending physician", "")
	u := h.user(1)
	online := h.mustBook(u, 0, sess, "")
	caller, err := h.staffBook(op, h.person("孙老伯"), sess, booking.ChannelPhone, "13912345678")
	testenv.Must(t, err, "book a caller by phone")
	res, err := h.svc.Stop(h.ctx, admin, sess.ID, booking.StopRequest{Reason: "the doctor is ill", SubstituteDoctorID: sub.ID})
	testenv.Must(t, err, "stop with a substitute")
	heldOnline, heldCaller := booking.NameID(online.ID, "substitute"), booking.NameID(caller.ID, "substitute")
	// (review17 L) The stop's audit names the hold in the hospital's zone,
	// and its notices carry their hospital, whose zone the API shows them in.
	var reason string
	testenv.Must(t, h.stack.DB.Pool().QueryRow(h.ctx, `SELECT reason FROM audit_log WHERE action = 'session_stop' AND target = $1`,
		"session:"+sess.ID).Scan(&reason), "read the stop's audit")
	if want := "offers held until " + res.HoldUntil.In(h.hosp.Location()).Format(time.RFC3339); !strings.Contains(reason, want) {
		t.Errorf("stop audit reason %q; want it to say %q (the hospital's zone)", reason, want)
	}
	ns, err := h.svc.Notifications(h.ctx, admin, sess.ID)
	testenv.Must(t, err, "the stop's notices")
	for _, n := range ns {
		if n.HospitalID != h.hosp.ID {
			t.Errorf("notice %s of the stop reads hospital %q, want %s (its times are shown in its zone)", n.ID, n.HospitalID, h.hosp.ID)
		}
	}

	stop, err := h.svc.StopSession(h.ctx, admin, res.SubstituteSessionID, "the substitute is ill too")
	testenv.Must(t, err, "stop the substitute's clinic")
	if stop.Cancelled != 2 {
		t.Fatalf("the substitute's stop = %+v; want both held bookings cancelled", stop)
	}
	for _, id := range []string{heldOnline, heldCaller} {
		if got := h.offerStatus(id); got != "withdrawn" {
			t.Errorf("offer of %s after its clinic's stop = %s in SQL, want withdrawn (settled with the stop)", id, got)
		}
	}
	if got := h.ownOffer(u, heldOnline); got == booking.OfferOpen {
		t.Errorf("the patient's list shows the offer of a stopped clinic as %s", got)
	}
	_, err = h.svc.AnswerOffer(h.ctx, u.actor, heldOnline, true, booking.Origin{})
	wantErr(t, "the patient accepts a slot in a stopped clinic", err, booking.ErrOfferClosed)

	list, err := h.svc.CallBacks(h.ctx, op)
	testenv.Must(t, err, "the operator's call-back list")
	var row *booking.CallBack
	for i, c := range list {
		if c.BookingID == caller.ID {
			row = &list[i]
		}
	}
	if row == nil || row.Offer == nil {
		t.Fatalf("call-back list %+v; want the first stop's row for the caller, with its offer", list)
	}
	if st := row.Offer.StateAt(h.clockNow()); st == booking.OfferOpen || row.AwaitsAnswer(h.clockNow()) {
		t.Errorf("the caller's row shows the offer %s; the substitute's clinic is stopped", st)
	}
	_, err = h.svc.CallBackNumber(h.ctx, op, row.NotificationID)
	testenv.Must(t, err, "open the caller's number to ring it")
	_, err = h.svc.MarkCallBack(h.ctx, op, row.NotificationID, booking.CallAccepted, "", booking.Origin{})
	wantErr(t, "the call centre records an acceptance of a slot in a stopped clinic", err, booking.ErrOfferClosed)
	if n := h.count(`SELECT count(*) FROM audit_log WHERE action = 'substitute_accepted'`); n != 0 {
		t.Errorf("%d substitute_accepted audit entries for offers of a stopped clinic, want none", n)
	}
	h.checkClean()
}

// TestCancelledHeldBookingDeclines (review17 H, B): the patient cancels the
// held booking the ordinary way, before the cancellation deadline: that is
// declining, settled with the cancellation; an accept after it is refused.
func TestCancelledHeldBookingDeclines(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	admin := h.staffOf(booking.RoleAdmin, h.hosp.ID)
	sess := h.deskSession(deskOpts{day: 2, online: 2})
	sub := h.colleague("Cardiology", "attending physician", "")
	u := h.user(1)
	b := h.mustBook(u, 0, sess, "")
	_, err := h.svc.Stop(h.ctx, admin, sess.ID, booking.StopRequest{Reason: "the doctor is ill", SubstituteDoctorID: sub.ID})
	testenv.Must(t, err, "stop with a substitute")
	held := booking.NameID(b.ID, "substitute")
	if got := h.mustCancel(u.actor, held); got.Status != booking.StatusCancelled || got.LateCancel {
		t.Fatalf("cancel the held booking = %s late=%v; want cancelled, never late", got.Status, got.LateCancel)
	}
	if got := h.offerStatus(held); got != booking.OfferDeclined {
		t.Errorf("offer after its held booking was cancelled = %s in SQL, want declined", got)
	}
	if got := h.ownOffer(u, held); got != booking.OfferDeclined {
		t.Errorf("the patient's list shows the offer %s, want declined", got)
	}
	_, err = h.svc.AnswerOffer(h.ctx, u.actor, held, true, booking.Origin{})
	wantErr(t, "accepting the offer of a cancelled booking", err, booking.ErrOfferClosed)
	if st := h.stored(held).Status; st != booking.StatusCancelled {
		t.Errorf("held booking = %s after the refused accept, want cancelled", st)
	}
	h.placeReturned()
	h.checkClean()
}

// TestLapseAfterCheckInOrCancel (review17 H, C): before hold_until one held
// booking is checked in (accepted by coming) and one cancelled (declined),
// each settled with the change; one offer was left open over a booking
// cancelled without it (as before this fix), due first. The lapse job
// settles that one by its booking's state and still lapses the offer
// nobody answered, with no error; the patients' lists read the truth.
func TestLapseAfterCheckInOrCancel(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	admin := h.staffOf(booking.RoleAdmin, h.hosp.ID)
	clerk := h.staffOf(booking.RoleClerk, h.hosp.ID)
	sess := h.deskSession(deskOpts{online: 4})
	sub := h.colleague("Cardiology", "attending physician", "")
	people := []booking.IdentityRequest{h.person("张三"), h.person("李四"), h.person("王五"), h.person("赵六")}
	var users []user
	var held []string
	for _, p := range people {
		u := h.userOf(p)
		users = append(users, u)
		held = append(held, booking.NameID(h.mustBook(u, 0, sess, "").ID, "substitute"))
	}
	hold := sess.StartsAt.Add(-30 * time.Minute)
	_, err := h.svc.Stop(h.ctx, admin, sess.ID, booking.StopRequest{Reason: "the doctor is ill", SubstituteDoctorID: sub.ID, HoldUntil: hold})
	testenv.Must(t, err, "stop with a substitute")
	checkedIn, cancelled, stale, unanswered := held[0], held[1], held[2], held[3]

	func() {
		defer h.clock.at(sess.StartsAt.Add(-time.Hour))()
		_, err := h.svc.CheckIn(h.ctx, clerk, booking.CheckInRequest{BookingID: checkedIn, IdentityRequest: people[0]})
		testenv.Must(t, err, "check the held booking in")
		h.mustCancel(users[1].actor, cancelled)
	}()
	// An offer left open over a cancelled booking, due before the others.
	_, err = h.stack.DB.Pool().Exec(h.ctx, `UPDATE bookings SET status = 'cancelled', cancelled_at = now() WHERE id = $1`, stale)
	testenv.Must(t, err, "cancel a held booking behind its offer's back")
	_, err = h.stack.DB.Pool().Exec(h.ctx, `UPDATE substitute_offers SET hold_until = hold_until - interval '1 minute' WHERE booking_id = $1`, stale)
	testenv.Must(t, err, "make it due first")

	func() {
		defer h.clock.at(hold.Add(time.Second))()
		n, err := h.svc.LapseOffers(h.ctx)
		if err != nil {
			t.Errorf("lapse offers: %v; want none (every offer settles by its booking)", err)
		}
		if n != 1 {
			t.Errorf("%d offers lapsed, want 1 (the unanswered one)", n)
		}
		for _, c := range []struct {
			name, id, want string
			u              user
		}{
			{"checked in", checkedIn, booking.OfferAccepted, users[0]},
			{"cancelled", cancelled, booking.OfferDeclined, users[1]},
			{"cancelled behind its back", stale, booking.OfferDeclined, users[2]},
			{"unanswered", unanswered, booking.OfferLapsed, users[3]},
		} {
			if got := h.offerStatus(c.id); got != c.want {
				t.Errorf("%s: offer %s in SQL, want %s", c.name, got, c.want)
			}
			if got := h.ownOffer(c.u, c.id); got != c.want {
				t.Errorf("%s: the patient's list shows %s, want %s", c.name, got, c.want)
			}
		}
		if st := h.stored(checkedIn).Status; st != booking.StatusCheckedIn {
			t.Errorf("checked-in held booking = %s after the lapse job, want checked_in", st)
		}
		if st := h.stored(unanswered).Status; st != booking.StatusCancelled {
			t.Errorf("unanswered held booking = %s after the lapse job, want cancelled", st)
		}
	}()
}

// TestUnansweredHeldSlotIsNeverANoShow: a slot held with a substitute doctor
// that nobody answered lapses — cancelled without penalty — also when the
// lapse job has not run by the time the desk or the no-show job reaches it:
// a clerk reissuing it lapses it and gives it on, and the no-show job leaves
// it to the lapse job. An accepted one nobody came for is a no-show (the
// near miss).
func TestUnansweredHeldSlotIsNeverANoShow(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	db := h.sql()
	admin := h.staffOf(booking.RoleAdmin, h.hosp.ID)
	clerk := h.staffOf(booking.RoleClerk, h.hosp.ID)
	sess := h.deskSession(deskOpts{online: 3})
	sub := h.colleague("Cardiology", "attending physician", "")
	var users []user
	var held []string
	for _, name := range []string{"张三", "李四", "王五"} {
		u := h.userOf(h.person(name))
		users = append(users, u)
		held = append(held, booking.NameID(h.mustBook(u, 0, sess, "").ID, "substitute"))
	}
	hold := sess.StartsAt.Add(-30 * time.Minute)
	_, err := h.svc.Stop(h.ctx, admin, sess.ID, booking.StopRequest{Reason: "the doctor is ill", SubstituteDoctorID: sub.ID, HoldUntil: hold})
	testenv.Must(t, err, "stop with a substitute")
	accepted, reissued, unanswered := held[0], held[1], held[2]
	func() {
		defer h.clock.at(sess.StartsAt.Add(-time.Hour))()
		_, err := h.svc.AnswerOffer(h.ctx, users[0].actor, accepted, true, booking.Origin{})
		testenv.Must(t, err, "accept the first offer")
	}()

	// The clerk reaches an unanswered held slot before the lapse job does.
	func() {
		defer h.clock.at(booking.ReissuableFrom(h.stored(reissued)))()
		pl, err := h.svc.Reissue(h.ctx, clerk, booking.ReissueRequest{BookingID: reissued, Reason: "patient did not come"})
		testenv.Must(t, err, "reissue an unanswered held slot")
		// The desk gets it back by the return path (review25 H2).
		if pl.Outcome != booking.PlacedDelayed && pl.Outcome != booking.PlacedHeld {
			t.Errorf("the reissued slot went %q, want the return path (delayed or held for the round)", pl.Outcome)
		}
	}()
	if got := h.stored(reissued).Status; got != booking.StatusCancelled {
		t.Errorf("reissued unanswered held slot: %s, want cancelled (its offer lapsed)", got)
	}
	if got := h.offerStatus(reissued); got != booking.OfferLapsed {
		t.Errorf("reissued unanswered held slot's offer: %s, want lapsed", got)
	}
	db.wantCount("reissue audit entries", 1, `SELECT count(*) FROM audit_log WHERE action = 'reissue' AND target = $1`, "booking:"+reissued)

	// The no-show job runs after the session, the lapse job still behind.
	func() {
		defer h.clock.at(sess.EndsAt.Add(time.Hour))()
		_, _, err := h.svc.MarkNoShows(h.ctx)
		testenv.Must(t, err, "mark no-shows")
		if got := h.stored(accepted).Status; got != booking.StatusNoShow {
			t.Errorf("accepted held slot nobody came for: %s, want no_show", got)
		}
		if got := h.stored(unanswered).Status; got != booking.StatusConfirmed {
			t.Errorf("unanswered held slot after the no-show job: %s, want confirmed (left to the lapse job)", got)
		}
		n, err := h.svc.LapseOffers(h.ctx)
		testenv.Must(t, err, "lapse offers")
		if n != 1 {
			t.Errorf("%d offers lapsed, want 1 (the unanswered one)", n)
		}
	}()
	if got := h.stored(unanswered).Status; got != booking.StatusCancelled {
		t.Errorf("unanswered held slot after the lapse job: %s, want cancelled", got)
	}
	for _, id := range []string{reissued, unanswered} {
		db.wantCount("no-show events of an unanswered held slot", 0,
			`SELECT count(*) FROM booking_events WHERE booking_id = $1 AND type = 'no_show'`, id)
		db.wantCount("late cancellations of an unanswered held slot", 0,
			`SELECT count(*) FROM bookings WHERE id = $1 AND late_cancel`, id)
	}
}

// TestOperatorAnswersOffersOnlyForTheCaller: the call centre answers a
// substitute offer under the rule of its cancellations (review18c) — for
// the caller on the line, with the person's ID number and name, ringing
// from the number the booking was made on a call from. An operator's answer
// by the booking's id alone is refused, and so is one for a caller ringing
// from another number or for an online booking (its account's number).
func TestOperatorAnswersOffersOnlyForTheCaller(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	admin := h.staffOf(booking.RoleAdmin, h.hosp.ID)
	op := h.staffOf(booking.RoleOperator, h.hosp.ID)
	sess := h.deskSession(deskOpts{online: 2, phone: 2})
	sub := h.colleague("Cardiology", "attending physician", "")
	online := h.person("张三")
	u := h.userOf(online)
	onlineHeld := booking.NameID(h.mustBook(u, 0, sess, "").ID, "substitute")
	caller, first, second := h.person("钱桂英"), "13812340001", "13812340002"
	b, err := h.staffBook(op, caller, sess, booking.ChannelPhone, first)
	testenv.Must(t, err, "book on a call from the first number")
	phoneHeld := booking.NameID(b.ID, "substitute")
	_, err = h.svc.Stop(h.ctx, admin, sess.ID, booking.StopRequest{Reason: "the doctor is ill", SubstituteDoctorID: sub.ID,
		HoldUntil: sess.StartsAt.Add(-30 * time.Minute)})
	testenv.Must(t, err, "stop with a substitute")
	defer h.clock.at(sess.StartsAt.Add(-time.Hour))()

	for _, held := range []string{onlineHeld, phoneHeld} {
		if _, err := h.svc.AnswerOffer(h.ctx, op, held, false, booking.Origin{}); !errors.Is(err, booking.ErrForbidden) {
			t.Errorf("an operator's decline by the booking's id: %v, want forbidden", err)
		}
	}
	if _, err := h.svc.AnswerOfferForCaller(h.ctx, op, onlineHeld, online, u.phone, false, booking.Origin{}); !errors.Is(err, booking.ErrForbidden) {
		t.Errorf("an operator's decline of an online booking's offer from its account's number: %v, want forbidden", err)
	}
	if _, err := h.svc.AnswerOfferForCaller(h.ctx, op, phoneHeld, caller, second, false, booking.Origin{}); !errors.Is(err, booking.ErrForbidden) {
		t.Errorf("a decline for a caller ringing from another number: %v, want forbidden", err)
	}
	for _, held := range []string{onlineHeld, phoneHeld} {
		if got := h.offerStatus(held); got != booking.OfferOpen {
			t.Errorf("offer of %s after the refusals: %s, want still offered", held, got)
		}
	}
	off, err := h.svc.AnswerOfferForCaller(h.ctx, op, phoneHeld, caller, first, false, booking.Origin{})
	testenv.Must(t, err, "decline for the caller ringing from the booking's number")
	if off.Status != booking.OfferDeclined || h.stored(phoneHeld).Status != booking.StatusCancelled {
		t.Errorf("declined for the caller: offer %s, booking %s; want declined and cancelled", off.Status, h.stored(phoneHeld).Status)
	}
}
