package web

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestHospitalNoShowRulesInBrowser: a hospital whose policy bars for 90
// days after 2 no-shows in 12 months (not the service's 3 in 12 months for
// 90 days) states its own rules on every page a patient reads about it:
// the booking step on the sessions page, the late cancellation step on the
// bookings page, and the family's record on the rules page, whose next bar
// is the hospital's. Screenshots hospital-rules-*.png at 1280 and 390 px.
func TestHospitalNoShowRulesInBrowser(t *testing.T) {
	s := newSite(t)
	ctx := t.Context()
	today := s.addToday()
	h, ok := s.svc.Catalog().Hospital(s.hospital.ID)
	if !ok {
		t.Fatal("the site's hospital is not in the catalog")
	}
	policy, deadline := h.PolicyAt(time.Now())
	// Stricter than the service's at every count, so it holds at once (a
	// laxer rule waits the release notice: review25 M2).
	policy.NoShows = booking.NoShowRules{Window: 365 * 24 * time.Hour, Steps: []booking.NoShowStep{{Count: 2, Bar: 90 * 24 * time.Hour}, {Count: 6, Bar: 180 * 24 * time.Hour}}}
	admin := s.actor(s.newHospitalAdmin("admin password 1"), "admin password 1")
	_, err := s.svc.SetPolicy(ctx, admin, h.ID, booking.PolicyRequest{Policy: policy, CancelDeadline: deadline, Reason: "the board's stricter rules"})
	testenv.Must(t, err, "set the hospital's no-show rules")
	const own, defaults = "2 no-shows in 12 months bar booking for 90 days", "3 no-shows in 12 months"

	b := newBrowser(t, s.base, 3*time.Minute)
	phone := newPhone()
	b.register(phone, "patient password 1")
	patient := s.actor(phone, "patient password 1")
	_, err = s.svc.AddPatient(ctx, patient, booking.AddPatientRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, IDType: "resident_id", IDNumber: residentID(7601), Name: "赵六", IsSelf: true}, booking.Origin{})
	testenv.Must(t, err, "add patient")

	// 1. The booking step states the hospital's rules.
	b.open(sessionsURL(h.ID, today.DepartmentID, today.VisitDate))
	card := "#s-" + today.ID
	b.do("open the booking step", chromedp.Click(chromedp.CSS(card+" form.book details.confirm-step summary")))
	b.contains(card+" form.book .consequence", own)
	if strings.Contains(b.html(), defaults) {
		t.Errorf("the sessions page states the service's default no-show rules")
	}
	b.shot("hospital-rules-01-book")
	b.click(card+" form.book details.confirm-step button[type=submit]", "/patient/bookings?")

	// 2. Today's visit is past the cancellation deadline: the step says
	// what a late cancellation costs here.
	var id string
	testenv.Must(t, s.db.Pool().QueryRow(ctx, `SELECT id::text FROM bookings WHERE session_id = $1`, today.ID).Scan(&id), "the booking")
	bk := "#b-" + id
	b.do("open the cancellation step", chromedp.Click(chromedp.CSS(bk+" details.cancel-step summary")))
	b.contains(bk+" form.cancel .consequence", own)
	if strings.Contains(b.html(), defaults) {
		t.Errorf("the bookings page states the service's default no-show rules")
	}
	b.shot("hospital-rules-02-cancel")
	b.phoneShot("hospital-rules-02-cancel-390")
	b.click(bk+" form.cancel button", "ok=cancelled_late")

	// 3. The family's record: one no-show, and the next bar is this
	// hospital's (2 for 90 days), not the default (3 for 90).
	b.open("/patient/rules?hospital=" + h.ID)
	b.contains("#standing", "1 no-shows in the counting window")
	b.contains("#standing", "2 would bar booking for 90 days")
	b.contains("#standing-rules", own)
	b.shot("hospital-rules-03-record")
	b.phoneShot("hospital-rules-03-record-390")
}
