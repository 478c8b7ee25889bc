package web

import (
	"strings"
	"testing"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestPhonePatientCancelsFamilyBooking (review23 M2) on the phone console:
// a daughter's account books her mother online and gave the mother's own
// mobile as her contact number. The mother rings from it with her ID number
// and name: her booking used to read "Not a phone booking" with no button;
// now it has a Cancel form saying the account will be told, and the cancel
// goes through. A caller from another number with the same ID number and
// name gets no button and no cancellation.
func TestPhonePatientCancelsFamilyBooking(t *testing.T) {
	s := newSite(t)
	ctx := t.Context()
	login, motherPhone := newPhone(), newPhone()
	motherID := bornIn(1944, 31)
	account, err := s.svc.CreateAccount(ctx, login, "patient password 1", "", booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, booking.Origin{})
	testenv.Must(t, err, "create the daughter's account")
	daughter := booking.Actor{AccountID: account, Role: booking.RolePatient}
	mother, err := s.svc.AddPatient(ctx, daughter, booking.AddPatientRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion},
		IDType: "resident_id", IDNumber: motherID, Name: "王秀英", Relationship: "parent", Phone: motherPhone}, booking.Origin{})
	testenv.Must(t, err, "add the mother with her own number")
	b, err := s.svc.Book(ctx, daughter, booking.BookRequest{SessionID: s.open.ID, PatientID: mother.ID, Channel: booking.ChannelOnline})
	testenv.Must(t, err, "book the mother online")
	c, _ := s.phoneClient()

	// From the daughter's login: heard of, not cancelled.
	page := c.ring(login, motherID, "王秀英")
	if !strings.Contains(page.body, `id="b-`+b.ID+`"`) || strings.Contains(page.body, "/phone/bookings/"+b.ID+"/cancel") {
		t.Errorf("from the account's login: the booking listed %v, with a cancel form %v; want listed, no form",
			strings.Contains(page.body, `id="b-`+b.ID+`"`), strings.Contains(page.body, "/phone/bookings/"+b.ID+"/cancel"))
	}
	if a := c.cancelOnPhone(b.ID); a.status == 303 {
		t.Errorf("cancel from the account's login: %d → %s, want refused", a.status, a.location)
	}
	// From her own number, as the account gave it.
	page = c.ring(motherPhone, motherID, "王秀英")
	if !strings.Contains(page.body, "/phone/bookings/"+b.ID+"/cancel") || !strings.Contains(page.body, `class="note small full for-patient"`) {
		t.Fatalf("the patient ringing from her contact number gets no cancel form saying the account is told")
	}
	if a := c.cancelOnPhone(b.ID); a.status != 303 || !strings.Contains(a.location, "ok=") {
		t.Fatalf("the patient's cancel: %d → %q, want 303 → ok\n%s", a.status, a.location, a.body)
	}
	if n := s.count(`SELECT count(*) FROM bookings WHERE id = $1 AND status = 'cancelled'`, b.ID); n != 1 {
		t.Errorf("the booking is not cancelled")
	}
}
