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

// deliveredAt reads a booking's stop notice's delivery time (nil: pending).
func (h *harness) deliveredAt(bookingID string) *time.Time {
	h.t.Helper()
	var at *time.Time
	testenv.Must(h.t, h.stack.DB.Pool().QueryRow(h.ctx,
		`SELECT delivered_at FROM notifications WHERE booking_id = $1 AND kind = 'session_stopped'`, bookingID).Scan(&at),
		"read the stop notice of %s", bookingID)
	return at
}

// TestCallBackAfterStop (H2): a clinic stopped with a caller the call centre
// booked by phone and a walk-in the desk booked: the account's patient is
// told through the channel; the caller's and the walk-in's notices are not
// stamped delivered (no channel reaches them) but wait on the hospital's
// call-back list with the stop's reason, the caller's number masked; the
// operator opens the number (audited), a no-answer keeps the row, "told"
// (audited) stamps it delivered and takes it off; another hospital's staff,
// patients and administrators see nothing of it.
func TestCallBackAfterStop(t *testing.T) {
	snd := &recordingSender{}
	h := newHarness(t, harnessConfig{soldOutFor: -1, sender: snd})
	admin := h.staffOf(booking.RoleAdmin, h.hosp.ID)
	op, clerk := h.staffOf(booking.RoleOperator, h.hosp.ID), h.staffOf(booking.RoleClerk, h.hosp.ID)
	other, _ := h.otherHospital()
	theirOp := h.staffOf(booking.RoleOperator, other.ID)
	sess := h.deskSession(deskOpts{online: 2, phone: 2, onsite: 2})
	u := h.user(1)
	online := h.mustBook(u, 0, sess, "")
	old, aunt := h.person("孙老伯"), h.person("周阿姨")
	caller, err := h.staffBook(op, old, sess, booking.ChannelPhone, "13912345678")
	testenv.Must(t, err, "book a caller by phone")
	walkIn := h.mustWalkIn(clerk, aunt, sess)
	// Someone else, who knows their ID numbers and names, rings from
	// another number and waitlists both elsewhere: the call backs about
	// their own bookings must not ring that number (it rang the last
	// number given for the person, whoever gave it).
	full := h.deskSession(deskOpts{day: 2, dept: "Dermatology", phone: 1})
	_, err = h.staffBook(op, h.person("吴先生"), full, booking.ChannelPhone, "13600000001")
	testenv.Must(t, err, "fill the other session's phone pool")
	for _, who := range []booking.IdentityRequest{old, aunt} {
		_, err := h.svc.JoinWaitlistFor(h.ctx, op, booking.StaffWaitlistRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, IdentityRequest: who, SessionID: full.ID,
			CallerPhone: "13700001111"})
		testenv.Must(t, err, "another caller waitlists %s", who.Name)
	}

	res, err := h.svc.StopSession(h.ctx, admin, sess.ID, "the doctor is ill")
	testenv.Must(t, err, "stop")
	if res.Cancelled != 3 || res.Notified != 1 || res.ToCallBack != 2 {
		t.Fatalf("stop = %+v; want 3 cancelled, 1 notified online, 2 to call back", res)
	}
	if n, err := h.svc.DeliverNotifications(h.ctx); n != 1 || err != nil {
		t.Fatalf("deliver = %d, %v; want the account's one notice only", n, err)
	}
	if sent := snd.got(); len(sent) != 1 || sent[0].BookingID != online.ID {
		t.Errorf("sent = %+v; want the online booking's notice only", sent)
	}
	for _, b := range []booking.Booking{caller, walkIn} {
		if at := h.deliveredAt(b.ID); at != nil {
			t.Errorf("the %s booking's stop notice is stamped delivered at %s; nobody told the person", b.Channel, at)
		}
	}

	list, err := h.svc.CallBacks(h.ctx, op)
	testenv.Must(t, err, "the operator's call-back list")
	if len(list) != 2 {
		t.Fatalf("call-back list = %+v; want the caller and the walk-in", list)
	}
	rows := map[string]booking.CallBack{}
	for _, c := range list {
		rows[c.BookingID] = c
	}
	cb, walk := rows[caller.ID], rows[walkIn.ID]
	if cb.Reason != "the doctor is ill" || cb.SessionID != sess.ID || cb.Channel != booking.ChannelPhone ||
		cb.PhoneMasked != "139****5678" || cb.Offer != nil || cb.NameMasked == "" || cb.NameMasked == "孙老伯" {
		t.Errorf("caller's row = %+v; want the stop's reason, the phone channel, the number and name masked, no offer", cb)
	}
	if walk.Channel != booking.ChannelOnsite || walk.PhoneMasked != "" || walk.Reason != "the doctor is ill" {
		t.Errorf("walk-in's row = %+v; want the desk's, with no number on file", walk)
	}
	if l, err := h.svc.CallBacks(h.ctx, clerk); err != nil || len(l) != 2 {
		t.Errorf("the clerk's list = %d rows, %v; want the same 2", len(l), err)
	}

	// Nobody else: another hospital's operator, a patient, an
	// administrator.
	if l, err := h.svc.CallBacks(h.ctx, theirOp); err != nil || len(l) != 0 {
		t.Errorf("another hospital's operator lists %d rows, %v; want none", len(l), err)
	}
	for name, err := range map[string]error{
		"another hospital's operator opens the number": func() error { _, err := h.svc.CallBackNumber(h.ctx, theirOp, cb.NotificationID); return err }(),
		"another hospital's operator marks it told": func() error {
			_, err := h.svc.MarkCallBack(h.ctx, theirOp, cb.NotificationID, booking.CallTold, "", booking.Origin{})
			return err
		}(),
	} {
		if !errors.Is(err, booking.ErrCallBackNotFound) {
			t.Errorf("%s: %v; want callback_not_found", name, err)
		}
	}
	for name, a := range map[string]booking.Actor{"a patient": u.actor, "an administrator": admin} {
		if _, err := h.svc.CallBacks(h.ctx, a); !errors.Is(err, booking.ErrForbidden) {
			t.Errorf("%s lists call-backs: %v; want forbidden", name, err)
		}
	}
	if _, err := h.svc.CallBackNumber(h.ctx, clerk, cb.NotificationID); !errors.Is(err, booking.ErrForbidden) {
		t.Errorf("a clerk opens a caller's number: %v; want forbidden (operators ring)", err)
	}
	if _, err := h.svc.CallBackNumber(h.ctx, op, walk.NotificationID); !errors.Is(err, booking.ErrNoCallerPhone) {
		t.Errorf("the walk-in's number: %v; want caller_phone_unknown", err)
	}

	// The operator rings: the number opens, audited.
	phone, err := h.svc.CallBackNumber(h.ctx, op, cb.NotificationID)
	if err != nil || phone != "13912345678" {
		t.Fatalf("the caller's number = %q, %v; want 13912345678", phone, err)
	}
	if n := h.auditCount("callback_number_read"); n != 1 {
		t.Errorf("%d audited reads of a number; want 1", n)
	}
	// No answer: counted, audited, still on the list.
	if got, err := h.svc.MarkCallBack(h.ctx, op, cb.NotificationID, booking.CallNoAnswer, "", booking.Origin{}); err != nil ||
		got.Attempts != 1 || got.LastOutcome != booking.CallNoAnswer {
		t.Fatalf("no answer = %+v, %v; want one attempt", got, err)
	}
	if l, _ := h.svc.CallBacks(h.ctx, op); len(l) != 2 || h.deliveredAt(caller.ID) != nil {
		t.Errorf("after no answer: %d rows, delivered %v; want the row kept, pending", len(l), h.deliveredAt(caller.ID))
	}
	if _, err := h.svc.MarkCallBack(h.ctx, op, cb.NotificationID, "maybe", "", booking.Origin{}); !errors.Is(err, booking.ErrInvalidField) {
		t.Errorf("an unknown outcome: %v; want invalid_field", err)
	}
	// A note goes into the append-only audit for good: one holding a phone
	// number is refused before anything is written (the number is on the
	// row, masked in the audit of its reading).
	for _, note := range []string{"told his son on 139 1234 5678", "rang 13912345678 instead", "son: +86-139-1234-5678"} {
		if _, err := h.svc.MarkCallBack(h.ctx, op, cb.NotificationID, booking.CallTold, note, booking.Origin{}); !errors.Is(err, booking.ErrInvalidField) {
			t.Errorf("a note with a phone number (%q): %v; want invalid_field", note, err)
		}
	}
	if n := h.auditCount("callback"); n != 1 || h.deliveredAt(caller.ID) != nil {
		t.Errorf("after notes refused: %d audited calls, delivered %v; want 1 (no answer), pending", n, h.deliveredAt(caller.ID))
	}
	// Told: delivered, audited, off the list; a repeat finds nothing. A
	// date and a time are no number.
	if _, err := h.svc.MarkCallBack(h.ctx, op, cb.NotificationID, booking.CallTold, "told his daughter, 2026-12-05 14:30", booking.Origin{}); err != nil {
		t.Fatalf("told: %v", err)
	}
	if h.deliveredAt(caller.ID) == nil {
		t.Errorf("the caller's notice is still pending after told")
	}
	if l, _ := h.svc.CallBacks(h.ctx, op); len(l) != 1 || l[0].BookingID != walkIn.ID {
		t.Errorf("after told: %+v; want the walk-in's row only", l)
	}
	if n := h.auditCount("callback"); n != 2 {
		t.Errorf("%d audited calls; want 2 (no answer, told)", n)
	}
	if _, err := h.svc.MarkCallBack(h.ctx, op, cb.NotificationID, booking.CallTold, "", booking.Origin{}); !errors.Is(err, booking.ErrCallBackNotFound) {
		t.Errorf("told again: %v; want callback_not_found", err)
	}
	if n, err := h.svc.DeliverNotifications(h.ctx); n != 0 || err != nil {
		t.Errorf("deliver again = %d, %v; want nothing (the walk-in waits for the desk)", n, err)
	}
	if strings.Contains(h.stack.Logs.String(), "12345678") {
		t.Errorf("the service log holds the caller's number")
	}
}

