package web

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestStaffConsentFormsInBrowser (review21 H3, session 23): the phone
// console's caller form and the desk's walk-in form carry the person's
// consent to the privacy notice — the operator reads the notice out and
// ticks that the caller agreed; the clerk ticks that the walk-in signed.
// A first-time person booked without the box is refused on the box
// (privacy_consent_required, aria-invalid), nothing booked; with it, booked
// and recorded with the channel and the staff member. The boxes are
// reached by the keyboard (Tab from the name field), axe-clean, and the
// pages fit 390 px (screenshots staff-consent-*.png).
func TestStaffConsentFormsInBrowser(t *testing.T) {
	s := newSite(t)
	src := axeSource(t)
	today := s.addToday()
	consents := func(channel string) int {
		return s.count(`SELECT count(*) FROM privacy_consents WHERE channel = $1 AND staff_id IS NOT NULL AND identity_id IS NOT NULL
			AND account_id IS NULL AND given_by = 'holder'`, channel)
	}

	password := "operator password 1"
	op := newBrowser(t, s.base, 3*time.Minute)
	op.signIn("phone", s.newOperator(password), password)
	callerID, callerName := residentID(8801), "郑大爷"
	ring := func(agree bool) {
		t.Helper()
		op.fill("#caller-form input[name=phone]", "13700008801")
		op.fill("#caller-form input[name=id_number]", callerID)
		op.fill("#caller-form input[name=name]", callerName)
		if agree { // by the keyboard: Tab to the box, Space ticks it
			box := "#caller-form input[name=privacy_consent]"
			op.tabTo(box)
			op.do("tick the box", chromedp.KeyEvent(" "))
			if !op.isChecked(box) {
				t.Errorf("Space on the focused consent box left it unticked")
			}
		}
		op.click("#caller-form button[type=submit]", "/phone?")
	}
	ring(false)
	op.contains("#caller-privacy", "您同意吗")
	op.clickText("#dates a", s.tomorrow[5:], "date="+s.tomorrow)
	row := "#s-" + s.open.ID
	op.click(row+" form.book button", "/phone/bookings")
	op.contains("#error[role=alert]", "privacy_consent_required")
	if got := op.attr("#caller-form input[name=privacy_consent]", "aria-invalid"); got != "true" {
		t.Errorf("the caller form's consent box aria-invalid = %q, want true", got)
	}
	op.axeClean(src, "the caller form refused for the consent")
	op.phoneShot("staff-consent-01-phone-390")
	if n := s.count(`SELECT count(*) FROM bookings WHERE channel = 'phone'`); n != 0 {
		t.Fatalf("%d phone bookings after the refusal, want none", n)
	}
	ring(true)
	op.contains("#caller-consented", "口头同意")
	op.clickText("#dates a", s.tomorrow[5:], "date="+s.tomorrow)
	op.click(row+" form.book button", "ok=booked")
	op.contains("#flash", "Booked")
	if n := consents("phone"); n != 1 {
		t.Errorf("%d consents taken by phone, want 1", n)
	}

	password = "clerk password 1"
	desk := op.fresh()
	desk.open("/")
	desk.signIn("desk", s.newClerk(password), password)
	desk.open("/desk/walkin?s=" + today.ID)
	walkID, walkName := residentID(8802), "郑大妈"
	desk.fill("#walkin-form input[name=id_number]", walkID)
	desk.fill("#walkin-form input[name=name]", walkName)
	desk.click("#walkin-form button[type=submit]", "/desk/bookings")
	desk.contains("#error[role=alert]", "privacy_consent_required")
	if got := desk.attr("#walkin-form input[name=privacy_consent]", "aria-invalid"); got != "true" {
		t.Errorf("the walk-in form's consent box aria-invalid = %q, want true", got)
	}
	desk.axeClean(src, "the walk-in form refused for the consent")
	desk.phoneShot("staff-consent-02-desk-390")
	desk.fill("#walkin-form input[name=id_number]", walkID)
	desk.fill("#walkin-form input[name=name]", walkName)
	desk.check("#walkin-form input[name=privacy_consent]")
	desk.click("#walkin-form button[type=submit]", "ok=walkin")
	if n := consents("desk"); n != 1 {
		t.Errorf("%d consents taken at the desk, want 1", n)
	}
}
