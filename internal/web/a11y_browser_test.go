package web

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// axeSource is axe-core's script, which `make test` (deploy/local/test.sh)
// installs with npm into .data/npm; FAIRSLOT_AXE_JS names another copy.
// Like Chromium, it is required: without it the test fails, never skips.
func axeSource(t *testing.T) string {
	t.Helper()
	path := os.Getenv("FAIRSLOT_AXE_JS")
	if path == "" {
		root, err := filepath.Abs(filepath.Join("..", ".."))
		testenv.Must(t, err, "repository root")
		path = filepath.Join(root, ".data", "npm", "node_modules", "axe-core", "axe.min.js")
	}
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("axe-core is missing (%v): run the tests with `make test`, which installs it, "+
			"or `npm install --prefix .data/npm axe-core` (the version deploy/local/test.sh names)", err)
	}
	return string(src)
}

// axeViolation is one rule axe-core found broken, with where.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target  []any  `json:"target"`
		Summary string `json:"failureSummary"`
	} `json:"nodes"`
}

// axe runs axe-core's WCAG 2.1 A and AA rules on the page in the tab and
// returns the violations.
func (b *tab) axe(src string) []axeViolation {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](src+";true")); err != nil {
		b.t.Fatalf("load axe-core: %v", err)
	}
	js := `axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}, resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations))`
	out, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("run axe-core: %v", err)
	}
	var vs []axeViolation
	testenv.Must(b.t, json.Unmarshal([]byte(out), &vs), "decode axe-core's answer")
	return vs
}

func (v axeViolation) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s (%s): %s", v.ID, v.Impact, v.Help)
	for i, n := range v.Nodes {
		if i == 5 {
			fmt.Fprintf(&sb, "\n    … and %d more", len(v.Nodes)-5)
			break
		}
		fmt.Fprintf(&sb, "\n    %v: %s", n.Target, strings.ReplaceAll(n.Summary, "\n", " / "))
	}
	return sb.String()
}

// axeClean fails the test on each serious or critical violation axe-core
// finds on the page in the tab, and logs the moderate and minor ones.
func (b *tab) axeClean(src, where string) {
	b.t.Helper()
	for _, v := range b.axe(src) {
		if v.Impact == "serious" || v.Impact == "critical" {
			b.t.Errorf("%s: %v", where, v)
		} else {
			b.t.Logf("%s (not failing): %v", where, v)
		}
	}
}

// phone emulates a 390 px phone; largeText also sets the browser's default
// text size to 32 px, twice the usual, as an elderly reader sets it.
func (b *tab) phone(largeText bool) {
	b.t.Helper()
	size := int64(16)
	if largeText {
		size = 32
	}
	b.do("emulate a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, cdppage.SetFontSizes, cdppage.SetFontSizesParams{FontSizes: &cdppage.FontSizes{Standard: size}})
			return err
		}))
}

// a11yJS are the page-side checks: contrast of a colour pair, what
// element is where, and the checks that return a list of problems.
const a11yJS = `(() => {
  const rgba = s => { const m = s.match(/[\d.]+/g) || [0, 0, 0, 0]; return [+m[0], +m[1], +m[2], m.length > 3 ? +m[3] : 1] };
  const over = (c, bg) => [0, 1, 2].map(i => c[i] * c[3] + bg[i] * (1 - c[3])).concat(1);
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4) }; return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]) };
  const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05) };
  const name = e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className && typeof e.className === "string" ? "." + e.className.trim().split(/\s+/).join(".") : "") +
    " «" + (e.textContent || e.name || "").trim().replace(/\s+/g, " ").slice(0, 30) + "»";
  const behind = e => { for (let p = e.parentElement; p; p = p.parentElement) { const c = rgba(getComputedStyle(p).backgroundColor); if (c[3] > 0.99) return c } return [255, 255, 255, 1] };
  const shown = e => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden" && !e.closest(".visually-hidden");
  window.fairslotA11y = {
    // focusRing: what is wrong with the focused element's focus ring: none,
    // or one of less than 3:1 against what is behind it.
    focusRing() {
      const e = document.activeElement;
      if (!e || e === document.body) return "nothing has focus";
      const cs = getComputedStyle(e);
      if (cs.outlineStyle === "auto") return "";
      if (cs.outlineStyle === "none" || parseFloat(cs.outlineWidth) < 2) return name(e) + " shows no focus ring";
      const bg = behind(e), ring = over(rgba(cs.outlineColor), bg), r = ratio(ring, bg);
      return r >= 3 ? "" : name(e) + ": its focus ring " + cs.outlineColor + " on rgb(" + bg.slice(0, 3) + ") is " + r.toFixed(2) + ":1, want 3:1";
    },
    // smallTargets: controls smaller than 44×44 CSS px. A link within a
    // line of text is exempt (WCAG 2.5.8), and a check box counts with its label.
    smallTargets() {
      const out = [];
      for (const e of document.querySelectorAll("a, button, summary, select, input:not([type=hidden]), textarea")) {
        if (!shown(e) || e.classList.contains("skip")) continue;
        if (e.tagName === "A" && getComputedStyle(e).display === "inline") continue;
        const t = e.type === "checkbox" || e.type === "radio" ? e.closest("label") || e : e;
        const r = t.getBoundingClientRect();
        if (r.width < 44 || r.height < 44) out.push(name(t) + " is " + Math.round(r.width) + "×" + Math.round(r.height));
      }
      return out;
    },
    // overflow: elements that run past the right edge of a width px screen,
    // and the page's own width.
    overflow(width) {
      const out = [];
      if (document.documentElement.scrollWidth > width) out.push("the page is " + document.documentElement.scrollWidth + " px wide");
      for (const e of document.querySelectorAll("main *, header *")) {
        if (!shown(e) || e.closest(".skip")) continue;
        const r = e.getBoundingClientRect();
        if (r.right > width + 1 || r.left < -1) out.push(name(e) + " spans " + Math.round(r.left) + ".." + Math.round(r.right));
      }
      return out.slice(0, 5);
    },
    // language: the page's language and the English lines not marked as
    // English (a screen reader reads them with a Chinese voice otherwise).
    language() {
      const out = [];
      if (document.documentElement.lang !== "zh-CN") out.push("the page's lang is " + JSON.stringify(document.documentElement.lang) + ", want zh-CN");
      for (const e of document.querySelectorAll(".en")) if ((e.closest("[lang]") || {}).lang !== "en") out.push(name(e) + " is not marked lang=en");
      return out.slice(0, 5);
    },
    textSize() { return getComputedStyle(document.body).fontSize },
    // liveText: the text of every live region on the page (what a screen
    // reader announces when it changes).
    liveText() {
      return [...document.querySelectorAll("[aria-live]:not([aria-live=off]), [role=status], [role=alert], [role=log]")].map(e => e.textContent).join("|");
    },
  };
  return true;
})()`