// TestCallBackAnswersSubstitute (H2): with a substitute doctor (替诊) the
// caller's row shows the slot held for them and until when; the operator
// takes the caller's answer on the row (the offer's own answer), which
// counts as told.
func TestCallBackAnswersSubstitute(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	admin := h.staffOf(booking.RoleAdmin, h.hosp.ID)
	op := h.staffOf(booking.RoleOperator, h.hosp.ID)
	sess := h.deskSession(deskOpts{dept: "Dermatology", phone: 4})
	sub := h.colleague("Dermatology", "attending physician", "")
	first, err := h.staffBook(op, h.person("孙老伯"), sess, booking.ChannelPhone, "13912345678")
	testenv.Must(t, err, "book a caller")
	second, err := h.staffBook(op, h.person("吴奶奶"), sess, booking.ChannelPhone, "13987654321")
	testenv.Must(t, err, "book another caller")
	res, err := h.svc.Stop(h.ctx, admin, sess.ID, booking.StopRequest{Reason: "the doctor is ill", SubstituteDoctorID: sub.ID})
	testenv.Must(t, err, "stop with a substitute")
	if res.ToCallBack != 2 || res.Notified != 0 {
		t.Fatalf("stop = %+v; want 2 to call back, none notified online", res)
	}
	list, err := h.svc.CallBacks(h.ctx, op)
	testenv.Must(t, err, "list")
	rows := map[string]booking.CallBack{}
	for _, c := range list {
		rows[c.BookingID] = c
	}
	a, b := rows[first.ID], rows[second.ID]
	if a.Offer == nil || a.Offer.Status != booking.OfferOpen || a.Offer.HoldUntil.Sub(res.HoldUntil).Abs() > time.Millisecond {
		t.Fatalf("row = %+v; want the held slot open until %s", a, res.HoldUntil)
	}
	if strings.Contains(a.Body, "My bookings") || !strings.Contains(a.Body, "will call to ask") {
		t.Errorf("the caller's notice %q; want it to say the hospital calls, not to answer in a console they do not have", a.Body)
	}
	// Told, thinking it over: the slot is still held, and the row stays
	// for the answer the notice said the hospital would ask for.
	if _, err := h.svc.MarkCallBack(h.ctx, op, a.NotificationID, booking.CallTold, "will think it over", booking.Origin{}); err != nil {
		t.Fatalf("told on the call: %v", err)
	}
	if l, _ := h.svc.CallBacks(h.ctx, op); len(l) != 2 {
		t.Errorf("after told with the slot still held: %d rows; want both still on the list", len(l))
	}
	_, err = h.svc.CallBackNumber(h.ctx, op, a.NotificationID)
	testenv.Must(t, err, "open the first row's number to ring it")
	if _, err := h.svc.MarkCallBack(h.ctx, op, a.NotificationID, booking.CallAccepted, "", booking.Origin{}); err != nil {
		t.Fatalf("accepted on the call: %v", err)
	}
	if off, err := h.svc.OpenOffers(h.ctx, op, []string{a.Offer.BookingID}); err != nil || len(off) != 0 {
		t.Errorf("open offers after the accept = %v, %v; want none", off, err)
	}
	_, err = h.svc.CallBackNumber(h.ctx, op, b.NotificationID)
	testenv.Must(t, err, "open the second row's number to ring it")
	if _, err := h.svc.MarkCallBack(h.ctx, op, b.NotificationID, booking.CallDeclined, "", booking.Origin{}); err != nil {
		t.Fatalf("declined on the call: %v", err)
	}
	held, err := h.svc.Booking(h.ctx, op, b.Offer.BookingID)
	if err != nil || held.Status != booking.StatusCancelled {
		t.Errorf("the declined slot = %+v, %v; want cancelled", held, err)
	}
	kept, err := h.svc.Booking(h.ctx, op, a.Offer.BookingID)
	if err != nil || kept.Status != booking.StatusConfirmed {
		t.Errorf("the accepted slot = %+v, %v; want confirmed", kept, err)
	}
	if l, _ := h.svc.CallBacks(h.ctx, op); len(l) != 0 {
		t.Errorf("after both answers: %d rows; want none", len(l))
	}
	if n := h.auditCount("substitute_accepted"); n != 1 {
		t.Errorf("%d audited accepts; want 1", n)
	}
}

