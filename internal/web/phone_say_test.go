package web

import (
	"errors"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/identity"
	"fairslot/internal/testenv"
)

// phoneClient signs a new operator of the site's hospital in on the phone
// console and returns the client and the operator as the Service sees it.
func (s *site) phoneClient() (*client, booking.Actor) {
	s.t.Helper()
	password := "operator password 1"
	opPhone := s.newOperator(password)
	c := s.client()
	if a := c.post("/phone/login", url.Values{"csrf": {c.csrf("/phone/login")}, "phone": {opPhone}, "password": {password}}); a.status != 303 {
		s.t.Fatalf("phone login: %d %s", a.status, a.body)
	}
	return c, s.actor(opPhone, password)
}

// ring starts a call on the phone console: the number alone when idNumber
// is empty.
func (c *client) ring(phone, idNumber, name string) answer {
	c.t.Helper()
	f := url.Values{"csrf": {c.csrf("/phone")}, "phone": {phone}}
	if idNumber != "" {
		f.Set("id_type", "resident_id")
		f.Set("id_number", idNumber)
		f.Set("name", name)
		f.Set("privacy_consent", booking.PrivacyNoticeVersion) // the notice read out, the caller agreed
	}
	a := c.post("/phone/caller", f)
	if a.status != 303 {
		c.t.Fatalf("POST /phone/caller: %d, want 303\n%s", a.status, a.body)
	}
	return c.get("/phone")
}

// callMarkRE finds the mark of the call a phone page's forms act for.
var callMarkRE = regexp.MustCompile(`name="call" value="([0-9a-f]+)"`)

// cancelOnPhone posts the phone console's cancel form of a booking, with
// the call mark of the current page as a browser sends it.
func (c *client) cancelOnPhone(bookingID string) answer {
	c.t.Helper()
	page := c.get("/phone")
	f := url.Values{"csrf": {csrfRE.FindStringSubmatch(page.body)[1]}}
	if m := callMarkRE.FindStringSubmatch(page.body); m != nil {
		f.Set("call", m[1]) // the call the page is for, as its forms send it
	}
	return c.post("/phone/bookings/"+bookingID+"/cancel", f)
}

// phoneSession adds a session the day after tomorrow with a phone pool of
// quota slots, released an hour ago.
func (s *site) phoneSession(quota int) booking.Session {
	s.t.Helper()
	now := time.Now().Truncate(time.Second)
	day := time.Date(now.In(shanghai).Year(), now.In(shanghai).Month(), now.In(shanghai).Day()+2, 0, 0, 0, 0, shanghai)
	return s.addSession(s.doctors[2], day.Format(time.DateOnly), day.Add(14*time.Hour), day.Add(17*time.Hour),
		booking.ChannelQuota{Channel: booking.ChannelPhone, Quota: quota, ReleaseAt: now.Add(-time.Hour)})
}

// TestPhoneNumberAloneShowsNobody is review18b's first case: an account
// logging in with a number lists its holder 张明 and a parent 张建国 given
// the same number, and booked both online; an operator booked the parent
// by phone on a call from the number. Carriers recycle numbers: a stranger
// who now holds it rings the call centre and gives the number only. The
// console used to list both people, masked, with their birth years, their
// bookings (doctor, time) and a Cancel button on the phone booking, which
// the operator pressed on the stranger's word (a late cancellation: a
// strike against the parent). A number is no one's proof: it shows nobody
// and offers nothing; the caller who gives the parent's ID number and name
// from the number still hears of the phone booking, and cancels it.
func TestPhoneNumberAloneShowsNobody(t *testing.T) {
	s := newSite(t)
	ctx := t.Context()
	number := newPhone()
	holderID, parentID := bornIn(1980, 16), bornIn(1950, 28)
	account, err := s.svc.CreateAccount(ctx, number, "patient password 1", "", booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, booking.Origin{})
	testenv.Must(t, err, "create the holder's account")
	holder := booking.Actor{AccountID: account, Role: booking.RolePatient}
	self, err := s.svc.AddPatient(ctx, holder, booking.AddPatientRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, IDType: "resident_id", IDNumber: holderID, Name: "张明", IsSelf: true}, booking.Origin{})
	testenv.Must(t, err, "add the holder")
	parent, err := s.svc.AddPatient(ctx, holder, booking.AddPatientRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, IDType: "resident_id", IDNumber: parentID, Name: "张建国",
		Relationship: "parent", Phone: number}, booking.Origin{})
	testenv.Must(t, err, "add the parent with the holder's number")
	var online []string
	for _, p := range []booking.Patient{self, parent} {
		b, err := s.svc.Book(ctx, holder, booking.BookRequest{SessionID: s.open.ID, PatientID: p.ID, Channel: booking.ChannelOnline})
		testenv.Must(t, err, "book online")
		online = append(online, b.ID)
	}
	c, op := s.phoneClient()
	byPhone, err := s.svc.BookFor(ctx, op, booking.StaffBookRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: true}, IdentityRequest: booking.IdentityRequest{IDType: "resident_id",
		IDNumber: parentID, Name: "张建国"}, SessionID: s.phoneSession(2).ID, Channel: booking.ChannelPhone, CallerPhone: number})
	testenv.Must(t, err, "book the parent by phone on a call from the number")

	page := c.ring(number, "", "")
	for _, id := range append(online, byPhone.ID) {
		if strings.Contains(page.body, id) {
			t.Errorf("the number alone shows booking %s", id)
		}
	}
	for _, leak := range []string{`class="person"`, identity.MaskName("张明"), identity.MaskName("张建国"), "1980", "1950", "/cancel"} {
		if strings.Contains(page.body, leak) {
			t.Errorf("the number alone shows %q", leak)
		}
	}
	if !strings.Contains(page.body, `id="id-needed"`) {
		t.Errorf("the page does not ask for the caller's ID number and name")
	}
	if a := c.cancelOnPhone(byPhone.ID); a.status == 303 {
		t.Errorf("cancel on the number's word: %d → %s, want refused", a.status, a.location)
	}
	if n := s.count(`SELECT count(*) FROM bookings WHERE id = $1 AND status = 'confirmed' AND NOT late_cancel`, byPhone.ID); n != 1 {
		t.Fatalf("the parent's phone booking was cancelled on the number's word")
	}

	// The real caller gives the parent's ID number and name.
	page = c.ring(number, parentID, "张建国")
	if !strings.Contains(page.body, `id="b-`+byPhone.ID+`"`) || !strings.Contains(page.body, "/phone/bookings/"+byPhone.ID+"/cancel") {
		t.Fatalf("the caller with the parent's ID number and name does not hear of the phone booking, or cannot cancel it")
	}
	if a := c.cancelOnPhone(byPhone.ID); a.status != 303 || !strings.Contains(a.location, "ok=") {
		t.Fatalf("cancel for the caller who gave ID and name: %d → %q, want 303 → ok\n%s", a.status, a.location, a.body)
	}
	if n := s.count(`SELECT count(*) FROM bookings WHERE id = $1 AND status = 'cancelled'`, byPhone.ID); n != 1 {
		t.Errorf("the phone booking is not cancelled")
	}
}

