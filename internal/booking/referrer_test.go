package booking_test

import (
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestReferrer: a community doctor or carer registered as a referrer books
// referral slots for the people in their care — not on site, not by phone,
// not online, and only at the hospital that registered it — sees and cancels the bookings it made and no others, and does
// no desk work. Its bookings carry it as staff_id, so detection counts them
// as a referrer's, not as one account holding twenty residents.
func TestReferrer(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	s := h.deskSession(deskOpts{online: 1, onsite: 2, referral: 3})
	ref := h.staff(booking.RoleReferrer)
	clerk := h.staff(booking.RoleClerk)
	t0 := time.Now()

	resident := h.person("刘奶奶")
	b, err := h.staffBook(ref, resident, s, booking.ChannelReferral, "")
	testenv.Must(t, err, "referral booking")
	if b.Channel != booking.ChannelReferral || b.BookedBy != ref.AccountID || b.AccountID != "" {
		t.Errorf("referral booking = channel %s booked by %q account %q; want referral, the referrer, no account", b.Channel, b.BookedBy, b.AccountID)
	}
	for _, ch := range []booking.Channel{booking.ChannelOnsite, booking.ChannelPhone, booking.ChannelOnline} {
		_, err := h.staffBook(ref, h.person("陈爷爷"), s, ch, "13800000000")
		wantErr(t, "referrer on "+string(ch), err, booking.ErrChannelForbidden)
	}
	_, err = h.svc.Book(h.ctx, ref, booking.BookRequest{SessionID: s.ID, PatientID: booking.NewID(), Channel: booking.ChannelReferral})
	wantErr(t, "referrer through the patients' Book", err, booking.ErrChannelForbidden)
	other, _ := h.otherHospital()
	elsewhere := h.staffOf(booking.RoleReferrer, other.ID)
	_, err = h.staffBook(elsewhere, h.person("孙爷爷"), s, booking.ChannelReferral, "")
	wantErr(t, "another hospital's referrer", err, booking.ErrForbidden)

	byClerk, err := h.staffBook(clerk, h.person("赵阿姨"), s, booking.ChannelReferral, "")
	testenv.Must(t, err, "a clerk still books referral slots")
	if _, err := h.svc.Booking(h.ctx, ref, byClerk.ID); err == nil {
		t.Error("the referrer reads a booking it did not make")
	}
	if _, err := h.svc.Cancel(h.ctx, ref, byClerk.ID, booking.Origin{}); err == nil {
		t.Error("the referrer cancels a booking it did not make")
	}
	if _, err := h.svc.Booking(h.ctx, ref, b.ID); err != nil {
		t.Errorf("the referrer reads its own booking: %v", err)
	}
	_, err = h.svc.CheckIn(h.ctx, ref, booking.CheckInRequest{IdentityRequest: resident, BookingID: b.ID})
	wantErr(t, "referrer checks in", err, booking.ErrForbidden)
	h.mustCancel(ref, b.ID)

	evs, err := h.store.EventsSince(h.ctx, t0.Add(-time.Minute))
	testenv.Must(t, err, "events")
	var booked bool
	for _, e := range evs {
		if e.Type == booking.EventBooked && e.BookingID == b.ID {
			booked = e.StaffID == ref.AccountID && e.Channel == booking.ChannelReferral && e.IdentityID == b.IdentityID && e.AccountID == ""
		}
	}
	if !booked {
		t.Error("the referral booking's event does not name the referrer as staff_id with the resident's identity")
	}
	h.checkClean()
}

// TestReferrerAndStaffWithdrawalsAreAttributed: a referrer's cancellation
// names it in the event (the detector's insider signal reads staff_id) and
// its booking is audited as a referrer's; an administrator withdrawing a
// patient's lottery entry leaves an audit entry, and the draw's own audit
// entry belongs to the session's hospital (its administrators see it).
func TestReferrerAndStaffWithdrawalsAreAttributed(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	db := h.sql()
	s := h.deskSession(deskOpts{referral: 2})
	ref := h.staff(booking.RoleReferrer)
	b, err := h.staffBook(ref, h.person("刘奶奶"), s, booking.ChannelReferral, "")
	testenv.Must(t, err, "referral booking")
	h.mustCancel(ref, b.ID)
	db.wantCount("the cancellation's event naming the referrer", 1,
		`SELECT count(*) FROM booking_events WHERE booking_id = $1 AND type = 'cancelled' AND staff_id = $2`, b.ID, ref.AccountID)
	db.wantCount("the booking's audit entry as a referrer's", 1,
		`SELECT count(*) FROM audit_log WHERE target = $1 AND action = 'desk_booking' AND actor_role = 'referrer'`, "booking:"+b.ID)

	l := h.lotterySession(lotteryOpts{online: 1, dept: "Dermatology"})
	e := h.mustEnter(h.user(1), 0, l)
	admin := h.staffOf(booking.RoleAdmin, h.hosp.ID)
	_, err = h.svc.WithdrawEntry(h.ctx, admin, e.ID, booking.Origin{})
	testenv.Must(t, err, "the hospital's administrator withdraws an entry")
	db.wantCount("the withdrawal's audit entry", 1,
		`SELECT count(*) FROM audit_log WHERE target = $1 AND action = 'lottery_withdrawn' AND actor_id = $2 AND hospital_id = $3`,
		"lottery_entry:"+e.ID, admin.AccountID, h.hosp.ID)
	h.mustEnter(h.user(1), 0, l)
	h.drawAll(h.svc, l)
	db.wantCount("the draw's audit entry, of the hospital", 1,
		`SELECT count(*) FROM audit_log WHERE action = 'lottery_draw' AND target LIKE $1 AND hospital_id = $2`, "session:"+l.ID+"%", h.hosp.ID)
}