// TestCallBackAnswerNeedsTheCall (review23 M4): from the call-back list an
// operator declined (or accepted) a patient's held substitute slot without
// ringing anyone — no number opened, no ID given — and the booking was
// cancelled. An answer from the list is now taken only from the operator
// who opened that row's number within CallAnswerWindow (the call on which
// the person gave it): one who did not, another operator's opening, an
// opening older than the window and a clerk (who rings nobody) are refused
// with number_not_opened, the slot still held; the answer given on the
// call is audited with when the number was opened.
func TestCallBackAnswerNeedsTheCall(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	admin := h.staffOf(booking.RoleAdmin, h.hosp.ID)
	op, other := h.staffOf(booking.RoleOperator, h.hosp.ID), h.staffOf(booking.RoleOperator, h.hosp.ID)
	clerk := h.staffOf(booking.RoleClerk, h.hosp.ID)
	sess := h.deskSession(deskOpts{dept: "Dermatology", phone: 4})
	sub := h.colleague("Dermatology", "attending physician", "")
	bk, err := h.staffBook(op, h.person("王秀英"), sess, booking.ChannelPhone, "13711112222")
	testenv.Must(t, err, "book a caller")
	_, err = h.svc.Stop(h.ctx, admin, sess.ID, booking.StopRequest{Reason: "the doctor is ill", SubstituteDoctorID: sub.ID})
	testenv.Must(t, err, "stop with a substitute")
	list, err := h.svc.CallBacks(h.ctx, op)
	testenv.Must(t, err, "list")
	if len(list) != 1 || list[0].Offer == nil || list[0].BookingID != bk.ID {
		t.Fatalf("call-back list %+v; want the caller's row with its held slot", list)
	}
	row := list[0]
	held := func(what string) {
		t.Helper()
		got, err := h.svc.Booking(h.ctx, op, row.Offer.BookingID)
		if err != nil || got.Status != booking.StatusConfirmed {
			t.Errorf("%s: the held slot is %+v, %v; want still confirmed", what, got.Status, err)
		}
	}
	for _, outcome := range []string{booking.CallDeclined, booking.CallAccepted} {
		_, err = h.svc.MarkCallBack(h.ctx, op, row.NotificationID, outcome, "", booking.Origin{})
		wantErr(t, outcome+" with no number opened", err, booking.ErrNumberNotOpened)
	}
	held("answers with no call")
	_, err = h.svc.CallBackNumber(h.ctx, other, row.NotificationID)
	testenv.Must(t, err, "another operator opens the number")
	_, err = h.svc.MarkCallBack(h.ctx, op, row.NotificationID, booking.CallDeclined, "", booking.Origin{})
	wantErr(t, "declined on another operator's call", err, booking.ErrNumberNotOpened)
	_, err = h.svc.MarkCallBack(h.ctx, clerk, row.NotificationID, booking.CallDeclined, "", booking.Origin{})
	wantErr(t, "a clerk declines from the list", err, booking.ErrNumberNotOpened)
	_, err = h.svc.CallBackNumber(h.ctx, op, row.NotificationID)
	testenv.Must(t, err, "the operator opens the number")
	h.clock.offset.Add(int64(booking.CallAnswerWindow + time.Minute))
	_, err = h.svc.MarkCallBack(h.ctx, op, row.NotificationID, booking.CallDeclined, "", booking.Origin{})
	wantErr(t, "declined after the call's window", err, booking.ErrNumberNotOpened)
	held("answers off the call")
	if n := h.auditCount("callback"); n != 0 {
		t.Errorf("%d callback audit entries for refused answers, want none", n)
	}

	_, err = h.svc.CallBackNumber(h.ctx, op, row.NotificationID)
	testenv.Must(t, err, "the operator opens the number again and rings")
	if _, err := h.svc.MarkCallBack(h.ctx, op, row.NotificationID, booking.CallDeclined, "", booking.Origin{}); err != nil {
		t.Fatalf("declined on the call: %v", err)
	}
	got, err := h.svc.Booking(h.ctx, op, row.Offer.BookingID)
	if err != nil || got.Status != booking.StatusCancelled {
		t.Errorf("the slot declined on the call is %+v, %v; want cancelled", got.Status, err)
	}
	if n := h.count(`SELECT count(*) FROM audit_log WHERE action = 'callback' AND actor_id = $1
		AND reason LIKE '%declined, on a call to the number opened at %'`, op.AccountID); n != 1 {
		t.Errorf("%d callback audit entries saying the answer was given on a call to the opened number, want 1", n)
	}
	h.checkClean()
}

