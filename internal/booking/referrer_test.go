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
