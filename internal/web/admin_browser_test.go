package web

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestScalperReviewInBrowser drives headless Chromium through the admin
// console over a real Service. The ring (see newRing): a scalper account
// whose person x holds the only online slot of a sold-out session (and a
// slot of another session, and its second person y one more), a genuine
// patient on that session's waitlist, and a family the detector flags by
// mistake. The fake detector flags both groups by account and identity id.
//
// An administrator comes from the landing page, logs in, runs detection,
// opens the scalper's flag, sees the reasons, the group and the timeline,
// and confirms it with a note; then reads the audit log, and dismisses the
// family's flag. The DOM is checked at each step, SQL and the Service at
// the end: the scalper's bookings are cancelled by the flag, the account
// cannot log in, the persons cannot book on any channel, the waitlisted
// patient holds the freed slot, and the decisions are audited. Screenshots
// are admin-*.png, where the other browser tests put theirs.
func TestScalperReviewInBrowser(t *testing.T) {
	s := newSite(t)
	r := newRing(t, s)
	password := "admin password 1"
	adminPhone := s.newAdmin(password)
	note := "两张卡同一账号，抢光专家号 Two cards on one account took the expert's only online slot"
	clear := []string{r.xNumber, r.xName, r.yNumber, r.yName, r.gNumber, r.gName, r.scalperPhone, r.familyPhone, adminPhone}

	// 1. The landing page's admin tile is live and leads to the login.
	b := newBrowser(t, s.base, 3*time.Minute)
	b.open("/")
	b.contains("#console-admin", "Administration")
	b.click("#console-admin", "/admin/login")
	b.fill("#login-form input[name=phone]", adminPhone)
	b.fill("#login-form input[name=password]", password)
	b.click("#login-form button[type=submit]", "/admin")
	b.contains("#tab-open", "待审核 Open")
	b.contains("#no-flags", "No open flags")

	// 2. Run detection: both flags open, the scalper's (higher score) first.
	b.click("#detect", "/admin?n=2&ok=detected")
	b.contains("#flash", "Detection ran: 2 new or reopened flags")
	b.contains("#tab-open .count", "2")
	first := "#flags tbody tr:first-child"
	b.contains(first, "0.93")
	b.contains(first, "identities_per_account")
	b.contains("#flags tbody tr:nth-child(2)", "0.41")
	b.absent("#flags tbody tr:nth-child(3)")
	b.hidden(clear...)
	b.shot("admin-01-queue")
	runs, events := s.detector.Runs(), s.detector.Last()
	if runs != 1 || !hasEvent(events, booking.EventBooked, r.scalperAccount, r.x.IdentityID) {
		t.Errorf("the detector ran %d times and saw no booking of x's, want one run over the real event stream", runs)
	}

	// 3. The scalper's flag: reasons, the group by id, and the timeline.
	flag := "/admin/flags/" + r.scalperFlag.ID
	b.click(first+" a.button", flag)
	b.contains("#flag-status", "待审核 Open")
	b.contains("#score", "0.93")
	b.contains("#reasons", "1 account books for 2 persons; 3 bookings in 2 sessions within 5 minutes")
	b.contains("#reasons", "一个账号为 2 人预约；5 分钟内在 2 个出诊预约 3 次")
	b.contains("#reasons", "reaction_time")
	b.contains("#reasons", "规模超出家庭 Scale +0.45")
	b.contains("#threshold", "0.90")
	b.contains("#explanation", "评分 0.93（达到 0.90 即提示）：规模 0.45 + 自动化 0.48。")
	b.contains("#explanation", "Score 0.93, flagged at 0.90 or more")
	b.contains("#accounts", "A1 "+r.scalperAccount)
	b.contains("#persons", r.x.IdentityID)
	b.contains("#persons", r.y.IdentityID)
	b.contains("#timeline", "预约 Booked")
	b.contains("#timeline", "添加就诊人 Patient added")
	b.contains("#timeline", "王芳") // tiny's doctor
	// An address and a device as keyed pseudonyms, never in clear (review21 M5).
	b.contains("#timeline", "ip:")
	b.contains("#timeline", "dev:")
	b.hidden("127.0.0.1")
	b.count("#timeline tr.e-booked", 3)
	b.hidden(clear...)
	b.shot("admin-02-flag")
	b.phoneShot("admin-02-flag-phone")

	// 4. Confirm it with a note.
	b.fill("#confirm-form textarea[name=note]", note)
	b.click("#confirm-form button[type=submit]", flag+"?ok=confirmed")
	b.contains("#flash", "Flag confirmed")
	b.contains("#flag-status", "已确认 Confirmed")
	b.contains("#outcome", "1 account(s) blocked")
	b.contains("#outcome", "2 person(s) of the group's own barred")
	b.contains("#cancelled-count", "3 future booking(s) the group's accounts made cancelled")
	b.contains("#decision-note", note)
	b.absent("#decide")
	b.count("#timeline tr.by-flag", 3)
	b.hidden(clear...)
	b.shot("admin-03-confirmed")

	// 5. The audit log has the decision, with the note.
	b.click("#audit-link", "/admin/audit?")
	b.contains("#audit", "flag_confirm")
	b.contains("#audit", "确认线索 Flag confirmed")
	b.contains("#audit", note)
	b.contains("#audit", "你 You")
	b.count("#audit tbody tr", 1)
	b.click("#clear-target", "/admin/audit?days=90")
	b.contains("#audit", "staff_added")
	b.shot("admin-04-audit")

	// 6. The confirmed tab has the flag; dismiss the family's from the open tab.
	b.click(`nav a[href="/admin"]`, "/admin")
	b.click("#tab-confirmed", "/admin?status=confirmed")
	b.contains("#f-"+r.scalperFlag.ID, note)
	b.click("#tab-open", "/admin")
	b.count("#flags tbody tr", 1)
	b.click("#f-"+r.familyFlag.ID+" a.button", "/admin/flags/"+r.familyFlag.ID)
	b.absent("#second-admin-hint") // a family's look: one administrator's to dismiss
	b.fill("#dismiss-form textarea[name=note]", "一家人共用一个网络 A family sharing one network")
	b.set("#reason-code", "family")
	b.click("#dismiss-form button[type=submit]", "/admin/flags/"+r.familyFlag.ID+"?ok=dismissed")
	b.contains("#flag-status", "已排除 Dismissed")
	b.contains("#dismiss-reason", "One family")
	b.click(".crumbs a", "/admin")
	b.contains("#no-flags", "No open flags")
	b.click("#tab-dismissed", "/admin?status=dismissed")
	b.contains("#f-"+r.familyFlag.ID, "A family sharing one network")
	b.contains("#f-"+r.familyFlag.ID, "你 You")
	b.absent("#f-" + r.scalperFlag.ID)
	b.shot("admin-05-dismissed")
	b.hidden(clear...)

	// 7. review25 M1: a flag with transfer evidence takes two administrators
	// to dismiss. This one asks; it stays open, marked; another finishes it.
	_, err := s.db.Pool().Exec(t.Context(), `INSERT INTO flags (id, score, status, reasons, account_ids, patient_ids, created_at, updated_at, opened_at)
		VALUES ('flg_handoff25', 1.1, 'open', '[{"signal":"handoff_linked","kind":"transfer","detail":"1 slot taken within 60 s","points":0.5},
		{"signal":"fresh_persons","kind":"scale","detail":"5 persons added","points":0.6}]'::JSONB, '["00000000-0000-4000-8000-000000002501"]'::JSONB, '[]'::JSONB, now(), now(), now())`)
	testenv.Must(t, err, "write a transfer flag")
	b.open("/admin/flags/flg_handoff25")
	b.contains("#second-admin-hint", "two administrators")
	b.fill("#dismiss-form textarea[name=note]", "一家人轮流挂号 A family taking turns")
	b.set("#reason-code", "family")
	b.click("#dismiss-form button[type=submit]", "/admin/flags/flg_handoff25?ok=pending")
	b.contains("#flash", "another administrator finishes it")
	b.contains("#flag-status", "待审核 Open")
	b.contains("#dismiss-pending", "You asked to dismiss it")
	b.shot("admin-06-dismiss-pending")
	b.click(".crumbs a", "/admin")
	b.contains("#f-flg_handoff25", "Dismiss pending")
	b.phoneShot("admin-07-dismiss-pending-390")
	second, _ := adminClient(t, s)
	path := "/admin/flags/flg_handoff25"
	if a := second.post(path+"/decision", url.Values{"csrf": {second.csrf(path)}, "action": {"dismiss"}, "reason_code": {"family"},
		"note": {"复核同意 Agreed on review"}}); a.status != 303 || a.location != path+"?ok=dismissed" {
		t.Errorf("a second administrator dismisses: %d → %q, want 303 → %s?ok=dismissed", a.status, a.location, path)
	}
	if st := s.flagStatus("flg_handoff25"); st != booking.FlagDismissed {
		t.Errorf("the transfer flag after the second administrator: %s, want dismissed", st)
	}

	// SQL and the Service agree with what the pages showed.
	ctx := t.Context()
	for i, id := range r.scalperBookings {
		if st := s.status(id); st != string(booking.StatusCancelled) {
			t.Errorf("the scalper's booking %d (%s) is %s, want cancelled", i, id, st)
		}
		var reason string
		testenv.Must(t, s.db.Pool().QueryRow(ctx, `SELECT reason FROM booking_events WHERE booking_id = $1 AND type = 'cancelled'`, id).Scan(&reason),
			"the cancel event of %s", id)
		if !strings.HasPrefix(reason, "flag_confirmed") || reason != "flag_confirmed:"+r.scalperFlag.ID {
			t.Errorf("booking %s was cancelled for %q, want flag_confirmed:%s", id, reason, r.scalperFlag.ID)
		}
	}
	if _, err := s.svc.Login(ctx, r.scalperPhone, r.password, booking.Origin{}); !errors.Is(err, booking.ErrAccountBlocked) {
		t.Errorf("the scalper logs in: %v, want account_blocked", err)
	}
	// The scalper's open session ends too, and the login page says why.
	if a := r.scalper.get("/patient/bookings"); a.status != 303 || a.location != "/patient/login?m=blocked" {
		t.Errorf("the scalper's session: GET /patient/bookings is %d → %q, want 303 → /patient/login?m=blocked", a.status, a.location)
	}
	if a := r.scalper.get("/patient/login?m=blocked"); !strings.Contains(a.body, "account_blocked") || !strings.Contains(a.body, "账号已被停用") {
		t.Errorf("the login page after a block does not say the account is blocked\n%.400s", a.body)
	}
	relogin := r.scalper.post("/patient/login", url.Values{"csrf": {r.scalper.csrf("/patient/login")}, "phone": {r.scalperPhone}, "password": {r.password}})
	if relogin.status != 403 || !strings.Contains(relogin.body, "account_blocked") {
		t.Errorf("the scalper logs in on the console: %d, want 403 account_blocked", relogin.status)
	}
	// x and y are barred: online from the scalper's own list, and at the
	// desk, which knows nothing of the account.
	today := s.addToday()
	scalper := booking.Actor{AccountID: r.scalperAccount, Role: booking.RolePatient}
	for _, p := range []booking.Patient{r.x, r.y} {
		_, err := s.svc.Book(ctx, scalper, booking.BookRequest{SessionID: today.ID, PatientID: p.ID, Channel: booking.ChannelOnline})
		if !errors.Is(err, booking.ErrPatientBarred) {
			t.Errorf("booking %s online again: %v, want patient_barred", p.MaskedName, err)
		}
	}
	clerkTok, err := s.svc.Login(ctx, s.newClerk("clerk password 1"), "clerk password 1", booking.Origin{})
	testenv.Must(t, err, "clerk login")
	clerk, err := s.svc.Authenticate([]byte(clerkTok.Token))
	testenv.Must(t, err, "clerk token")
	_, err = s.svc.BookFor(ctx, clerk, booking.StaffBookRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: true}, SessionID: today.ID, Channel: booking.ChannelOnsite,
		IdentityRequest: booking.IdentityRequest{IDType: "resident_id", IDNumber: r.xNumber, Name: r.xName}})
	if !errors.Is(err, booking.ErrPatientBarred) {
		t.Errorf("booking x at the desk: %v, want patient_barred", err)
	}
	// The genuine patient holds tiny's slot, as a booking with the waitlist
	// entry's id.
	bs, err := s.svc.Bookings(ctx, r.genuineActor)
	testenv.Must(t, err, "the genuine patient's bookings")
	if len(bs) != 1 || bs[0].ID != r.genuineEntry || bs[0].SessionID != r.tiny.ID || bs[0].Status != booking.StatusConfirmed {
		t.Errorf("the genuine patient's bookings are %+v, want tiny's slot confirmed as booking %s", bs, r.genuineEntry)
	}
	if n := s.count(`SELECT count(*) FROM waitlist WHERE id = $1 AND status = 'served'`, r.genuineEntry); n != 1 {
		t.Errorf("the genuine patient's waitlist entry is not served")
	}
	if n := s.count(`SELECT count(*) FROM bookings WHERE session_id = $1 AND status IN ('confirmed', 'checked_in')`, r.tiny.ID); n != 1 {
		t.Errorf("tiny has %d active bookings, want the genuine patient's only", n)
	}
	admin, err := s.svc.Login(ctx, adminPhone, password, booking.Origin{})
	testenv.Must(t, err, "admin login")
	adminActor, err := s.svc.Authenticate([]byte(admin.Token))
	testenv.Must(t, err, "admin token")
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action = 'flag_confirm' AND target = $1 AND actor_id = $2 AND reason = $3`,
		"flag:"+r.scalperFlag.ID, adminActor.AccountID, note); n != 1 {
		t.Errorf("got %d flag_confirm audit rows by the admin with the note, want 1", n)
	}
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action = 'flag_dismiss' AND target = $1`, "flag:"+r.familyFlag.ID); n != 1 {
		t.Errorf("got %d flag_dismiss audit rows, want 1", n)
	}
	for status, id := range map[string]string{booking.FlagConfirmed: r.scalperFlag.ID, booking.FlagDismissed: r.familyFlag.ID} {
		fs, err := s.svc.Flags(ctx, adminActor, status)
		testenv.Must(t, err, "flags %s", status)
		// Step 7's flag, dismissed by two administrators, is not this one.
		fs = slices.DeleteFunc(fs, func(f booking.Flag) bool { return f.ID == "flg_handoff25" })
		if len(fs) != 1 || fs[0].ID != id || fs[0].DecidedBy != adminActor.AccountID {
			t.Errorf("the %s flags are %+v, want %s decided by the admin", status, fs, id)
		}
	}
	// The family, dismissed, goes on as before.
	if _, err := s.svc.Login(ctx, r.familyPhone, r.password, booking.Origin{}); err != nil {
		t.Errorf("the family cannot log in: %v", err)
	}
	if st := s.status(r.familyBooking); st != string(booking.StatusConfirmed) {
		t.Errorf("the family's booking is %s, want confirmed", st)
	}
	problems, err := s.svc.Check(ctx)
	testenv.Must(t, err, "check")
	if len(problems) > 0 {
		t.Errorf("Redis and SQL disagree:\n%v", problems)
	}
	for _, v := range clear[:4] {
		if strings.Contains(s.logs.String(), v) {
			t.Errorf("the log shows %q in clear", v)
		}
	}
}

func hasEvent(events []booking.Event, typ booking.EventType, account, identity string) bool {
	for _, e := range events {
		if e.Type == typ && e.AccountID == account && e.IdentityID == identity {
			return true
		}
	}
	return false
}

// count checks how many elements match sel.
func (b *tab) count(sel string, want int) {
	b.t.Helper()
	n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int]("document.querySelectorAll("+jsString(sel)+").length"))
	if err != nil {
		b.t.Fatalf("count %s: %v", sel, err)
	}
	if n != want {
		b.t.Errorf("the page has %d elements matching %s, want %d", n, sel, want)
	}
}
