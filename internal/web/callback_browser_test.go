package web

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"fairslot/internal/booking"
	"fairslot/internal/identity"
	"fairslot/internal/testenv"
)

// TestCallBackListInBrowser (H2) drives headless Chromium through a clinic
// stopped (停诊) with a caller the call centre booked and a walk-in the desk
// booked, neither on any account's list. The hospital's administrator stops
// it from the schedule, and the flash counts honestly: none notified
// online, two to call back. The operator's 回电 Call backs tab lists the
// caller with the stop's reason and the number masked; "Show the number"
// opens it in clear on that row alone (a tel: link, audited, never in the
// address); a note holding the number is refused (the audit keeps notes
// for good); "Told" with a note takes the row off, audited, and stamps the
// notice delivered. The caller's booking on the caller page says why the
// clinic stopped. The desk's tab lists the walk-in with no number to show;
// "No answer" keeps it, counted. The page passes axe-core at a desk PC's
// width and fits a 390 px phone. Screenshots callbacks-*.png.
func TestCallBackListInBrowser(t *testing.T) {
	s := newSite(t)
	ctx := t.Context()
	src := axeSource(t)
	today := s.addToday()
	opPass, clerkPass, adminPass := "operator password 1", "clerk password 1", "admin password 1"
	opPhone, clerkPhone := s.newOperator(opPass), s.newClerk(clerkPass)
	op, clerk := s.actor(opPhone, opPass), s.actor(clerkPhone, clerkPass)
	caller := newPhone()
	bk, err := s.svc.BookFor(ctx, op, booking.StaffBookRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: true}, IdentityRequest: booking.IdentityRequest{IDType: "resident_id",
		IDNumber: residentID(7601), Name: "孙老伯"}, SessionID: today.ID, Channel: booking.ChannelPhone, CallerPhone: caller})
	testenv.Must(t, err, "book the caller by phone")
	walk, err := s.svc.BookFor(ctx, clerk, booking.StaffBookRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: true}, IdentityRequest: booking.IdentityRequest{IDType: "resident_id",
		IDNumber: residentID(7602), Name: "周阿姨"}, SessionID: today.ID, Channel: booking.ChannelOnsite})
	testenv.Must(t, err, "book the walk-in")
	reason := "医生临时停诊 The doctor is ill"

	// 1. The administrator stops the clinic: nobody notified online.
	a := newBrowser(t, s.base, 3*time.Minute)
	a.signInAt("admin", s.newHospitalAdmin(adminPass), adminPass, "/admin/schedule")
	a.open("/admin/schedule")
	row := "#s-" + today.ID
	a.do("open the stop form", chromedp.WaitVisible(chromedp.CSS(row+" summary")), chromedp.Click(chromedp.CSS(row+" summary")))
	a.fill(row+" input[name=reason]", reason)
	a.click(row+" form button[type=submit]", "ok=stopped")
	a.contains("#flash", "0 notified online, 2 to call back")
	a.contains("#flash", "0 人已在线通知，2 人待回电告知")

	var callN, walkN string
	testenv.Must(t, s.db.Pool().QueryRow(ctx, `SELECT id::TEXT FROM notifications WHERE booking_id = $1`, bk.ID).Scan(&callN), "the caller's notice")
	testenv.Must(t, s.db.Pool().QueryRow(ctx, `SELECT id::TEXT FROM notifications WHERE booking_id = $1`, walk.ID).Scan(&walkN), "the walk-in's notice")
	if _, err := s.svc.DeliverNotifications(ctx); err != nil {
		t.Fatalf("deliver: %v", err)
	}
	if n := s.count(`SELECT count(*) FROM notifications WHERE id IN ($1, $2) AND delivered_at IS NOT NULL`, callN, walkN); n != 0 {
		t.Errorf("%d account-less stop notices stamped delivered; nobody told them", n)
	}

	// 2. The call centre: the row, the number opened, told.
	o := newBrowser(t, s.base, 3*time.Minute)
	o.signIn("phone", opPhone, opPass)
	o.click("nav a[href='/phone/callbacks']", "/phone/callbacks")
	r := "#cb-" + callN
	o.contains(r+" .stop-reason", reason)
	o.contains(r+" .dial", identity.MaskPhone(caller))
	o.contains(r, "孙*伯")
	o.absent(r + " .phone-clear")
	o.contains("#cb-"+walkN, "No number on file")
	o.axeClean(src, "/phone/callbacks")
	o.shot("callbacks-01-phone")
	o.phoneShot("callbacks-01-phone-390")
	if strings.Contains(o.html(), caller) {
		t.Errorf("the list shows the caller's number in clear before it is asked for")
	}
	o.click(r+" .show-number button", "/phone/callbacks/"+callN+"/number")
	o.contains(r+" .phone-clear", caller)
	o.absent("#cb-" + walkN + " .phone-clear")
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action = 'callback_number_read' AND target = $1 AND actor_id = $2`,
		"notification:"+callN, op.AccountID); n != 1 {
		t.Errorf("%d audited reads of the number; want 1", n)
	}
	o.shot("callbacks-02-dial")
	// A note goes into the audit for good: one holding the number is
	// refused, the row stays as it was.
	o.fill(r+" input[name=note]", "told his son on "+caller)
	o.click(r+" button[value=told]", "/phone/callbacks/"+callN+"/outcome")
	o.contains("#error", "leave phone and ID numbers out")
	o.contains(r, "孙*伯")
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action = 'callback' AND target = $1`, "notification:"+callN); n != 0 {
		t.Errorf("a refused note is audited")
	}
	o.fill(r+" input[name=note]", "told his daughter")
	o.click(r+" button[value=told]", "ok=told")
	o.contains("#flash", "off the call-back list")
	o.absent(r)
	if n := s.count(`SELECT count(*) FROM notifications WHERE id = $1 AND delivered_at IS NOT NULL AND told_by = $2`, callN, op.AccountID); n != 1 {
		t.Errorf("the caller's notice is not delivered by the operator after told")
	}
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action = 'callback' AND target = $1 AND reason LIKE '%told his daughter%'`,
		"notification:"+callN); n != 1 {
		t.Errorf("the call is not audited with its note")
	}

	// The caller rings in: their booking says why the clinic stopped.
	o.open("/phone")
	o.fill("#caller-form input[name=phone]", caller)
	o.fill("#caller-form input[name=id_number]", residentID(7601))
	o.fill("#caller-form input[name=name]", "孙老伯")
	o.check("#caller-form input[name=privacy_consent]")
	o.click("#caller-form button[type=submit]", "/phone?")
	o.contains("#b-"+bk.ID+" .stop-reason", reason)

	// 3. The desk: the walk-in, no number to show; no answer keeps it.
	d := newBrowser(t, s.base, 3*time.Minute)
	d.signIn("desk", clerkPhone, clerkPass)
	d.open("/desk/callbacks")
	w := "#cb-" + walkN
	d.contains(w+" .stop-reason", reason)
	d.absent(".show-number")
	d.absent("#cb-" + callN)
	d.click(w+" button[value=no_answer]", "ok=no_answer")
	d.contains(w+" .last-call", "No answer")
	d.phoneShot("callbacks-03-desk-390")
	if n := s.count(`SELECT count(*) FROM notifications WHERE id = $1 AND delivered_at IS NULL AND call_attempts = 1`, walkN); n != 1 {
		t.Errorf("the walk-in's notice after no answer is not pending with one attempt")
	}
	if strings.Contains(s.logs.String(), caller) {
		t.Errorf("the service log holds the caller's number")
	}
}

// TestWalkInContactInBrowser drives headless Chromium through the desk's
// walk-in form with its optional contact number: a number that is not one
// comes back on the form with the field marked and nothing booked; a
// valid one books, and when the clinic is stopped the call centre's 回电
// tab lists the walk-in with the number masked and opens it on the row
// alone, audited. The number is never in the page before it is asked for,
// nor in the log.
func TestWalkInContactInBrowser(t *testing.T) {
	s := newSite(t)
	ctx := t.Context()
	today := s.addToday()
	opPass, clerkPass, adminPass := "operator password 1", "clerk password 1", "admin password 1"
	opPhone, clerkPhone := s.newOperator(opPass), s.newClerk(clerkPass)
	admin := s.actor(s.newHospitalAdmin(adminPass), adminPass)
	contact := newPhone()

	d := newBrowser(t, s.base, 3*time.Minute)
	d.signIn("desk", clerkPhone, clerkPass)
	d.open("/desk/walkin?s=" + today.ID)
	d.fill("#walkin-form input[name=id_number]", residentID(7701))
	d.fill("#walkin-form input[name=name]", "钱阿婆")
	d.check("#walkin-form input[name=privacy_consent]")
	d.fill("#walkin-form input[name=contact_phone]", "12345")
	d.click("#walkin-form button[type=submit]", "/desk/bookings")
	d.contains("#error", "contact number is not a valid mainland mobile number")
	d.contains("#walkin-form input[name=contact_phone][aria-invalid=true]", "")
	if n := s.count(`SELECT count(*) FROM bookings WHERE session_id = $1`, today.ID); n != 0 {
		t.Fatalf("%d bookings after a refused contact number; want none", n)
	}
	d.fill("#walkin-form input[name=id_number]", residentID(7701))
	d.fill("#walkin-form input[name=name]", "钱阿婆")
	d.check("#walkin-form input[name=privacy_consent]")
	d.fill("#walkin-form input[name=contact_phone]", contact)
	d.click("#walkin-form button[type=submit]", "ok=walkin")
	var bookingID string
	testenv.Must(t, s.db.Pool().QueryRow(ctx, `SELECT id::TEXT FROM bookings WHERE session_id = $1 AND channel = 'onsite'`, today.ID).
		Scan(&bookingID), "the walk-in's booking")

	_, err := s.svc.StopSession(ctx, admin, today.ID, "医生临时停诊 The doctor is ill")
	testenv.Must(t, err, "stop")
	var walkN string
	testenv.Must(t, s.db.Pool().QueryRow(ctx, `SELECT id::TEXT FROM notifications WHERE booking_id = $1`, bookingID).Scan(&walkN),
		"the walk-in's notice")

	o := newBrowser(t, s.base, 3*time.Minute)
	o.signIn("phone", opPhone, opPass)
	o.open("/phone/callbacks")
	r := "#cb-" + walkN
	o.contains(r+" .dial", identity.MaskPhone(contact))
	if strings.Contains(o.html(), contact) {
		t.Errorf("the list shows the walk-in's number in clear before it is asked for")
	}
	o.click(r+" .show-number button", "/phone/callbacks/"+walkN+"/number")
	o.contains(r+" .phone-clear", contact)
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action = 'callback_number_read' AND target = $1`, "notification:"+walkN); n != 1 {
		t.Errorf("%d audited reads of the walk-in's number; want 1", n)
	}
	if strings.Contains(s.logs.String(), contact) {
		t.Errorf("the service log holds the walk-in's number")
	}
}
