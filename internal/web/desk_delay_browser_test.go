package web

import (
	"testing"

	"github.com/chromedp/chromedp"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestDeskDelayInBrowser: the desk sees a doctor running late and tells
// today's clinic's patients from Today (a clerk may announce the visit
// day's delay, never the room): the row says the delay, the session keeps
// it, the booked patient is told in their notifications, and a form sent
// from a stale version is refused in Chinese with the form open again.
// axe-core on Today with the form; screenshots desk-delay-*.png at 1280
// and 390 px.
func TestDeskDelayInBrowser(t *testing.T) {
	s := newSite(t)
	ctx := t.Context()
	src := axeSource(t)
	today := s.addToday()
	consent := booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}
	phone := newPhone()
	_, err := s.svc.CreateAccount(ctx, phone, "patient password 1", "", consent, booking.Origin{})
	testenv.Must(t, err, "create the patient")
	pa := s.actor(phone, "patient password 1")
	p, err := s.svc.AddPatient(ctx, pa, booking.AddPatientRequest{Consent: consent, IDType: "resident_id",
		IDNumber: residentID(int(s.now().UnixNano() % 8000)), Name: "邓丽", IsSelf: true}, booking.Origin{})
	testenv.Must(t, err, "add self")
	_, err = s.svc.Book(ctx, pa, booking.BookRequest{SessionID: today.ID, PatientID: p.ID, Channel: booking.ChannelOnline})
	testenv.Must(t, err, "book today's clinic")

	d := s.deskTab()
	row := "#s-" + today.ID
	d.do("open the delay form", chromedp.Click(chromedp.CSS(row+" details.delay summary")))
	d.set(row+" .delay-form input[name=delay_minutes]", "20")
	d.fill(row+" .delay-form input[name=reason]", "医生手术延迟 The doctor is in surgery")
	d.axeClean(src, "Today with the delay form open")
	d.shot("desk-delay-01-form")
	// Another change lands first: the form's version is stale.
	cur, ok := s.svc.Catalog().Session(today.ID)
	if !ok {
		t.Fatal("today's session is not in the catalog")
	}
	_, err = s.svc.AnnounceSession(ctx, s.actor(s.newClerk("clerk password 2"), "clerk password 2"), today.ID,
		booking.AnnounceRequest{DelayMinutes: ptr(5), Reason: "稍晚开诊", Version: cur.Version})
	testenv.Must(t, err, "another clerk's delay")
	d.click(row+" .delay-form button[type=submit]", "/desk/sessions/"+today.ID+"/delay")
	d.contains("#error", "已被他人修改")
	d.contains(row+" details.delay[open] summary", "延迟开诊")
	d.contains("#delay-note-"+today.ID, "延迟 5 分钟")
	d.set(row+" .delay-form input[name=delay_minutes]", "20")
	d.fill(row+" .delay-form input[name=reason]", "医生手术延迟 The doctor is in surgery")
	d.click(row+" .delay-form button[type=submit]", "/desk?ok=delayed&s="+today.ID)
	d.contains("#delay-note-"+today.ID, "延迟 20 分钟")
	d.axeClean(src, "Today after a delay")
	d.shot("desk-delay-02-told")
	d.phoneShot("desk-delay-02-told-390")
	if n := s.count(`SELECT delay_minutes FROM clinic_sessions WHERE id = $1`, today.ID); n != 20 {
		t.Errorf("the session's delay = %d minutes, want 20", n)
	}
	if n := s.count(`SELECT count(*) FROM notifications WHERE account_id = $1 AND body LIKE '%20%'`, pa.AccountID); n < 1 {
		t.Errorf("%d notifications of the 20-minute delay to the booked patient, want one", n)
	}
}

func ptr[T any](v T) *T { return &v }