// check runs one of a11yJS's checks in the tab.
func check[T any](b *tab, js string) T {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`window.fairslotA11y ? true : `+a11yJS)); err != nil {
		b.t.Fatalf("load the checks: %v", err)
	}
	got, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](`window.fairslotA11y.`+js))
	if err != nil {
		b.t.Fatalf("%s: %v", js, err)
	}
	return got
}

// tabTo presses Tab until the focused element matches sel, checking the
// focus ring of every element on the way; it fails when sel is not reached
// within 120 presses. It returns the number of presses.
func (b *tab) tabTo(sel string) int {
	b.t.Helper()
	bad := 0
	for n := 1; n <= 120; n++ {
		b.do("press Tab", chromedp.KeyEvent(kb.Tab))
		if ring := check[string](b, "focusRing()"); ring != "" && bad < 3 {
			bad++
			b.t.Errorf("Tab %d toward %s: %s", n, sel, ring)
		}
		at, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`!!document.activeElement && document.activeElement.matches(`+jsString(sel)+`)`))
		testenv.Must(b.t, err, "where is the focus")
		if at {
			return n
		}
	}
	b.t.Fatalf("Tab never reached %s", sel)
	return 0
}

// press presses a key on the focused element and waits for the page it
// leads to (waitFor's want).
func (b *tab) press(key, want string) {
	b.t.Helper()
	b.markStale()
	b.do("press a key", chromedp.KeyEvent(key))
	b.waitFor(want)
}

// typeIn tabs to a field and types into it.
func (b *tab) typeIn(sel, text string) {
	b.t.Helper()
	b.tabTo(sel)
	b.do("type into "+sel, chromedp.KeyEvent(text))
}

// readable checks a page at a 390 px phone with 32 px default text: the
// text is at that size, and nothing runs off the screen sideways.
func (b *tab) readable(where string) {
	b.t.Helper()
	size := check[string](b, "textSize()")
	if size != "32px" {
		b.t.Errorf("%s: the body's text is %s with the browser's text at 32 px, want 32px", where, size)
	}
	for _, o := range check[[]string](b, "overflow(390)") {
		b.t.Errorf("%s at 390 px and 32 px text: %s", where, o)
	}
}

