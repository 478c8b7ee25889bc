package web

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// chromiumPath is Debian's Chromium, which `make test` installs.
const chromiumPath = "/usr/bin/chromium"

// TestPatientJourneyInBrowser drives headless Chromium through the patient
// console over a real Service: create an account, log out and in, add a
// family member, find a session, book it, see it, cancel it. It checks the
// DOM at each step, SQL and the Service at the end, and saves a screenshot
// of each main step (FAIRSLOT_SCREENSHOTS, default docs/screenshots/tmp/).
func TestPatientJourneyInBrowser(t *testing.T) {
	s := newSite(t)
	b := newBrowser(t, s.base, 2*time.Minute)
	phone, password := newPhone(), "correct horse battery"
	idNumber, name, patientPhone := residentID(2024), "王小明", "13812345678"

	// 1. The landing page links to the patient console, which asks to log in.
	b.open("/")
	b.contains("#console-patient", "Patient")
	b.shot("01-landing")
	b.click("#console-patient", "/patient/login")

	// 2. Create an account: it logs in and asks for family members.
	b.click("#register-link", "/patient/register")
	b.fill("#register-form input[name=phone]", phone)
	b.fill("#register-form input[name=password]", password)
	b.fill("#register-form input[name=password2]", password)
	b.shot("02-register")
	b.agree("#register-form")
	b.click("#register-form button[type=submit]", "/patient/family?ok=welcome")
	b.contains("#flash", "Your account is ready")

	// 3. Log out, then log in again.
	b.click("#logout", "/patient/login?m=loggedout")
	b.contains("#flash", "logged out")
	b.fill("#login-form input[name=phone]", phone)
	b.fill("#login-form input[name=password]", password)
	b.shot("03-login")
	b.click("#login-form button[type=submit]", "/patient")
	b.contains("main h1", "Welcome")

	// 4. Add a family member: shown masked only.
	b.click(`nav a[href="/patient/family"]`, "/patient/family")
	b.fill("#family-form input[name=id_number]", idNumber)
	b.fill("#family-form input[name=name]", name)
	b.fill("#family-form input[name=phone]", patientPhone)
	b.do("tick self", chromedp.Click(chromedp.CSS("#family-form input[name=self]")))
	b.agree("#family-form")
	b.click("#family-form button[type=submit]", "/patient/family?ok=added")
	b.contains("#flash", "Family member added")
	b.contains("#family", "王*明")
	b.contains("#family", "110***********"+idNumber[14:])
	b.contains("#family", "138****5678")
	b.shot("04-family")
	b.hidden(idNumber, name, patientPhone)

	// 5. Find a session: hospital (the only one, chosen already) →
	// department → date.
	b.click(`nav a[href="/patient/sessions"]`, "/patient/sessions")
	b.contains("#hospitals .chip.on", s.hospital.Name)
	b.clickText("#departments a", "Cardiology", "department="+s.cardiology.ID)
	b.clickText("#dates a", s.tomorrow[5:], "date="+s.tomorrow)
	card := "#s-" + s.open.ID
	b.contains(card, "李明 Li Ming")
	b.contains(card, "上午 Morning")
	b.contains(card+" tr.online", "6 / 6")
	b.contains("#s-"+s.closed.ID, "未放号 Opens")
	b.shot("05-sessions")
	b.phoneShot("05-sessions-phone")

	// 6. Book it for the family member.
	b.confirmBook(card)
	b.contains("#flash", "Booked")
	b.contains("#bookings .booking.hl", "李明 Li Ming")
	b.contains("#bookings .booking.hl .status", "Confirmed")
	b.contains("#bookings .booking.hl .patient", "王*明")
	b.shot("06-booked")

	// The session now shows one online slot fewer.
	b.open("/patient/sessions?hospital=" + s.hospital.ID + "&department=" + s.cardiology.ID + "&date=" + s.tomorrow)
	b.contains(card+" tr.online", "5 / 6")

	// 7. Cancel it.
	b.open("/patient/bookings")
	b.confirmCancel("#bookings .booking")
	b.contains("#flash", "cancelled")
	b.contains("#bookings .booking.hl .status", "Cancelled")
	b.shot("07-cancelled")
	b.hidden(idNumber, name, patientPhone)

	// The booking is in SQL and in the Service's answer, cancelled, with
	// its events from this browser, and Redis agrees with SQL.
	var id, account, status string
	testenv.Must(t, s.db.Pool().QueryRow(t.Context(), `SELECT id::text, account_id::text, status FROM bookings WHERE session_id = $1`,
		s.open.ID).Scan(&id, &account, &status), "read booking")
	if status != string(booking.StatusCancelled) {
		t.Errorf("booking %s is %s in SQL, want cancelled", id, status)
	}
	if n := s.count(`SELECT count(*) FROM bookings`); n != 1 {
		t.Errorf("got %d bookings in SQL, want 1", n)
	}
	got, err := s.svc.Booking(t.Context(), booking.Actor{AccountID: account, Role: booking.RolePatient}, id)
	testenv.Must(t, err, "read booking through the Service")
	if got.Status != booking.StatusCancelled || got.SessionID != s.open.ID || got.Channel != booking.ChannelOnline {
		t.Errorf("Service has booking %s as %s in session %s on %s, want cancelled in %s online", id, got.Status, got.SessionID, got.Channel, s.open.ID)
	}
	if n := s.count(`SELECT count(*) FROM booking_events WHERE booking_id = $1 AND type IN ('booked', 'cancelled') AND device_id LIKE 'web:%'`, id); n != 2 {
		t.Errorf("got %d booked/cancelled events from the web device, want 2", n)
	}
	problems, err := s.svc.Check(t.Context())
	testenv.Must(t, err, "check")
	if len(problems) > 0 {
		t.Errorf("Redis and SQL disagree:\n%v", problems)
	}
}

