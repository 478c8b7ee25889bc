package web

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestConsentFormsInBrowser (review21 H3): the registration form and the
// family form carry a consent box to the privacy notice (unticked, linked
// to /patient/privacy, naming its version); a sign-up or an added person
// without it is refused on that box (a browser that ignores "required"
// included), and with it the consent is recorded; a child under 14 needs
// the parent's or guardian's box, and is recorded as given so; an account
// with no consent on record is asked after its login, and agrees there.
func TestConsentFormsInBrowser(t *testing.T) {
	s := newSite(t)
	src := axeSource(t)
	ctx := context.Background()
	b := newBrowser(t, s.base, 4*time.Minute)
	phone, password := newPhone(), "correct horse battery"
	consents := func(phoneMasked string) (rows []string) {
		t.Helper()
		r, err := s.db.Pool().Query(ctx, `SELECT c.given_by || ' ' || c.channel || ' ' || c.notice_version || ' ' || (c.patient_id IS NOT NULL)::TEXT
			  FROM privacy_consents c JOIN accounts a ON a.id = c.account_id WHERE a.phone_masked = $1 ORDER BY c.given_at, c.id`, phoneMasked)
		testenv.Must(t, err, "read consents")
		defer r.Close()
		for r.Next() {
			var row string
			testenv.Must(t, r.Scan(&row), "scan")
			rows = append(rows, row)
		}
		return rows
	}
	masked := phone[:3] + "****" + phone[7:]
	v := booking.PrivacyNoticeVersion

	b.open("/patient/register")
	if on := b.isChecked("#register-form input[name=privacy_consent]"); on {
		t.Errorf("the consent box is ticked before the patient ticks it")
	}
	b.contains("#register-form", v)
	b.axeClean(src, "the registration form with its consent box")
	// A browser that ignores "required" (or a hand-made form) sends none.
	b.fill("#register-form input[name=phone]", phone)
	b.fill("#register-form input[name=password]", password)
	b.fill("#register-form input[name=password2]", password)
	b.unrequire("#register-form input[name=privacy_consent]")
	b.click("#register-form button[type=submit]", "/patient/register")
	b.contains("#error[role=alert]", "privacy_consent_required")
	if got := b.attr("#register-form input[name=privacy_consent]", "aria-invalid"); got != "true" {
		t.Errorf("the refused consent box's aria-invalid = %q, want true", got)
	}
	if got := consents(masked); len(got) != 0 {
		t.Fatalf("a refused sign-up recorded %v", got)
	}
	b.fill("#register-form input[name=password]", password)
	b.fill("#register-form input[name=password2]", password)
	b.agree("#register-form")
	b.click("#register-form button[type=submit]", "/patient/family?ok=welcome")
	if got, want := consents(masked), []string{"holder online " + v + " false"}; !slices.Equal(got, want) {
		t.Errorf("consents after the sign-up = %v, want %v", got, want)
	}

	// The family form: a child of 10 without the guardian's box, then with.
	b.open("/patient/family")
	b.contains("#family-form", v)
	child := bornIn(time.Now().Year()-10, 811)
	b.fill("#family-form input[name=id_number]", child)
	b.fill("#family-form input[name=name]", "陈小")
	b.set("#family-form select[name=relationship]", "child")
	b.agree("#family-form")
	b.click("#family-form button[type=submit]", "/patient/family")
	b.contains("#error[role=alert]", "guardian_consent_required")
	if got := b.attr("#family-form input[name=guardian_consent]", "aria-invalid"); got != "true" {
		t.Errorf("the guardian's box aria-invalid = %q, want true", got)
	}
	b.axeClean(src, "the family form refused for the guardian's consent")
	b.agree("#family-form")
	b.check("#family-form input[name=guardian_consent]")
	b.click("#family-form button[type=submit]", "/patient/family?ok=added")
	if got, want := consents(masked), []string{"holder online " + v + " false", "guardian online " + v + " true"}; !slices.Equal(got, want) {
		t.Errorf("consents after adding the child = %v, want %v", got, want)
	}

	// An account with no consent on record: asked after its login.
	_, err := s.db.Pool().Exec(ctx, `UPDATE accounts SET privacy_consent_version = NULL WHERE phone_masked = $1`, masked)
	testenv.Must(t, err, "forget the account's consent")
	f := b.fresh()
	f.open("/patient/login")
	f.fill("#login-form input[name=phone]", phone)
	f.fill("#login-form input[name=password]", password)
	f.click("#login-form button[type=submit]", "/patient/consent")
	f.contains("#consent-why", "个人信息保护说明")
	f.axeClean(src, "the consent page")
	f.shot("consent-01")
	f.agree("#consent-form")
	f.click("#consent-form button[type=submit]", "/patient?ok=consented")
	f.contains("#flash", "consent")
	if got := consents(masked); len(got) != 3 || got[2] != "holder online "+v+" false" {
		t.Errorf("consents after agreeing at login = %v, want a third, the account's", got)
	}
}

// isChecked says whether a checkbox is ticked.
func (b *tab) isChecked(sel string) bool {
	b.t.Helper()
	on, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.querySelector(`+jsString(sel)+`).checked`))
	testenv.Must(b.t, err, "read %s", sel)
	return on
}

// unrequire drops an input's required attribute, as a browser that
// ignores it would submit the form.
func (b *tab) unrequire(sel string) {
	b.t.Helper()
	_, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`(e => (e.required = false, true))(document.querySelector(`+jsString(sel)+`))`))
	testenv.Must(b.t, err, "unrequire %s", sel)
}

// attr reads an attribute of the first element sel matches ("" if none).
func (b *tab) attr(sel, name string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(document.querySelector(`+jsString(sel)+`).getAttribute(`+jsString(name)+`) || "")`))
	testenv.Must(b.t, err, "read %s of %s", name, sel)
	return v
}