// TestPatientPagesPassAxe runs axe-core's WCAG 2.1 A/AA rules on every page
// of the patient console, signed out and in, with a booking, a lottery
// entry, a waitlist place, a release countdown and a form error on show, at
// a desk PC's width and at a 390 px phone's: no serious or critical
// violation. On the phone every control is at least 44×44 CSS px.
func TestPatientPagesPassAxe(t *testing.T) {
	s := newSite(t)
	src := axeSource(t)
	lot := s.addLottery()
	tiny := s.addTiny()
	// Another cardiology session the day after tomorrow, whose online
	// slots open in an hour: its card counts down.
	later := s.addSession(s.doctors[0], lot.VisitDate, lot.StartsAt.Add(6*time.Hour), lot.StartsAt.Add(9*time.Hour),
		booking.ChannelQuota{Channel: booking.ChannelOnline, Quota: 2, ReleaseAt: time.Now().Add(time.Hour)})
	b := newBrowser(t, s.base, 4*time.Minute)

	b.register(newPhone(), "correct horse battery")
	b.addSelf(residentID(3101), "王小明")
	b.open("/patient/family")
	b.fill("#family-form input[name=id_number]", residentID(3102))
	b.fill("#family-form input[name=name]", "李大华")
	b.agree("#family-form")
	b.click("#family-form button[type=submit]", "/patient/family?ok=added")

	// Book the last slot of tiny for 王小明, then put 李大华 on its
	// waitlist and enter him in the lottery.
	derm := sessionsPath(s.hospital.ID, s.dermatology.ID, tiny.VisitDate)
	b.open(derm)
	b.confirmBook("#s-" + tiny.ID)
	b.open(derm)
	choose := func(card, who string) {
		b.t.Helper()
		ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`(() => { const s = document.querySelector(`+jsString(card+" select[name=patient_id]")+`);
			for (const o of s.options) if (o.text.includes(`+jsString(who)+`)) { s.value = o.value; return true } return false })()`))
		if err != nil || !ok {
			b.t.Fatalf("choose %s in %s: %v (found: %v)", who, card, err, ok)
		}
	}
	choose("#s-"+tiny.ID, "李*华")
	b.click("#s-"+tiny.ID+" form.waitlist button[type=submit]", "/patient/bookings?")
	cardio := sessionsPath(s.hospital.ID, s.cardiology.ID, lot.VisitDate)
	b.open(cardio)
	b.click("#s-"+lot.ID+" form.enter button[type=submit]", "/patient/bookings?")
	if n := s.count(`SELECT count(*) FROM waitlist`); n != 1 {
		t.Errorf("got %d waitlist places, want 1", n)
	}
	b.open(cardio)
	b.contains("#s-"+later.ID+" .opening", "Opens")
	// Heading navigation reaches every session card: the doctor's name is
	// its heading, under the page's 出诊 Sessions.
	cards, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(() => { const cs = [...document.querySelectorAll("article.session")];
		return cs.length + " " + cs.filter(c => { const h = c.querySelector("h3"); return h && h.textContent.trim() !== "" }).length })()`))
	testenv.Must(t, err, "count the session cards' headings")
	if n, h, _ := strings.Cut(cards, " "); n == "0" || n != h {
		t.Errorf("session cards, cards with a heading = %q; want every card headed by its doctor", cards)
	}
	// An unread notification, as a stopped clinic leaves one.
	_, err = s.db.Pool().Exec(t.Context(), `INSERT INTO notifications (id, hospital_id, session_id, kind, account_id, body, created_at)
		SELECT $1, $2, $3, 'session_stopped', account_id, $4, now() FROM patients LIMIT 1`,
		booking.NewID(), s.hospital.ID, s.open.ID, "李明医生明天上午停诊 Dr Li's clinic is stopped")
	testenv.Must(t, err, "write a notification")
	b.open("/patient")
	b.contains("#unread", "1")

	pages := []string{"/", "/patient/login", "/patient/register", "/patient", "/patient/family", "/patient/bookings", "/patient/cases", "/patient/rules", "/patient/privacy",
		sessionsPath(s.hospital.ID, s.cardiology.ID, s.tomorrow), cardio, derm}
	scanAll := func(size string) {
		b.t.Helper()
		for _, p := range pages {
			if p == "/" || strings.HasPrefix(p, "/patient/login") || strings.HasPrefix(p, "/patient/register") {
				// Signed-out pages: a fresh tab.
				f := b.fresh()
				if size == "phone" {
					f.phone(false)
				}
				f.open(p)
				f.axeClean(src, size+" "+p)
				continue
			}
			b.open(p)
			b.axeClean(src, size+" "+p)
			for _, l := range check[[]string](b, "language()") {
				t.Errorf("%s: %s", p, l)
			}
			if size == "phone" && strings.HasPrefix(p, "/patient") {
				for _, small := range check[[]string](b, "smallTargets()") {
					t.Errorf("phone %s: %s, want at least 44×44", p, small)
				}
			}
		}
		// A form's error.
		b.open("/patient/family")
		b.fill("#family-form input[name=id_number]", "12345")
		b.fill("#family-form input[name=name]", "王小明")
		b.agree("#family-form")
		b.click("#family-form button[type=submit]", "/patient/family")
		b.contains("#error", "invalid_id_number")
		b.axeClean(src, size+" the family form's error")
	}
	scanAll("desk")
	b.phone(false)
	scanAll("phone")
}

// TestBookingAtLargeTextByKeyboard is an elderly patient on a 390 px phone
// with the browser's text at 32 px (200 %), using only the keyboard (as a
// switch or a screen reader drives a page): create an account, add
// themself, find a session, book it and cancel it, by Tab, typing, Enter
// and Space. Every page shows the text at 32 px without sideways
// scrolling, every control on the way shows a focus ring of at least 3:1,
// the first Tab reaches a link that skips to the content, and the page
// after booking says in its title (what a screen reader reads first) that
// it booked.
func TestBookingAtLargeTextByKeyboard(t *testing.T) {
	s := newSite(t)
	b := newBrowser(t, s.base, 4*time.Minute)
	b.open("/")
	b.phone(true)
	phone, password := newPhone(), "correct horse battery"

	b.open("/patient/register")
	b.readable("register")
	if n := b.tabTo("a.skip"); n != 1 {
		t.Errorf("the skip link is Tab %d, want the first", n)
	}
	if ring := check[string](b, "focusRing()"); ring != "" {
		t.Errorf("the skip link: %s", ring)
	}
	if in, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`(r => r.left >= 0 && r.right <= innerWidth && r.top >= 0)(document.activeElement.getBoundingClientRect())`)); err != nil || !in {
		t.Errorf("the focused skip link is off screen (%v)", err)
	}
	b.do("follow the skip link", chromedp.KeyEvent(kb.Enter))
	if got, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.activeElement.id`)); err != nil || got != "content" {
		t.Errorf("the skip link left the focus on %q (%v), want main#content", got, err)
	}
	b.typeIn("#register-form input[name=phone]", phone)
	b.typeIn("#register-form input[name=password]", password)
	b.typeIn("#register-form input[name=password2]", password)
	b.tabTo("#register-form input[name=privacy_consent]")
	b.do("agree to the privacy notice", chromedp.KeyEvent(" "))
	b.tabTo("#register-form button[type=submit]")
	b.press(kb.Enter, "/patient/family?ok=welcome")
	b.readable("family")
	b.shot("a11y-01-family-large-text")

	b.typeIn("#family-form input[name=id_number]", residentID(3201))
	b.typeIn("#family-form input[name=name]", "王小明")
	b.tabTo("#family-form input[name=self]")
	b.do("tick self", chromedp.KeyEvent(" "))
	b.tabTo("#family-form input[name=privacy_consent]")
	b.do("agree to the privacy notice", chromedp.KeyEvent(" "))
	b.tabTo("#family-form button[type=submit]")
	b.press(kb.Enter, "/patient/family?ok=added")
	b.contains("#flash", "Family member added")

	b.tabTo(`nav a[href="/patient/sessions"]`)
	b.press(kb.Enter, "/patient/sessions")
	b.readable("sessions")
	b.tabTo(`#departments a[href*="department=` + s.cardiology.ID + `"]`)
	b.press(kb.Enter, "department="+s.cardiology.ID)
	b.tabTo(`#dates a[href*="date=` + s.tomorrow + `"]`)
	b.press(kb.Enter, "date="+s.tomorrow)
	b.readable("sessions of a day")
	b.shot("a11y-02-sessions-large-text")
	card := "#s-" + s.open.ID
	b.tabTo(card + " details.confirm-step summary")
	b.do("open the booking step", chromedp.KeyEvent(kb.Enter))
	b.tabTo(card + " details.confirm-step button[type=submit]")
	b.press(kb.Enter, "/patient/bookings?")
	b.contains("#flash", "Booked")
	if title, err := chromedp.Run(b.ctx, chromedp.Title()); err != nil || !strings.HasPrefix(title, "预约成功。 Booked. · ") {
		t.Errorf("after booking the title is %q (%v), want it to start with what happened, 预约成功。 Booked.", title, err)
	}
	b.readable("bookings")
	b.shot("a11y-03-booked-large-text")

	b.tabTo("#bookings .booking.hl details.cancel-step summary")
	b.do("open the cancellation step", chromedp.KeyEvent(kb.Enter))
	b.tabTo("#bookings .booking.hl form.cancel button")
	b.press(kb.Enter, "/patient/bookings?")
	b.contains("#flash", "cancelled")

	if n := s.count(`SELECT count(*) FROM bookings WHERE session_id = $1 AND status = 'cancelled'`, s.open.ID); n != 1 {
		t.Errorf("got %d cancelled bookings of the session in SQL, want 1", n)
	}
}

