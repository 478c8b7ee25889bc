package web

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"fairslot/internal/testenv"
)

// TestDeskRecordsADeathInBrowser (review24 M2, session 25): the desk had
// no form for 患者已故 (only the API). A clerk, by keyboard alone, enters
// the card, picks the evidence (radio buttons in a fieldset with its
// legend) and who came; the confirmation step says what will be withdrawn
// (one booking) before anything is; the act's answer counts it; the
// booking is cancelled (deceased) and the death audited. The ID number
// and name are never on the pages. axe-core clean; a 390 px screenshot.
func TestDeskRecordsADeathInBrowser(t *testing.T) {
	s := newSite(t)
	axe := axeSource(t)
	today := s.addToday()
	phone, id, name := newPhone(), bornIn(1941, 61), "秦德林"
	c := s.client()
	c.signUpHolder(phone, "a family password 1", id, name)
	var patientID string
	testenv.Must(t, s.db.Pool().QueryRow(t.Context(), `SELECT id::TEXT FROM patients WHERE is_self LIMIT 1`).Scan(&patientID), "the patient")
	c.book(today.ID, patientID)

	d := s.deskTab()
	d.click(`nav a[href="/desk/accounts"]`, "/desk/accounts") // the rarer acts are linked from 账号服务
	d.click(`#more-acts a[href="/desk/deaths"]`, "/desk/deaths")
	d.contains("main h1", "患者已故")
	d.contains("#death-form fieldset legend", "所见证明")
	d.axeClean(axe, "desk deaths form")

	// Keyboard only: Tab to each field, type, Space on the radio button.
	focused(d, "#death-form input[name=id_number]") // autofocus
	d.do("type the number", chromedp.KeyEvent(id))
	d.typeIn("#death-form input[name=name]", name)
	d.tabTo("#death-form input[name=evidence][value=death_certificate]")
	d.do("choose the certificate", chromedp.KeyEvent(" "))
	d.typeIn("#death-form input[name=reason]", "女儿持死亡医学证明到窗口")
	d.set("#death-form select[name=typed_reason]", "card_damaged") // typed, and why: the act states it
	d.tabTo("#death-form button[type=submit]")
	d.press(kb.Enter, "/desk/deaths/preview")
	d.contains("#death-confirm-box", "预约 1 个")
	d.contains("#death-confirm-box", "死亡医学证明")
	d.hidden(id, name)
	if n := s.count(`SELECT count(*) FROM bookings WHERE patient_id = $1 AND status = 'confirmed'`, patientID); n != 1 {
		t.Errorf("after the confirmation step %d bookings are confirmed, want the 1 still", n)
	}
	d.axeClean(axe, "desk deaths confirmation")
	d.phoneShot("desk-death-confirm-390")

	focused(d, "#death-confirm button[type=submit]") // autofocus: the step's one act
	d.press(kb.Enter, "/desk/deaths")
	d.contains("#flash", "撤销预约 1 个")
	d.contains("#death-done", "预约 1 个")
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action = 'identity_deceased' AND reason LIKE '%number typed by the clerk, reason card_damaged%'`); n != 1 {
		t.Errorf("%d death audit rows state the clerk's reason for typing the number, want 1", n)
	}
	d.hidden(id, name)
	d.axeClean(axe, "desk death recorded")
	if n := s.count(`SELECT count(*) FROM bookings WHERE patient_id = $1 AND status = 'cancelled'`, patientID); n != 1 {
		t.Errorf("cancelled bookings of the deceased = %d, want 1", n)
	}
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action = 'identity_deceased' AND reason LIKE '%death_certificate%'`); n != 1 {
		t.Errorf("identity_deceased audit entries = %d, want 1", n)
	}

	// Recorded in error: the hospital's administrator lifts it from the
	// death's row in the audit log, with a reason.
	a := s.hospitalAdminTab()
	a.click(`nav a[href="/admin/audit"]`, "/admin/audit")
	row := "#audit tr.a-identity_deceased"
	a.do("open the lift", chromedp.Click(chromedp.CSS(row+" details.lift-death summary")))
	a.axeClean(axe, "admin audit with the lift open")
	a.fill(row+" details.lift-death input[name=reason]", "本人到窗口，系认错人")
	a.click(row+" details.lift-death button[type=submit]", "/admin/audit?ok=death_lifted&told=1")
	a.contains("#flash", "已撤销误登记的已故")
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action = 'identity_death_lifted'`); n != 1 {
		t.Errorf("identity_death_lifted audit entries = %d, want 1", n)
	}
	if n := s.count(`SELECT count(*) FROM identities WHERE deceased_at IS NOT NULL`); n != 0 {
		t.Errorf("identities still deceased after the lift = %d, want 0", n)
	}
	if n := s.count(`SELECT count(*) FROM notifications WHERE kind = 'death_lifted'`); n != 1 {
		t.Errorf("death_lifted notices = %d, want 1 (the holder's account)", n)
	}
}

// focused fails unless the focus is on sel.
func focused(b *tab, sel string) {
	b.t.Helper()
	at, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`!!document.activeElement && document.activeElement.matches(`+jsString(sel)+`)`))
	testenv.Must(b.t, err, "where is the focus")
	if !at {
		b.t.Fatalf("the focus is not on %s", sel)
	}
}
