package web

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"fairslot/internal/booking"
	"fairslot/internal/identity"
	"fairslot/internal/testenv"
)

// TestMadeForYouByOthersInBrowser: another account adds the patient's ID
// number under a name of its own and books them. The patient's bookings
// page shows nothing of it while their self is unverified; once the desk
// verifies them, it lists the booking under "made for you by other
// accounts" with the maker's phone masked (before, booking that session is
// refused person_booked_elsewhere). The patient's notifications tell of
// it, the maker's phone masked, with a link to its card there; the
// patient follows it, cancels the booking with the form (no script
// needed) and then books the same session themself. A waitlist place the
// maker made for them leads from its notice to its own card, where they
// leave it. Screenshots at 1280 and 390 px (made-by-others-*.png).
func TestMadeForYouByOthersInBrowser(t *testing.T) {
	s := newSite(t)
	ctx := t.Context()
	b := newBrowser(t, s.base, 2*time.Minute)
	phone, makerPhone := newPhone(), newPhone()
	idNumber := bornIn(1986, int(time.Now().UnixNano()%1000))
	b.register(phone, "correct horse battery")
	b.addSelf(idNumber, "陈芳")

	_, err := s.svc.CreateAccount(ctx, makerPhone, "maker password 1", "", booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, booking.Origin{})
	testenv.Must(t, err, "the maker's account")
	maker := s.actor(makerPhone, "maker password 1")
	// The maker gives the patient's true name: what another account made
	// under a name the desk disproves is void once it verifies the card
	// (docs/security.md), not shown to the person to cancel.
	p, err := s.svc.AddPatient(ctx, maker, booking.AddPatientRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, IDType: "resident_id", IDNumber: idNumber, Name: "陈芳"}, booking.Origin{})
	testenv.Must(t, err, "the maker adds the patient")
	made, err := s.svc.Book(ctx, maker, booking.BookRequest{SessionID: s.open.ID, PatientID: p.ID, Channel: booking.ChannelOnline})
	testenv.Must(t, err, "the maker books the patient")

	b.open("/patient/bookings")
	b.absent("#made-by-others")
	b.absent("#ob-" + made.ID)

	// Booking the session the maker booked them in, the patient is refused
	// with the one answer that tells nothing of what or where
	// (person_booked_elsewhere), in Chinese and English.
	card := "#s-" + s.open.ID
	b.open(sessionsURL(s.hospital.ID, s.cardiology.ID, s.tomorrow))
	b.do("open the booking step", chromedp.Click(chromedp.CSS(card+" form.book details.confirm-step summary")))
	b.click(card+" form.book details.confirm-step button[type=submit]", "/patient/bookings")
	b.contains("#error", "person_booked_elsewhere")
	b.contains("#error", "若不是本账号办理的，本人持身份证到挂号窗口核验后，可在自己的账户中查看并取消")
	b.contains("#error", "the person can see and cancel it from their own account once the registration desk has verified them")
	b.shot("made-by-others-00-refused")

	clerk := s.actor(s.newClerk("clerk password 1"), "clerk password 1")
	_, err = s.svc.VerifyIdentity(ctx, clerk, booking.VerifyRequest{
		IdentityRequest: booking.IdentityRequest{IDType: "resident_id", IDNumber: idNumber, Name: "陈芳"}, AccountPhone: phone, NumberRung: true})
	testenv.Must(t, err, "the desk verifies the patient")

	// The notify job tells the patient's own account, now their verified
	// self: the notice names the maker by its phone masked, nothing more,
	// and leads to the booking's card among what others made, highlighted,
	// and to the report form.
	_, err = s.svc.NotifyEvents(ctx)
	testenv.Must(t, err, "notify")
	var notice string
	testenv.Must(t, s.db.Pool().QueryRow(ctx, `SELECT id FROM notifications WHERE kind = $1 AND booking_id = $2`,
		booking.NotificationMadeByOther, made.ID).Scan(&notice), "the patient's notice of the maker's booking")
	b.open("/patient")
	b.contains("#n-"+notice, "另一账号（"+identity.MaskPhone(makerPhone)+"）")
	b.contains("#n-"+notice, "If you did not ask for it, cancel it under My bookings")
	b.contains("#n-"+notice+" a.report", "举报 Report it")
	if clear, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.querySelector("#notifications").textContent.includes(`+jsString(makerPhone)+`)`)); err != nil || clear {
		t.Errorf("the notifications show the maker's phone in clear: %v (%v)", clear, err)
	}
	b.shot("made-by-others-01-told")
	b.phoneShot("made-by-others-01-told-390")
	b.click("#n-"+notice+" a.see", "/patient/bookings?id="+made.ID)
	b.contains("#ob-"+made.ID+".hl .made-by", identity.MaskPhone(makerPhone))
	b.contains("#ob-"+made.ID, "李明")
	b.shot("made-by-others-02-listed")
	b.phoneShot("made-by-others-02-listed-390")
	// Tomorrow's visit: past 15:00 today the cancellation is late (what the
	// test is about holds either way).
	cancelled := "&ok=cancelled"
	if s.hospitalLate(s.tomorrow) {
		cancelled = "&ok=cancelled_late"
	}
	b.click("#ob-"+made.ID+" form.cancel button", "/patient/bookings?id="+made.ID+cancelled)
	if n := s.count(`SELECT count(*) FROM bookings WHERE id = $1 AND status = 'cancelled'`, made.ID); n != 1 {
		t.Errorf("the maker's booking is not cancelled in SQL after the patient's cancel")
	}
	b.absent("#ob-" + made.ID + " form.cancel")

	self := s.actor(phone, "correct horse battery")
	ps, err := s.svc.Patients(ctx, self)
	testenv.Must(t, err, "the patient's list")
	if _, err := s.svc.Book(ctx, self, booking.BookRequest{SessionID: s.open.ID, PatientID: ps[0].ID, Channel: booking.ChannelOnline}); err != nil {
		t.Errorf("the patient books the session themself after the cancel: %v", err)
	}

	// The maker puts the patient on a sold-out session's waitlist: the
	// notice leads to the place's own card, highlighted, where it is left
	// (lows17: it led to the list, the event naming no place).
	tiny := s.addTiny()
	fillerPhone := newPhone()
	_, err = s.svc.CreateAccount(ctx, fillerPhone, "filler password 1", "", booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, booking.Origin{})
	testenv.Must(t, err, "another patient's account")
	filler := s.actor(fillerPhone, "filler password 1")
	fp, err := s.svc.AddPatient(ctx, filler, booking.AddPatientRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, IDType: "resident_id",
		IDNumber: bornIn(1990, int(time.Now().UnixNano()%1000)), Name: "周杰"}, booking.Origin{})
	testenv.Must(t, err, "another patient")
	_, err = s.svc.Book(ctx, filler, booking.BookRequest{SessionID: tiny.ID, PatientID: fp.ID, Channel: booking.ChannelOnline})
	testenv.Must(t, err, "another patient takes the session's one slot")
	place, err := s.svc.JoinWaitlist(ctx, maker, booking.JoinWaitlistRequest{SessionID: tiny.ID, PatientID: p.ID})
	testenv.Must(t, err, "the maker puts the patient on the waitlist")
	_, err = s.svc.NotifyEvents(ctx)
	testenv.Must(t, err, "notify the place")
	var placeNotice string
	testenv.Must(t, s.db.Pool().QueryRow(ctx, `SELECT id FROM notifications WHERE kind = $1 AND waitlist_id = $2`,
		booking.NotificationMadeByOther, place.ID).Scan(&placeNotice), "the patient's notice of the maker's waitlist place")
	b.open("/patient")
	b.contains("#n-"+placeNotice, "put you on the waitlist")
	b.click("#n-"+placeNotice+" a.see", "/patient/bookings?id="+place.ID)
	b.contains("#ow-"+place.ID+".hl .made-by", identity.MaskPhone(makerPhone))
	b.click("#ow-"+place.ID+" form.cancel button", "/patient/bookings?id="+place.ID+"&ok=left")
	if n := s.count(`SELECT count(*) FROM waitlist WHERE id = $1 AND status = 'cancelled'`, place.ID); n != 1 {
		t.Errorf("the maker's waitlist place is not left in SQL after the patient's leave")
	}
}