// TestCountdownIsQuietForScreenReaders: a release countdown ticks every
// second, and a screen reader must not read each tick (a live region that
// changes every second talks over everything else on the page). The
// countdown is a timer, not a live region; the page says once, in its one
// status region, that a session opened.
func TestCountdownIsQuietForScreenReaders(t *testing.T) {
	s := newSite(t)
	b := newBrowser(t, s.base, 2*time.Minute)
	b.register(newPhone(), "correct horse battery")
	b.addSelf(residentID(3301), "王小明")
	now := time.Now()
	day := time.Date(now.In(shanghai).Year(), now.In(shanghai).Month(), now.In(shanghai).Day()+2, 0, 0, 0, 0, shanghai)

	// An hour away: it only ticks.
	far := s.addSession(s.doctors[2], day.Format(time.DateOnly), day.Add(8*time.Hour), day.Add(12*time.Hour),
		booking.ChannelQuota{Channel: booking.ChannelOnline, Quota: 2, ReleaseAt: now.Add(time.Hour)})
	b.open(sessionsPath(s.hospital.ID, s.dermatology.ID, day.Format(time.DateOnly)))
	tick := "#s-" + far.ID + " .opening .countdown"
	role, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector(`+jsString(tick)+`).getAttribute("role") || ""`))
	testenv.Must(t, err, "read the countdown's role")
	if role != "timer" {
		t.Errorf("the countdown's role is %q, want timer", role)
	}
	text := func() string {
		got, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(tick)))
		testenv.Must(t, err, "read the countdown")
		return got
	}
	first, live := text(), check[string](b, "liveText()")
	deadline := time.Now().Add(10 * time.Second)
	for text() == first {
		if time.Now().After(deadline) {
			t.Fatalf("the countdown stayed at %q for 10 s", first)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if got := check[string](b, "liveText()"); got != live {
		t.Errorf("a live region changed as the countdown ticked: %q, then %q", live, got)
	}

	// Seconds away: when it opens the status region says so, once.
	soon := s.addSession(s.doctors[2], day.Format(time.DateOnly), day.Add(14*time.Hour), day.Add(17*time.Hour),
		booking.ChannelQuota{Channel: booking.ChannelOnline, Quota: 2, ReleaseAt: time.Now().Add(8 * time.Second)})
	b.open(sessionsPath(s.hospital.ID, s.dermatology.ID, day.Format(time.DateOnly)))
	b.do("wait for the release", chromedp.WaitVisible(chromedp.CSS("#s-"+soon.ID+" form.book details.confirm-step summary")))
	b.contains("#release-news", "Online booking is open")
	b.contains("#release-news", "王芳 Wang Fang")
	if got := check[string](b, "liveText()"); strings.Count(got, "Online booking is open") != 1 {
		t.Errorf("the live regions read %q, want the opening said once", got)
	}
}

// TestFormErrorsAreTiedToTheirFields: after a form is refused, a screen
// reader hears what failed without hunting for it: the page's title starts
// with 错误 Error, the message is an alert, and the field it is about is
// marked invalid, described by the message and focused.
func TestFormErrorsAreTiedToTheirFields(t *testing.T) {
	s := newSite(t)
	b := newBrowser(t, s.base, 2*time.Minute)
	title := func() string {
		got, err := chromedp.Run(b.ctx, chromedp.Title())
		testenv.Must(t, err, "read the title")
		return got
	}
	b.register(newPhone(), "correct horse battery")
	for _, c := range []struct {
		name           string
		form           string
		fill           map[string]string
		code           string
		invalid, valid []string // the first invalid one has the focus
	}{
		{"family: a wrong ID number", "#family-form", map[string]string{"id_number": "12345", "name": "王小明"}, "invalid_id_number", []string{"id_number"}, []string{"name", "phone"}},
		{"family: a wrong phone", "#family-form", map[string]string{"id_number": residentID(3401), "name": "王小明", "phone": "12"}, "invalid_phone", []string{"phone"}, []string{"id_number", "name"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			b.open("/patient/family")
			for name, v := range c.fill {
				b.fill(c.form+" [name="+name+"]", v)
			}
			b.agree(c.form)
			b.click(c.form+" button[type=submit]", "/patient/family")
			b.contains("#error[role=alert]", c.code)
			if got := title(); !strings.HasPrefix(got, "错误 Error") {
				t.Errorf("the title is %q, want it to start with 错误 Error", got)
			}
			for i, f := range c.invalid {
				want := "true error " + fmt.Sprint(i == 0) + " "
				if got := fieldState(b, c.form+" [name="+f+"]", want); !strings.HasPrefix(got, want) {
					t.Errorf("%s: aria-invalid, aria-describedby, focused = %q, want %q", f, got, want)
				}
			}
			for _, f := range c.valid {
				if got := fieldState(b, c.form+" [name="+f+"]", "  false "); !strings.HasPrefix(got, "  false ") {
					t.Errorf("%s: aria-invalid, aria-describedby, focused = %q, want none", f, got)
				}
			}
		})
	}

	// Signing in with a wrong password: both fields, the phone focused.
	f := b.fresh()
	f.open("/patient/login")
	typed := newPhone()
	f.fill("#login-form input[name=phone]", typed)
	f.fill("#login-form input[name=password]", "not the password")
	f.click("#login-form button[type=submit]", "/patient/login")
	f.contains("#error[role=alert]", "invalid_credentials")
	if got, want := fieldState(f, "#login-form [name=phone]", "true error true "), "true error true "+typed; got != want {
		t.Errorf("phone: aria-invalid, aria-describedby, focused, value = %q, want %q", got, want)
	}
	if got, want := fieldState(f, "#login-form [name=password]", "true error false "), "true error false "; got != want {
		t.Errorf("password: aria-invalid, aria-describedby, focused, value = %q, want %q", got, want)
	}
	// The number typed stays in its field, on the login form and on the
	// register form, so that nobody types it twice; a password never does.
	value := func(sel string) string {
		v, err := chromedp.Run(f.ctx, chromedp.Evaluate[string](`document.querySelector(`+jsString(sel)+`).value`))
		testenv.Must(t, err, "read %s", sel)
		return v
	}
	if got := value("#login-form [name=phone]"); got != typed {
		t.Errorf("after the refusal the login form's phone is %q, want the number typed", got)
	}
	if got := value("#login-form [name=password]"); got != "" {
		t.Errorf("after the refusal the login form's password is %q, want it empty", got)
	}
	f.open("/patient/register")
	f.fill("#register-form input[name=phone]", typed)
	f.fill("#register-form input[name=password]", "correct horse battery")
	f.fill("#register-form input[name=password2]", "correct horse battery staple")
	f.agree("#register-form")
	f.click("#register-form button[type=submit]", "/patient/register")
	f.contains("#error[role=alert]", "passwords_differ")
	if got := value("#register-form [name=phone]"); got != typed {
		t.Errorf("after the refusal the register form's phone is %q, want the number typed", got)
	}
}

// TestStaffPagesPassAxe runs axe-core on the registration desk's and the
// phone operator's pages (and the admin console's front pages): no serious
// or critical violation.
func TestStaffPagesPassAxe(t *testing.T) {
	s := newSite(t)
	src := axeSource(t)
	s.addToday()
	password := "staff password 1"
	clerk, operator, admin := s.newClerk(password), s.newOperator(password), s.newHospitalAdmin(password)
	b := newBrowser(t, s.base, 3*time.Minute)
	b.open("/")
	for _, c := range []struct {
		console, phone, home string
		pages                []string
	}{
		{"desk", clerk, "/desk", []string{"/desk", "/desk/lookup", "/desk/walkin", "/desk/accounts"}},
		{"phone", operator, "/phone", []string{"/phone"}},
		{"admin", admin, "/admin/schedule", []string{"/admin/schedule", "/admin/schedule?week=" + s.tomorrow, "/admin/sessions/" + s.closed.ID,
			"/admin/doctors", "/admin/policy", "/admin/audit", "/admin/cases"}},
	} {
		f := b.fresh()
		f.open("/" + c.console + "/login")
		f.axeClean(src, "/"+c.console+"/login")
		f.signInAt(c.console, c.phone, password, c.home)
		for _, p := range c.pages {
			f.open(p)
			f.axeClean(src, p)
		}
	}
}

// staffBooking is a patient booked on today's on-site pool by a clerk,
// not checked in, with the staff who serve them.
type staffBooking struct {
	booking.Booking
	password, clerk, operator string
	idNumber, name            string
}

// newStaffDay is a site with a session today and a patient booked on it.
func newStaffDay(t *testing.T) (*site, booking.Session, staffBooking) {
	t.Helper()
	s := newSite(t)
	today := s.addToday()
	sb := staffBooking{password: "staff password 1", idNumber: residentID(6101), name: "王小明"}
	sb.clerk, sb.operator = s.newClerk(sb.password), s.newOperator(sb.password)
	var err error
	sb.Booking, err = s.svc.BookFor(t.Context(), s.actor(sb.clerk, sb.password), booking.StaffBookRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: true},
		IdentityRequest: booking.IdentityRequest{IDType: "resident_id", IDNumber: sb.idNumber, Name: sb.name},
		SessionID:       today.ID, Channel: booking.ChannelOnsite, IdempotencyKey: booking.NewID()})
	testenv.Must(t, err, "book the patient on site")
	return s, today, sb
}

// TestStaffFormErrorsAreTiedToTheirFields: on every staff form where a
// clerk or an operator types from a card or a call — the desk's walk-in,
// its search, the check-in form of a booking on Find a patient and on
// Today's roster, the phone console's caller form — a refusal marks the
// field it is about (aria-invalid, described by the message) and gives the
// first the focus, only in the form refused. The document type chosen is
// kept; the number, the name and the phone are not (no staff page shows
// them in clear: TestDeskNeverShowsClearIdentity, TestPhoneConsoleInBrowser).
func TestStaffFormErrorsAreTiedToTheirFields(t *testing.T) {
	s, today, bk := newStaffDay(t)
	password, clerk, operator, idNumber, name := bk.password, bk.clerk, bk.operator, bk.idNumber, bk.name
	checkin := "#checkin-" + bk.ID

	desk := newBrowser(t, s.base, 3*time.Minute)
	desk.open("/")
	desk.signIn("desk", clerk, password)
	phone := desk.fresh()
	phone.open("/")
	phone.signIn("phone", operator, password)
	// found: the patient is the desk's current patient, found by the
	// number only, so their booking's check-in form asks for the card.
	found := func(b *tab) {
		b.open("/desk/lookup")
		b.fill("#lookup-form input[name=id_number]", idNumber)
		b.do("say the card was shown", chromedp.Click(chromedp.CSS("#lookup-form input[value=card_shown]")))
		b.click("#lookup-form button[type=submit]", "/desk/lookup")
	}
	wrongNumber := residentID(6102)
	for _, c := range []struct {
		name   string
		b      *tab
		before func(b *tab) // opens the page
		form   string
		fill   [][2]string // in order: name, value
		code   string
		// fields: name → aria-invalid, aria-describedby, focused, value
		fields map[string]string
		// others are fields of other forms on the page, left unmarked.
		others []string
	}{
		{"walk-in: a wrong ID number", desk, func(b *tab) { b.open("/desk/walkin") }, "#walkin-form",
			[][2]string{{"id_number", "12345"}, {"name", name}}, "invalid_id_number",
			map[string]string{"id_number": "true error true ", "name": "  false ", "id_type": "  false resident_id"}, nil},
		{"find a patient: a wrong ID number", desk, func(b *tab) {
			b.open("/desk/lookup")
			b.do("say the card was read", chromedp.Click(chromedp.CSS("#lookup-form input[value=card_read]")))
		}, "#lookup-form",
			[][2]string{{"id_number", "12345"}, {"name", name}}, "invalid_id_number",
			map[string]string{"id_number": "true error true ", "name": "  false "}, nil},
		{"check-in: another person's card", desk, found, checkin,
			[][2]string{{"id_number", wrongNumber}, {"name", "王大明"}}, "identity_mismatch",
			map[string]string{"id_number": "true error true ", "name": "true error false "},
			[]string{"#lookup-form [name=id_number]", "#lookup-form [name=name]"}},
		{"check-in: a wrong ID number", desk, found, checkin,
			[][2]string{{"id_number", "12345"}, {"name", name}}, "invalid_id_number",
			map[string]string{"id_number": "true error true ", "name": "  false "},
			[]string{"#lookup-form [name=id_number]"}},
		{"today's roster: check-in with a wrong ID number", desk, func(b *tab) {
			b.open("/desk")
			b.do("open the check-in form", chromedp.Click(chromedp.CSS("#r-"+bk.ID+" details.r-checkin summary")))
		}, checkin,
			[][2]string{{"id_number", "12345"}, {"name", name}}, "invalid_id_number",
			map[string]string{"id_number": "true error true ", "name": "  false "}, nil},
		{"today: extra slots authorised by a one-character name", desk, func(b *tab) {
			b.open("/desk")
			b.do("open the extra-slots form", chromedp.Click(chromedp.CSS("#s-"+today.ID+" details.extra summary")))
		}, "#extra-" + today.ID,
			[][2]string{{"count", "3"}, {"reason", "专家加号"}, {"authorised_by", "张"}}, "invalid_field",
			map[string]string{"authorised_by": "true error true 张", "count": "  false 3", "reason": "  false 专家加号"}, nil},
		{"caller: a wrong phone", phone, func(b *tab) { b.open("/phone") }, "#caller-form",
			[][2]string{{"phone", "12"}, {"id_number", idNumber}, {"name", name}}, "invalid_phone",
			map[string]string{"phone": "true error true ", "id_number": "  false ", "name": "  false "}, nil},
		{"caller: a wrong ID number", phone, func(b *tab) { b.open("/phone") }, "#caller-form",
			[][2]string{{"phone", "13800138000"}, {"id_number", "12345"}, {"name", name}}, "invalid_id_number",
			map[string]string{"id_number": "true error true ", "phone": "  false ", "name": "  false "}, nil},
		{"caller: the ID number without the name", phone, func(b *tab) { b.open("/phone") }, "#caller-form",
			[][2]string{{"phone", "13800138000"}, {"id_number", idNumber}}, "invalid_field",
			map[string]string{"name": "true error true ", "id_number": "  false "}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := c.b
			c.before(b)
			for _, f := range c.fill {
				b.fill(c.form+" [name="+f[0]+"]", f[1])
			}
			b.click(c.form+" button[type=submit]", "")
			b.contains("#error[role=alert]", c.code)
			for f, want := range c.fields {
				if got := fieldState(b, c.form+" [name="+f+"]", want); got != want {
					t.Errorf("%s: aria-invalid, aria-describedby, focused, value = %q, want %q", f, got, want)
				}
			}
			for _, sel := range c.others {
				if got := fieldState(b, sel, "  false "); !strings.HasPrefix(got, "  false") {
					t.Errorf("%s, of another form: aria-invalid, aria-describedby, focused, value = %q, want it unmarked", sel, got)
				}
			}
		})
	}
}

// fieldState is a form field's aria-invalid, aria-describedby, whether it
// has the focus, and its value, joined by spaces, once it starts with want
// or 5 s have passed: the browser moves the focus to an autofocus field at
// its next rendering, which may come after the page reports it is loaded
// and shows its alert (a loaded CI saw the check-in's ID number and the
// login's phone not focused yet).
func fieldState(b *tab, sel, want string) string {
	b.t.Helper()
	read := func() string {
		got, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(e => [e.getAttribute("aria-invalid"), e.getAttribute("aria-describedby"), document.activeElement === e, e.value].join(" "))(document.querySelector(`+jsString(sel)+`))`))
		testenv.Must(b.t, err, "read %s", sel)
		return got
	}
	got := read()
	for deadline := time.Now().Add(5 * time.Second); !strings.HasPrefix(got, want) && time.Now().Before(deadline); got = read() {
		time.Sleep(50 * time.Millisecond)
	}
	return got
}

