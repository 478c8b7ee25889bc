package web

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// ring is the scene of the admin console's tests, made through the patient
// console like any other bookings:
//
//   - a scalper account with two persons (patient cards) on its list: x
//     holds the only online slot of tiny (a session the day after tomorrow,
//     now sold out) and a slot of tomorrow's open session, y another slot
//     of open;
//   - a genuine patient on tiny's waitlist;
//   - a family account whose one person booked open too, which the
//     detector flags with a lower score (a false alarm, to dismiss);
//   - the flags the fake detector finds for the two groups, by account and
//     identity ids, as internal/detect would.
type ring struct {
	password string

	tiny            booking.Session
	scalper         *client
	scalperPhone    string
	scalperAccount  string
	x, y            booking.Patient
	xNumber, xName  string
	yNumber, yName  string
	scalperBookings []string // x's of tiny, x's of open, y's of open

	genuine      *client
	genuineActor booking.Actor
	genuineEntry string // the waitlist entry; its booking takes this id
	gNumber      string
	gName        string

	family        *client
	familyPhone   string
	familyAccount string
	familyBooking string

	scalperFlag, familyFlag booking.Flag
}

func newRing(t *testing.T, s *site) *ring {
	t.Helper()
	r := &ring{password: "correct horse battery", tiny: s.addTiny(),
		xNumber: residentID(5001), xName: "牛大力", yNumber: residentID(5002), yName: "牛二力",
		gNumber: residentID(5003), gName: "白雪", familyPhone: newPhone(), scalperPhone: newPhone()}

	r.scalper = s.client()
	r.scalper.signUp(r.scalperPhone, r.password)
	r.scalperAccount = accountOf(t, s, r.scalper)
	if a := r.scalper.addFamily(r.xNumber, r.xName, "", true); a.status != 303 {
		t.Fatalf("add x: %d\n%s", a.status, a.body)
	}
	if a := r.scalper.addFamily(r.yNumber, r.yName, "", false); a.status != 303 {
		t.Fatalf("add y: %d\n%s", a.status, a.body)
	}
	ps, err := s.svc.Patients(t.Context(), booking.Actor{AccountID: r.scalperAccount, Role: booking.RolePatient})
	if err != nil || len(ps) != 2 {
		t.Fatalf("the scalper's patients: %v, %v; want two", ps, err)
	}
	r.x, r.y = ps[0], ps[1]
	if !r.x.IsSelf {
		r.x, r.y = r.y, r.x
	}
	r.scalperBookings = []string{
		r.scalper.book(r.tiny.ID, r.x.ID),
		r.scalper.book(s.open.ID, r.x.ID),
		r.scalper.book(s.open.ID, r.y.ID),
	}

	r.genuine = s.client()
	r.genuine.signUp(newPhone(), r.password)
	r.genuineActor = booking.Actor{AccountID: accountOf(t, s, r.genuine), Role: booking.RolePatient}
	if a := r.genuine.addFamily(r.gNumber, r.gName, "", true); a.status != 303 {
		t.Fatalf("add the genuine patient: %d\n%s", a.status, a.body)
	}
	gs, err := s.svc.Patients(t.Context(), r.genuineActor)
	testenv.Must(t, err, "the genuine patient's list")
	a := r.genuine.post("/patient/waitlist", url.Values{"csrf": {r.genuine.csrf("/patient/sessions")},
		"session_id": {r.tiny.ID}, "patient_id": {gs[0].ID}, "idem": {booking.NewID()}})
	if a.status != 303 {
		t.Fatalf("join tiny's waitlist: %d\n%s", a.status, a.body)
	}
	r.genuineEntry = mustQuery(t, a.location, "id")

	r.family = s.client()
	r.family.signUp(r.familyPhone, r.password)
	r.familyAccount = accountOf(t, s, r.family)
	if a := r.family.addFamily(residentID(5004), "何家乐", "", true); a.status != 303 {
		t.Fatalf("add the family's person: %d\n%s", a.status, a.body)
	}
	fs, err := s.svc.Patients(t.Context(), booking.Actor{AccountID: r.familyAccount, Role: booking.RolePatient})
	testenv.Must(t, err, "the family's list")
	r.familyBooking = r.family.book(s.open.ID, fs[0].ID)

	r.scalperFlag = booking.Flag{ID: booking.NameID("flag", r.scalperAccount), Score: 0.93, Threshold: 0.9,
		Explanation:   "Score 0.93, flagged at 0.90 or more: scale 0.45 + automation 0.48.",
		ExplanationZH: "评分 0.93（达到 0.90 即提示）：规模 0.45 + 自动化 0.48。",
		Reasons: []booking.FlagReason{
			{Signal: "identities_per_account", Kind: "scale", Points: 0.45,
				Detail: "1 account books for 2 persons; 3 bookings in 2 sessions within 5 minutes", DetailZH: "一个账号为 2 人预约；5 分钟内在 2 个出诊预约 3 次"},
			{Signal: "scarce_expert", Kind: "scale", Detail: "1 of 1 online slots of a sold-out session (王芳), 1 person waiting for it"},
			{Signal: "reaction_time", Kind: "automation", Points: 0.48, Detail: "median 0.41 s from page load to booking; p99 of manual booking 2.30 s"},
		},
		AccountIDs: []string{r.scalperAccount}, PatientIDs: []string{r.x.IdentityID, r.y.IdentityID}}
	r.familyFlag = booking.Flag{ID: booking.NameID("flag", r.familyAccount), Score: 0.41,
		Reasons:    []booking.FlagReason{{Signal: "shared_ip", Detail: "2 accounts booked from 1 IP (127.0.0.1) within 10 minutes"}},
		AccountIDs: []string{r.familyAccount}, PatientIDs: []string{fs[0].IdentityID}}
	s.detector.Returns(r.scalperFlag, r.familyFlag)
	return r
}

