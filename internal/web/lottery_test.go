package web

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// addLottery stores a cardiology session the day after tomorrow whose
// online pool is a lottery taking entries now (drawn in ten minutes), and
// runs the lottery job so its seed is committed.
func (s *site) addLottery() booking.Session {
	s.t.Helper()
	now := time.Now().Truncate(time.Second)
	day := time.Date(now.In(shanghai).Year(), now.In(shanghai).Month(), now.In(shanghai).Day()+2, 0, 0, 0, 0, shanghai)
	ss := s.addSession(s.doctors[1], day.Format(time.DateOnly), day.Add(8*time.Hour), day.Add(12*time.Hour),
		booking.ChannelQuota{Channel: booking.ChannelOnline, Quota: 2, ReleaseAt: now.Add(-time.Minute), Mode: booking.Lottery,
			DrawAt: now.Add(10 * time.Minute)},
		booking.ChannelQuota{Channel: booking.ChannelOnsite, Quota: 2, ReleaseAt: day.Add(7 * time.Hour)},
	)
	_, err := s.svc.RunLottery(s.t.Context())
	testenv.Must(s.t, err, "commit the lottery's seed")
	return ss
}

var (
	commitmentRE = regexp.MustCompile(`class="commitment">([0-9a-f]{64})<`)
	// countdownRE is the time left until the draw, ten minutes away: 9 min
	// 59 s or 10 min 0 s, whichever second the page was made in.
	countdownRE = regexp.MustCompile(`class="countdown">还有 (9|10) 分 \d+ 秒 · in (9|10) min \d+ s<`)
)

func TestPatientLottery(t *testing.T) {
	s := newSite(t)
	lot := s.addLottery()
	sessions := sessionsURL(s.hospital.ID, s.cardiology.ID, lot.VisitDate)
	enter := func(n int, name string, waitlist bool) (*client, string) {
		c := s.client()
		c.signUpHolder(newPhone(), "correct horse battery", residentID(n), name)
		page := c.get(sessions)
		for _, want := range []string{"参加摇号 Enter the draw", "Entering early gives no advantage", "Seed commitment"} {
			if !strings.Contains(page.body, want) {
				t.Errorf("the sessions page does not say %q", want)
			}
		}
		ps, err := s.svc.Patients(t.Context(), booking.Actor{AccountID: accountOf(t, s, c), Role: booking.RolePatient})
		testenv.Must(t, err, "patients")
		form := url.Values{"csrf": {c.csrf(sessions)}, "session_id": {lot.ID}, "patient_id": {ps[0].ID}, "idem": {booking.NewID()}}
		if waitlist {
			form.Set("waitlist", "1")
		}
		a := c.post("/patient/bookings", form)
		if a.status != 303 || !strings.HasPrefix(a.location, "/patient/bookings?") || !strings.Contains(a.location, "ok=entered") {
			t.Fatalf("enter: %d → %q, want 303 → the bookings page with ok=entered\n%s", a.status, a.location, a.body)
		}
		return c, mustQuery(t, a.location, "id")
	}
	alice, aliceEntry := enter(201, "钱多多", true)
	bob, bobEntry := enter(202, "孙小美", false)
	carol, carolEntry := enter(203, "阿土伯", false)

	page := alice.get("/patient/bookings?ok=entered&id=" + aliceEntry)
	m := commitmentRE.FindStringSubmatch(page.body)
	if page.status != 200 || !strings.Contains(page.body, "已报名 Entered") || !strings.Contains(page.body, aliceEntry) || m == nil ||
		!strings.Contains(page.body, "撤回报名 Withdraw") || !countdownRE.MatchString(page.body) {
		t.Fatalf("alice's bookings page after entering lacks the entry, its commitment, the countdown or the withdraw form:\n%s", page.body)
	}
	commitment := m[1]

	// carol withdraws before the draw.
	a := carol.post("/patient/lottery/"+carolEntry+"/withdraw", url.Values{"csrf": {carol.csrf("/patient/bookings")}})
	if a.status != 303 || !strings.Contains(a.location, "ok=withdrawn") {
		t.Errorf("withdraw: %d → %q\n%s", a.status, a.location, a.body)
	}
	if p := carol.get("/patient/bookings"); !strings.Contains(p.body, "已撤回 Withdrawn") || strings.Contains(p.body, "撤回报名 Withdraw</button>") {
		t.Errorf("carol's page after withdrawing:\n%s", p.body)
	}

	// The draw: two slots, two entries left.
	s.offset.Store(int64(11 * time.Minute))
	if n, err := s.svc.RunLottery(t.Context()); err != nil || n != 1 {
		t.Fatalf("the draw: %d pools, %v", n, err)
	}
	s.offset.Store(0)
	for who, c := range map[string]*client{"alice": alice, "bob": bob} {
		entry := map[string]string{"alice": aliceEntry, "bob": bobEntry}[who]
		p := c.get("/patient/bookings")
		if !strings.Contains(p.body, "中签 Won") || !strings.Contains(p.body, `id="b-`+entry+`"`) ||
			!strings.Contains(p.body, `class="seed">`) || !strings.Contains(p.body, commitment) ||
			!strings.Contains(p.body, "fairslot commit v2") {
			t.Errorf("%s's page after the draw lacks the win, the booking, the seed, the commitment or its recipe:\n%s", who, p.body)
		}
	}

	t.Run("admin", func(t *testing.T) {
		admin := s.client()
		pw := "admin password 1"
		admin.adminLogin(s.newAdmin(pw), pw)
		list := admin.get("/admin/lottery")
		if list.status != 200 || !strings.Contains(list.body, "/admin/lottery/"+lot.ID) {
			t.Errorf("/admin/lottery does not list the pool:\n%s", list.body)
		}
		d := admin.get("/admin/lottery/" + lot.ID)
		for _, want := range []string{aliceEntry[:8], bobEntry[:8], carolEntry[:8], "中签 Won", "已撤回 Withdrawn", commitment, "fairslot lottery verify --session " + lot.ID} {
			if !strings.Contains(d.body, want) {
				t.Errorf("the draw page lacks %q", want)
			}
		}
		for _, clear := range []string{"钱多多", "孙小美", residentID(201)} {
			if strings.Contains(d.body, clear) {
				t.Errorf("the draw page shows %q in clear", clear)
			}
		}
		if p := alice.get("/admin/lottery"); p.status != 303 && p.status != 403 {
			t.Errorf("a patient on /admin/lottery: %d, want refused", p.status)
		}
	})
}

