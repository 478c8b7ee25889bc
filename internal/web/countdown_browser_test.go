package web

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"fairslot/internal/booking"
)

// TestReleaseCountdownInBrowser: a session whose online slots open in a few
// seconds shows its release time to the second and a live countdown (the
// console's static script, under a CSP without inline script); when the
// moment comes the booking button appears in the same page, with no reload,
// and books.
func TestReleaseCountdownInBrowser(t *testing.T) {
	s := newSite(t)
	b := newBrowser(t, s.base, 2*time.Minute)
	b.register(newPhone(), "correct horse battery")
	b.addSelf(residentID(7001), "王小明")

	// The session is made once the browser is ready, so that only opening
	// the page has to fit before the release, even on a loaded machine.
	now := time.Now()
	day := time.Date(now.In(shanghai).Year(), now.In(shanghai).Month(), now.In(shanghai).Day()+2, 0, 0, 0, 0, shanghai)
	release := now.Add(10 * time.Second).Truncate(time.Second)
	soon := s.addSession(s.doctors[2], day.Format(time.DateOnly), day.Add(8*time.Hour), day.Add(12*time.Hour),
		booking.ChannelQuota{Channel: booking.ChannelOnline, Quota: 2, ReleaseAt: release})
	b.open(sessionsPath(s.hospital.ID, s.dermatology.ID, day.Format(time.DateOnly)))
	card := "#s-" + soon.ID
	b.contains(card+" .opening", "未放号 Opens "+release.In(shanghai).Format("01-02 15:04:05"))
	b.contains(card+" .opening .countdown", "还有")
	if hidden, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.querySelector(`+jsString(card+" form.book")+`).hidden`)); err != nil || !hidden {
		t.Errorf("the booking form is shown before the release (hidden=%v, %v)", hidden, err)
	}
	b.shot("countdown-01-waiting")
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`window.fairslotMark = true`)); err != nil {
		t.Fatalf("mark the page: %v", err)
	}
	b.do("wait for the release", chromedp.WaitVisible(chromedp.CSS(card+" form.book details.confirm-step summary")))
	if same, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`window.fairslotMark === true`)); err != nil || !same {
		t.Errorf("the page reloaded to show the booking button (%v)", err)
	}
	if time.Now().Before(release) {
		t.Errorf("the booking button appeared at %v, before the release at %v", time.Now(), release)
	}
	b.absent(card + " .opening:not([hidden])")
	b.shot("countdown-02-open")
	b.phoneShot("countdown-02-open-390")
	b.confirmBook(card)
	b.contains("#flash", "Booked")
	b.contains("#bookings .booking.hl", "王芳 Wang Fang")
}
