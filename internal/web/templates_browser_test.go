package web

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"fairslot/internal/booking"
)

// TestTemplatesPageInBrowser drives headless Chromium through the admin
// console's weekly-template page as a hospital's own administrator: a
// template with a clinic whose release comes after its start is refused
// with its code; a valid one (Tuesday morning and Thursday afternoon,
// online released 7 days before at 08:00, on-site on the day) is saved,
// edited (online 6 → 8), and published to a week; the catalog has the two
// sessions with the edited quota, bookable from their release. Screenshots
// are templates-*.png, at the desk's width and a phone's.
func TestTemplatesPageInBrowser(t *testing.T) {
	s := newSite(t)
	doc := s.doctors[2]
	b := s.hospitalAdminTab()
	b.click(`nav a[href="/admin/schedule"]`, "/admin/schedule")
	b.click(`nav.subnav a[href="/admin/templates"]`, "/admin/templates")
	box := "#t-doc-" + doc.ID
	b.contains(box, doc.Name)

	open := func(sel string) {
		b.do("open "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)))
	}
	set := func(sel, v string) {
		b.do("set "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.SetValue(chromedp.CSS(sel), v))
	}
	fillNew := func(onsiteAt string) {
		form := box + " .new-form"
		open(box + " .new-open")
		set(form+" input[name=name]", "春季 Spring")
		set(form+" select[name=day0_weekday]", "2")
		set(form+" select[name=day0_period]", "morning")
		set(form+" input[name=day0_start]", "08:00")
		set(form+" input[name=day0_end]", "12:00")
		set(form+" select[name=day1_weekday]", "4")
		set(form+" select[name=day1_period]", "afternoon")
		set(form+" input[name=day1_start]", "14:00")
		set(form+" input[name=day1_end]", "17:00")
		set(form+" input[name=online_quota]", "6")
		set(form+" input[name=online_days_before]", "7")
		set(form+" input[name=online_at]", "08:00")
		set(form+" input[name=onsite_quota]", "2")
		set(form+" input[name=onsite_days_before]", "0")
		set(form+" input[name=onsite_at]", onsiteAt)
	}
	// 1. On-site released at 15:00 on the day: after the morning clinic starts.
	fillNew("15:00")
	b.shot("templates-01-form")
	b.click(box+" .new-form button[type=submit]", "/admin/templates")
	b.contains("#error", "release_after_start")

	// 2. Valid: on-site at 07:00.
	b.open("/admin/templates")
	fillNew("07:00")
	b.click(box+" .new-form button[type=submit]", "/admin/templates?ok=saved")
	b.contains("#flash", "Template saved")
	b.contains(box+" .tpl-summary", "Tue 08:00–12:00")

	// 3. Edit: six online slots become eight.
	open(box + " .edit-open")
	set(box+" .edit-form input[name=online_quota]", "8")
	b.click(box+" .edit-form button[type=submit]", "/admin/templates?ok=saved")
	b.contains(box+" .tpl-summary", "Online 8")

	// 4. Publish the Monday after next.
	open(box + " .publish-open")
	monday := time.Now().In(shanghai).AddDate(0, 0, 8)
	for monday.Weekday() != time.Monday {
		monday = monday.AddDate(0, 0, 1)
	}
	set(box+" .publish-form input[name=week_of]", monday.Format(time.DateOnly))
	b.click(box+" .publish-form button[type=submit]", "/admin/templates?ok=published")
	b.contains("#flash", "The week is published")
	b.shot("templates-02-published")
	b.phoneShot("templates-03-phone")

	var got []*booking.Session
	for d := range 7 {
		for _, ss := range s.svc.Catalog().Sessions(s.hospital.ID, monday.AddDate(0, 0, d).Format(time.DateOnly), "") {
			if ss.DoctorID == doc.ID {
				got = append(got, ss)
			}
		}
	}
	if len(got) != 2 {
		t.Fatalf("the doctor's sessions in the week of %s: %d, want 2 (Tuesday and Thursday)", monday.Format(time.DateOnly), len(got))
	}
	for _, ss := range got {
		q, ok := ss.Channel(booking.ChannelOnline)
		if !ok || q.Quota != 8 || len(ss.Slots) != 10 {
			t.Errorf("session %s %s: online %+v, %d slots; want the edited 8 online of 10", ss.VisitDate, ss.Period, q, len(ss.Slots))
		}
	}
	for _, action := range []string{"template_create", "template_update", "session_create"} {
		if n := s.count(`SELECT count(*) FROM audit_log WHERE action = $1 AND hospital_id = $2`, action, s.hospital.ID); n < 1 {
			t.Errorf("audit rows %s = %d, want at least 1", action, n)
		}
	}
}

