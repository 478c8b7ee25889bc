package web

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// newOperator creates a call-centre operator of the site's hospital and
// returns its phone.
func (s *site) newOperator(password string) string {
	s.t.Helper()
	return s.newStaff(booking.RoleOperator, password)
}

// TestPhoneConsoleInBrowser drives a call-centre operator through headless
// Chromium over a real Service: signing in at the desk by mistake sends
// them to the phone console; a number nobody booked from finds no one; a
// first-time caller gives their document and is booked on the phone pool;
// a sold-out session takes them on its waitlist, and a returned slot makes
// that a booking; a phone lottery pool answers with an entry; a cancellation
// states its consequence before it happens; the number alone later finds
// the caller, masked, with their bookings. SQL's audit log and the Service
// agree at the end; screenshots at 1280 and 390 px (phone-*.png).
func TestPhoneConsoleInBrowser(t *testing.T) {
	s := newSite(t)
	password := "operator password 1"
	opPhone := s.newOperator(password)
	callerPhone, callerID, callerName := newPhone(), residentID(4001), "王小明"

	// A sold-out session the day after tomorrow (one phone slot, taken by
	// someone else), and a phone pool drawn by lottery.
	now := time.Now().Truncate(time.Second)
	day := time.Date(now.In(shanghai).Year(), now.In(shanghai).Month(), now.In(shanghai).Day()+2, 0, 0, 0, 0, shanghai)
	after := day.Format(time.DateOnly)
	full := s.addSession(s.doctors[2], after, day.Add(14*time.Hour), day.Add(17*time.Hour),
		booking.ChannelQuota{Channel: booking.ChannelPhone, Quota: 1, ReleaseAt: now.Add(-time.Hour)})
	lot := s.addSession(s.doctors[1], after, day.Add(8*time.Hour), day.Add(12*time.Hour),
		booking.ChannelQuota{Channel: booking.ChannelPhone, Quota: 2, ReleaseAt: now.Add(-time.Minute), Mode: booking.Lottery,
			DrawAt: now.Add(10 * time.Minute)})
	_, err := s.svc.RunLottery(t.Context())
	testenv.Must(t, err, "commit the lottery's seed")
	tok, err := s.svc.Login(t.Context(), opPhone, password, booking.Origin{})
	testenv.Must(t, err, "operator login")
	op, err := s.svc.Authenticate([]byte(tok.Token))
	testenv.Must(t, err, "operator token")
	otherPhone := newPhone()
	other, err := s.svc.BookFor(t.Context(), op, booking.StaffBookRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: true}, IdentityRequest: booking.IdentityRequest{
		IDType: "resident_id", IDNumber: residentID(4002), Name: "李小红"}, SessionID: full.ID, Channel: booking.ChannelPhone, CallerPhone: otherPhone})
	testenv.Must(t, err, "fill the phone pool")

	// Signing in at the desk: refused, and sent to the phone console.
	b := newBrowser(t, s.base, 3*time.Minute)
	b.open("/")
	b.contains("#console-phone", "Phone booking")
	b.open("/desk/login")
	b.fill("#login-form input[name=phone]", opPhone)
	b.fill("#login-form input[name=password]", password)
	b.click("#login-form button[type=submit]", "/desk/login")
	b.contains("#error", "wrong_console")
	b.contains("#error", "operator accounts sign in at /phone/login")
	if html := b.html(); strings.Contains(html, "log out and sign in") {
		t.Errorf("wrong_console tells a signed-out operator to log out")
	}
	b.shot("phone-01-wrong-console")
	b.click("#own-console", "/phone/login")
	b.fill("#login-form input[name=phone]", opPhone)
	b.fill("#login-form input[name=password]", password)
	b.click("#login-form button[type=submit]", "/phone")
	b.contains("main h1", s.hospital.Name)

	// A number nobody is known for.
	b.fill("#caller-form input[name=phone]", callerPhone)
	b.click("#caller-form button[type=submit]", "/phone?")
	b.contains("#caller", callerPhone[:3]+"****"+callerPhone[7:])
	b.contains("#id-needed", "Nothing on file for this number")

	// The caller gives their document: a first call, booked on tomorrow's
	// phone pool.
	b.fill("#caller-form input[name=phone]", callerPhone)
	b.fill("#caller-form input[name=id_number]", callerID)
	b.fill("#caller-form input[name=name]", callerName)
	b.check("#caller-form input[name=privacy_consent]")
	b.click("#caller-form button[type=submit]", "/phone?")
	b.contains("#caller", "王*明")
	b.contains("#caller", "No record yet")
	b.hidden(callerID, callerName, callerPhone)
	b.clickText("#dates a", s.tomorrow[5:], "date="+s.tomorrow)
	row := "#s-" + s.open.ID
	b.contains(row, "李明 Li Ming")
	b.contains(row+" td.left", "4 / 4")
	b.shot("phone-02-caller")
	b.click(row+" form.book button", "ok=booked")
	b.contains("#flash", "Booked")
	b.contains(".booking.hl", "李明 Li Ming")
	b.contains(".booking.hl .status", "已预约 Confirmed")
	b.contains(row+" td.left", "3 / 4")
	var booked string
	testenv.Must(t, s.db.Pool().QueryRow(t.Context(), `SELECT id::text FROM bookings WHERE session_id = $1`, s.open.ID).Scan(&booked), "the phone booking")

	// The day after: one session sold out (waitlist), one a lottery (entry).
	b.clickText("#dates a", after[5:], "date="+after)
	b.contains("#s-"+full.ID+" td.left", "0 / 1")
	b.contains("#s-"+lot.ID, "Lottery")
	b.click("#s-"+full.ID+" form.waitlist button", "ok=waitlisted")
	b.contains("#flash", "waitlist")
	b.contains("#flash", "Number 1 in line")
	b.click("#s-"+lot.ID+" form.enter button", "ok=entered")
	b.contains("#flash", "entered in the draw")
	b.shot("phone-03-waitlist-and-draw")
	b.phoneShot("phone-03-waitlist-and-draw-390")
	var entry string
	testenv.Must(t, s.db.Pool().QueryRow(t.Context(), `SELECT id::text FROM waitlist WHERE session_id = $1 AND account_id IS NULL AND booked_by = $2`,
		full.ID, op.AccountID).Scan(&entry), "the caller's waitlist entry")
	if n := s.count(`SELECT count(*) FROM lottery_entries WHERE session_id = $1 AND booked_by = $2`, lot.ID, op.AccountID); n != 1 {
		t.Errorf("got %d lottery entries by the operator, want 1", n)
	}

	// The other patient cancels by phone: the slot goes to our caller.
	if _, err := s.svc.CancelForCaller(t.Context(), op, other.ID, booking.IdentityRequest{
		IDType: "resident_id", IDNumber: residentID(4002), Name: "李小红"}, otherPhone, booking.Origin{}); err != nil {
		t.Fatalf("cancel the other booking: %v", err)
	}
	b.open("/phone?date=" + after)
	b.contains("#b-"+entry, "王芳 Wang Fang")
	b.contains("#b-"+entry+" .status", "已预约 Confirmed")

	// Cancelling tomorrow's booking: a confirmation step that says what it
	// costs (tomorrow's visit is past 15:00 the day before only after that
	// hour, so the page says one or the other).
	bk := "#b-" + booked
	b.do("open the cancel step", chromedp.Click(chromedp.CSS(bk+" details.cancel-step summary")))
	b.contains(bk+" form.cancel", "no-show")
	b.shot("phone-04-cancel-step")
	late := s.hospitalLate(s.tomorrow)
	b.click(bk+" form.cancel button", "ok=")
	if late {
		b.contains("#flash", "counts as a no-show")
	} else {
		b.contains("#flash", "Booking cancelled.")
	}
	if late {
		b.contains(bk+" .status", "已取消·计爽约")
	} else {
		b.contains(bk+" .status", "已取消 Cancelled")
	}

	// End the call; the number alone shows nobody now, only that it is
	// on file: a number proves no one (numbers are recycled).
	b.click("#next-caller", "ok=cleared")
	b.contains("#flash", "next caller")
	b.fill("#caller-form input[name=phone]", callerPhone)
	b.click("#caller-form button[type=submit]", "/phone?")
	b.contains("#id-needed", "The number is on file")
	b.absent(".person")
	b.hidden(callerID, callerName, callerPhone)
	b.shot("phone-05-number-alone")
	b.phoneShot("phone-05-number-alone-390")

	// The audit log has every step, by this operator.
	for _, tc := range []struct {
		action string
		want   int
	}{
		{"phone_booking", 2}, // ours and the other's
		{"phone_waitlist", 1},
		{"booking_cancelled", 2},
		{"caller_lookup", 2}, // each page of a number-only call asks again whether it is on file
	} {
		if n := s.count(`SELECT count(*) FROM audit_log WHERE action = $1 AND actor_id = $2`, tc.action, op.AccountID); n != tc.want {
			t.Errorf("got %d %s audit rows by the operator, want %d", n, tc.action, tc.want)
		}
	}
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action = 'identity_lookup' AND actor_id = $1`, op.AccountID); n < 1 {
		t.Errorf("no identity lookup audited")
	}
	if n := s.count(`SELECT count(*) FROM bookings WHERE id = $1 AND status = 'confirmed' AND booked_by = $2 AND account_id IS NULL`, entry, op.AccountID); n != 1 {
		t.Errorf("the waitlist entry %s did not become the caller's booking", entry)
	}
	problems, err := s.svc.Check(t.Context())
	testenv.Must(t, err, "check")
	if len(problems) > 0 {
		t.Errorf("Redis and SQL disagree:\n%v", problems)
	}
}

// hospitalLate reports whether cancelling a visit on date is late now.
func (s *site) hospitalLate(date string) bool {
	h, _ := s.svc.Catalog().Hospital(s.hospital.ID)
	return time.Now().After(h.LateAfter(date))
}

// html is the page's whole DOM.
func (b *tab) html() string {
	b.t.Helper()
	html, err := chromedp.Run(b.ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	if err != nil {
		b.t.Fatalf("read the page: %v", err)
	}
	return html
}

// TestPhoneCallerNeedsTheName: a caller who gives a person's ID number
// hears of a booking only when they give the name it was made under (the
// check-in rule) and, for a booking an account made, only when they ring
// from the number that account logs in with. The phone console used to
// look the caller up by the ID number alone and list every booking of the
// person in the hospital, so anyone who had seen a card (its number is on
// forms, photocopies, tickets) could ring and have the operator read out
// where and when its holder sees which doctor; and someone who knew the
// name as well heard of the bookings the person's own account made, which
// over the API only that account sees.
func TestPhoneCallerNeedsTheName(t *testing.T) {
	s := newSite(t)
	ctx := t.Context()
	phone := newPhone()
	idNumber, name := residentID(4101), "王小明"
	online := s.selfBookedOnline(phone, idNumber, name)

	password := "operator password 1"
	opPhone := s.newOperator(password)
	op := s.actor(opPhone, password)
	now := time.Now().Truncate(time.Second)
	day := time.Date(now.In(shanghai).Year(), now.In(shanghai).Month(), now.In(shanghai).Day()+2, 0, 0, 0, 0, shanghai)
	later := s.addSession(s.doctors[2], day.Format(time.DateOnly), day.Add(14*time.Hour), day.Add(17*time.Hour),
		booking.ChannelQuota{Channel: booking.ChannelPhone, Quota: 2, ReleaseAt: now.Add(-time.Hour)})
	byPhone, err := s.svc.BookFor(ctx, op, booking.StaffBookRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: true}, IdentityRequest: booking.IdentityRequest{IDType: "resident_id",
		IDNumber: idNumber, Name: name}, SessionID: later.ID, Channel: booking.ChannelPhone, CallerPhone: newPhone()})
	testenv.Must(t, err, "book by phone")

	b := newBrowser(t, s.base, 3*time.Minute)
	b.signIn("phone", opPhone, password)
	other := newPhone()
	for _, tc := range []struct {
		what, from, name     string
		online, phoneBooking bool
	}{
		{"the number and another name, from another phone", other, "张三", false, false},
		{"the number and the name, from another phone", other, name, false, true},
		{"the number and another name, from the account's phone", phone, "张三", false, false},
		{"the number and the name, from the account's phone", phone, name, true, true},
	} {
		b.fill("#caller-form input[name=phone]", tc.from)
		b.fill("#caller-form input[name=id_number]", idNumber)
		b.fill("#caller-form input[name=name]", tc.name)
		b.check("#caller-form input[name=privacy_consent]")
		b.click("#caller-form button[type=submit]", "/phone?")
		html := b.html()
		if got := strings.Contains(html, `id="b-`+online.ID+`"`); got != tc.online {
			t.Errorf("%s: the online booking is listed: %v, want %v", tc.what, got, tc.online)
		}
		if got := strings.Contains(html, `id="b-`+byPhone.ID+`"`); got != tc.phoneBooking {
			t.Errorf("%s: the phone booking is listed: %v, want %v", tc.what, got, tc.phoneBooking)
		}
		b.hidden(idNumber, name, phone, other)
		b.click("#next-caller", "ok=cleared")
	}

	// A refused change of caller forgets the caller, and the page that
	// answers it shows nobody: it used to show the caller just forgotten,
	// and booking for them then asked for the document.
	b.fill("#caller-form input[name=phone]", phone)
	b.fill("#caller-form input[name=id_number]", idNumber)
	b.fill("#caller-form input[name=name]", name)
	b.check("#caller-form input[name=privacy_consent]")
	b.click("#caller-form button[type=submit]", "/phone?")
	b.count("#caller", 1)
	b.fill("#caller-form input[name=phone]", "12")
	b.click("#caller-form button[type=submit]", "/phone/caller")
	b.contains("#error", "invalid_phone")
	b.absent("#caller")
	b.open("/phone")
	b.absent("#caller")
}

// TestPhoneNumberHearsOnlyItsOwnBookings: someone who knows a person's ID
// number and name adds them to their own account as a parent, gives them
// their own phone number, and rings the call centre from it. The number
// finds the person (it was given to them), but the operator hears only of
// the bookings that number has a say in: the caller's account's, not those
// the person's own account made. The lookup by number used to list every
// booking of every person the number was known for, so the caller heard
// where and when the person sees which doctor, and could have their phone
// bookings cancelled.
func TestPhoneNumberHearsOnlyItsOwnBookings(t *testing.T) {
	s := newSite(t)
	ctx := t.Context()
	idNumber, name := residentID(4201), "王小明"
	own := s.selfBookedOnline(newPhone(), idNumber, name)

	snoopPhone := newPhone()
	snoop, err := s.svc.CreateAccount(ctx, snoopPhone, "patient password 2", "", booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, booking.Origin{})
	testenv.Must(t, err, "create the snoop's account")
	snoopActor := booking.Actor{AccountID: snoop, Role: booking.RolePatient}
	_, err = s.svc.AddPatient(ctx, snoopActor, booking.AddPatientRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, IDType: "resident_id", IDNumber: idNumber, Name: name,
		Relationship: "parent", Phone: snoopPhone}, booking.Origin{})
	testenv.Must(t, err, "the snoop adds the owner as a parent with the snoop's phone")

	b := newBrowser(t, s.base, 3*time.Minute)
	b.signIn("phone", s.newOperator("operator password 1"), "operator password 1")
	b.ringFrom(snoopPhone)
	b.absent(".person") // a number alone shows nobody
	b.fill("#caller-form input[name=phone]", snoopPhone)
	b.fill("#caller-form input[name=id_number]", idNumber)
	b.fill("#caller-form input[name=name]", name)
	b.check("#caller-form input[name=privacy_consent]")
	b.click("#caller-form button[type=submit]", "/phone?")
	b.contains(".person", "王*明")
	if html := b.html(); strings.Contains(html, "b-"+own.ID) {
		t.Errorf("a call from the snoop's number lists the booking the owner's account made")
	}
	b.absent(".person .booking")
	b.hidden(idNumber, name, snoopPhone)
	b.shot("phone-number-snoop")
}

// selfBookedOnline creates a patient account logging in with phone, whose
// self is the person idNumber, name, booked online on the site's open
// session.
func (s *site) selfBookedOnline(phone, idNumber, name string) booking.Booking {
	s.t.Helper()
	ctx := s.t.Context()
	account, err := s.svc.CreateAccount(ctx, phone, "patient password 1", "", booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, booking.Origin{})
	testenv.Must(s.t, err, "create the patient's account")
	patient := booking.Actor{AccountID: account, Role: booking.RolePatient}
	p, err := s.svc.AddPatient(ctx, patient, booking.AddPatientRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, IDType: "resident_id", IDNumber: idNumber, Name: name, IsSelf: true}, booking.Origin{})
	testenv.Must(s.t, err, "add the patient")
	bk, err := s.svc.Book(ctx, patient, booking.BookRequest{SessionID: s.open.ID, PatientID: p.ID, Channel: booking.ChannelOnline})
	testenv.Must(s.t, err, "book online")
	return bk
}

// ringFrom starts a call on the phone console from a number alone.
func (b *tab) ringFrom(phone string) {
	b.t.Helper()
	b.fill("#caller-form input[name=phone]", phone)
	b.click("#caller-form button[type=submit]", "/phone?")
}