// TestCallBackForWhatHappenedWithoutThem: a person no account lists hears
// what happened to them while they were not on the line — a returned slot
// their phone waitlist place became a booking with, a phone lottery entry
// won or not drawn — from the call-back list: nothing else reaches them, and
// a booking they do not know of becomes their no-show. What they heard in
// the call itself (a booking made while they were on the line) is not
// rung again.
func TestCallBackForWhatHappenedWithoutThem(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	op := h.staffOf(booking.RoleOperator, h.hosp.ID)
	s := h.session(sessionOpts{online: 1, phone: 1})
	first, second := h.person("王芳"), h.person("陈静")
	b, err := h.staffBook(op, first, s, booking.ChannelPhone, "13812345678")
	testenv.Must(t, err, "phone booking")
	place, err := h.svc.JoinWaitlistFor(h.ctx, op, booking.StaffWaitlistRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, IdentityRequest: second, SessionID: s.ID,
		CallerPhone: "13900001111"})
	testenv.Must(t, err, "waitlist a caller by phone")
	// The first caller rings to cancel: the slot goes to the second.
	h.callerCancel(op, first, "13812345678", b.ID)
	if got := h.stored(place.ID); got.Status != booking.StatusConfirmed {
		t.Fatalf("the waitlist place's booking is %s, want confirmed", got.Status)
	}

	lot := h.lotterySession(lotteryOpts{dept: "Dermatology", online: 1, phone: 1})
	var entries []booking.Entry
	for i, who := range []booking.IdentityRequest{h.person("赵敏"), h.person("钱三")} {
		r, err := h.svc.AttemptFor(h.ctx, op, booking.StaffBookRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: true}, IdentityRequest: who, SessionID: lot.ID,
			Channel: booking.ChannelPhone, CallerPhone: fmt.Sprintf("1370000111%d", i)})
		if err != nil || !r.Entered {
			t.Fatalf("phone entry %d = %+v, %v", i, r, err)
		}
		entries = append(entries, r.Entry)
	}
	h.drawAll(h.svc, lot)
	_, err = h.svc.NotifyEvents(h.ctx)
	testenv.Must(t, err, "the notify job")

	list, err := h.svc.CallBacks(h.ctx, op)
	testenv.Must(t, err, "the call-back list")
	rows := map[string]booking.CallBack{}
	for _, c := range list {
		rows[c.BookingID+c.WaitlistID+c.EntryID] = c
	}
	if len(list) != 3 {
		t.Errorf("call-back list = %d rows %+v; want the waitlist's booking and the two entries' results", len(list), list)
	}
	served := rows[place.ID]
	if served.Kind != "booked" || !strings.Contains(served.Body, "候补成功") || served.PhoneMasked != "139****1111" {
		t.Errorf("the served waitlist place's row = %+v; want its booking told, from the number that made the place", served)
	}
	if _, ok := rows[b.ID]; ok {
		t.Errorf("the cancellation the caller made on the line is on the list")
	}
	won := 0
	for _, e := range entries {
		row, ok := rows[e.ID]
		if !ok {
			t.Errorf("entry %s's result is not on the list", e.ID)
			continue
		}
		if row.Kind == "booked" {
			won++
		}
	}
	if won != 1 {
		t.Errorf("%d rows tell a won draw, want 1 (one phone slot)", won)
	}
	// Told: off the list, the notice delivered.
	if _, err := h.svc.MarkCallBack(h.ctx, op, served.NotificationID, booking.CallTold, "", booking.Origin{}); err != nil {
		t.Fatalf("told: %v", err)
	}
	if l, _ := h.svc.CallBacks(h.ctx, op); len(l) != 2 {
		t.Errorf("after told: %d rows, want 2", len(l))
	}
}