// TestPublishWeekReleaseTimeWarnings: publishing a template's week whose
// release times are already past (a pool released 20 days before its
// Tuesday clinic, for a week a few days ahead) is warned of and needs the
// confirmation, as the schedule form's single session does; a week changed
// after the warning is checked again, not taken as confirmed; a week whose
// release times are all ahead publishes at once.
func TestPublishWeekReleaseTimeWarnings(t *testing.T) {
	s := newSite(t)
	doc := s.doctors[2]
	b := s.hospitalAdminTab()
	box := "#t-doc-" + doc.ID
	open := func(sel string) {
		b.do("open "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)))
	}
	set := func(sel, v string) {
		b.do("set "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.SetValue(chromedp.CSS(sel), v))
	}
	b.open("/admin/templates")
	form := box + " .new-form"
	open(box + " .new-open")
	set(form+" input[name=name]", "长周期 Long lead")
	set(form+" select[name=day0_weekday]", "2")
	set(form+" select[name=day0_period]", "morning")
	set(form+" input[name=day0_start]", "08:00")
	set(form+" input[name=day0_end]", "12:00")
	set(form+" input[name=online_quota]", "2")
	set(form+" input[name=online_days_before]", "20")
	set(form+" input[name=online_at]", "08:00")
	b.click(form+" button[type=submit]", "/admin/templates?ok=saved")

	next := time.Now().In(shanghai).AddDate(0, 0, 1)
	for next.Weekday() != time.Monday {
		next = next.AddDate(0, 0, 1)
	}
	week := func(n int) string { return next.AddDate(0, 0, 7*n).Format(time.DateOnly) }
	published := func(monday string) int {
		tuesday, _ := time.Parse(time.DateOnly, monday)
		n := 0
		for _, ss := range s.svc.Catalog().Sessions(s.hospital.ID, tuesday.AddDate(0, 0, 1).Format(time.DateOnly), "") {
			if ss.DoctorID == doc.ID {
				n++
			}
		}
		return n
	}

	// Next week: its Tuesday is 2 to 8 days ahead, released 20 days
	// before, so already past: warned of, nothing published.
	open(box + " .publish-open")
	set(box+" .publish-form input[name=week_of]", week(0))
	b.click(box+" .publish-form button[type=submit]", "weeks") // the form again, at its own address
	b.contains(box+" #release-warning", "The release time is already past")
	b.contains(box+" #release-warning", "Online")
	b.shot("templates-04-release-warning")
	if n := published(week(0)); n != 0 {
		t.Fatalf("%d sessions published in the week of %s before the confirmation", n, week(0))
	}

	// Changed to the week after (its release time past too): warned again,
	// the confirmation was of the other week.
	set(box+" .publish-form input[name=week_of]", week(1))
	b.click(box+" #publish-confirm", "weeks")
	b.contains(box+" #release-warning", "The release time is already past")
	if n, m := published(week(0)), published(week(1)); n != 0 || m != 0 {
		t.Fatalf("sessions published with a week changed after the warning: %d and %d", n, m)
	}

	// Confirmed: that week is published.
	b.click(box+" #publish-confirm", "/admin/templates?ok=published")
	b.contains("#flash", "The week is published")
	b.absent("#release-warning")
	if n := published(week(1)); n != 1 {
		t.Errorf("%d sessions in the week of %s after the confirmation, want 1", n, week(1))
	}

	// Four weeks on, released 10 days ahead and more: published at once.
	open(box + " .publish-open")
	set(box+" .publish-form input[name=week_of]", week(4))
	b.click(box+" .publish-form button[type=submit]", "/admin/templates?ok=published")
	b.absent("#release-warning")
	if n := published(week(4)); n != 1 {
		t.Errorf("%d sessions in the week of %s, want 1 published without a warning", n, week(4))
	}
}