// book books a session for one of the client's patients through the patient
// console and returns the booking's id.
func (c *client) book(sessionID, patientID string) string {
	c.t.Helper()
	a := c.post("/patient/bookings", url.Values{"csrf": {c.csrf("/patient/sessions")}, "session_id": {sessionID},
		"patient_id": {patientID}, "idem": {booking.NewID()}})
	if a.status != 303 {
		c.t.Fatalf("book %s for %s: %d\n%s", sessionID, patientID, a.status, a.body)
	}
	return mustQuery(c.t, a.location, "id")
}

// adminClient is an administrator signed in on the admin console, with
// their account id.
func adminClient(t *testing.T, s *site) (*client, string) {
	t.Helper()
	password := "admin password 1"
	c := s.client()
	c.adminLogin(s.newAdmin(password), password)
	return c, accountOf(t, s, c)
}

func (s *site) flagStatus(id string) string {
	s.t.Helper()
	var st string
	testenv.Must(s.t, s.db.Pool().QueryRow(s.t.Context(), `SELECT status FROM flags WHERE id = $1`, id).Scan(&st), "read flag %s", id)
	return st
}

// TestAdminIsForAdminsOnly: a patient's, a clerk's and an operator's
// session get the wrong-console page on every admin page and form, none of
// them can sign in there, and nothing changes; without a session the
// console asks to log in.
func TestAdminIsForAdminsOnly(t *testing.T) {
	s := newSite(t)
	r := newRing(t, s)
	if _, err := s.svc.Detect(t.Context()); err != nil {
		t.Fatalf("detect: %v", err)
	}
	runs := s.detector.Runs()

	operatorPhone, password := newPhone(), "operator password"
	if _, err := s.svc.CreateStaff(t.Context(), booking.StaffRequest{Phone: operatorPhone, Password: password, Role: booking.RoleOperator, HospitalID: s.hospital.ID}); err != nil {
		t.Fatalf("create operator: %v", err)
	}
	tok, err := s.svc.Login(t.Context(), operatorPhone, password, booking.Origin{})
	testenv.Must(t, err, "operator login")
	operator := s.client()
	u, _ := url.Parse(s.base)
	operator.http.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: tok.Token, Path: "/"}})

	flagPath := "/admin/flags/" + r.scalperFlag.ID
	for _, tc := range []struct {
		name string
		c    *client
		role string
		home string
	}{{"patient", r.genuine, "patient", "/patient"}, {"clerk", deskClerk(s), "clerk", "/desk"}, {"operator", operator, "operator", "/phone"}} {
		t.Run(tc.name, func(t *testing.T) {
			csrf := tc.c.csrf("/admin/login") // the login page is public
			for _, path := range []string{"/admin", "/admin?status=confirmed", "/admin?status=dismissed", flagPath, "/admin/audit", "/admin/audit?days=90"} {
				a := tc.c.get(path)
				if a.status != 403 || !strings.Contains(a.body, "wrong_console") || !strings.Contains(a.body, "a "+tc.role+" account, whose console is "+tc.home) {
					t.Errorf("GET %s: %d, want 403 wrong_console\n%.400s", path, a.status, a.body)
				}
				if strings.Contains(a.body, r.scalperAccount) || strings.Contains(a.body, "identities_per_account") {
					t.Errorf("GET %s shows the flag to a %s", path, tc.role)
				}
			}
			for path, form := range map[string]url.Values{
				"/admin/detect":           {},
				flagPath + "/decision":    {"action": {"confirm"}, "note": {"looks like a ring"}},
				"/admin/flags/x/decision": {"action": {"dismiss"}, "note": {"family"}},
			} {
				form.Set("csrf", csrf)
				if a := tc.c.post(path, form); a.status != 403 || !strings.Contains(a.body, "wrong_console") {
					t.Errorf("POST %s: %d, want 403 wrong_console\n%.400s", path, a.status, a.body)
				}
			}
		})
	}

	t.Run("nothing changed", func(t *testing.T) {
		if st := s.flagStatus(r.scalperFlag.ID); st != booking.FlagOpen {
			t.Errorf("the flag is %s, want still open", st)
		}
		if n := s.count(`SELECT count(*) FROM audit_log WHERE action LIKE 'flag_%'`); n != 0 {
			t.Errorf("got %d flag decisions in the audit log, want none", n)
		}
		if n := s.count(`SELECT count(*) FROM bookings WHERE status = 'confirmed'`); n != 4 {
			t.Errorf("got %d confirmed bookings, want the ring's 4", n)
		}
		if got := s.detector.Runs(); got != runs {
			t.Errorf("the detector ran %d times, want %d: a refused POST ran detection", got, runs)
		}
	})

	t.Run("log in as a non-admin", func(t *testing.T) {
		clerkPhone := s.newClerk(password)
		for _, phone := range []string{r.scalperPhone, clerkPhone, operatorPhone} {
			pw := password
			if phone == r.scalperPhone {
				pw = r.password
			}
			c := s.client()
			a := c.post("/admin/login", url.Values{"csrf": {c.csrf("/admin/login")}, "phone": {phone}, "password": {pw}})
			if a.status != 403 || !strings.Contains(a.body, "wrong_console") {
				t.Errorf("log in as %s: %d, want 403 wrong_console\n%.400s", phone, a.status, a.body)
			}
			if ck := cookie(a.cookies, sessionCookie); ck != nil && ck.Value != "" {
				t.Errorf("got a session cookie for a non-admin on the admin console, want none")
			}
		}
	})

	t.Run("no session", func(t *testing.T) {
		c := s.client()
		for _, path := range []string{"/admin", flagPath, "/admin/audit"} {
			if a := c.get(path); a.status != 303 || a.location != "/admin/login" {
				t.Errorf("GET %s: %d → %q, want 303 → /admin/login", path, a.status, a.location)
			}
		}
	})

	t.Run("admin elsewhere", func(t *testing.T) {
		c, _ := adminClient(t, s)
		for _, path := range []string{"/desk", "/patient/bookings"} {
			if a := c.get(path); a.status != 403 || !strings.Contains(a.body, "wrong_console") {
				t.Errorf("GET %s as an admin: %d, want 403 wrong_console", path, a.status)
			}
		}
	})
}