// TestCallBackReachesWalkIns: a walk-in the desk booked with a contact
// number is on the stop's call-back list with it masked, kept sealed per
// booking like a caller's (caller_phones), opened only by the operator's
// audited read, never logged; a walk-in without one has no number; a
// number that is not one, or a contact number on another channel, books
// nothing.
func TestCallBackReachesWalkIns(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	admin := h.staffOf(booking.RoleAdmin, h.hosp.ID)
	op, clerk := h.staffOf(booking.RoleOperator, h.hosp.ID), h.staffOf(booking.RoleClerk, h.hosp.ID)
	sess := h.deskSession(deskOpts{phone: 2, onsite: 3})
	walkIn := func(who booking.IdentityRequest, ch booking.Channel, contact string) (booking.Booking, error) {
		return h.svc.BookFor(h.ctx, clerk, booking.StaffBookRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: true}, IdentityRequest: who, SessionID: sess.ID, Channel: ch,
			ContactPhone: contact})
	}
	reached, err := walkIn(h.person("钱阿婆"), booking.ChannelOnsite, "13566667777")
	testenv.Must(t, err, "a walk-in with a contact number")
	silent := h.mustWalkIn(clerk, h.person("郑老师"), sess)

	for _, tt := range []struct {
		name    string
		ch      booking.Channel
		contact string
		want    *booking.Error
	}{
		{"not a phone number", booking.ChannelOnsite, "12345", booking.ErrInvalidPhone},
		{"on the referral channel", booking.ChannelReferral, "13566667777", booking.ErrInvalidField},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := h.remaining(sess)
			_, err := walkIn(h.person("冯某"), tt.ch, tt.contact)
			wantErr(t, tt.name, err, tt.want)
			if e, _ := booking.AsError(err); e == nil || e.Field != "contact_phone" {
				t.Errorf("refusal %v names field %q, want contact_phone", err, e.Field)
			}
			if got := h.remaining(sess); got[booking.ChannelOnsite] != before[booking.ChannelOnsite] {
				t.Errorf("on-site slots left = %d, want %d: nothing booked", got[booking.ChannelOnsite], before[booking.ChannelOnsite])
			}
		})
	}

	_, err = h.svc.StopSession(h.ctx, admin, sess.ID, "the doctor is ill")
	testenv.Must(t, err, "stop")
	list, err := h.svc.CallBacks(h.ctx, op)
	testenv.Must(t, err, "the call-back list")
	rows := map[string]booking.CallBack{}
	for _, c := range list {
		rows[c.BookingID] = c
	}
	if got := rows[reached.ID]; got.Channel != booking.ChannelOnsite || got.PhoneMasked != "135****7777" {
		t.Errorf("the walk-in's row = %+v; want the on-site channel, the contact number masked", got)
	}
	if got := rows[silent.ID]; got.PhoneMasked != "" {
		t.Errorf("the row of a walk-in who left no number = %+v; want no number", got)
	}
	if _, err := h.svc.CallBackNumber(h.ctx, clerk, rows[reached.ID].NotificationID); !errors.Is(err, booking.ErrForbidden) {
		t.Errorf("a clerk opens the number: %v; want forbidden (operators ring)", err)
	}
	phone, err := h.svc.CallBackNumber(h.ctx, op, rows[reached.ID].NotificationID)
	if err != nil || phone != "13566667777" {
		t.Fatalf("the walk-in's number = %q, %v; want 13566667777", phone, err)
	}
	if n := h.auditCount("callback_number_read"); n != 1 {
		t.Errorf("%d audited reads of a number; want 1", n)
	}
	db := h.sql()
	db.wantCount("sealed numbers kept for the walk-in", 1,
		`SELECT count(*) FROM caller_phones WHERE item_id = $1 AND phone_masked = '135****7777' AND position('13566667777' in encode(phone_sealed, 'escape')) = 0`, reached.ID)
	db.wantCount("events carrying a phone for the walk-ins", 0,
		`SELECT count(*) FROM booking_events WHERE booking_id IN ($1, $2) AND phone IS NOT NULL AND phone <> ''`, reached.ID, silent.ID)
	if strings.Contains(h.stack.Logs.String(), "66667777") {
		t.Errorf("the service log holds the walk-in's number")
	}
}