// TestPhoneSayIsPerBooking is review18b's widening: an operator booked
// 钱桂英 on a call from one number; a call from another number with her ID
// number and name tried the same session and was refused (already_booked).
// The number's say was granted per person: any staff event with the number
// for her, the refusal too, gave it the booking made from the other number,
// with a Cancel button. A number has a say in the bookings made on a call
// from it, and no other: the second number may hear of the booking (the
// caller gave her ID number and name) but not cancel it; the first still
// cancels it.
func TestPhoneSayIsPerBooking(t *testing.T) {
	s := newSite(t)
	ctx := t.Context()
	first, second := newPhone(), newPhone()
	who := booking.IdentityRequest{IDType: "resident_id", IDNumber: bornIn(1948, 41), Name: "钱桂英"}
	sess := s.phoneSession(3)
	c, op := s.phoneClient()
	b, err := s.svc.BookFor(ctx, op, booking.StaffBookRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: true}, IdentityRequest: who, SessionID: sess.ID, Channel: booking.ChannelPhone, CallerPhone: first})
	testenv.Must(t, err, "book on a call from the first number")
	_, err = s.svc.BookFor(ctx, op, booking.StaffBookRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: true}, IdentityRequest: who, SessionID: sess.ID, Channel: booking.ChannelPhone, CallerPhone: second})
	if !errors.Is(err, booking.ErrAlreadyBooked) {
		t.Fatalf("the second number's attempt: %v, want already_booked", err)
	}

	page := c.ring(second, "", "")
	if strings.Contains(page.body, b.ID) {
		t.Errorf("the second number alone lists the booking made from the first")
	}
	page = c.ring(second, who.IDNumber, who.Name)
	if strings.Contains(page.body, "/phone/bookings/"+b.ID+"/cancel") {
		t.Errorf("a call from the second number offers to cancel the booking made from the first")
	}
	if a := c.cancelOnPhone(b.ID); a.status == 303 {
		t.Errorf("cancel from the second number: %d → %s, want refused", a.status, a.location)
	}
	if n := s.count(`SELECT count(*) FROM bookings WHERE id = $1 AND status = 'confirmed'`, b.ID); n != 1 {
		t.Fatalf("the booking made from the first number was cancelled from the second")
	}

	page = c.ring(first, who.IDNumber, who.Name)
	if !strings.Contains(page.body, "/phone/bookings/"+b.ID+"/cancel") {
		t.Fatalf("a call from the first number with her ID number and name cannot cancel the booking made from it")
	}
	if a := c.cancelOnPhone(b.ID); a.status != 303 {
		t.Fatalf("cancel from the first number: %d, want 303\n%s", a.status, a.body)
	}
	if n := s.count(`SELECT count(*) FROM bookings WHERE id = $1 AND status = 'cancelled'`, b.ID); n != 1 {
		t.Errorf("the booking is not cancelled from the number it was made from")
	}
}