// TestAdminPostWithoutCSRFIsRefused: a decision or a detection run without
// its token, with a forged one or with another admin's is refused with 403
// before anything changes.
func TestAdminPostWithoutCSRFIsRefused(t *testing.T) {
	s := newSite(t)
	r := newRing(t, s)
	if _, err := s.svc.Detect(t.Context()); err != nil {
		t.Fatalf("detect: %v", err)
	}
	runs := s.detector.Runs()
	admin, _ := adminClient(t, s)
	other, _ := adminClient(t, s)
	otherToken := other.csrf("/admin")

	forms := map[string]url.Values{
		"/admin/flags/" + r.scalperFlag.ID + "/decision": {"action": {"confirm"}, "note": {"a ring of two cards"}},
		"/admin/flags/" + r.familyFlag.ID + "/decision":  {"action": {"dismiss"}, "note": {"a family"}},
		"/admin/detect": {},
		"/admin/logout": {},
	}
	for _, tc := range []struct{ name, token string }{{"missing", ""}, {"forged", "bm90LWEtdG9rZW4"}, {"another admin's", otherToken}} {
		t.Run(tc.name, func(t *testing.T) {
			for path, form := range forms {
				f := url.Values{}
				for k, v := range form {
					f[k] = v
				}
				if tc.token != "" {
					f.Set("csrf", tc.token)
				}
				a := admin.post(path, f)
				if a.status != 403 || !strings.Contains(a.body, "csrf_failed") {
					t.Errorf("POST %s: %d, want 403 csrf_failed\n%.300s", path, a.status, a.body)
				}
			}
		})
	}
	t.Run("from another site", func(t *testing.T) {
		f := url.Values{"csrf": {admin.csrf("/admin")}, "action": {"confirm"}, "note": {"a ring of two cards"}}
		a := admin.post("/admin/flags/"+r.scalperFlag.ID+"/decision", f, "Origin", "http://evil.example")
		if a.status != 403 || !strings.Contains(a.body, "foreign_origin") {
			t.Errorf("got %d, want 403 foreign_origin", a.status)
		}
	})

	for _, id := range []string{r.scalperFlag.ID, r.familyFlag.ID} {
		if st := s.flagStatus(id); st != booking.FlagOpen {
			t.Errorf("flag %s is %s, want still open", id, st)
		}
	}
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action LIKE 'flag_%'`); n != 0 {
		t.Errorf("got %d flag decisions in the audit log, want none", n)
	}
	if n := s.count(`SELECT count(*) FROM accounts WHERE blocked`); n != 0 {
		t.Errorf("got %d blocked accounts, want none", n)
	}
	if n := s.count(`SELECT count(*) FROM bookings WHERE status = 'confirmed'`); n != 4 {
		t.Errorf("got %d confirmed bookings, want the ring's 4", n)
	}
	if got := s.detector.Runs(); got != runs {
		t.Errorf("the detector ran %d times, want %d", got, runs)
	}
	if a := admin.get("/admin"); a.status != 200 {
		t.Errorf("the admin is logged out after a refused logout: GET /admin is %d", a.status)
	}
}

// TestAdminDecisionNeedsANote: a decision without a note (or with a blank
// one) shows the error on the flag's page, with its form marked, and
// changes nothing; an unknown action or flag is refused too.
func TestAdminDecisionNeedsANote(t *testing.T) {
	s := newSite(t)
	r := newRing(t, s)
	admin, _ := adminClient(t, s)
	if a := admin.post("/admin/detect", url.Values{"csrf": {admin.csrf("/admin")}}); a.status != 303 || a.location != "/admin?n=2&ok=detected" {
		t.Fatalf("detect: %d → %q, want 303 → /admin?n=2&ok=detected\n%s", a.status, a.location, a.body)
	}
	path := "/admin/flags/" + r.scalperFlag.ID + "/decision"

	for _, tc := range []struct {
		name   string
		form   url.Values
		status int
		want   []string
	}{
		{"no note", url.Values{"action": {"confirm"}}, 400,
			[]string{"invalid_field", "write a note", `id="confirm-form"`, `decision confirm failed`, "identities_per_account"}},
		{"blank note", url.Values{"action": {"dismiss"}, "note": {"   "}}, 400,
			[]string{"invalid_field", "write a note", `decision dismiss failed`}},
		{"one letter", url.Values{"action": {"confirm"}, "note": {"x"}}, 400,
			[]string{"invalid_field", `decision confirm failed`, ">x</textarea>"}},
		{"too long", url.Values{"action": {"confirm"}, "note": {strings.Repeat("长", maxNote+1)}}, 400,
			[]string{"invalid_field", "at most 500 characters"}},
		{"unknown action", url.Values{"action": {"ban"}, "note": {"ban them"}}, 400,
			[]string{"invalid_field", "choose confirm or dismiss"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.form.Set("csrf", admin.csrf("/admin"))
			a := admin.post(path, tc.form)
			if a.status != tc.status {
				t.Errorf("got %d, want %d\n%.400s", a.status, tc.status, a.body)
			}
			for _, w := range tc.want {
				if !strings.Contains(a.body, w) {
					t.Errorf("the page lacks %q", w)
				}
			}
		})
	}
	t.Run("unknown flag", func(t *testing.T) {
		a := admin.post("/admin/flags/no-such-flag/decision", url.Values{"csrf": {admin.csrf("/admin")}, "action": {"confirm"}, "note": {"a ring"}})
		if a.status != 404 || !strings.Contains(a.body, "flag_not_found") || !strings.Contains(a.body, "找不到该线索") {
			t.Errorf("got %d, want 404 flag_not_found\n%.400s", a.status, a.body)
		}
		if a := admin.get("/admin/flags/no-such-flag"); a.status != 404 || !strings.Contains(a.body, "flag_not_found") {
			t.Errorf("GET an unknown flag: %d, want 404 flag_not_found", a.status)
		}
	})

	if st := s.flagStatus(r.scalperFlag.ID); st != booking.FlagOpen {
		t.Errorf("the flag is %s, want still open", st)
	}
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action LIKE 'flag_%'`); n != 0 {
		t.Errorf("got %d flag decisions in the audit log, want none", n)
	}
	if n := s.count(`SELECT count(*) FROM bookings WHERE status = 'confirmed' AND account_id = $1`, r.scalperAccount); n != 3 {
		t.Errorf("the scalper has %d confirmed bookings, want still 3", n)
	}
	if _, err := s.svc.Login(t.Context(), r.scalperPhone, r.password, booking.Origin{}); err != nil {
		t.Errorf("the scalper cannot log in after refused decisions: %v", err)
	}
}

