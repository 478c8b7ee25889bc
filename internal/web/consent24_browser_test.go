package web

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"fairslot/internal/booking"
	"fairslot/internal/identity"
	"fairslot/internal/testenv"
)

// TestOwnConsentAndListingsInBrowser (review21's leftovers, session 24):
// a child listed on the guardian's consent who is 14 now shows a prompt on
// the family page; booking them without the tick is refused
// person_consent_required on the sessions page; the prompt's box, reached
// and ticked by the keyboard, records the child's own consent (given_by
// person) and the prompt goes. The holder, the desk's verified self, sees
// under 谁把我列为就诊人 the other account that lists them (its number
// masked) and leaves its list: the row is removed and the account told.
// Axe-clean; screenshots at 1280 and 390 px (consent24-*.png).
func TestOwnConsentAndListingsInBrowser(t *testing.T) {
	s := newSite(t)
	src := axeSource(t)
	ctx := context.Background()
	b := newBrowser(t, s.base, 4*time.Minute)
	phone, password := newPhone(), "correct horse battery"
	me := bornIn(1980, int(time.Now().UnixNano()%1000))
	b.register(phone, password)
	b.addSelf(me, "黄丽")
	holder := s.actor(phone, password)
	child, err := s.svc.AddPatient(ctx, holder, booking.AddPatientRequest{IDType: "resident_id", IDNumber: bornIn(time.Now().Year()-10, 517),
		Name: "黄小", Relationship: "child", Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: true}}, booking.Origin{})
	testenv.Must(t, err, "list the child on the guardian's consent")
	if child.ConsentDue == "" {
		t.Fatal("the child's listing asks nothing at 14")
	}
	// Years pass: the listing, made before 14, is asked from the 14th
	// birthday, which was yesterday.
	_, err = s.db.Pool().Exec(ctx, `UPDATE patients SET consent_due_on = $2::DATE WHERE id = $1`, child.ID,
		time.Now().In(booking.StandInLocation()).AddDate(0, 0, -1).Format(time.DateOnly))
	testenv.Must(t, err, "the child turned 14")

	card := "#s-" + s.open.ID
	b.open(sessionsURL(s.hospital.ID, s.cardiology.ID, s.tomorrow))
	b.set(card+" select[name=patient_id]", child.ID)
	b.do("open the booking step", chromedp.Click(chromedp.CSS(card+" form.book details.confirm-step summary")))
	b.click(card+" form.book details.confirm-step button[type=submit]", "/patient/bookings")
	b.contains("#error", "person_consent_required")
	b.contains("#error", "须由本人同意")
	if n := s.count(`SELECT count(*) FROM bookings WHERE patient_id = $1`, child.ID); n != 0 {
		t.Errorf("%d bookings of the child without their own consent", n)
	}

	own := "#own-" + child.ID
	b.open("/patient/family")
	b.contains(own, "已满 14 周岁，须本人同意")
	b.axeClean(src, "the family page with the prompt")
	b.unrequire(own + " input[name=person_consent]")
	b.click(own+" button[type=submit]", "/patient/family/"+child.ID+"/consent")
	b.contains("#error[role=alert]", "person_consent_required")
	if got := b.attr(own+" input[name=person_consent]", "aria-invalid"); got != "true" {
		t.Errorf("the refused box's aria-invalid = %q, want true", got)
	}
	b.shot("consent24-01-prompt")
	b.phoneShot("consent24-01-prompt-390")
	box := own + " input[name=person_consent]"
	b.open("/patient/family")
	b.tabTo(box)
	b.do("tick the box", chromedp.KeyEvent(" "))
	if !b.isChecked(box) {
		t.Errorf("Space on the focused box left it unticked")
	}
	b.click(own+" button[type=submit]", "/patient/family?ok=own_consent")
	b.absent(own)
	if n := s.count(`SELECT count(*) FROM privacy_consents WHERE patient_id = $1 AND given_by = 'person' AND channel = 'online'`, child.ID); n != 1 {
		t.Errorf("%d own consents of the child recorded, want 1", n)
	}
	if _, err := s.svc.Book(ctx, holder, booking.BookRequest{SessionID: s.open.ID, PatientID: child.ID, Channel: booking.ChannelOnline}); err != nil {
		t.Errorf("the child's booking after their own consent: %v", err)
	}

	// Another account lists the holder; the desk binds the holder's own.
	otherPhone := newPhone()
	_, err = s.svc.CreateAccount(ctx, otherPhone, "other password 1", "", booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, booking.Origin{})
	testenv.Must(t, err, "another account")
	other := s.actor(otherPhone, "other password 1")
	listing, err := s.svc.AddPatient(ctx, other, booking.AddPatientRequest{IDType: "resident_id", IDNumber: me, Name: "黄丽", Relationship: "parent",
		Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}}, booking.Origin{})
	testenv.Must(t, err, "the other account lists the holder")
	b.open("/patient/family")
	b.absent("#listed-by") // not verified yet: nothing shown
	clerk := s.actor(s.newClerk("clerk password 1"), "clerk password 1")
	_, err = s.svc.VerifyIdentity(ctx, clerk, booking.VerifyRequest{IdentityRequest: booking.IdentityRequest{IDType: "resident_id", IDNumber: me, Name: "黄丽"},
		AccountPhone: phone, NumberRung: true})
	testenv.Must(t, err, "the desk binds the holder's account")

	row := "#l-" + listing.ID
	b.open("/patient/family")
	b.contains(row, identity.MaskPhone(otherPhone))
	b.contains(row, "父母")
	if clear, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.querySelector("#listed-by").textContent.includes(`+jsString(otherPhone)+`)`)); err != nil || clear {
		t.Errorf("the listing shows the other account's number in clear: %v (%v)", clear, err)
	}
	b.axeClean(src, "the family page with the accounts that list me")
	b.shot("consent24-02-listed-by")
	b.phoneShot("consent24-02-listed-by-390")
	b.do("open the leave step", chromedp.Click(chromedp.CSS(row+" details.confirm-step summary")))
	b.click(row+" form.leave-listing button[type=submit]", "/patient/family?ok=left_listing")
	b.absent(row)
	if n := s.count(`SELECT count(*) FROM patients WHERE id = $1 AND removed_at IS NOT NULL`, listing.ID); n != 1 {
		t.Error("the other account's listing is not removed in SQL")
	}
	if n := s.count(`SELECT count(*) FROM notifications WHERE account_id = $1 AND kind = 'listing_removed_by_person'`, other.AccountID); n != 1 {
		t.Errorf("the other account got %d notices, want 1", n)
	}
}
