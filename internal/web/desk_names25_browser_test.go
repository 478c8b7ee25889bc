package web

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// lookUpByCard looks a person up on the desk's lookup page with their card
// read (number and name), as a card reader gives them.
func lookUpByCard(d *tab, idType, id, name string) {
	d.t.Helper()
	d.open("/desk/lookup")
	d.do("choose the document", chromedp.SetValue(chromedp.CSS("#lookup-form select[name=id_type]"), idType))
	d.fill("#lookup-form input[name=id_number]", id)
	d.fill("#lookup-form input[name=name]", name)
	d.do("say the card was shown", chromedp.Click(chromedp.CSS("#lookup-form input[value=card_shown]")))
	d.click("#lookup-form button[type=submit]", "/desk/lookup")
}

// openDetails opens a <details> of the page.
func openDetails(d *tab, sel string) {
	d.t.Helper()
	if _, err := chromedp.Run(d.ctx, chromedp.Evaluate[bool](`document.querySelector(`+jsString(sel)+`).open = true`)); err != nil {
		d.t.Fatalf("open %s: %v", sel, err)
	}
}

// TestDeskRecordsAFormerNameInBrowser (review24 H3): the lookup page's
// 核验身份 form has the optional 曾用名 field, labelled Chinese first with
// English beside, and what the clerk saw it on (户口簿 or 更名证明) is
// asked for: without it the form is refused with the choice marked and
// nothing recorded; with it, chosen and sent by keyboard, the desk
// records the former name, the audited reason names what was seen, and
// her own account's list entry under the former name takes the card's
// name. Nothing typed is sent back; axe-core passes; 390 px.
func TestDeskRecordsAFormerNameInBrowser(t *testing.T) {
	s := newSite(t)
	axe := axeSource(t)
	id := bornIn(1988, 73)
	own, ownPhone := s.client(), newPhone()
	own.signUpHolder(ownPhone, "correct horse battery", id, "李娜")
	kept := func() int { return s.count(`SELECT count(*) FROM identity_former_names`) }

	d := s.deskTab()
	lookUpByCard(d, "resident_id", id, "李安娜")
	openDetails(d, "details.verify")
	d.contains("#verify-form", "曾用名")
	d.contains("#verify-form", "Former name")
	d.contains("#verify-form", "户口簿")
	d.contains("#verify-form", "更名证明")
	d.fill("#verify-form input[name=former_name]", "李娜")
	d.click("#verify-form button[type=submit]", "/desk/lookup/verify")
	d.contains("#error", "invalid_field")
	if got := fieldState(d, "#verify-form input[name=former_seen][value=household_register]", "true "); got[:5] != "true " {
		t.Errorf("no document said: the 户口簿 choice is %q, want it invalid", got)
	}
	if n := kept(); n != 0 {
		t.Fatalf("%d former names kept after the refusal, want none", n)
	}
	d.hidden(id, "李安娜", ownPhone)
	d.axeClean(axe, "desk lookup, a former name without what was seen")
	d.phoneShot("desk-former-name-refused")

	// By keyboard: the former name, 户口簿 chosen with Space, sent with
	// Enter on the button.
	d.fill("#verify-form input[name=former_name]", "李娜")
	d.tabTo("#verify-form input[name=former_seen][value=household_register]")
	d.do("choose 户口簿", chromedp.KeyEvent(" "))
	d.tabTo("#verify-form button[type=submit]")
	d.press(kb.Enter, "/desk/lookup?")
	d.contains("#flash", "已按证件核验姓名")
	if n := kept(); n != 1 {
		t.Errorf("%d former names kept, want 1", n)
	}
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action = 'identity_verified' AND reason LIKE '%户口簿%'`); n != 1 {
		t.Errorf("%d verifications audited as seen on the 户口簿, want 1", n)
	}
	if n := s.count(`SELECT count(*) FROM patients p JOIN identities i ON i.id = p.identity_id
	                  WHERE p.is_self AND p.name_hash = i.name_hash AND i.name_verified_at IS NOT NULL`); n != 1 {
		t.Errorf("her own account's list entry does not carry the card's name")
	}
	d.hidden(id, "李安娜", ownPhone)
	d.phoneShot("desk-former-name-kept")
}

// TestDeskLinksARenewedPermitInBrowser (review24 L2): the lookup page
// offers 关联同一人的另一证件 for the person looked up by their card: a
// renewed HK/Macau permit (a new number) is linked to the old one once
// both are verified, and only with the box ticked that both cards are in
// hand (refused with the box marked otherwise); a second permit the desk
// never verified is refused with its number marked, in Chinese. By
// keyboard; axe-core; 390 px; nothing typed sent back.
func TestDeskLinksARenewedPermitInBrowser(t *testing.T) {
	s := newSite(t)
	axe := axeSource(t)
	oldNo, newNo, name := "H1234567801", "H12345678", "陈大文"
	d := s.deskTab()
	verify := func(number string) {
		t.Helper()
		lookUpByCard(d, "hk_macau_permit", number, name)
		openDetails(d, "details.verify")
		d.click("#verify-form button[type=submit]", "/desk/lookup?")
		d.contains("#flash", "已按证件核验姓名")
	}
	verify(oldNo)
	linked := func() int { return s.count(`SELECT count(*) FROM identities WHERE person_id IS NOT NULL`) }

	link := func(number string, seen bool, want string) {
		t.Helper()
		openDetails(d, "details.link")
		d.do("choose the permit", chromedp.SetValue(chromedp.CSS("#link-form select[name=id_type]"), "hk_macau_permit"))
		d.fill("#link-form input[name=id_number]", number)
		d.fill("#link-form input[name=name]", name)
		if seen {
			d.tabTo("#link-form input[name=both_seen]")
			d.do("tick both seen", chromedp.KeyEvent(" "))
		}
		d.tabTo("#link-form button[type=submit]")
		d.press(kb.Enter, want)
	}
	// The new permit, never registered nor verified: refused at its number.
	link(newNo, true, "/desk/lookup/link")
	d.contains("#error", "patient_not_found")
	d.contains("#error", "找不到该就诊人")
	if got := fieldState(d, "#link-form input[name=id_number]", "true "); got[:5] != "true " {
		t.Errorf("an unknown second permit: the number field is %q, want it invalid", got)
	}
	d.hidden(oldNo, newNo, name)
	d.axeClean(axe, "desk lookup, the link refused")
	d.phoneShot("desk-link-unverified")

	verify(newNo)
	lookUpByCard(d, "hk_macau_permit", oldNo, name)
	link(newNo, false, "/desk/lookup/link")
	d.contains("#error", "invalid_field")
	if got := fieldState(d, "#link-form input[name=both_seen]", "true "); got[:5] != "true " {
		t.Errorf("both cards not said to be in hand: the box is %q, want it invalid", got)
	}
	if n := linked(); n != 0 {
		t.Fatalf("%d documents linked after the refusals, want none", n)
	}
	link(newNo, true, "/desk/lookup?")
	d.contains("#flash", "已关联为同一人的两种证件")
	if n := linked(); n != 1 {
		t.Errorf("%d documents linked, want 1", n)
	}
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action = 'identity_linked'`); n != 1 {
		t.Errorf("%d identity_linked audit entries, want 1", n)
	}
	d.hidden(oldNo, newNo, name)
	d.phoneShot("desk-link-linked")
}