// TestAdminAuditListsTheDecision: a decision redirects to the flag's page,
// which shows it; a second click of the same form lands there too; the
// other decision is refused; the audit page lists the decision with who,
// role, action, target and note, and filters by target and period.
func TestAdminAuditListsTheDecision(t *testing.T) {
	s := newSite(t)
	r := newRing(t, s)
	if _, err := s.svc.Detect(t.Context()); err != nil {
		t.Fatalf("detect: %v", err)
	}
	admin, adminID := adminClient(t, s)
	path := "/admin/flags/" + r.familyFlag.ID
	note := "一家人，同一个路由器 A family behind one router"

	form := url.Values{"csrf": {admin.csrf(path)}, "action": {"dismiss"}, "note": {note}, "reason_code": {"family"}}
	a := admin.post(path+"/decision", form)
	if a.status != 303 || a.location != path+"?ok=dismissed" {
		t.Fatalf("dismiss: %d → %q, want 303 → %s?ok=dismissed\n%s", a.status, a.location, path, a.body)
	}
	if again := admin.post(path+"/decision", form); again.status != 303 || again.location != a.location {
		t.Errorf("the same dismissal again: %d → %q, want 303 → %s", again.status, again.location, a.location)
	}
	page := admin.get(a.location)
	for _, w := range []string{"Flag dismissed", `id="outcome"`, "已排除 Dismissed", note, "你 You"} {
		if !strings.Contains(page.body, w) {
			t.Errorf("the flag's page after dismissing lacks %q", w)
		}
	}
	if strings.Contains(page.body, `id="confirm-form"`) {
		t.Errorf("the flag's page still offers a decision")
	}
	confirm := admin.post(path+"/decision", url.Values{"csrf": {admin.csrf(path)}, "action": {"confirm"}, "note": {"on second thought"}})
	if confirm.status != 409 || !strings.Contains(confirm.body, "flag_decided") {
		t.Errorf("confirming a dismissed flag: %d, want 409 flag_decided\n%.400s", confirm.status, confirm.body)
	}

	audit := admin.get("/admin/audit")
	if audit.status != 200 {
		t.Fatalf("GET /admin/audit: %d\n%s", audit.status, audit.body)
	}
	for _, w := range []string{"flag_dismiss", "排除线索 Flag dismissed", "管理员 Admin", note, "flag:" + shortID(r.familyFlag.ID),
		`href="/admin/flags/` + r.familyFlag.ID + `"`, `title="` + adminID + `"`, "staff_added", "命令行 CLI"} {
		if !strings.Contains(audit.body, w) {
			t.Errorf("the audit page lacks %q", w)
		}
	}
	if n := strings.Count(audit.body, "a-flag_dismiss"); n != 1 {
		t.Errorf("the audit page lists %d dismissals, want 1", n)
	}
	only := admin.get("/admin/audit?target=" + url.QueryEscape("flag:"+r.familyFlag.ID))
	if !strings.Contains(only.body, note) || strings.Contains(only.body, "a-staff_added") || !strings.Contains(only.body, `id="clear-target"`) {
		t.Errorf("the audit page of the flag alone: want the dismissal only, with a way back to all\n%.600s", only.body)
	}
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action = 'flag_dismiss' AND target = $1 AND actor_id = $2 AND actor_role = 'admin' AND reason = $3`,
		"flag:"+r.familyFlag.ID, adminID, "(family) "+note); n != 1 {
		t.Errorf("got %d flag_dismiss audit rows with the reason code and the note, want 1", n)
	}

	// The dismissed tab has it; the open one no longer does.
	if d := admin.get("/admin?status=dismissed"); !strings.Contains(d.body, `id="f-`+r.familyFlag.ID+`"`) {
		t.Errorf("the dismissed tab lacks the flag")
	}
	if o := admin.get("/admin"); strings.Contains(o.body, `id="f-`+r.familyFlag.ID+`"`) || !strings.Contains(o.body, `id="f-`+r.scalperFlag.ID+`"`) {
		t.Errorf("the open tab: want the scalper's flag only")
	}
	// A confirmation sent twice (a double click) lands on the flag's page
	// both times and is audited once.
	spath := "/admin/flags/" + r.scalperFlag.ID
	cform := url.Values{"csrf": {admin.csrf(spath)}, "action": {"confirm"}, "note": {"two cards, one account"}}
	for i := range 2 {
		if a := admin.post(spath+"/decision", cform); a.status != 303 || a.location != spath+"?ok=confirmed" {
			t.Errorf("confirm, try %d: %d → %q, want 303 → %s?ok=confirmed\n%.400s", i+1, a.status, a.location, spath, a.body)
		}
	}
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action = 'flag_confirm' AND target = $1`, "flag:"+r.scalperFlag.ID); n != 1 {
		t.Errorf("got %d flag_confirm audit rows, want 1", n)
	}
	// The second click confirms again (finishing anything a first attempt
	// cut short): audited as such, not as a second decision.
	if page := admin.get("/admin/audit"); !strings.Contains(page.body, "two cards, one account") ||
		strings.Count(page.body, `class="a-flag_confirm"`)+strings.Count(page.body, `class="a-flag_confirm mine"`) != 1 ||
		!strings.Contains(page.body, "a-flag_confirm_again") {
		t.Errorf("the audit page does not list the confirmation once and the repeat as a repeat")
	}

	// Dismissed, the family books and logs in as before.
	if _, err := s.svc.Login(t.Context(), r.familyPhone, r.password, booking.Origin{}); err != nil {
		t.Errorf("the family cannot log in after a dismissal: %v", err)
	}
	if st := s.status(r.familyBooking); st != string(booking.StatusConfirmed) {
		t.Errorf("the family's booking is %s, want confirmed", st)
	}
}