// largeText sets the browser's text to 32 px, twice the usual, at a
// width px wide window (a desk PC's 1280, or a phone's 390, emulated as a
// phone).
func (b *tab) largeText(width int64) {
	b.t.Helper()
	if width <= 390 {
		b.phone(true)
		return
	}
	b.do("a large window with large text", chromedp.EmulateViewport(width, 900),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, cdppage.SetFontSizes, cdppage.SetFontSizesParams{FontSizes: &cdppage.FontSizes{Standard: 32}})
			return err
		}))
}

// keyboardWalk tabs through every stop of the page in the tab, from its
// top, until the focus comes round to the first stop again. It fails on a
// stop whose focus ring is missing or faint, on a control in view that Tab
// never reaches, and when the focus never comes round (a keyboard trap).
// The controls inside a closed <details> are not in view: its summary is.
// A group of radio buttons (one name in one form) is one Tab stop, as a
// keyboard user meets it in every browser: on it, the arrow keys must move
// the focus, ring and all, through every radio of the group and round to
// the first again; the walk then puts back what was checked.
func (b *tab) keyboardWalk(where string) {
	b.t.Helper()
	n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`(() => {
		document.activeElement && document.activeElement.blur && document.activeElement.blur();
		window.scrollTo(0, 0);
		const shown = e => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden" &&
			!e.closest("details:not([open]) > :not(summary)");
		const all = [...document.querySelectorAll("a[href], button:not([disabled]), summary, input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex=\"0\"]")]
			.filter(e => shown(e) && e.tabIndex >= 0);
		// The radios of a group share the stop of the group's first.
		const group = new Map(), stops = [];
		all.forEach(e => {
			if (e.type !== "radio" || !e.name) { stops.push([e]); return }
			const key = (e.form ? e.form.id || stops.length : "") + "\u0000" + e.name;
			if (group.has(key)) { group.get(key).push(e); return }
			group.set(key, [e]);
			stops.push(group.get(key));
		});
		stops.forEach((members, i) => members.forEach(e => e.dataset.kw = i));
		return stops.length })()`))
	testenv.Must(b.t, err, "%s: list the controls", where)
	// A date or time field takes a Tab per part (year, month, day; hour,
	// minute) before the next control: the same control again at once is
	// its next part, not the focus come round. A control that keeps it is
	// still a trap: the Tabs run out.
	seen, bad, last := map[int]bool{}, 0, -1
	for press := 1; ; press++ {
		if press > 6*n+10 {
			b.t.Errorf("%s: after %d Tabs the focus has not come round to the first of %d controls: a keyboard trap", where, press-1, n)
			break
		}
		b.do("press Tab", chromedp.KeyEvent(kb.Tab))
		at, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`(e => e && e.dataset && e.dataset.kw !== undefined ? +e.dataset.kw : -1)(document.activeElement)`))
		testenv.Must(b.t, err, "%s: where is the focus", where)
		if at < 0 {
			continue // the page itself, between the last stop and the first
		}
		if at == last {
			continue // the next part of a date or time field
		}
		last = at
		if seen[at] {
			break
		}
		seen[at] = true
		if ring := check[string](b, "focusRing()"); ring != "" && bad < 3 {
			bad++
			b.t.Errorf("%s: Tab %d: %s", where, press, ring)
		}
		bad += b.arrowThroughRadios(where, at, 3-bad)
	}
	reached, _ := json.Marshal(slices.Collect(maps.Keys(seen)))
	missed, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("[data-kw]")].filter(e => !`+string(reached)+`.includes(+e.dataset.kw)).map(e => e.outerHTML.slice(0, 120))`))
	testenv.Must(b.t, err, "%s: the controls not reached", where)
	for _, m := range missed {
		b.t.Errorf("%s: Tab never reaches %s", where, m)
	}
}

// arrowThroughRadios: when the focus is on a radio button (the stop at of
// keyboardWalk), ArrowDown, once per radio of its group, must take the
// focus to each of them in turn, each with its focus ring, and back to the
// one it started on (arrows wrap round a group). What was checked before
// (arrows check the radio they move to) is put back. It reports up to
// left faults and returns how many it reported.
func (b *tab) arrowThroughRadios(where string, at, left int) int {
	b.t.Helper()
	size, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`(e => {
		if (!e || e.type !== "radio") return 0;
		const g = [...document.querySelectorAll('[data-kw="' + e.dataset.kw + '"]')];
		window.fairslotChecked = g.map(r => r.checked);
		return g.length })(document.activeElement)`))
	testenv.Must(b.t, err, "%s: the radio group at stop %d", where, at)
	if size == 0 {
		return 0
	}
	faults := 0
	fault := func(format string, args ...any) {
		if faults < left {
			b.t.Errorf("%s: the radio group at stop %d: "+format, append([]any{where, at}, args...)...)
		}
		faults++
	}
	focusName := func() string {
		name, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(e => e ? e.name + "=" + e.value : "")(document.activeElement)`))
		testenv.Must(b.t, err, "%s: which radio has the focus", where)
		return name
	}
	start := focusName()
	visited := map[string]bool{start: true}
	for i := 1; i <= size; i++ {
		b.do("press ArrowDown", chromedp.KeyEvent(kb.ArrowDown))
		on, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`(e => e && e.dataset && e.dataset.kw !== undefined ? +e.dataset.kw : -1)(document.activeElement)`))
		testenv.Must(b.t, err, "%s: where is the focus", where)
		if on != at {
			fault("ArrowDown %d left the group (the focus is on stop %d)", i, on)
			break
		}
		name := focusName()
		if i < size && visited[name] {
			fault("ArrowDown %d came back to %q before reaching all %d radios", i, name, size)
			break
		}
		visited[name] = true
		if ring := check[string](b, "focusRing()"); ring != "" {
			fault("ArrowDown %d: %s", i, ring)
		}
		if i == size && name != start {
			fault("after %d ArrowDowns the focus is on %q, want it round to %q", size, name, start)
		}
	}
	_, err = chromedp.Run(b.ctx, chromedp.Evaluate[bool](`(e => {
		[...document.querySelectorAll('[data-kw="' + e.dataset.kw + '"]')].forEach((r, i) => r.checked = window.fairslotChecked[i]);
		return true })(document.activeElement)`))
	testenv.Must(b.t, err, "%s: put back the radios", where)
	return min(faults, left)
}

