package web

import (
	"net/url"
	"testing"

	"github.com/chromedp/chromedp"

	"fairslot/internal/booking"
)

// TestDeskBindsOnlyWithTheNumberRungInBrowser (review24 H1, H2): on the
// lookup page's 核验身份 · 绑定本人账户 form, a phone binds the card's
// person's own account only with the box ticked that the clerk rang that
// number and it rang in the card's person's hand (refused with the box
// marked otherwise), and never an account that lists the person as family
// (子女 here: a parent's account), whatever the box says; the refusal is
// tied to the phone and explained in Chinese. Nothing typed is sent back;
// the page passes axe-core and fits 390 px. The holder's consent to the
// privacy notice, ticked at the binding, is recorded (session 25).
func TestDeskBindsOnlyWithTheNumberRungInBrowser(t *testing.T) {
	s := newSite(t)
	axe := axeSource(t)
	id, name := bornIn(1990, 71), "郑思远"
	own, ownPhone := s.client(), newPhone()
	own.signUpHolder(ownPhone, "correct horse battery", id, name)
	kin, kinPhone := s.client(), newPhone()
	kin.signUpHolder(kinPhone, "correct horse battery", bornIn(1960, 72), "郑大山")
	if a := kin.post("/patient/family", url.Values{"csrf": {kin.csrf("/patient/family")}, "id_type": {"resident_id"}, "id_number": {id},
		"name": {name}, "relationship": {"child"}, "idem": {booking.NewID()}, "privacy_consent": {PrivacyNoticeVersion}}); a.status != 303 {
		t.Fatalf("the father lists his son as 子女: %d\n%s", a.status, a.body)
	}
	bound := func() int {
		return s.count(`SELECT count(*) FROM patients WHERE self_verified_at IS NOT NULL`)
	}

	d := s.deskTab()
	d.open("/desk/lookup")
	d.fill("#lookup-form input[name=id_number]", id)
	d.do("say the card was shown", chromedp.Click(chromedp.CSS("#lookup-form input[value=card_shown]")))
	d.click("#lookup-form button[type=submit]", "/desk/lookup")
	verify := func(phone string, rung bool, want string) {
		t.Helper()
		if _, err := chromedp.Run(d.ctx, chromedp.Evaluate[bool](`document.querySelector("details.verify").open = true`)); err != nil {
			t.Fatalf("open the verify form: %v", err)
		}
		d.fill("#verify-form input[name=name]", name)
		d.fill("#verify-form input[name=account_phone]", phone)
		if rung {
			d.check("#verify-form input[name=number_rung]")
		}
		d.click("#verify-form button[type=submit]", want)
	}

	verify(kinPhone, true, "/desk/lookup/verify")
	d.contains("#error", "listed_as_family")
	d.contains("#error", "家人不是账号本人")
	if got := fieldState(d, "#verify-form input[name=account_phone]", "true "); got[:5] != "true " {
		t.Errorf("the father's account refused: the phone field is %q, want it invalid", got)
	}
	d.phoneShot("desk-bind-family-refused")

	verify(ownPhone, false, "/desk/lookup/verify")
	d.contains("#error", "invalid_field")
	if got := fieldState(d, "#verify-form input[name=number_rung]", "true "); got[:5] != "true " {
		t.Errorf("no number rung: the box is %q, want it invalid", got)
	}
	if n := bound(); n != 0 {
		t.Fatalf("after the refusals %d bound selves, want none", n)
	}
	d.hidden(id, name, kinPhone, ownPhone)
	d.axeClean(axe, "desk lookup, the binding refused")

	// The holder signed the privacy notice at the window (session 25).
	d.check("#verify-form input[name=privacy_consent]")
	verify(ownPhone, true, "/desk/lookup?")
	d.contains("#flash", "已核验，并绑定为患者本人账户")
	if n := bound(); n != 1 {
		t.Errorf("%d bound selves after the proved binding, want 1", n)
	}
	if n := s.count(`SELECT count(*) FROM privacy_consents WHERE channel = 'desk' AND given_by = 'holder' AND account_id IS NOT NULL
		AND patient_id IS NULL AND staff_id IS NOT NULL`); n != 1 {
		t.Errorf("%d desk consents of the account after the binding with the box ticked, want 1", n)
	}
	d.hidden(id, name, ownPhone)
	d.phoneShot("desk-bind-bound")
}
