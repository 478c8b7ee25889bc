package web

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"fairslot/internal/booking"
	"fairslot/internal/identity"
	"fairslot/internal/testenv"
)

// TestDeskListingsInBrowser (session 25): the desk's 谁列了此人 page. A
// person at the window with their ID card: the clerk types the card, the
// page lists the accounts that list them, each number masked; leaving one
// goes through a confirm step reached and answered by the keyboard, and
// the listing is removed in SQL, its account told, both read and removal
// audited. A card nobody registered is refused with the number marked.
// Nothing typed is sent back or shown in clear; axe-core clean; 390 px.
func TestDeskListingsInBrowser(t *testing.T) {
	s := newSite(t)
	ctx := t.Context()
	axe := axeSource(t)
	id, name := bornIn(1984, 74), "冯思远"
	lists := func(rel string) (string, booking.Actor, booking.Patient) {
		phone := newPhone()
		_, err := s.svc.CreateAccount(ctx, phone, "other password 1", "", booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, booking.Origin{})
		testenv.Must(t, err, "an account")
		a := s.actor(phone, "other password 1")
		p, err := s.svc.AddPatient(ctx, a, booking.AddPatientRequest{IDType: "resident_id", IDNumber: id, Name: name, Relationship: rel,
			Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}}, booking.Origin{})
		testenv.Must(t, err, "the account lists the person")
		return phone, a, p
	}
	phoneA, accountA, listingA := lists("spouse")
	phoneB, _, listingB := lists("parent")

	d := s.deskTab()
	d.open("/desk/listings")
	d.fill("#listings-form input[name=id_number]", bornIn(1984, 75))
	d.fill("#listings-form input[name=name]", name)
	d.click("#listings-form button[type=submit]", "/desk/listings")
	d.contains("#error", "patient_not_found")
	if got := d.attr("#listings-form input[name=id_number]", "aria-invalid"); got != "true" {
		t.Errorf("the unknown card's number field: aria-invalid = %q, want true", got)
	}
	d.absent("#listings")

	d.fill("#listings-form input[name=id_number]", id)
	d.fill("#listings-form input[name=name]", name)
	d.click("#listings-form button[type=submit]", "/desk/listings")
	rowA, rowB := "#l-"+listingA.ID, "#l-"+listingB.ID
	d.contains(rowA, identity.MaskPhone(phoneA))
	d.contains(rowA, "配偶")
	d.contains(rowB, identity.MaskPhone(phoneB))
	d.hidden(id, name, phoneA, phoneB)
	d.axeClean(axe, "desk listings, the accounts that list the person")
	d.shot("desk-listings-01")
	d.phoneShot("desk-listings-01-390")

	d.tabTo(rowA + " a.button")
	d.press(kb.Enter, "/desk/listings?confirm="+listingA.ID)
	d.contains(rowA+" form.leave-listing", "确认让本人退出账号")
	focused, err := chromedp.Run(d.ctx, chromedp.Evaluate[bool](`document.activeElement.matches(`+jsString(rowA+" form.leave-listing button[type=submit]")+`)`))
	if err != nil || !focused {
		t.Errorf("the confirm step's button has not the focus: %v (%v)", focused, err)
	}
	if n := s.count(`SELECT count(*) FROM patients WHERE id = $1 AND removed_at IS NOT NULL`, listingA.ID); n != 0 {
		t.Fatal("the listing is removed before the confirm step was answered")
	}
	d.axeClean(axe, "desk listings, the confirm step")
	d.phoneShot("desk-listings-02-confirm-390")
	d.press(kb.Enter, "/desk/listings?ok=left_listing")
	d.contains("#flash", "已退出该账号的就诊人列表")
	d.absent(rowA)
	d.contains(rowB, identity.MaskPhone(phoneB))
	if n := s.count(`SELECT count(*) FROM patients WHERE id = $1 AND removed_at IS NOT NULL`, listingA.ID); n != 1 {
		t.Error("the listing is not removed in SQL")
	}
	if n := s.count(`SELECT count(*) FROM patients WHERE id = $1 AND removed_at IS NULL`, listingB.ID); n != 1 {
		t.Error("the other listing went too")
	}
	if n := s.count(`SELECT count(*) FROM notifications WHERE account_id = $1 AND kind = 'listing_removed_by_person'`, accountA.AccountID); n != 1 {
		t.Errorf("the account got %d notices, want 1", n)
	}
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action = 'listing_removed_by_person' AND target = $1`, "patient:"+listingA.ID); n != 1 {
		t.Errorf("%d audit entries of the removal, want 1", n)
	}
	if n := s.count(`SELECT count(*) FROM audit_log WHERE action = 'person_listings_read'`); n < 2 {
		t.Errorf("%d audit entries of the reads, want one a read", n)
	}
	d.hidden(id, name, phoneA, phoneB)

	d.click("#next-person", "/desk/listings")
	d.absent("#listings")
}
