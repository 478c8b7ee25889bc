package booking_test

import (
	"testing"

	"fairslot/internal/booking"
	"fairslot/internal/booking/bookingtest"
	"fairslot/internal/testenv"
)

// TestFlagConfirmSparesOutsidePersons is review21 H1's reproduction: Dan's
// account lists Alice's mother (an ID number and a name are all it takes)
// and behaves like a bot. Confirming Dan's flag blocks Dan and bars Dan's
// own person, and cancels what Dan's account booked; it does not bar the
// mother, whom Alice's account lists, nor cancel the booking Alice made for
// her or the one an operator made for her on the phone.
func TestFlagConfirmSparesOutsidePersons(t *testing.T) {
	det := &bookingtest.Detector{}
	h := newHarness(t, harnessConfig{detector: det.Detect})
	db := h.sql()
	aliceS := h.deskSession(deskOpts{day: 1, online: 2})
	danS := h.deskSession(deskOpts{day: 2, online: 2})
	phoneS := h.deskSession(deskOpts{day: 3, dept: "Surgery", phone: 1, online: 1})
	later := h.deskSession(deskOpts{day: 4, dept: "Oncology", online: 3})
	deskS := h.deskSession(deskOpts{day: 5, dept: "Dentistry", onsite: 2})
	admin, op, clerk := h.staff(booking.RoleAdmin), h.staff(booking.RoleOperator), h.staff(booking.RoleClerk)

	mother := h.person("王秀英")
	alice := h.account(h.phone(), booking.Origin{DeviceID: "alice-phone"}, h.person("李小红"), mother)
	dan := h.account(h.phone(), booking.Origin{DeviceID: "dan-1"}, h.person("贾大南"), mother)
	aliceB := h.mustBook(alice, 1, aliceS, "")
	danB := h.mustBook(dan, 1, danS, "")
	danSelfB := h.mustBook(dan, 0, aliceS, "")
	phoneB, err := h.staffBook(op, mother, phoneS, booking.ChannelPhone, "13912340000")
	testenv.Must(t, err, "phone booking for the mother")

	f := ring("ring-dan", 2.6, []user{dan}, reason("burst", "4 bookings within 2 s"))
	det.Returns(f)
	h.detect(1)
	h.decide(admin, f.ID, "confirm", "burst and device churn")

	for _, tt := range []struct {
		name string
		b    booking.Booking
		want booking.Status
	}{
		{"Alice's booking for her mother", aliceB, booking.StatusConfirmed},
		{"the operator's phone booking for the mother", phoneB, booking.StatusConfirmed},
		{"Dan's booking for the mother", danB, booking.StatusCancelled},
		{"Dan's booking for his own person", danSelfB, booking.StatusCancelled},
	} {
		if got := h.stored(tt.b.ID).Status; got != tt.want {
			t.Errorf("%s is %s after the confirmation, want %s", tt.name, got, tt.want)
		}
	}
	db.wantCount("identity blocks", 1, `SELECT count(*) FROM identity_blocks WHERE flag_id = $1`, f.ID)
	_, err = h.book(dan, 0, later, "")
	wantErr(t, "Dan's own person books", err, booking.ErrPatientBarred)
	if _, err := h.book(alice, 1, later, ""); err != nil {
		t.Errorf("Alice books for her mother after the confirmation: %v, want booked", err)
	}
	if _, err := h.staffBook(clerk, mother, deskS, booking.ChannelOnsite, ""); err != nil {
		t.Errorf("the mother at the desk with her card: %v, want booked", err)
	}
	h.placeReturned()
	h.checkClean()
}