// TestAdminFlagExplains: the flag's page says, in Chinese and English, the
// score's threshold, how the score was made up, and each reason with its
// kind of evidence and the points it adds.
func TestAdminFlagExplains(t *testing.T) {
	s := newSite(t)
	r := newRing(t, s)
	admin, _ := adminClient(t, s)
	if a := admin.post("/admin/detect", url.Values{"csrf": {admin.csrf("/admin")}}); a.status != 303 {
		t.Fatalf("detect: %d\n%s", a.status, a.body)
	}
	a := admin.get("/admin/flags/" + r.scalperFlag.ID)
	if a.status != 200 {
		t.Fatalf("flag page: %d\n%s", a.status, a.body)
	}
	for _, want := range []string{
		`id="threshold">0.90<`, "达到 <strong id=\"threshold\">0.90</strong> 即提示审核",
		"评分 0.93（达到 0.90 即提示）：规模 0.45 &#43; 自动化 0.48。", "Score 0.93, flagged at 0.90 or more",
		"一个账号为 2 人预约；5 分钟内在 2 个出诊预约 3 次", "1 account books for 2 persons",
		"规模超出家庭 Scale <b>&#43;0.45</b>", "自动化操作 Automation <b>&#43;0.48</b>", `class="supporting"`,
	} {
		if !strings.Contains(a.body, want) {
			t.Errorf("the flag page lacks %q", want)
		}
	}
}