// TestStaffSuccessIsAnnouncedWithoutMovingFocus: after a desk or phone
// form succeeds, a status region that was empty when the page loaded says
// what happened (a screen reader announces it; one present at load it does
// not), and the focus is on the field the clerk or the operator types into
// next: the check-in form's card number while the patient has a booking to
// check in, then the search's, for the next patient; after a call, the
// next caller's number.
func TestStaffSuccessIsAnnouncedWithoutMovingFocus(t *testing.T) {
	s, today, bk := newStaffDay(t)
	password, clerk, operator, idNumber, name := bk.password, bk.clerk, bk.operator, bk.idNumber, bk.name

	// focused waits for sel to have the focus (autofocus is applied when
	// the page is next drawn, after it loaded).
	focused := func(b *tab, sel, after string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			at, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`!!document.activeElement && document.activeElement.matches(`+jsString(sel)+`)`))
			testenv.Must(t, err, "where is the focus")
			if at {
				return
			}
			if time.Now().After(deadline) {
				got, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.activeElement ? document.activeElement.outerHTML.slice(0, 100) : "none"`))
				t.Errorf("after %s the focus is on %s, want %s", after, got, sel)
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	// announced waits for the status region to say want, and checks that
	// the focus is on sel.
	announced := func(b *tab, want, sel string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			got, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(e => e ? e.getAttribute("role") + " " + e.textContent : "no #announce")(document.getElementById("announce"))`))
			testenv.Must(t, err, "read the status region")
			if strings.HasPrefix(got, "status ") && strings.Contains(got, want) {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("the status region reads %q, want it to say %q", got, want)
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		focused(b, sel, want)
	}
	// typed checks that sel has the focus as the page opens, and fills it.
	typed := func(b *tab, sel, text string) {
		t.Helper()
		focused(b, sel, "the page opened")
		b.fill(sel, text)
	}

	desk := newBrowser(t, s.base, 3*time.Minute)
	desk.open("/")
	desk.signIn("desk", clerk, password)
	desk.open("/desk/lookup")
	typed(desk, "#lookup-form [name=id_number]", idNumber)
	desk.do("say the card was shown", chromedp.Click(chromedp.CSS("#lookup-form input[value=card_shown]")))
	desk.click("#lookup-form button[type=submit]", "/desk/lookup")
	// The card is read into the check-in form, which has the focus.
	typed(desk, "#checkin-"+bk.ID+" [name=id_number]", idNumber)
	desk.fill("#checkin-"+bk.ID+" [name=name]", name)
	desk.click("#checkin-"+bk.ID+" button[type=submit]", "ok=checkedin")
	announced(desk, "签到成功。 Checked in.", "#lookup-form [name=id_number]")
	desk.click("#next-patient", "ok=cleared")
	announced(desk, "Cleared", "#lookup-form [name=id_number]")
	desk.open("/desk/walkin?s=" + today.ID)
	typed(desk, "#walkin-form [name=id_number]", residentID(6202))
	desk.fill("#walkin-form [name=name]", "李小红")
	desk.check("#walkin-form input[name=privacy_consent]")
	desk.click("#walkin-form button[type=submit]", "ok=walkin")
	announced(desk, "Walk-in booked", "#lookup-form [name=id_number]")

	op := desk.fresh()
	op.open("/")
	op.signIn("phone", operator, password)
	typed(op, "#caller-form [name=phone]", newPhone())
	op.fill("#caller-form [name=id_number]", residentID(6203))
	op.fill("#caller-form [name=name]", "赵小虎")
	op.check("#caller-form input[name=privacy_consent]")
	op.click("#caller-form button[type=submit]", "/phone?")
	op.clickText("#dates a", s.tomorrow[5:], "date="+s.tomorrow)
	op.click("#s-"+s.open.ID+" form.book button", "ok=booked")
	announced(op, "电话预约成功", "body")
	op.click("#next-caller", "ok=cleared")
	announced(op, "Call ended", "#caller-form [name=phone]")
}

