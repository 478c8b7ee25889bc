package web

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"fairslot/internal/booking"
)

// sameBrowser opens another tab of b's browser context: the same operator
// at the same computer, sharing b's cookies (and so its caller).
func (b *tab) sameBrowser() *tab {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	b.t.Cleanup(cancel)
	nb := &tab{t: b.t, ctx: ctx, base: b.base, shots: b.shots}
	nb.do("open another tab", chromedp.Navigate("about:blank"))
	return nb
}

// setCallerID starts a call with the caller's number, document and name,
// the privacy notice read to them and agreed (a new person is booked only
// with it).
func (b *tab) setCallerID(phone, idNumber, name string) {
	b.t.Helper()
	b.fill("#caller-form input[name=phone]", phone)
	b.fill("#caller-form input[name=id_number]", idNumber)
	b.fill("#caller-form input[name=name]", name)
	b.check("#caller-form input[name=privacy_consent]")
	b.click("#caller-form button[type=submit]", "/phone?")
}

// TestPhoneTwoTabsBookTheirOwnCaller (review23 M3): an operator puts caller
// A on hold in one tab and takes caller B in a second tab of the same
// session. A's page, still open, is stale: its Book and Waitlist buttons
// used to act for the one caller of the session's cookie, so Book on A's
// page booked B. Now each form carries the call it was rendered for, and
// the stale page's forms are refused with caller_changed, doing nothing;
// the second tab's page books B.
func TestPhoneTwoTabsBookTheirOwnCaller(t *testing.T) {
	s := newSite(t)
	a := newBrowser(t, s.base, 4*time.Minute)
	a.signIn("phone", s.newOperator("operator password 1"), "operator password 1")
	aID, bID := residentID(4301), residentID(4302)
	a.setCallerID(newPhone(), aID, "孙大娘")
	a.clickText("#dates a", s.tomorrow[5:], "date="+s.tomorrow)
	a.contains("#caller", "孙*娘")
	row := "#s-" + s.open.ID

	b := a.sameBrowser()
	b.open("/phone")
	b.setCallerID(newPhone(), bID, "周大爷")
	b.contains("#caller", "周*爷")

	// A's page, unchanged: Book is refused, and nobody is booked.
	a.click(row+" form.book button", "/phone/bookings")
	a.contains("#error", "caller_changed")
	a.shot("phone-two-tabs-refused")
	if n := s.count(`SELECT count(*) FROM bookings WHERE session_id = $1`, s.open.ID); n != 0 {
		t.Errorf("a Book on caller A's page after caller B was set booked %d people, want none", n)
	}

	// B's own page books B.
	b.clickText("#dates a", s.tomorrow[5:], "date="+s.tomorrow)
	b.click(row+" form.book button", "ok=booked")
	b.contains(".person", "周*爷")
	b.contains(".booking.hl .status", "已预约 Confirmed")
	if n := s.count(`SELECT count(*) FROM bookings b JOIN identities i ON i.id = b.identity_id
		WHERE b.session_id = $1 AND b.status = 'confirmed' AND b.channel = $2 AND i.name_masked = '周*爷'`, s.open.ID, string(booking.ChannelPhone)); n != 1 {
		t.Errorf("got %d phone bookings of B after B's own Book, want 1", n)
	}
}
