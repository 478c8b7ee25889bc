package web

import (
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestStopWithSubstituteInBrowser drives headless Chromium through 停诊 with
// a substitute: the hospital's administrator stops 李明's clinic, which has
// a booking, naming 周强, a colleague of the same department, title and fee
// level, from the stop form; the patient finds the same slot held with 周强
// on their bookings page, told it is never a no-show, and accepts it. SQL
// has the original cancelled without penalty, the held booking confirmed in
// the substitute's session at the same number, and the offer accepted.
// Screenshots are substitute-*.png, at the desk's width and a phone's.
func TestStopWithSubstituteInBrowser(t *testing.T) {
	s := newSite(t)
	ctx := t.Context()
	orig := s.doctors[0]
	sub := booking.Doctor{ID: booking.NewID(), HospitalID: s.hospital.ID, DepartmentID: orig.DepartmentID, Name: "周强 Zhou Qiang", Title: orig.Title}
	testenv.Must(t, s.svc.SaveSchedule(ctx, booking.Schedule{Doctors: []booking.Doctor{sub}}), "save the colleague")
	password := "admin password 1"
	adminPhone := newPhone()
	_, err := s.svc.CreateStaff(ctx, booking.StaffRequest{Phone: adminPhone, Password: password, Role: booking.RoleAdmin, HospitalID: s.hospital.ID})
	testenv.Must(t, err, "create the hospital's administrator")

	// A patient holds a booking of the clinic.
	b := newBrowser(t, s.base, 3*time.Minute)
	patientPhone := newPhone()
	b.register(patientPhone, "patient password 1")
	acct, err := s.svc.Login(ctx, patientPhone, "patient password 1", booking.Origin{})
	testenv.Must(t, err, "login")
	patient, err := s.svc.Authenticate([]byte(acct.Token))
	testenv.Must(t, err, "authenticate")
	p, err := s.svc.AddPatient(ctx, patient, booking.AddPatientRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, IDType: "resident_id", IDNumber: residentID(7401), Name: "赵六", IsSelf: true}, booking.Origin{})
	testenv.Must(t, err, "add patient")
	bk, err := s.svc.Book(ctx, patient, booking.BookRequest{SessionID: s.open.ID, PatientID: p.ID, Channel: booking.ChannelOnline})
	testenv.Must(t, err, "book")

	// 1. The administrator stops it with 周强 as the substitute.
	a := newBrowser(t, s.base, 3*time.Minute)
	a.open("/admin/login")
	a.fill("#login-form input[name=phone]", adminPhone)
	a.fill("#login-form input[name=password]", password)
	a.click("#login-form button[type=submit]", "/admin/schedule")
	// Tomorrow's week (this week's on any day but a Sunday).
	a.open("/admin/schedule?" + url.Values{"week": {s.tomorrow}}.Encode())
	row := "#s-" + s.open.ID
	a.do("open the stop form", chromedp.WaitVisible(chromedp.CSS(row+" summary")), chromedp.Click(chromedp.CSS(row+" summary")))
	a.fill(row+" input[name=reason]", "医生外出会诊 The doctor is called away")
	a.set(row+" select[name=substitute_doctor_id]", sub.ID)
	a.shot("substitute-01-stop")
	// Back at the week the stop was made from.
	a.click(row+" form button[type=submit]", "/admin/schedule?"+url.Values{"n": {"1"}, "ok": {"substituted"}, "on": {"1"}, "cb": {"0"},
		"hospital": {s.hospital.ID}, "week": {mondayOf(s.tomorrow, time.Time{}, shanghai).Format(time.DateOnly)}}.Encode())
	a.contains("#flash", "offered the same slot")

	// 2. The patient finds the held slot and accepts it.
	held := booking.NameID(bk.ID, "substitute")
	card := "#b-" + held
	b.open("/patient/bookings")
	b.contains(card, "周强")
	b.contains(card+" .offer", "never a no-show")
	b.absent(card + " .cancel-step")
	b.shot("substitute-02-offer")
	b.phoneShot("substitute-03-phone")
	b.click(card+" .offer-accept button", "/patient/bookings?"+url.Values{"id": {held}, "ok": {"offer_accepted"}}.Encode())
	b.contains("#flash", "Substitute accepted")
	b.absent(card + " .offer")

	if n := s.count(`SELECT count(*) FROM bookings WHERE id = $1 AND status = 'cancelled' AND NOT late_cancel`, bk.ID); n != 1 {
		t.Errorf("the original booking is not cancelled without penalty")
	}
	if n := s.count(`SELECT count(*) FROM bookings b JOIN clinic_sessions cs ON cs.id = b.session_id
		WHERE b.id = $1 AND b.status = 'confirmed' AND cs.doctor_id = $2 AND b.slot_no = $3`, held, sub.ID, bk.SlotNo); n != 1 {
		t.Errorf("the held booking is not confirmed with the substitute at slot %d", bk.SlotNo)
	}
	if n := s.count(`SELECT count(*) FROM substitute_offers WHERE booking_id = $1 AND status = 'accepted'`, held); n != 1 {
		t.Errorf("the offer is not accepted")
	}
}