// TestStaffPagesAtLargeTextByKeyboard walks every page of the desk, phone
// and admin consoles as their users meet them — empty, with a list, after
// a refused form — with the browser's text at 200 %, at a phone's 390 px
// and at a desk PC's 1280 px. On each: axe-core finds no serious or
// critical violation; the page has one h1; the text is at the reader's
// size; nothing runs off the screen sideways, with every form that opens
// in place (<details>) open; and by keyboard alone, Tab reaches every
// control in view, each with a visible focus ring, and comes round to the
// first again (no trap).
func TestStaffPagesAtLargeTextByKeyboard(t *testing.T) {
	s := newSite(t)
	src := axeSource(t)
	today := s.addToday()
	password := "staff password 1"
	clerk, operator, admin, hospitalAdmin := s.newClerk(password), s.newOperator(password), s.newAdmin(password), s.newHospitalAdmin(password)
	b := newBrowser(t, s.base, 12*time.Minute) // a guard against a hang, not a measure: each page twice, under CI load
	b.open("/")
	for i, width := range []int64{390, 1280} {
		look := func(f *tab, page string) {
			where := fmt.Sprintf("%s at %d px, 200 %% text", page, width)
			f.axeClean(src, where)
			n, err := chromedp.Run(f.ctx, chromedp.Evaluate[int](`document.querySelectorAll("h1").length`))
			testenv.Must(t, err, "%s: count the h1", where)
			if n != 1 {
				t.Errorf("%s: %d h1, want 1", where, n)
			}
			if size := check[string](f, "textSize()"); size != "32px" {
				t.Errorf("%s: the body's text is %s, want 32px", where, size)
			}
			f.keyboardWalk(where)
			_, err = chromedp.Run(f.ctx, chromedp.Evaluate[bool](`document.querySelectorAll("details").forEach(d => d.open = true), true`))
			testenv.Must(t, err, "%s: open every <details>", where)
			for _, o := range check[[]string](f, fmt.Sprintf("overflow(%d)", width)) {
				t.Errorf("%s, every <details> open: %s", where, o)
			}
		}
		d := b.fresh()
		d.largeText(width)
		d.open("/desk/login")
		look(d, "/desk/login")
		d.signIn("desk", clerk, password)
		look(d, "/desk, no bookings")
		d.open("/desk/lookup")
		look(d, "/desk/lookup, nobody found")
		d.fill("#lookup-form input[name=id_number]", "123")
		d.do("say the card was shown", chromedp.Click(chromedp.CSS("#lookup-form input[value=card_shown]")))
		d.click("#lookup-form button[type=submit]", "/desk/lookup")
		look(d, "/desk/lookup, refused")
		// A valid number nobody here holds: the nothing-here card.
		d.fill("#lookup-form input[name=id_number]", residentID(6199))
		d.do("say the card was shown", chromedp.Click(chromedp.CSS("#lookup-form input[value=card_shown]")))
		d.click("#lookup-form button[type=submit]", "/desk/lookup")
		d.contains("#nothing-here", "Nobody with this ID number")
		look(d, "/desk/lookup, nothing here")
		d.open("/desk/walkin?s=" + today.ID)
		look(d, "/desk/walkin")
		d.fill("#walkin-form input[name=id_number]", "12345")
		d.fill("#walkin-form input[name=name]", "王小明")
		d.check("#walkin-form input[name=privacy_consent]")
		d.click("#walkin-form button[type=submit]", "/desk/bookings")
		look(d, "/desk/walkin, refused")
		d.fill("#walkin-form input[name=id_number]", residentID(6301+i))
		d.fill("#walkin-form input[name=name]", "王小明")
		d.check("#walkin-form input[name=privacy_consent]")
		d.click("#walkin-form button[type=submit]", "/desk/lookup?")
		look(d, "/desk/lookup, a booking")
		d.open("/desk")
		look(d, "/desk, a roster")
		d.open("/desk/accounts")
		look(d, "/desk/accounts")
		d.fill("#reset-form input[name=id_number]", residentID(6321+i))
		d.fill("#reset-form input[name=name]", "王小明")
		d.fill("#reset-form input[name=account_phone]", newPhone())
		d.click("#reset-form button[type=submit]", "/desk/accounts/reset-code")
		look(d, "/desk/accounts, refused")

		o := b.fresh()
		o.largeText(width)
		o.open("/phone/login")
		o.signIn("phone", operator, password)
		look(o, "/phone, no caller")
		o.fill("#caller-form input[name=phone]", "12")
		o.click("#caller-form button[type=submit]", "/phone/caller")
		look(o, "/phone, refused")
		o.fill("#caller-form input[name=phone]", newPhone())
		o.fill("#caller-form input[name=id_number]", residentID(6311+i))
		o.fill("#caller-form input[name=name]", "李小红")
		o.check("#caller-form input[name=privacy_consent]")
		o.click("#caller-form button[type=submit]", "/phone?")
		o.clickText("#dates a", s.tomorrow[5:], "date="+s.tomorrow)
		o.click("#s-"+s.open.ID+" form.book button", "ok=booked")
		look(o, "/phone, a booking")

		a := b.fresh()
		a.largeText(width)
		a.open("/admin/login")
		a.signIn("admin", admin, password)
		for _, p := range []string{"/admin", "/admin/schedule", "/admin/schedule?hospital=" + s.hospital.ID + "&week=" + s.tomorrow,
			"/admin/sessions/" + s.closed.ID, "/admin/templates", "/admin/policy", "/admin/doctors", "/admin/lottery", "/admin/audit", "/admin/cases"} {
			a.open(p)
			look(a, p)
		}
		// A hospital's administrator starts at the schedule, and is
		// refused a flag of the platform's review.
		h := b.fresh()
		h.largeText(width)
		h.open("/admin/login")
		h.signInAt("admin", hospitalAdmin, password, "/admin/schedule")
		look(h, "/admin/schedule, where a hospital's administrator starts")
		h.open("/admin/flags/00000000-0000-0000-0000-000000000000")
		look(h, "a flag, refused to a hospital's administrator")
	}
}