// TestAdminAuditPagesOlder: the audit page shows 1,000 entries, newest
// first; a full page links to the older ones (the API's `before`), which
// reach the oldest entry, and a later page links back to the newest.
func TestAdminAuditPagesOlder(t *testing.T) {
	s := newSite(t)
	admin, _ := adminClient(t, s)
	now := time.Now().Truncate(time.Second)
	if _, err := s.db.Pool().Exec(t.Context(), `INSERT INTO audit_log (id, ts, actor_role, action, target)
		SELECT gen_random_uuid(), $1::TIMESTAMPTZ - (g / 400) * INTERVAL '1 second', 'cli', 'test_row', 'row:' || g
		  FROM generate_series(1, 1200) g`, now.Add(-time.Hour)); err != nil {
		t.Fatalf("insert audit rows: %v", err)
	}
	first := admin.get("/admin/audit")
	if first.status != 200 || strings.Contains(first.body, `id="newest"`) {
		t.Fatalf("GET /admin/audit: %d, want 200 and no link to the newest", first.status)
	}
	m := regexp.MustCompile(`href="([^"]+)" id="older"`).FindStringSubmatch(first.body)
	if m == nil {
		t.Fatalf("the full first page has no link to older entries")
	}
	older := admin.get(html.UnescapeString(m[1]))
	if older.status != 200 || !strings.Contains(older.body, `id="newest"`) || strings.Contains(older.body, `id="older"`) {
		t.Fatalf("GET %s: %d, want 200 with a link to the newest and none further", m[1], older.status)
	}
	if n := strings.Count(first.body, "a-test_row") + strings.Count(older.body, "a-test_row"); n != 1200 {
		t.Errorf("test rows on the two pages = %d, want 1200, each once", n)
	}
	if !strings.Contains(older.body, ">row:1200</code>") || strings.Contains(first.body, ">row:1200</code>") {
		t.Errorf("the oldest entry (row:1200) is not on the older page alone")
	}
}