// TestCallBackNumberSaysWhoseItIs: a row's number says how it was kept —
// the number a caller rang from, or the contact number a walk-in left at the
// desk — whatever channel the booking is on: a phone caller's waitlist
// place served with an on-site slot (a walk-in cancelled) is on the on-site
// channel, and its number is still the caller's.
func TestCallBackNumberSaysWhoseItIs(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	op, clerk := h.staffOf(booking.RoleOperator, h.hosp.ID), h.staffOf(booking.RoleClerk, h.hosp.ID)
	sess := h.deskSession(deskOpts{phone: 1, onsite: 2})
	_, err := h.staffBook(op, h.person("王芳"), sess, booking.ChannelPhone, "13812345678")
	testenv.Must(t, err, "the phone slot")
	walkIn, err := h.svc.BookFor(h.ctx, clerk, booking.StaffBookRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: true}, IdentityRequest: h.person("钱阿婆"), SessionID: sess.ID,
		Channel: booking.ChannelOnsite, ContactPhone: "13566667777"})
	testenv.Must(t, err, "a walk-in with a contact number")
	reached, err := h.svc.BookFor(h.ctx, clerk, booking.StaffBookRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: true}, IdentityRequest: h.person("冯某"), SessionID: sess.ID,
		Channel: booking.ChannelOnsite, ContactPhone: "13566668888"})
	testenv.Must(t, err, "another walk-in with a contact number")
	place, err := h.svc.JoinWaitlistFor(h.ctx, op, booking.StaffWaitlistRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, IdentityRequest: h.person("陈静"), SessionID: sess.ID,
		CallerPhone: "13900001111"})
	testenv.Must(t, err, "waitlist a caller by phone")
	h.mustCancel(clerk, walkIn.ID) // the walk-in's on-site slot serves the caller's place
	if got := h.stored(place.ID); got.Status != booking.StatusConfirmed || got.Channel != booking.ChannelOnsite {
		t.Fatalf("the waitlist place's booking = %s on %s, want confirmed on the on-site channel", got.Status, got.Channel)
	}
	_, err = h.svc.StopSession(h.ctx, h.staffOf(booking.RoleAdmin, h.hosp.ID), sess.ID, "the doctor is ill")
	testenv.Must(t, err, "stop")

	list, err := h.svc.CallBacks(h.ctx, op)
	testenv.Must(t, err, "the call-back list")
	for _, tt := range []struct {
		name, item, kind, masked string
		contact                  bool
	}{
		{"the served place's stop", place.ID, "session_stopped", "139****1111", false},
		{"the walk-in's stop", reached.ID, "session_stopped", "135****8888", true},
	} {
		found := false
		for _, c := range list {
			if c.BookingID != tt.item || c.Kind != tt.kind {
				continue
			}
			found = true
			if c.PhoneMasked != tt.masked || c.ContactNumber != tt.contact {
				t.Errorf("%s: number %q, a walk-in's contact number %v; want %q, %v", tt.name, c.PhoneMasked, c.ContactNumber, tt.masked, tt.contact)
			}
		}
		if !found {
			t.Errorf("%s: not on the list %+v", tt.name, list)
		}
	}
}