// TestScrollableTablesAreReachableWhenWide: a table in a .scroll box that
// is wider than the screen (a phone, text at 200 %, long names) scrolls
// sideways; a keyboard user must be able to reach the box to scroll it,
// and a screen reader to name it. On each staff page with such a box, its
// table widened to three times the box: the box scrolls; axe-core finds no
// scrollable-region-focusable violation (nor any serious one); each box is
// a region with a name; and Tab reaches it, with a focus ring.
func TestScrollableTablesAreReachableWhenWide(t *testing.T) {
	s := newSite(t)
	src := axeSource(t)
	s.addToday()
	password := "staff password 1"
	clerk, admin := s.newClerk(password), s.newAdmin(password)
	b := newBrowser(t, s.base, 12*time.Minute) // a guard against a hang, not a measure: each page twice, under CI load
	b.open("/")
	widened := func(f *tab, page string) {
		t.Helper()
		where := page + ", its tables widened, at 390 px, 200 % text"
		boxes, err := chromedp.Run(f.ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll(".scroll")].map(e => {
			const table = e.querySelector("table");
			if (table) table.style.minWidth = (3 * e.clientWidth) + "px";
			return (e.scrollWidth > e.clientWidth ? "" : "does not scroll ") + e.tabIndex + " " + e.getAttribute("role") + " " + (e.getAttribute("aria-label") || "") })`))
		testenv.Must(t, err, "%s: widen the tables", where)
		if len(boxes) == 0 {
			t.Errorf("%s: no .scroll box: nothing to check", where)
		}
		for i, box := range boxes {
			if strings.HasPrefix(box, "does not scroll ") {
				t.Errorf("%s: .scroll %d: widened, it does not scroll", where, i)
			}
			if got := strings.SplitN(strings.TrimPrefix(box, "does not scroll "), " ", 3); got[0] != "0" || got[1] != "region" || strings.TrimSpace(got[2]) == "" {
				t.Errorf("%s: .scroll %d has tabindex %s, role %s and name %q; want tabindex 0, role region and a name", where, i, got[0], got[1], got[2])
			}
		}
		for _, v := range f.axe(src) {
			if v.ID == "scrollable-region-focusable" || v.Impact == "serious" || v.Impact == "critical" {
				t.Errorf("%s: %v", where, v)
			}
		}
		f.keyboardWalk(where)
	}
	d := b.fresh()
	d.largeText(390)
	d.open("/desk/login")
	d.signIn("desk", clerk, password)
	d.open("/desk")
	widened(d, "/desk, a roster")

	a := b.fresh()
	a.largeText(390)
	a.open("/admin/login")
	a.signIn("admin", admin, password)
	for _, p := range []string{"/admin/schedule?hospital=" + s.hospital.ID + "&week=" + s.tomorrow, "/admin/sessions/" + s.closed.ID, "/admin/doctors", "/admin/audit"} {
		a.open(p)
		widened(a, p)
	}
}