// A hospital's own administrator signs in on the admin console too, but
// scalper flags span hospitals and are a platform-wide administrator's: the
// console starts them at their hospital's schedule, and its tabs do not
// offer the flags. A platform-wide administrator still starts at the flags.
func TestHospitalAdminStartsAtTheSchedule(t *testing.T) {
	s := newSite(t)
	const password = "admin password 1"
	const flagsTab = `<a href="/admin"`
	for _, tc := range []struct {
		name, phone, home string
		flags             bool
	}{
		{"hospital administrator", s.newHospitalAdmin(password), "/admin/schedule", false},
		{"platform-wide administrator", s.newAdmin(password), "/admin", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := s.client()
			c.adminLogin(tc.phone, password)
			a := c.get("/admin")
			if tc.home != "/admin" {
				if a.status != 303 || a.location != tc.home {
					t.Fatalf("GET /admin: %d → %q, want 303 → %s\n%.400s", a.status, a.location, tc.home, a.body)
				}
				a = c.get(tc.home)
			}
			if a.status != 200 {
				t.Fatalf("GET %s: %d, want 200\n%.400s", tc.home, a.status, a.body)
			}
			if got := strings.Contains(a.body, flagsTab); got != tc.flags {
				t.Errorf("%s shows the flags tab: %v, want %v", tc.home, got, tc.flags)
			}
			if !strings.Contains(a.body, `<a href="/admin/schedule"`) {
				t.Errorf("%s has no schedule tab", tc.home)
			}
		})
	}
}

