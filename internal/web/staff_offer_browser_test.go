package web

import (
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestStaffAnswerOfferInBrowser drives the desk and the call centre
// through headless Chromium answering a substitute offer (替诊) for the
// patient: today's clinic, with two phone bookings, is stopped with 周强 (a
// colleague of the same department and title) as the substitute. The
// clerk's Today list shows the first held slot with the new doctor, time
// and deadline, and accepts it for the patient at the desk; the operator
// finds the second caller by the number they ring from, reads the same
// offer and declines it for them. SQL has the first offer accepted by the
// clerk with the booking kept, the second declined by the operator with
// the held booking cancelled without penalty and the cancellation audited
// under the operator. Screenshots staff-offer-*.png at 1280 and 390 px.
func TestStaffAnswerOfferInBrowser(t *testing.T) {
	s := newSite(t)
	ctx := t.Context()
	today := s.addToday()
	orig, _ := s.svc.Catalog().Doctor(today.DoctorID)
	sub := booking.Doctor{ID: booking.NewID(), HospitalID: s.hospital.ID, DepartmentID: orig.DepartmentID, Name: "周强 Zhou Qiang", Title: orig.Title}
	testenv.Must(t, s.svc.SaveSchedule(ctx, booking.Schedule{Doctors: []booking.Doctor{sub}}), "save the colleague")

	password := "operator password 1"
	opPhone := s.newOperator(password)
	op := s.actor(opPhone, password)
	callerA, callerB := newPhone(), newPhone()
	bkA, err := s.svc.BookFor(ctx, op, booking.StaffBookRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: true}, IdentityRequest: booking.IdentityRequest{IDType: "resident_id",
		IDNumber: residentID(7501), Name: "王小明"}, SessionID: today.ID, Channel: booking.ChannelPhone, CallerPhone: callerA})
	testenv.Must(t, err, "book A by phone")
	bkB, err := s.svc.BookFor(ctx, op, booking.StaffBookRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: true}, IdentityRequest: booking.IdentityRequest{IDType: "resident_id",
		IDNumber: residentID(7502), Name: "李小红"}, SessionID: today.ID, Channel: booking.ChannelPhone, CallerPhone: callerB})
	testenv.Must(t, err, "book B by phone")

	admin := s.actor(s.newHospitalAdmin("admin password 1"), "admin password 1")
	res, err := s.svc.Stop(ctx, admin, today.ID, booking.StopRequest{Reason: "医生外出会诊 The doctor is called away", SubstituteDoctorID: sub.ID})
	testenv.Must(t, err, "stop with a substitute")
	heldA, heldB := booking.NameID(bkA.ID, "substitute"), booking.NameID(bkB.ID, "substitute")

	// 1. The desk: the held slot on Today, accepted for the patient.
	dc := s.deskTab()
	ra := "#r-" + heldA
	dc.contains("#roster-"+res.SubstituteSessionID, "王*明")
	dc.contains(ra+" .offer", "周强")
	dc.contains(ra+" .offer", "held until")
	dc.contains(ra+" .offer", "never a no-show")
	dc.shot("staff-offer-01-desk")
	dc.phoneShot("staff-offer-01-desk-390")
	dc.click(ra+" .offer-accept button", "ok=offer_accepted")
	dc.contains("#flash", "Substitute accepted")
	dc.absent(ra + " .offer")
	dc.contains("#r-"+heldB+" .offer", "周强") // the other patient's is still open

	// 2. The call centre: caller B rings, hears the offer and declines.
	oc := newBrowser(t, s.base, 3*time.Minute)
	oc.signIn("phone", opPhone, password)
	oc.fill("#caller-form input[name=phone]", callerB)
	oc.fill("#caller-form input[name=id_number]", residentID(7502))
	oc.fill("#caller-form input[name=name]", "李小红")
	oc.check("#caller-form input[name=privacy_consent]")
	oc.click("#caller-form button[type=submit]", "/phone?")
	cb := "#b-" + heldB
	oc.contains(cb+" .offer", "周强")
	oc.contains(cb+" .offer", "never a no-show")
	oc.absent(cb + " .cancel-step") // answered, not cancelled
	oc.absent("#b-" + heldA + " .offer")
	oc.shot("staff-offer-02-phone")
	oc.phoneShot("staff-offer-02-phone-390")
	oc.click(cb+" .offer-decline button", "ok=offer_declined")
	oc.contains("#flash", "declined for the caller")
	oc.absent(cb + " .offer")
	oc.contains(cb+" .status", "已取消")

	if n := s.count(`SELECT count(*) FROM substitute_offers o JOIN accounts a ON a.id = o.decided_by
		WHERE o.booking_id = $1 AND o.status = 'accepted' AND a.role = 'clerk'`, heldA); n != 1 {
		t.Errorf("offer A is not accepted by the clerk")
	}
	if n := s.count(`SELECT count(*) FROM audit_log a JOIN accounts c ON c.id = a.actor_id
		WHERE a.action = 'substitute_accepted' AND a.target = $1 AND c.role = 'clerk'`, "booking:"+heldA); n != 1 {
		t.Errorf("the clerk's accept is not audited")
	}
	if n := s.count(`SELECT count(*) FROM bookings WHERE id = $1 AND status = 'confirmed'`, heldA); n != 1 {
		t.Errorf("the accepted held booking is not confirmed")
	}
	if n := s.count(`SELECT count(*) FROM substitute_offers WHERE booking_id = $1 AND status = 'declined' AND decided_by = $2`, heldB, op.AccountID); n != 1 {
		t.Errorf("offer B is not declined by the operator")
	}
	if n := s.count(`SELECT count(*) FROM bookings WHERE id = $1 AND status = 'cancelled' AND NOT late_cancel`, heldB); n != 1 {
		t.Errorf("the declined held booking is not cancelled without penalty")
	}
	if n := s.count(`SELECT count(*) FROM audit_log WHERE actor_id = $1 AND action = 'booking_cancelled' AND target = $2`,
		op.AccountID, "booking:"+heldB); n != 1 {
		t.Errorf("the operator's decline is not audited")
	}
}