// TestLotteryInBrowser: a patient enters a lottery through headless Chromium,
// sees the entry with its countdown and commitment, and after the draw sees
// the win, the booking it became and the revealed seed. Screenshots:
// lottery-*.png (FAIRSLOT_SCREENSHOTS, default docs/screenshots/tmp/).
func TestLotteryInBrowser(t *testing.T) {
	s := newSite(t)
	lot := s.addLottery()
	b := newBrowser(t, s.base, 2*time.Minute)
	phone, password := newPhone(), "correct horse battery"
	idNumber, name := residentID(2101), "赵小雨"

	b.register(phone, password)
	b.fill("#family-form input[name=id_number]", idNumber)
	b.fill("#family-form input[name=name]", name)
	b.do("tick self", chromedp.Click(chromedp.CSS("#family-form input[name=self]")))
	b.agree("#family-form")
	b.click("#family-form button[type=submit]", "/patient/family?ok=added")

	card := "#s-" + lot.ID
	b.open(sessionsURL(s.hospital.ID, s.cardiology.ID, lot.VisitDate))
	b.contains(card+" .lottery", "Lottery")
	b.contains(card+" .lottery", "Entering early gives no advantage")
	b.contains(card+" .lottery .commitment", "")
	b.contains(card+" form.enter button", "Enter the draw")
	b.shot("lottery-1-session")
	b.do("ask for the waitlist", chromedp.Click(chromedp.CSS(card+" form.enter input[name=waitlist]")))
	b.click(card+" form.enter button[type=submit]", "/patient/bookings?")
	b.contains("#flash", "You entered the draw")
	b.contains("#entries .entry.hl .status", "Entered")
	b.contains("#entries .entry.hl .countdown", " min ")
	b.shot("lottery-2-entered")
	b.hidden(idNumber, name)

	s.offset.Store(int64(11 * time.Minute))
	if n, err := s.svc.RunLottery(t.Context()); err != nil || n != 1 {
		t.Fatalf("the draw: %d pools, %v", n, err)
	}
	s.offset.Store(0)
	b.open("/patient/bookings")
	b.contains("#entries .entry .status", "Won")
	b.contains("#entries .entry .seed", "")
	b.contains("#bookings .booking .status", "Confirmed")
	b.shot("lottery-3-won")
	b.hidden(idNumber, name)
}

