package web

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestDeskTodayInBrowser: a clerk works a running session from Today
// through headless Chromium. The roster lists each booked patient masked,
// those whose time passed as not arrived; one is checked in from the list
// (the card read into one form), another's slot is reissued from the list
// without typing their ID; a walk-in is checked in as they are booked; a
// patient found with the card read at the lookup is checked in with one
// click. SQL agrees; screenshots at 1280 and 390 px (today-*.png).
func TestDeskTodayInBrowser(t *testing.T) {
	var clock func() time.Time
	s := newSiteWith(t, Options{Now: func() time.Time { return clock() }})
	clock = s.now // the console and the Service share the moved clock
	// The session runs 4 hours from half an hour on, and the clock moves
	// 150 minutes into it: past 19:30 in Shanghai that would cross
	// midnight, and Today (the clinic day) would no longer list it. The
	// test's clock goes back to 10:00 of the same day instead; only back,
	// so every release time it sets has passed for Redis's clock too.
	base := anchorMorning(time.Now())
	s.offset.Store(int64(base))
	today := s.addToday()
	opPhone := newPhone()
	_, err := s.svc.CreateStaff(t.Context(), booking.StaffRequest{Phone: opPhone, Password: "operator password 1", Role: booking.RoleOperator, HospitalID: s.hospital.ID})
	testenv.Must(t, err, "create operator")
	tok, err := s.svc.Login(t.Context(), opPhone, "operator password 1", booking.Origin{})
	testenv.Must(t, err, "operator login")
	op, err := s.svc.Authenticate([]byte(tok.Token))
	testenv.Must(t, err, "operator token")

	type person struct{ id, name string }
	a, b, e := person{residentID(5001), "王小明"}, person{residentID(5002), "李小红"}, person{residentID(5003), "张小华"}
	bookings := map[string]string{}
	for _, p := range []person{a, b} {
		bk, err := s.svc.BookFor(t.Context(), op, booking.StaffBookRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: true}, IdentityRequest: booking.IdentityRequest{IDType: "resident_id",
			IDNumber: p.id, Name: p.name}, SessionID: today.ID, Channel: booking.ChannelPhone, CallerPhone: newPhone()})
		testenv.Must(t, err, "phone booking for %s", p.id)
		bookings[p.id] = bk.ID
	}
	// E books online for themselves.
	patientPhone := newPhone()
	account, err := s.svc.CreateAccount(t.Context(), patientPhone, "patient password 1", "", booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, booking.Origin{})
	testenv.Must(t, err, "create E's account")
	pe := booking.Actor{AccountID: account, Role: booking.RolePatient}
	pt, err := s.svc.AddPatient(t.Context(), pe, booking.AddPatientRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, IDType: "resident_id", IDNumber: e.id, Name: e.name, IsSelf: true}, booking.Origin{})
	testenv.Must(t, err, "add E")
	bkE, err := s.svc.Book(t.Context(), pe, booking.BookRequest{SessionID: today.ID, PatientID: pt.ID, Channel: booking.ChannelOnline})
	testenv.Must(t, err, "E books online")
	// and for E's child, whose masked name is E's too (张*华): the roster
	// tells them apart by relationship and birth year.
	child, err := s.svc.AddPatient(t.Context(), pe, booking.AddPatientRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: true}, IDType: "resident_id", IDNumber: bornIn(2016, 5004),
		Name: "张小华", Relationship: "child"}, booking.Origin{})
	testenv.Must(t, err, "add E's child")
	bkChild, err := s.svc.Book(t.Context(), pe, booking.BookRequest{SessionID: today.ID, PatientID: child.ID, Channel: booking.ChannelOnline})
	testenv.Must(t, err, "E books for the child")
	// The session has run for over two hours: both phone slots have
	// ended (its ten slots share 3.5 hours from the start, 21 minutes
	// each; the phone slots are the 5th and 6th, until 156 minutes from
	// now), so B's may be reissued (booking.ReissuableFrom).
	s.offset.Store(int64(base + 160*time.Minute))

	password := "clerk password 1"
	clerkPhone := s.newClerk(password)
	dc := newBrowser(t, s.base, 3*time.Minute)
	dc.open("/desk/login")
	dc.fill("#login-form input[name=phone]", clerkPhone)
	dc.fill("#login-form input[name=password]", password)
	dc.click("#login-form button[type=submit]", "/desk")
	ra, rb := "#r-"+bookings[a.id], "#r-"+bookings[b.id]
	dc.contains("#roster-"+today.ID, "王*明")
	dc.contains(ra, "110***********"+a.id[14:])
	dc.contains(ra+" .status", "未到 Not arrived")
	dc.contains(rb, "李*红")
	dc.contains("#r-"+bkE.ID+" .family", "本人")
	dc.contains("#r-"+bkChild.ID+" .family", "子女 · 2016")
	dc.absent(ra + " .family") // booked by phone: no account, no relationship
	dc.hidden(a.id, a.name, b.id, b.name)
	dc.shot("today-01-roster")
	dc.phoneShot("today-01-roster-390")

	// A arrives late: checked in from the list, the card read once.
	dc.do("open A's check-in", chromedp.Click(chromedp.CSS(ra+" details.r-checkin summary")))
	dc.fill(ra+" form.checkin input[name=id_number]", a.id)
	dc.fill(ra+" form.checkin input[name=name]", a.name)
	dc.click(ra+" form.checkin button[type=submit]", "/desk?")
	dc.contains("#flash", "Checked in")
	dc.contains(ra+" .status", "已签到 Checked in")
	dc.absent(ra + " form")

	// B never came: the slot is reissued from the list, no ID typed.
	dc.do("open B's reissue", chromedp.Click(chromedp.CSS(rb+" details.r-reissue:not(.r-cancel) summary")))
	dc.fill(rb+" form.reissue:not(.cancel) input[name=reason]", "过号未到 Did not come")
	dc.click(rb+" form.reissue:not(.cancel) button[type=submit]", "/desk?")
	dc.contains("#flash", "on-site pool")
	dc.contains(rb+" .status", "爽约 No-show")
	dc.absent(rb + " form")
	dc.shot("today-02-after")

	// E's child's online booking is past its slot: the desk cancels only
	// what it made (a registration error) once a slot's time has passed, so
	// the roster offers no cancellation, only the reissue (review25 H2).
	rc := "#r-" + bkChild.ID
	dc.absent(rc + " details.r-cancel")
	dc.contains(rc+" details.r-reissue summary", "重发")

	// The clerk who freed B's slot books none of this session's walk-ins
	// for 15 minutes (review25 H2): the walk-in comes 16 minutes later.
	s.offset.Store(int64(base + 176*time.Minute))
	// A walk-in: booked and checked in with one entry of the card.
	walk := person{residentID(5004), "赵小虎"}
	dc.click(`nav a[href="/desk/walkin"]`, "/desk/walkin")
	dc.fill("#walkin-form input[name=id_number]", walk.id)
	dc.fill("#walkin-form input[name=name]", walk.name)
	dc.set("#walkin-form select[name=typed_reason]", "reader_broken") // typed, and why (review25 H1)
	dc.check("#walkin-form input[name=privacy_consent]")
	dc.click("#walkin-form button[type=submit]", "/desk/lookup?")
	dc.contains("#flash", "Walk-in booked and checked in")
	dc.contains("#bookings .booking.hl .status", "已签到 Checked in")

	// E is found with the card read into the lookup: one click checks in.
	dc.click(`nav a[href="/desk/lookup"]`, "/desk/lookup")
	dc.fill("#lookup-form input[name=id_number]", e.id)
	dc.fill("#lookup-form input[name=name]", e.name)
	dc.do("say the card was shown", chromedp.Click(chromedp.CSS("#lookup-form input[value=card_shown]")))
	dc.click("#lookup-form button[type=submit]", "/desk/lookup")
	dc.contains("#patient", "张*华")
	be := "#b-" + bkE.ID
	dc.absent(be + " form.checkin input[name=id_number]")
	dc.shot("today-03-lookup-card")
	dc.click(be+" form.checkin button[type=submit]", "/desk/lookup?")
	dc.contains("#flash", "Checked in")
	dc.contains(be+" .status", "已签到 Checked in")
	dc.hidden(e.id, e.name, walk.id, walk.name)
	dc.phoneShot("today-03-lookup-card-390")

	for _, tc := range []struct {
		id, status string
	}{{bookings[a.id], "checked_in"}, {bookings[b.id], "no_show"}, {bkE.ID, "checked_in"}, {bkChild.ID, "confirmed"}} {
		if got := s.status(tc.id); got != tc.status {
			t.Errorf("booking %s is %s, want %s", tc.id, got, tc.status)
		}
	}
	if n := s.count(`SELECT count(*) FROM bookings WHERE session_id = $1 AND channel = 'onsite' AND status = 'checked_in'`, today.ID); n != 1 {
		t.Errorf("got %d checked-in walk-ins, want 1", n)
	}
	if n := s.count(`SELECT count(*) FROM audit_log WHERE reason LIKE '%number typed by the clerk, reason reader_broken%'`); n == 0 {
		t.Errorf("no audit row of the walk-in says the number was typed because the reader was not working")
	}
	if n := s.count(`SELECT count(*) FROM audit_log WHERE reason LIKE '%number typed by the clerk, reason unspecified%'`); n == 0 {
		t.Errorf("no audit row of the check-ins typed without a reason says so")
	}
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action IN ('checkin', 'reissue')`); n != 4 {
		t.Errorf("got %d check-in and reissue audit rows, want 4 (A, the walk-in, E; B's reissue)", n)
	}
}

// anchorMorning is how far to move a test's clock back from now so that it
// reads 10:00 in Shanghai on the same day: 0 before 10:00, never forward.
func anchorMorning(now time.Time) time.Duration {
	l := now.In(shanghai)
	ten := time.Date(l.Year(), l.Month(), l.Day(), 10, 0, 0, 0, shanghai)
	if now.Before(ten) {
		return 0
	}
	return ten.Sub(now)
}

func TestAnchorMorning(t *testing.T) {
	day := func(h, m int) time.Time { return time.Date(2026, 12, 3, h, m, 0, 0, shanghai) }
	for _, now := range []time.Time{day(0, 5), day(9, 59), day(10, 0), day(13, 30), day(21, 51), day(23, 59)} {
		got := now.Add(anchorMorning(now)).In(shanghai)
		if anchorMorning(now) > 0 || got.Day() != 3 || got.After(day(10, 0)) {
			t.Errorf("at %s the clock reads %s: want the same day, no later than 10:00, never moved forward", now.Format("15:04"), got.Format("2006-01-02 15:04"))
		}
		if now.After(day(10, 0)) && !got.Equal(day(10, 0)) {
			t.Errorf("at %s the clock reads %s, want 10:00", now.Format("15:04"), got.Format("15:04"))
		}
	}
}
