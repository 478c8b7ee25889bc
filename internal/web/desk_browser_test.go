package web

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestDeskAndWaitlistInBrowser drives three people through headless
// Chromium, each in a browser context of their own (no shared cookies), over
// a real Service:
//
//   - patient A books a session of today (it starts in 30 minutes, so online
//     booking is still open and check-in already is) and the only online
//     slot of a session the day after tomorrow;
//   - patient B finds that session sold out, joins its waitlist (候补) and
//     sees their place; A cancels; B's "my bookings" shows the booking the
//     waitlist gave them;
//   - a clerk signs in on the desk, sees today's sessions, adds extra slots,
//     finds A by ID number, tries a check-in with the wrong name (refused,
//     identity_mismatch), checks A in with the right one, and books a
//     walk-in.
//
// Every step is checked in the DOM, SQL and the Service at the end, with a
// screenshot of each main step (desk-*.png, where the patient journey's go).
func TestDeskAndWaitlistInBrowser(t *testing.T) {
	s := newSite(t)
	today, tiny := s.addToday(), s.addTiny()
	todayDate := today.VisitDate
	password := "correct horse battery"
	idA, nameA := residentID(3001), "王小明"
	idB, nameB := residentID(3002), "李小红"

	// Patient A books today's session and the only online slot of tiny.
	pa := newBrowser(t, s.base, 3*time.Minute)
	pa.register(newPhone(), password)
	pa.addSelf(idA, nameA)

	pa.click(`nav a[href="/patient/sessions"]`, "/patient/sessions")
	pa.clickText("#departments a", "Cardiology", "department="+s.cardiology.ID)
	pa.clickText("#dates a", todayDate[5:], "date="+todayDate)
	card := "#s-" + today.ID
	pa.contains(card, "张伟 Zhang Wei")
	pa.contains(card+" tr.online", "4 / 4")
	pa.confirmBook(card)
	pa.contains("#flash", "Booked")
	pa.contains("#bookings .booking.hl", "张伟 Zhang Wei")
	pa.contains("#bookings .booking.hl .status", "Confirmed")

	pa.open(sessionsPath(s.hospital.ID, s.dermatology.ID, tiny.VisitDate))
	pa.contains("#s-"+tiny.ID+" tr.online", "1 / 1")
	pa.confirmBook("#s-" + tiny.ID)
	pa.contains("#bookings .booking.hl", "王芳 Wang Fang")
	pa.shot("desk-01-patient-booked")
	var bookingA, tinyA string
	testenv.Must(t, s.db.Pool().QueryRow(t.Context(), `SELECT id::text FROM bookings WHERE session_id = $1`, today.ID).Scan(&bookingA), "A's booking today")
	testenv.Must(t, s.db.Pool().QueryRow(t.Context(), `SELECT id::text FROM bookings WHERE session_id = $1`, tiny.ID).Scan(&tinyA), "A's booking of tiny")

	// Patient B, at another computer, finds it sold out and joins the
	// waitlist instead.
	pb := pa.fresh()
	pb.register(newPhone(), password)
	pb.addSelf(idB, nameB)
	pb.open(sessionsPath(s.hospital.ID, s.dermatology.ID, tiny.VisitDate))
	wcard := "#s-" + tiny.ID
	pb.contains(wcard+" tr.online", "0 / 1")
	pb.contains(wcard, "已约满")
	pb.contains(wcard+" form.waitlist button", "候补 Join the waitlist")
	pb.absent(wcard + " form.book:not(.waitlist)")
	pb.shot("desk-02-sold-out")
	pb.click(wcard+" form.waitlist button[type=submit]", "/patient/bookings?")
	pb.contains("#flash", "You joined the waitlist")
	pb.contains("#flash", "number 1 in line")
	pb.contains("#waitlist .wait.hl .status", "候补中 Waiting")
	pb.contains("#waitlist .wait.hl", "王芳 Wang Fang")
	pb.contains("#waitlist .wait.hl .patient", "李*红")
	pb.shot("desk-03-waitlisted")
	var entry string
	testenv.Must(t, s.db.Pool().QueryRow(t.Context(), `SELECT id::text FROM waitlist WHERE session_id = $1`, tiny.ID).Scan(&entry), "B's waitlist entry")

	// A cancels; the slot goes to B at once, as a booking with the entry's id.
	pa.open("/patient/bookings")
	pa.confirmCancel("#b-" + tinyA)
	pa.contains("#flash", "cancelled")
	pa.contains("#b-"+tinyA+" .status", "Cancelled")

	pb.open("/patient/bookings")
	pb.contains("#b-"+entry, "王芳 Wang Fang")
	pb.contains("#b-"+entry+" .status", "已预约 Confirmed")
	pb.contains("#b-"+entry+" .patient", "李*红")
	pb.contains("#w-"+entry+" .status", "候补成功 Got a slot")
	pb.absent("#w-" + entry + " form")
	pb.shot("desk-04-waitlist-served")
	pb.hidden(idB, nameB)

	// The clerk signs in on the desk from the landing page.
	clerkPhone, clerkPassword := s.newClerk("clerk password 1"), "clerk password 1"
	dc := pa.fresh()
	dc.open("/")
	dc.contains("#console-desk", "Registration desk")
	dc.click("#console-desk", "/desk/login")
	dc.fill("#login-form input[name=phone]", clerkPhone)
	dc.fill("#login-form input[name=password]", clerkPassword)
	dc.click("#login-form button[type=submit]", "/desk")
	row := "#s-" + today.ID
	dc.contains(row, "张伟 Zhang Wei")
	dc.contains(row+" td:nth-child(4)", "3 / 4") // online: A took one
	dc.contains(row+" td:nth-child(6)", "4 / 4") // on site
	dc.contains(row+" .state", "未开始 Upcoming")
	dc.shot("desk-05-today")
	dc.phoneShot("desk-05-today-390")

	// Extra slots (加号), authorised by the doctor.
	dc.do("open the extra-slots form", chromedp.Click(chromedp.CSS(row+" details.extra summary")))
	dc.set(row+" .extra-form input[name=count]", "2")
	dc.fill(row+" .extra-form input[name=reason]", "复诊患者多 Many follow-ups")
	dc.fill(row+" .extra-form input[name=authorised_by]", "张伟")
	dc.shot("desk-06-extra-slots")
	dc.click(row+" .extra-form button[type=submit]", "/desk?ok=extra&s="+today.ID)
	dc.contains("#flash", "Extra slots added")
	dc.contains(row+" td:nth-child(6)", "6 / 6")

	// Find A by ID number: masked identity, today's booking with a check-in
	// form, the tiny booking (cancelled) without one.
	dc.click(`nav a[href="/desk/lookup"]`, "/desk/lookup")
	dc.fill("#lookup-form input[name=id_number]", idA)
	dc.do("say the card was shown", chromedp.Click(chromedp.CSS("#lookup-form input[value=card_shown]")))
	dc.click("#lookup-form button[type=submit]", "/desk/lookup")
	dc.contains("#patient", "王*明")
	dc.contains("#patient", "110***********"+idA[14:])
	b := "#b-" + bookingA
	dc.contains(b, "张伟 Zhang Wei")
	dc.contains(b+" .status", "已预约 Confirmed")
	dc.contains("#b-"+tinyA+" .status", "Cancelled")
	dc.absent("#b-" + tinyA + " form.checkin")
	dc.hidden(idA, nameA)
	dc.shot("desk-07-lookup")
	dc.phoneShot("desk-07-lookup-phone")

	// The card read with the wrong name: refused, and still confirmed.
	dc.fill(b+" form.checkin input[name=id_number]", idA)
	dc.fill(b+" form.checkin input[name=name]", "王大明")
	dc.click(b+" form.checkin button[type=submit]", "/desk/bookings/"+bookingA+"/checkin")
	dc.contains("#error", "姓名与证件登记信息不符")
	dc.contains("#error", "identity_mismatch")
	dc.contains(b+" .status", "已预约 Confirmed")
	dc.hidden(idA, nameA, "王大明")
	dc.shot("desk-08-mismatch")

	// The right card: checked in.
	dc.fill(b+" form.checkin input[name=id_number]", idA)
	dc.fill(b+" form.checkin input[name=name]", nameA)
	dc.click(b+" form.checkin button[type=submit]", "/desk/lookup?")
	dc.contains("#flash", "签到成功。 Checked in.")
	dc.contains(b+" .status", "已签到 Checked in")
	dc.absent(b + " form.checkin")
	dc.hidden(idA, nameA)
	dc.shot("desk-09-checked-in")

	// A walk-in for someone new, on today's session.
	walkID, walkName := residentID(3003), "赵小虎"
	dc.click(`nav a[href="/desk/walkin"]`, "/desk/walkin")
	dc.contains("#walkin-form select[name=session_id]", "张伟 Zhang Wei")
	dc.fill("#walkin-form input[name=id_number]", walkID)
	dc.fill("#walkin-form input[name=name]", walkName)
	dc.check("#walkin-form input[name=privacy_consent]")
	dc.shot("desk-10-walkin")
	dc.click("#walkin-form button[type=submit]", "/desk/lookup?")
	dc.contains("#flash", "Walk-in booked")
	dc.contains("#patient", "赵*虎")
	dc.contains("#bookings .booking.hl", "现场 On site")
	dc.hidden(walkID, walkName)

	// SQL and the Service agree with what the pages showed.
	if st := s.status(bookingA); st != string(booking.StatusCheckedIn) {
		t.Errorf("A's booking is %s in SQL, want checked_in", st)
	}
	clerk, err := s.svc.Login(t.Context(), clerkPhone, clerkPassword, booking.Origin{})
	testenv.Must(t, err, "clerk login")
	actor, err := s.svc.Authenticate([]byte(clerk.Token))
	testenv.Must(t, err, "clerk token")
	got, err := s.svc.Booking(t.Context(), actor, bookingA)
	testenv.Must(t, err, "read A's booking through the Service")
	if got.Status != booking.StatusCheckedIn || got.CheckedInAt.IsZero() {
		t.Errorf("the Service has A's booking %s checked in at %v, want checked_in", got.Status, got.CheckedInAt)
	}
	if n := s.count(`SELECT count(*) FROM booking_events WHERE booking_id = $1 AND type = 'rejected' AND reason = 'identity_mismatch' AND staff_id = $2`, bookingA, actor.AccountID); n != 1 {
		t.Errorf("got %d rejected events for A's booking by the clerk, want 1", n)
	}
	if n := s.count(`SELECT count(*) FROM booking_events WHERE booking_id = $1 AND type = 'checked_in' AND device_id LIKE 'web:%'`, bookingA); n != 1 {
		t.Errorf("got %d checked_in events from the web, want 1", n)
	}
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action = 'checkin_refused' AND target = $1 AND actor_id = $2`, "booking:"+bookingA, actor.AccountID); n != 1 {
		t.Errorf("got %d checkin_refused audit rows, want 1", n)
	}
	if n := s.count(`SELECT count(*) FROM bookings WHERE id = $1 AND session_id = $2 AND status = 'confirmed'`, entry, tiny.ID); n != 1 {
		t.Errorf("B has no confirmed booking from the waitlist entry %s", entry)
	}
	if n := s.count(`SELECT count(*) FROM waitlist WHERE id = $1 AND status = 'served'`, entry); n != 1 {
		t.Errorf("B's waitlist entry is not served")
	}
	if n := s.count(`SELECT count(*) FROM bookings WHERE session_id = $1 AND channel = 'onsite' AND status = 'checked_in' AND booked_by = $2`, today.ID, actor.AccountID); n != 1 {
		t.Errorf("got %d walk-ins by the clerk checked in as booked, want 1", n)
	}
	if n := s.count(`SELECT count(*) FROM slots WHERE session_id = $1`, today.ID); n != 12 {
		t.Errorf("today's session has %d slots, want 10 + 2 extra", n)
	}
	problems, err := s.svc.Check(t.Context())
	testenv.Must(t, err, "check")
	if len(problems) > 0 {
		t.Errorf("Redis and SQL disagree:\n%v", problems)
	}
}

func sessionsPath(hospital, department, date string) string {
	return "/patient/sessions?" + url.Values{"hospital": {hospital}, "department": {department}, "date": {date}}.Encode()
}

// addSelf adds the account holder as a family member, from the family page.
func (b *tab) addSelf(idNumber, name string) {
	b.t.Helper()
	b.open("/patient/family")
	b.fill("#family-form input[name=id_number]", idNumber)
	b.fill("#family-form input[name=name]", name)
	b.do("tick self", chromedp.Click(chromedp.CSS("#family-form input[name=self]")))
	b.agree("#family-form")
	b.click("#family-form button[type=submit]", "/patient/family?ok=added")
}

// set replaces an input's value.
func (b *tab) set(sel, value string) {
	b.t.Helper()
	b.do("set "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.SetValue(chromedp.CSS(sel), value))
}

// absent checks that nothing on the page matches sel.
func (b *tab) absent(sel string) {
	b.t.Helper()
	n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int]("document.querySelectorAll("+jsString(sel)+").length"))
	if err != nil {
		b.t.Fatalf("count %s: %v", sel, err)
	}
	if n != 0 {
		b.t.Errorf("the page has %d elements matching %s, want none", n, sel)
	}
}

// isOpen says whether the element sel is inside an open <details> (a
// form a refusal showed again) — or in none.
func (b *tab) isOpen(sel string) bool {
	b.t.Helper()
	open, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool]("(e => { const d = e.closest('details'); return !d || d.open })(document.querySelector("+jsString(sel)+"))"))
	testenv.Must(b.t, err, "is %s open", sel)
	return open
}

func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
