package web

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestScheduleAndStopInBrowser drives headless Chromium through the admin
// console's schedule page: an administrator publishes an evening clinic
// (bookable at once), a patient books it, and the administrator stops the
// clinic (停诊) with a reason: the page says how many bookings it cancelled
// and shows the clinic stopped; SQL has the booking cancelled without
// penalty and the patient's notification. Screenshots are schedule-*.png.
func TestScheduleAndStopInBrowser(t *testing.T) {
	s := newSite(t)
	ctx := t.Context()
	password := "admin password 1"
	adminPhone := s.newAdmin(password)
	doc := s.doctors[2] // 王芳: only tomorrow morning so far
	day := time.Now().In(shanghai).AddDate(0, 0, 3).Format(time.DateOnly)
	release := time.Now().In(shanghai).Add(-time.Minute).Format("2006-01-02T15:04")

	b := newBrowser(t, s.base, 3*time.Minute)
	b.signIn("admin", adminPhone, password)
	b.click(`nav a[href="/admin/schedule"]`, "/admin/schedule")
	b.contains("#h-"+s.hospital.ID, s.hospital.Name)

	// 1. Publish: 王芳's evening clinic in three days, online released now.
	open := func(sel string) { // a <details> opens in place: no page to wait for
		b.do("open "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)))
	}
	open("#publish-open-" + s.hospital.ID)
	set := func(sel, v string) {
		b.do("set "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.SetValue(chromedp.CSS(sel), v))
	}
	set("#publish-form-"+s.hospital.ID+" select[name=doctor_id]", doc.ID)
	set("#publish-form-"+s.hospital.ID+" input[name=date]", day)
	set("#publish-form-"+s.hospital.ID+" select[name=period]", "evening")
	set("#publish-form-"+s.hospital.ID+" input[name=start]", "18:00")
	set("#publish-form-"+s.hospital.ID+" input[name=end]", "21:00")
	set("#publish-form-"+s.hospital.ID+" input[name=online]", "6")
	set("#publish-form-"+s.hospital.ID+" input[name=onsite]", "2")
	set("#publish-form-"+s.hospital.ID+" input[name=release]", release)
	b.shot("schedule-01-form")
	// A release time already past is warned of, and nothing is published
	// until the administrator confirms it.
	b.click("#publish-form-"+s.hospital.ID+" button[type=submit]", "/admin/schedule")
	b.contains("#release-warning", "The release time is already past")
	b.shot("schedule-01-warning")
	if list := s.svc.Catalog().Sessions(s.hospital.ID, day, ""); len(list) != 0 {
		t.Fatalf("published before the past release time was confirmed: %+v", list)
	}
	// The listing is then at the session's hospital and week.
	b.click("#publish-confirm", "/admin/schedule?"+url.Values{"hospital": {s.hospital.ID}, "week": {day}, "ok": {"published"}}.Encode())
	b.contains("#flash", "Session published")
	b.absent("#release-warning")
	list := s.svc.Catalog().Sessions(s.hospital.ID, day, "")
	if len(list) != 1 || list[0].DoctorID != doc.ID || len(list[0].Slots) != 8 || list[0].Period != "evening" {
		t.Fatalf("sessions on %s after publishing: %+v, want 王芳's evening clinic with 8 slots", day, list)
	}
	sess := list[0]
	row := "#s-" + sess.ID
	b.contains(row, "王芳")
	b.contains(row, "18:00–21:00")
	b.contains(row, "开放 Open")

	// 2. A patient books it at once.
	phone := newPhone()
	_, err := s.svc.CreateAccount(ctx, phone, "patient password 1", "", booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, booking.Origin{})
	testenv.Must(t, err, "create account")
	tok, err := s.svc.Login(ctx, phone, "patient password 1", booking.Origin{})
	testenv.Must(t, err, "login")
	patient, err := s.svc.Authenticate([]byte(tok.Token))
	testenv.Must(t, err, "authenticate")
	p, err := s.svc.AddPatient(ctx, patient, booking.AddPatientRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, IDType: "resident_id", IDNumber: residentID(7301), Name: "赵六", IsSelf: true}, booking.Origin{})
	testenv.Must(t, err, "add patient")
	bk, err := s.svc.Book(ctx, patient, booking.BookRequest{SessionID: sess.ID, PatientID: p.ID, Channel: booking.ChannelOnline})
	testenv.Must(t, err, "book the published session")
	// The administrator's page, read again, counts the booking (a page
	// read before it would stop nothing: TestStopFormCountsItsPatientsInBrowser).
	b.open("/admin/schedule?" + url.Values{"hospital": {s.hospital.ID}, "week": {day}}.Encode())
	if got := b.text(row + " .stop-count"); !strings.Contains(got, "1 位患者将被取消") {
		t.Errorf("the stop form says %q, want 1 patient to be cancelled", got)
	}

	// 3. A stop with a one-character reason is refused: the stop form is
	// shown again open, the reason kept and marked; the publish form stays
	// closed. Then the clinic stops with a reason.
	open(row + " summary")
	b.fill(row+" input[name=reason]", "停")
	b.click(row+" form button[type=submit]", "/admin/sessions/"+sess.ID+"/stop")
	b.contains("#error", "invalid_field")
	if got := fieldState(b, row+" [name=reason]", "true error true 停"); got != "true error true 停" {
		t.Errorf("the refused stop's reason: aria-invalid, aria-describedby, focused, value = %q, want it marked and kept", got)
	}
	if b.isOpen("#publish-form-" + s.hospital.ID) {
		t.Errorf("a refused stop opened the publish form")
	}
	reason := "医生外出会诊 The doctor is called away"
	b.fill(row+" input[name=reason]", reason)
	b.shot("schedule-02-stop")
	// Back at the hospital and week the stop was made from.
	b.click(row+" form button[type=submit]", "/admin/schedule?"+url.Values{"cb": {"0"}, "n": {"1"}, "ok": {"stopped"}, "on": {"1"},
		"hospital": {s.hospital.ID}, "week": {mondayOf(day, time.Time{}, shanghai).Format(time.DateOnly)}}.Encode())
	b.contains("#flash", "1 booking(s) cancelled without penalty")
	b.contains("#flash", "1 notified online, 0 to call back")
	b.contains(row, "停诊 Stopped")
	b.contains(row, reason)
	b.absent(row + " form")
	b.shot("schedule-03-stopped")

	if st := s.status(bk.ID); st != string(booking.StatusCancelled) {
		t.Errorf("the booking is %s, want cancelled", st)
	}
	if n := s.count(`SELECT count(*) FROM bookings WHERE id = $1 AND late_cancel`, bk.ID); n != 0 {
		t.Errorf("the stop's cancellation counts as late")
	}
	if n := s.count(`SELECT count(*) FROM notifications WHERE booking_id = $1 AND account_id = $2`, bk.ID, patient.AccountID); n != 1 {
		t.Errorf("%d notifications for the patient, want 1", n)
	}
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action = 'session_stop' AND target = $1`, "session:"+sess.ID); n != 1 {
		t.Errorf("%d audit rows of the stop, want "+strconv.Itoa(1), n)
	}
}

// TestPublishReleaseTimeWarnings: the schedule form publishes a release
// time from now to booking.ScheduleHorizonDays ahead at once; one already
// past, or further than that, is warned of and needs the confirmation, and
// a release time changed after the warning is warned of again. The API
// takes them all (a hospital may publish a clinic bookable at once).
func TestPublishReleaseTimeWarnings(t *testing.T) {
	s := newSite(t)
	password := "admin password 1"
	adminPhone := s.newAdmin(password)
	doc := s.doctors[2]
	now := time.Now().In(shanghai)
	b := newBrowser(t, s.base, 3*time.Minute)
	b.signIn("admin", adminPhone, password)
	set := func(sel, v string) {
		b.do("set "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.SetValue(chromedp.CSS(sel), v))
	}
	fill := func(day string, release time.Time) {
		b.open("/admin/schedule")
		b.do("open the form", chromedp.WaitVisible(chromedp.CSS("#publish-open-"+s.hospital.ID)), chromedp.Click(chromedp.CSS("#publish-open-"+s.hospital.ID)))
		set("#publish-form-"+s.hospital.ID+" select[name=doctor_id]", doc.ID)
		set("#publish-form-"+s.hospital.ID+" input[name=date]", day)
		set("#publish-form-"+s.hospital.ID+" select[name=period]", "evening")
		set("#publish-form-"+s.hospital.ID+" input[name=start]", "18:00")
		set("#publish-form-"+s.hospital.ID+" input[name=end]", "21:00")
		set("#publish-form-"+s.hospital.ID+" input[name=release]", release.Format("2006-01-02T15:04"))
	}
	published := func(day string) int { return len(s.svc.Catalog().Sessions(s.hospital.ID, day, "")) }

	t.Run("a future release time publishes without a warning", func(t *testing.T) {
		day := now.AddDate(0, 0, 4).Format(time.DateOnly)
		fill(day, now.Add(2*time.Hour))
		b.click("#publish-form-"+s.hospital.ID+" button[type=submit]", "ok=published")
		b.absent("#release-warning")
		if n := published(day); n != 1 {
			t.Errorf("%d sessions on %s, want the one published", n, day)
		}
	})
	t.Run("a release time a year and more ahead needs the confirmation", func(t *testing.T) {
		day := now.AddDate(0, 0, 5).Format(time.DateOnly)
		fill(day, now.AddDate(1, 0, 5)) // the year mistyped
		b.click("#publish-form-"+s.hospital.ID+" button[type=submit]", "/admin/schedule")
		b.contains("#release-warning", "more than 366 days away")
		if n := published(day); n != 0 {
			t.Fatalf("%d sessions published before the confirmation", n)
		}
		// Corrected to another time still a year ahead: warned again, not
		// taken as confirmed.
		set("#publish-form-"+s.hospital.ID+" input[name=release]", now.AddDate(1, 0, 6).Format("2006-01-02T15:04"))
		b.click("#publish-confirm", "/admin/schedule")
		b.contains("#release-warning", "more than 366 days away")
		if n := published(day); n != 0 {
			t.Fatalf("%d sessions published with a release time changed after the warning", n)
		}
		// Corrected to an hour from now: published without a word.
		set("#publish-form-"+s.hospital.ID+" input[name=release]", now.Add(time.Hour).Format("2006-01-02T15:04"))
		b.click("#publish-confirm", "ok=published")
		if n := published(day); n != 1 {
			t.Errorf("%d sessions on %s after the correction, want 1", n, day)
		}
	})
}
