package web

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"fairslot/internal/testenv"
)

// TestPolicyPageInBrowser drives headless Chromium through the admin
// console's policy page as a hospital's own administrator: the rules in
// effect are shown, a policy whose no-show step has a bar of 0 days is
// refused with its code, a valid one (a booking window of 2 days, 20% kept
// for on-site, one no-show bars 30 days) is saved from now and shown in
// effect and in the history; SQL has the row and the audit entry, and the
// Service applies it. The platform's account limits are shown to it, and
// changed only by a platform administrator. Screenshots are policy-*.png,
// at the desk's width and a phone's.
func TestPolicyPageInBrowser(t *testing.T) {
	s := newSite(t)
	password := "admin password 1"
	phone := s.newHospitalAdmin(password)

	b := newBrowser(t, s.base, 3*time.Minute)
	b.signInAt("admin", phone, password, "/admin/schedule")
	b.click(`nav a[href="/admin/schedule"]`, "/admin/schedule")
	b.click(`nav.subnav a[href="/admin/policy"]`, "/admin/policy")
	sec := "#h-" + s.hospital.ID
	b.contains(sec, s.hospital.Name)
	b.contains(sec+" .window", "no booking window")

	open := func() {
		b.do("open the form", chromedp.WaitVisible(chromedp.CSS(sec+" .policy-open")), chromedp.Click(chromedp.CSS(sec+" .policy-open")))
	}
	set := func(name, v string) {
		sel := sec + " .policy-form input[name=" + name + "]"
		b.do("set "+name, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.SetValue(chromedp.CSS(sel), v))
	}
	// 1. A bar of 0 days is refused, with its code.
	open()
	set("book_ahead_days", "2")
	set("onsite_share", "20")
	set("no_show_window_days", "90")
	set("no_show_steps", "1:0")
	set("reason", "新院区开诊 New wing opens")
	b.shot("policy-01-form")
	b.click(sec+" .policy-form button[type=submit]", "/admin/policy")
	b.contains("#error", "invalid_field")
	b.shot("policy-02-refused")
	// The refused form is shown again open, with its reason.
	if got := fieldState(b, sec+" .policy-form [name=reason]", "  false 新院区开诊 New wing opens"); got != "  false 新院区开诊 New wing opens" {
		t.Errorf("the refused policy's reason: aria-invalid, aria-describedby, focused, value = %q, want it kept", got)
	}
	// So is every number as typed, not as in effect, and the steps are
	// marked as the field to correct.
	if got := fieldState(b, sec+" .policy-form [name=no_show_steps]", "true error true 1:0"); got != "true error true 1:0" {
		t.Errorf("the refused policy's no-show steps: aria-invalid, aria-describedby, focused, value = %q, want marked and kept", got)
	}
	for name, typed := range map[string]string{"book_ahead_days": "2", "onsite_share": "20", "no_show_window_days": "90"} {
		if got := fieldState(b, sec+" .policy-form [name="+name+"]", "  false "+typed); got != "  false "+typed {
			t.Errorf("the refused policy's %s: %q, want %q kept, unmarked", name, got, typed)
		}
	}

	// 2. A valid policy from now (the form is still open): stricter than
	// the service's no-show rules, so it holds at once (review25 M2).
	set("book_ahead_days", "2")
	set("onsite_share", "20")
	set("no_show_window_days", "400")
	set("no_show_steps", "2:90, 5:180")
	set("stop_undo_minutes", "45")
	set("reason", "新院区开诊 New wing opens")
	b.click(sec+" .policy-form button[type=submit]", "/admin/policy?ok=policy")
	b.contains("#flash", "Policy saved")
	b.contains(sec+" .window", "at most 2 days ahead")
	b.contains(sec+" .onsite", "20%")
	b.contains(sec+" .noshow", "2:90")
	b.contains(sec+" .undo", "within 45 minutes")
	b.contains(sec+" table.history", "New wing opens")
	b.shot("policy-03-saved")
	b.phoneShot("policy-04-phone")
	// The publish form proposes the on-site quota the 20% share needs
	// beside its 10 online slots (3 of 13), and publishing it as proposed
	// is accepted.
	b.click(`nav.subnav a[href="/admin/schedule"]`, "/admin/schedule")
	b.do("open the publish form", chromedp.WaitVisible(chromedp.CSS("#publish-open-"+s.hospital.ID)), chromedp.Click(chromedp.CSS("#publish-open-"+s.hospital.ID)))
	onsite, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.CSS("#publish-form-"+s.hospital.ID+" input[name=onsite]")))
	testenv.Must(t, err, "read the on-site quota")
	if onsite != "3" {
		t.Errorf("the publish form proposes %q on-site slots, want 3 (20%% of 13)", onsite)
	}
	b.contains("#publish-form-"+s.hospital.ID+" .onsite-share", "20%")
	day := time.Now().In(shanghai).AddDate(0, 0, 4).Format(time.DateOnly)
	for sel, v := range map[string]string{"select[name=doctor_id]": s.doctors[2].ID, "input[name=date]": day, "select[name=period]": "evening",
		"input[name=start]": "18:00", "input[name=end]": "21:00", "input[name=release]": time.Now().In(shanghai).Add(time.Hour).Format("2006-01-02T15:04")} {
		b.do("set "+sel, chromedp.SetValue(chromedp.CSS("#publish-form-"+s.hospital.ID+" "+sel), v))
	}
	b.shot("policy-06-publish-prefilled")
	b.phoneShot("policy-06-publish-prefilled-390")
	b.click("#publish-form-"+s.hospital.ID+" button[type=submit]", "ok=published")
	b.open("/admin/policy")
	// A hospital's administrator sees the platform's account limits, and
	// no form to change them.
	b.contains("#accounts-current", "at most 5 patients per account")
	b.absent("#accounts-open")

	// 3. A platform administrator changes the account limits.
	platformPhone := s.newAdmin(password)
	p := newBrowser(t, s.base, 3*time.Minute)
	p.open("/admin/login")
	p.fill("#login-form input[name=phone]", platformPhone)
	p.fill("#login-form input[name=password]", password)
	p.click("#login-form button[type=submit]", "/admin")
	p.open("/admin/policy")
	p.do("open the account form", chromedp.WaitVisible(chromedp.CSS("#accounts-open")), chromedp.Click(chromedp.CSS("#accounts-open")))
	for name, v := range map[string]string{"max_patients": "4", "max_accounts_on_phone": "2", "reason": "一号多户 Tighter"} {
		sel := "#accounts-form input[name=" + name + "]"
		p.do("set "+name, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.SetValue(chromedp.CSS(sel), v))
	}
	p.click("#accounts-form button[type=submit]", "/admin/policy?ok=accounts")
	p.contains("#flash", "Account limits saved")
	p.contains("#accounts-current", "at most 4 patients per account")
	p.contains("#accounts-history", "Tighter")
	p.shot("policy-05-accounts")
	if n := s.count(`SELECT count(*) FROM account_policies WHERE max_patients = 4 AND max_accounts_on_phone = 2`); n != 1 {
		t.Errorf("stored account limits of the form = %d, want 1", n)
	}

	if n := s.count(`SELECT count(*) FROM hospital_policies WHERE hospital_id = $1 AND book_ahead_days = 2 AND onsite_share = 20
		AND no_show_window_days = 400 AND no_show_steps = '2:90,5:180' AND stop_undo_minutes = 45`, s.hospital.ID); n != 1 {
		t.Errorf("stored policies of the form = %d, want 1", n)
	}
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action = 'policy_set' AND hospital_id = $1`, s.hospital.ID); n != 1 {
		t.Errorf("audit rows policy_set = %d, want 1", n)
	}
	rules, err := s.svc.Rules(s.hospital.ID)
	testenv.Must(t, err, "rules")
	if rules.Policy.BookAheadDays != 2 || rules.Policy.OnsiteShare != 20 || rules.Policy.StopUndo() != 45*time.Minute || len(rules.NoShows.Steps) != 2 || rules.NoShows.Steps[0].Bar != 90*24*time.Hour {
		t.Errorf("the Service's rules now = %+v, want the form's", rules.Policy)
	}
}