// TestLotteryLoserToldInBrowser: three patients enter a draw of two slots,
// none asking for the waitlist; the one not drawn finds the result among
// the notifications on the home page, in words, and the winners find no
// such notice. Screenshots at 1280 and 390 px (lottery-4-*.png).
func TestLotteryLoserToldInBrowser(t *testing.T) {
	s := newSite(t)
	lot := s.addLottery()
	first := newBrowser(t, s.base, 3*time.Minute)
	tabs := []*tab{first}
	card := "#s-" + lot.ID
	for i := range 3 {
		b := first
		if i > 0 {
			b = first.fresh()
			tabs = append(tabs, b)
		}
		b.register(newPhone(), "correct horse battery")
		b.addSelf(residentID(2201+i), "钱小"+string(rune('一'+i)))
		b.open(sessionsURL(s.hospital.ID, s.cardiology.ID, lot.VisitDate))
		b.click(card+" form.enter button[type=submit]", "/patient/bookings?")
		b.contains("#flash", "You entered the draw")
	}
	s.offset.Store(int64(11 * time.Minute))
	if n, err := s.svc.RunLottery(t.Context()); err != nil || n != 1 {
		t.Fatalf("the draw: %d pools, %v", n, err)
	}
	s.offset.Store(0)
	lost := 0
	for i, b := range tabs {
		b.open("/patient/bookings")
		status, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("#entries .entry .status")))
		if err != nil {
			t.Fatalf("patient %d's entry: %v", i, err)
		}
		b.open("/patient")
		told, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`(document.querySelector("#notifications")?.innerText || "").includes("未中签")`))
		if err != nil {
			t.Fatalf("patient %d's notifications: %v", i, err)
		}
		switch won := strings.Contains(status, "Won"); {
		case won && told:
			t.Errorf("patient %d won (%q) and is told of a loss", i, status)
		case !won:
			lost++
			if !told {
				t.Errorf("patient %d was not drawn (%q) and is not told", i, status)
			}
			b.contains("#notifications", "You were not drawn")
			b.contains("#unread", "1")
			b.shot("lottery-4-not-drawn")
			b.phoneShot("lottery-4-not-drawn-390")
		}
	}
	if lost != 1 {
		t.Errorf("%d patients were not drawn, want 1 of 3 for 2 slots", lost)
	}
}

// TestDrawLeftoversAreNotSoldOut: a draw with fewer entries than slots
// holds what it left for the waitlist's round (drawn.lua). Until that
// round ends those slots are to be handed out, so the patient console's
// card does not read "Sold out" (review15 L1): it says how many are held
// for the waitlist and when they go, and offers the waitlist; the phone
// console's row says the same.
func TestDrawLeftoversAreNotSoldOut(t *testing.T) {
	s := newSiteRounds(t, 10*time.Minute)
	lot := s.addLottery() // two online slots
	sessions := sessionsURL(s.hospital.ID, s.cardiology.ID, lot.VisitDate)
	entrant := s.client()
	entrant.signUpHolder(newPhone(), "correct horse battery", residentID(231), "钱多多")
	ps, err := s.svc.Patients(t.Context(), booking.Actor{AccountID: accountOf(t, s, entrant), Role: booking.RolePatient})
	testenv.Must(t, err, "patients")
	form := url.Values{"csrf": {entrant.csrf(sessions)}, "session_id": {lot.ID}, "patient_id": {ps[0].ID}, "idem": {booking.NewID()}}
	if a := entrant.post("/patient/bookings", form); a.status != 303 || !strings.Contains(a.location, "ok=entered") {
		t.Fatalf("enter: %d → %q\n%s", a.status, a.location, a.body)
	}
	s.offset.Store(int64(11 * time.Minute))
	if n, err := s.svc.RunLottery(t.Context()); err != nil || n != 1 {
		t.Fatalf("the draw: %d pools, %v", n, err)
	}

	other := s.client()
	other.signUpHolder(newPhone(), "correct horse battery", residentID(232), "孙小美")
	page := other.get(sessions)
	card := cardOf(t, page.body, lot.ID)
	for _, bad := range []string{"已约满", "Sold out"} {
		if strings.Contains(card, bad) {
			t.Errorf("the card of a drawn session with a slot held for the waitlist says %q:\n%s", bad, card)
		}
	}
	for _, want := range []string{"1 个号留给候补", "1 slot is held for the waitlist", `action="/patient/waitlist"`} {
		if !strings.Contains(card, want) {
			t.Errorf("the card does not say %q:\n%s", want, card)
		}
	}

	// The phone console decides its row the same way.
	views, err := s.svc.Sessions(t.Context(), s.hospital.ID, lot.VisitDate, s.cardiology.ID)
	testenv.Must(t, err, "sessions")
	testenv.Must(t, s.svc.WaitlistHolds(t.Context(), views), "held for the waitlist")
	for _, v := range views {
		if v.ID != lot.ID {
			continue
		}
		if v.Held != 1 {
			t.Errorf("Held = %d, want the one slot the draw left", v.Held)
		}
		q, _ := v.Channel(booking.ChannelOnline)
		act, why := poolActionOf(v, q, shanghai, s.now())
		if act != poolWaitlist || strings.Contains(why, "Sold out") || !strings.Contains(why, "held for the waitlist") {
			t.Errorf("poolActionOf = %q, %q; want the waitlist, saying a slot is held for it", act, why)
		}
	}
}