// TestCallBackListPages: the call-back list comes a page at a time, oldest
// first by (time, id), each page going on after the previous page's last
// row with none skipped or repeated (the stop writes its notices at one
// time); a cursor that is not a row of the reader's hospital, or a limit
// out of range, is invalid_field. A row leaves the list once its stopped
// session's day has passed in the hospital's zone: it is then neither
// listed nor marked.
func TestCallBackListPages(t *testing.T) {
	h := newHarness(t, harnessConfig{soldOutFor: -1})
	admin := h.staffOf(booking.RoleAdmin, h.hosp.ID)
	op, clerk := h.staffOf(booking.RoleOperator, h.hosp.ID), h.staffOf(booking.RoleClerk, h.hosp.ID)
	other, _ := h.otherHospital()
	theirOp := h.staffOf(booking.RoleOperator, other.ID)
	sess := h.deskSession(deskOpts{phone: 5, onsite: 2})
	for i := range 5 {
		_, err := h.staffBook(op, h.person("回电"+string(rune('甲'+i))), sess, booking.ChannelPhone, "1391234567"+string(rune('0'+i)))
		testenv.Must(t, err, "book caller %d", i)
	}
	h.mustWalkIn(clerk, h.person("现场乙"), sess)
	_, err := h.svc.StopSession(h.ctx, admin, sess.ID, "the doctor is ill")
	testenv.Must(t, err, "stop")

	all, err := h.svc.CallBacks(h.ctx, op)
	testenv.Must(t, err, "the first page, by default")
	if len(all) != 6 {
		t.Fatalf("the first page = %d rows, want all 6", len(all))
	}
	var paged []string
	after := ""
	for range 4 {
		page, err := h.svc.CallBacksAfter(h.ctx, op, after, 4)
		testenv.Must(t, err, "the page after %q", after)
		if len(page) > 4 {
			t.Fatalf("a page of limit 4 has %d rows", len(page))
		}
		for _, c := range page {
			paged = append(paged, c.NotificationID)
		}
		if len(page) < 4 {
			break
		}
		after = page[len(page)-1].NotificationID
	}
	var want []string
	for _, c := range all {
		want = append(want, c.NotificationID)
	}
	if strings.Join(paged, ",") != strings.Join(want, ",") {
		t.Errorf("pages of 4 = %v, want the whole list in its order %v", paged, want)
	}
	// A bad cursor is invalid_cursor, as on every list (review19a L8); a
	// bad limit is invalid_field.
	for _, tt := range []struct {
		name  string
		after string
		limit int
		want  *booking.Error
	}{
		{"a cursor that is no id", "nope", 0, booking.ErrInvalidCursor},
		{"a cursor no row has", booking.NewID(), 0, booking.ErrInvalidCursor},
		{"a limit over the most", "", booking.CallBackPageMax + 1, booking.ErrInvalidField},
		{"a negative limit", "", -1, booking.ErrInvalidField},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.svc.CallBacksAfter(h.ctx, op, tt.after, tt.limit)
			wantErr(t, tt.name, err, tt.want)
		})
	}
	t.Run("another hospital's operator pages from this one's row", func(t *testing.T) {
		_, err := h.svc.CallBacksAfter(h.ctx, theirOp, all[0].NotificationID, 0)
		wantErr(t, "another hospital's cursor", err, booking.ErrInvalidCursor)
	})

	t.Run("the session's day has passed", func(t *testing.T) {
		defer h.clock.at(sess.StartsAt.AddDate(0, 0, 1))()
		list, err := h.svc.CallBacks(h.ctx, op)
		testenv.Must(t, err, "the list the next day")
		if len(list) != 0 {
			t.Errorf("the list the day after the stopped session = %d rows, want none", len(list))
		}
		_, err = h.svc.MarkCallBack(h.ctx, op, all[0].NotificationID, booking.CallTold, "", booking.Origin{})
		wantErr(t, "marking a row that is over", err, booking.ErrCallBackNotFound)
		_, err = h.svc.CallBackNumber(h.ctx, op, all[0].NotificationID)
		wantErr(t, "opening the number of a row that is over", err, booking.ErrCallBackNotFound)
	})
	t.Run("late on the session's day", func(t *testing.T) {
		defer h.clock.at(h.day.Add(23*time.Hour + 59*time.Minute))()
		if list, err := h.svc.CallBacks(h.ctx, op); err != nil || len(list) != 6 {
			t.Errorf("the list late on the session's day = %d rows, %v; want all 6", len(list), err)
		}
	})
	// A call begun at 23:58 ends after midnight: its outcome is still
	// recorded (booking.CallOutcomeGrace), though the row has left the list
	// and no new call is begun from it; past the grace it is refused.
	midnight := h.day.AddDate(0, 0, 1)
	t.Run("an outcome just after midnight", func(t *testing.T) {
		defer h.clock.at(midnight.Add(3 * time.Minute))()
		if _, err := h.svc.MarkCallBack(h.ctx, op, all[1].NotificationID, booking.CallTold, "", booking.Origin{}); err != nil {
			t.Errorf("the outcome of a call begun before midnight, recorded at 00:03: %v; want it recorded", err)
		}
		if n := h.auditCount("callback"); n != 1 {
			t.Errorf("%d audited calls, want 1", n)
		}
		_, err := h.svc.CallBackNumber(h.ctx, op, all[2].NotificationID)
		wantErr(t, "opening a number after midnight", err, booking.ErrCallBackNotFound)
		if list, err := h.svc.CallBacks(h.ctx, op); err != nil || len(list) != 0 {
			t.Errorf("the list after midnight = %d rows, %v; want none", len(list), err)
		}
	})
	t.Run("an outcome past the grace", func(t *testing.T) {
		defer h.clock.at(midnight.Add(booking.CallOutcomeGrace + time.Minute))()
		_, err := h.svc.MarkCallBack(h.ctx, op, all[2].NotificationID, booking.CallNoAnswer, "", booking.Origin{})
		wantErr(t, "an outcome past the grace", err, booking.ErrCallBackNotFound)
	})
}