// newBrowser starts headless Chromium for a test and returns its first
// tab; fresh opens more tabs, each with cookies of its own. Every step of
// the test must finish within limit.
func newBrowser(t *testing.T, base string, limit time.Duration) *tab {
	t.Helper()
	if _, err := exec.LookPath(chromiumPath); err != nil {
		t.Fatalf("Chromium is missing (%v): run the tests with `make test`, which installs Debian's chromium, "+
			"or `apt-get install chromium`", err)
	}
	shots := screenshotDir(t)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-dev-shm-usage", true),
		// Chromium may reach nothing here: no background traffic.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("lang", "zh-CN"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	)
	t.Cleanup(cancelAlloc)
	ctx, cancelTab := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(cancelTab)
	ctx, cancelTime := context.WithTimeout(ctx, limit)
	t.Cleanup(cancelTime)
	return &tab{t: t, ctx: ctx, base: base, shots: shots}
}

// fresh opens a tab in a new browser context of the same Chromium: another
// person at another computer, with no cookies. The first tab must have run
// (the browser is started on its first step).
func (b *tab) fresh() *tab {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	b.t.Cleanup(cancel)
	nb := &tab{t: b.t, ctx: ctx, base: b.base, shots: b.shots}
	nb.do("open a fresh browser context", chromedp.Navigate("about:blank"))
	return nb
}

// screenshotDir is FAIRSLOT_SCREENSHOTS, or docs/screenshots/tmp/ of the
// repository (git ignores it).
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("FAIRSLOT_SCREENSHOTS")
	if dir == "" {
		root, err := filepath.Abs(filepath.Join("..", ".."))
		testenv.Must(t, err, "repository root")
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
			t.Fatalf("no go.mod at %s: set FAIRSLOT_SCREENSHOTS", root)
		}
		dir = filepath.Join(root, "docs", "screenshots", "tmp")
	}
	testenv.Must(t, os.MkdirAll(dir, 0o755), "make screenshot folder")
	return dir
}

// tab is the browser tab a test drives, with steps that fail the test.
type tab struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots string
}

func (b *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

func (b *tab) open(path string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.base+path))
}

// click clicks an element and waits until the tab is at the address the
// click leads to (see arrived) and the new page is loaded.
func (b *tab) click(sel, want string) {
	b.t.Helper()
	b.markStale()
	b.do("click "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)))
	b.waitFor(want)
}

// markStale marks the page in the tab, so waitFor can tell it from the
// page a click leads to, even at the same address (a form that posts to
// its own page).
func (b *tab) markStale() {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`window.fairslotStale = true`)); err != nil {
		b.t.Fatalf("mark the page: %v", err)
	}
}