// cardOf cuts the session card of id out of the sessions page.
func cardOf(t *testing.T, body, id string) string {
	t.Helper()
	i := strings.Index(body, `id="s-`+id+`"`)
	if i < 0 {
		t.Fatalf("the sessions page has no card for %s:\n%s", id, body)
	}
	card := body[i:]
	if j := strings.Index(card, "</article>"); j >= 0 {
		card = card[:j]
	}
	return card
}

// TestAdminLotteryListCountsEntriesBeforeTheDraw: the admin list's Entered
// is the live count while a pool still takes entries, as the published
// draw says (GET /v1/lottery/sessions/{id}: entered) — it said 0 until the
// draw.
func TestAdminLotteryListCountsEntriesBeforeTheDraw(t *testing.T) {
	s := newSite(t)
	lot := s.addLottery()
	for n, name := range []string{"钱多多", "孙小美"} {
		c := s.client()
		c.signUpHolder(newPhone(), "correct horse battery", residentID(301+n), name)
		ps, err := s.svc.Patients(t.Context(), booking.Actor{AccountID: accountOf(t, s, c), Role: booking.RolePatient})
		testenv.Must(t, err, "patients")
		sessions := sessionsURL(s.hospital.ID, s.cardiology.ID, lot.VisitDate)
		a := c.post("/patient/bookings", url.Values{"csrf": {c.csrf(sessions)}, "session_id": {lot.ID}, "patient_id": {ps[0].ID}, "idem": {booking.NewID()}})
		if a.status != 303 || !strings.Contains(a.location, "ok=entered") {
			t.Fatalf("enter: %d → %q, want 303 with ok=entered\n%s", a.status, a.location, a.body)
		}
	}
	ds, err := s.svc.PublicDrawPage(t.Context(), lot.ID, booking.ChannelOnline, "")
	testenv.Must(t, err, "the published draw")
	if len(ds) != 1 || ds[0].Entered != 2 {
		t.Fatalf("the published draw = %+v, want one pool with 2 entered", ds)
	}
	admin := s.client()
	pw := "admin password 1"
	admin.adminLogin(s.newHospitalAdmin(pw), pw)
	list := admin.get("/admin/lottery")
	row := regexp.MustCompile(`(?s)<tr>\s*<td><b>` + lot.VisitDate + `</b>.*?</tr>`).FindString(list.body)
	// Slots 2, Entered 2, Held out 0, Excluded 0.
	if want := `<td class="num">2</td><td class="num">2</td><td class="num">0</td><td class="num">0</td>`; !strings.Contains(row, want) {
		t.Errorf("the pool's row on /admin/lottery lacks %s (slots, entered, held out, excluded):\n%s", want, row)
	}
}