// Every admin page a hospital's administrator opens shows their hospital
// alone: an administrator of another hospital sees none of this one's
// doctors, sessions or lottery pools on any tab (the lottery list showed
// every hospital's pools, each detail link answering 403).
func TestAdminPagesShowAForeignAdminNothingOfThisHospital(t *testing.T) {
	s := newSite(t)
	lot := s.addLottery()
	other := booking.Hospital{ID: booking.NewID(), Name: "滨江医院 Binjiang " + testenv.Token(), TimeZone: "Asia/Shanghai", Policy: booking.DefaultPolicy}
	testenv.Must(t, s.svc.SaveSchedule(t.Context(), booking.Schedule{Hospitals: []booking.Hospital{other}}), "save another hospital")
	const password = "admin password 1"
	phone := newPhone()
	_, err := s.svc.CreateStaff(t.Context(), booking.StaffRequest{Phone: phone, Password: password, Role: booking.RoleAdmin, HospitalID: other.ID})
	testenv.Must(t, err, "create the other hospital's administrator")
	c := s.client()
	c.adminLogin(phone, password)
	foreign := []string{s.hospital.Name, lot.ID, s.open.ID, s.closed.ID}
	for _, d := range s.doctors {
		foreign = append(foreign, d.Name)
	}
	for _, path := range []string{"/admin/schedule", "/admin/doctors", "/admin/templates", "/admin/policy", "/admin/lottery",
		"/admin/audit", "/admin/cases"} {
		t.Run(path, func(t *testing.T) {
			a := c.get(path)
			if a.status != 200 {
				t.Fatalf("GET %s: %d, want 200\n%.400s", path, a.status, a.body)
			}
			for _, f := range foreign {
				if strings.Contains(a.body, f) {
					t.Errorf("%s shows the other hospital's administrator %q of this hospital", path, f)
				}
			}
		})
	}
}