// clickText clicks the first element matching sel whose text contains text.
func (b *tab) clickText(sel, text, want string) {
	b.t.Helper()
	b.markStale()
	js := fmt.Sprintf(`(() => { for (const e of document.querySelectorAll(%q)) { if (e.textContent.includes(%q)) { e.click(); return true } } return false })()`, sel, text)
	clicked, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](js))
	if err != nil || !clicked {
		b.t.Fatalf("click %s containing %q: %v (found: %v)", sel, text, err, clicked)
	}
	b.waitFor(want)
}

// waitFor waits until the tab shows a new page (not the one marked stale)
// at the address wanted, fully loaded.
func (b *tab) waitFor(want string) {
	b.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		loc, err := chromedp.Run(b.ctx, chromedp.Location())
		if err == nil && arrived(loc, want) {
			// While the page changes the evaluation may fail: try again.
			loaded, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`!window.fairslotStale && document.readyState === "complete"`))
			if err == nil && loaded {
				return
			}
		}
		if b.ctx.Err() != nil {
			// The tab's time (newBrowser's limit) ran out: there is no
			// address nor page to show, and the page did nothing wrong.
			b.t.Fatalf("waiting for an address containing %q: the tab's time ran out (%v): the test ran past newBrowser's limit", want, context.Cause(b.ctx))
		}
		if time.Now().After(deadline) {
			body, _ := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("main")))
			b.t.Fatalf("the tab is at %q, want an address containing %q\n%s", loc, want, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// arrived reports whether the tab's address loc is the one wanted: want
// "/a/b" is exactly that path and query, "/a/b?" any query of it, and
// anything else a part of the address.
func arrived(loc, want string) bool {
	u, err := url.Parse(loc)
	if err != nil {
		return false
	}
	uri := u.RequestURI()
	switch {
	case strings.HasSuffix(want, "?"):
		return strings.HasPrefix(uri, want)
	case strings.HasPrefix(want, "/"):
		return uri == want
	}
	return strings.Contains(uri, want)
}

func (b *tab) fill(sel, value string) {
	b.t.Helper()
	// Cleared first: a refused form shows again what was typed (the phone
	// of a login), and typing would add to it.
	b.do("fill "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(e => (e.value = "", ""))(document.querySelector(`+jsString(sel)+`))`)); err != nil {
		b.t.Fatalf("clear %s: %v", sel, err)
	}
	b.do("fill "+sel, chromedp.SendKeys(chromedp.CSS(sel), value))
}

// contains checks the visible text of the first element matching sel.
func (b *tab) contains(sel, want string) {
	b.t.Helper()
	got, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("read %s: %v", sel, err)
	}
	if !strings.Contains(got, want) {
		b.t.Errorf("%s reads %q, want it to contain %q", sel, got, want)
	}
}

// hidden checks the whole DOM for values that must never be shown.
func (b *tab) hidden(values ...string) {
	b.t.Helper()
	html, err := chromedp.Run(b.ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	if err != nil {
		b.t.Fatalf("read the page: %v", err)
	}
	for _, v := range values {
		if strings.Contains(html, v) {
			b.t.Errorf("the page shows %q in clear", v)
		}
	}
}

func (b *tab) shot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(b.shots, name+".png")
	testenv.Must(b.t, os.WriteFile(path, png, 0o644), "write %s", path)
	b.t.Logf("screenshot: %s", path)
}

// fits checks that the page needs no sideways scrolling at width px, that
// every tab of the navigation is on screen, and that no table runs off it
// (inside a scrolling box or not).
func (b *tab) fits(width int) {
	b.t.Helper()
	got, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if err != nil {
		b.t.Fatalf("measure the page: %v", err)
	}
	if got > width {
		b.t.Errorf("the page is %d px wide at a %d px screen, want it to fit", got, width)
	}
	// The tab bar is one row, every tab wholly on screen: a wrapped bar
	// put tabs on a second row under the first's current tab.
	tabs, err := chromedp.Run(b.ctx, chromedp.Evaluate[[][3]int](`[...document.querySelectorAll("nav.tabs a")].map(e => {
		const r = e.getBoundingClientRect(); return [Math.floor(r.left), Math.ceil(r.right), Math.round(r.top)] })`))
	if err != nil {
		b.t.Fatalf("measure the tabs: %v", err)
	}
	for i, tb := range tabs {
		if tb[0] < 0 || tb[1] > width {
			b.t.Errorf("tab %d spans %d..%d px on a %d px screen, want it wholly on screen", i+1, tb[0], tb[1], width)
		}
		if tb[2] != tabs[0][2] {
			b.t.Errorf("tab %d is at %d px from the top, the first at %d: the tab bar wraps into rows", i+1, tb[2], tabs[0][2])
		}
	}
	for _, what := range []string{"nav.tabs a", "table"} {
		right, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`Math.ceil(Math.max(0, ...[...document.querySelectorAll(`+jsString(what)+`)].map(e => e.getBoundingClientRect().right)))`))
		if err != nil {
			b.t.Fatalf("measure %s: %v", what, err)
		}
		if right > width {
			b.t.Errorf("%s ends at %d px on a %d px screen, want it on screen", what, right, width)
		}
	}
}

// phoneShot takes a screenshot at a phone's width, then goes back to the
// desk's 1280×800.
func (b *tab) phoneShot(name string) {
	b.t.Helper()
	b.do("emulate a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	b.shot(name)
	b.fits(390)
	b.do("emulate the desk", chromedp.EmulateViewport(1280, 800))
}

// confirmBook books from a session card: the Book button opens the
// confirmation step, which states the no-show rules; its button books.
func (b *tab) confirmBook(card string) {
	b.t.Helper()
	b.do("open the booking step", chromedp.Click(chromedp.CSS(card+" form.book details.confirm-step summary")))
	b.contains(card+" form.book .consequence", "no-show")
	b.click(card+" form.book details.confirm-step button[type=submit]", "/patient/bookings?")
}

// confirmCancel cancels from a booking card through its confirmation step,
// which says whether it counts as a no-show.
func (b *tab) confirmCancel(card string) {
	b.t.Helper()
	b.do("open the cancellation step", chromedp.Click(chromedp.CSS(card+" details.cancel-step summary")))
	b.contains(card+" form.cancel .consequence", "no-show")
	b.click(card+" form.cancel button", "/patient/bookings?")
}

// register creates a patient account through the register form, which
// signs in and lands on the family page.
func (b *tab) register(phone, password string) {
	b.t.Helper()
	b.open("/patient/register")
	b.fill("#register-form input[name=phone]", phone)
	b.fill("#register-form input[name=password]", password)
	b.fill("#register-form input[name=password2]", password)
	b.agree("#register-form")
	b.click("#register-form button[type=submit]", "/patient/family?ok=welcome")
}

// deskTab starts a browser signed in at the desk as a new clerk of the
// site's hospital.
func (s *site) deskTab() *tab {
	s.t.Helper()
	d := newBrowser(s.t, s.base, 3*time.Minute)
	d.signIn("desk", s.newClerk("clerk password 1"), "clerk password 1")
	return d
}

// hospitalAdminTab starts a browser signed in at the admin console as a
// new administrator of the site's hospital (who starts at the schedule).
func (s *site) hospitalAdminTab() *tab {
	s.t.Helper()
	b := newBrowser(s.t, s.base, 3*time.Minute)
	b.signInAt("admin", s.newHospitalAdmin("admin password 1"), "admin password 1", "/admin/schedule")
	return b
}

// agree ticks a form's consent to the privacy notice (privacy_consent),
// ticked or not before: every sign-up and added person carries one.
func (b *tab) agree(form string) {
	b.t.Helper()
	b.check(form + " input[name=privacy_consent]")
}

// check ticks a checkbox, ticked or not before.
func (b *tab) check(sel string) {
	b.t.Helper()
	b.do("see "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`(e => e.checked = true)(document.querySelector(`+jsString(sel)+`))`)); err != nil {
		b.t.Fatalf("tick %s: %v", sel, err)
	}
}

// signIn signs a staff member in on a console's login page ("desk",
// "phone", "admin") and lands on the console.
func (b *tab) signIn(console, phone, password string) {
	b.t.Helper()
	b.signInAt(console, phone, password, "/"+console)
}

// signInAt signs in on a console that starts the account at home (a
// hospital's administrator starts at /admin/schedule).
func (b *tab) signInAt(console, phone, password, home string) {
	b.t.Helper()
	b.open("/" + console + "/login")
	b.fill("#login-form input[name=phone]", phone)
	b.fill("#login-form input[name=password]", password)
	b.click("#login-form button[type=submit]", home)
}
