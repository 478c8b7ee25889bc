package web

import (
	"net/url"
	"regexp"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestCallBackNumberLabel: the call-back list labels a row's number by how
// it was kept — 来电号码 (the number a caller rang from) or 联系电话 (the
// contact number a walk-in left at the desk) — not by the booking's
// channel: a phone caller's waitlist place served with a walk-in's returned
// on-site slot is on the on-site channel, and its number is still the
// caller's.
func TestCallBackNumberLabel(t *testing.T) {
	s := newSite(t)
	ctx := t.Context()
	pass := "staff password 1"
	opPhone := s.newOperator(pass)
	op, clerk := s.actor(opPhone, pass), s.actor(s.newClerk(pass), pass)
	admin := s.actor(s.newHospitalAdmin(pass), pass)
	doc := booking.Doctor{ID: booking.NewID(), HospitalID: s.hospital.ID, DepartmentID: s.cardiology.ID, Name: "李娜 Li Na", Title: "主治医师 Attending"}
	testenv.Must(t, s.svc.SaveSchedule(ctx, booking.Schedule{Doctors: []booking.Doctor{doc}}), "save doctor")
	now := s.now()
	sess := s.addSession(doc, now.In(shanghai).Format(time.DateOnly), now.Add(30*time.Minute), now.Add(4*time.Hour),
		booking.ChannelQuota{Channel: booking.ChannelPhone, Quota: 1, ReleaseAt: now.Add(-time.Hour)},
		booking.ChannelQuota{Channel: booking.ChannelOnsite, Quota: 2, ReleaseAt: now.Add(-time.Hour)})
	person := func(n int, name string) booking.IdentityRequest {
		return booking.IdentityRequest{IDType: "resident_id", IDNumber: residentID(n), Name: name}
	}
	book := func(who booking.IdentityRequest, a booking.Actor, ch booking.Channel, caller, contact string) booking.Booking {
		t.Helper()
		b, err := s.svc.BookFor(ctx, a, booking.StaffBookRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: true}, IdentityRequest: who, SessionID: sess.ID, Channel: ch,
			CallerPhone: caller, ContactPhone: contact})
		testenv.Must(t, err, "book on %s", ch)
		return b
	}
	book(person(8801, "王芳"), op, booking.ChannelPhone, "13812345678", "")
	leaves := book(person(8802, "钱阿婆"), clerk, booking.ChannelOnsite, "", "13566667777")
	walkIn := book(person(8803, "冯某"), clerk, booking.ChannelOnsite, "", "13566668888")
	place, err := s.svc.JoinWaitlistFor(ctx, op, booking.StaffWaitlistRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, IdentityRequest: person(8804, "陈静"),
		SessionID: sess.ID, CallerPhone: "13900001111"})
	testenv.Must(t, err, "waitlist a caller")
	_, err = s.svc.Cancel(ctx, clerk, leaves.ID, booking.Origin{})
	testenv.Must(t, err, "the walk-in leaves")
	if n := s.count(`SELECT count(*) FROM bookings WHERE id = $1 AND channel = 'onsite' AND status = 'confirmed'`, place.ID); n != 1 {
		t.Fatalf("the caller's place is not served with the on-site slot")
	}
	_, err = s.svc.StopSession(ctx, admin, sess.ID, "医生临时停诊 The doctor is ill")
	testenv.Must(t, err, "stop")

	c := s.client()
	if a := c.post("/phone/login", url.Values{"csrf": {c.csrf("/phone/login")}, "phone": {opPhone}, "password": {pass}}); a.status != 303 {
		t.Fatalf("phone login: %d %s", a.status, a.body)
	}
	page := c.get("/phone/callbacks")
	for _, tt := range []struct {
		name, bookingID, label string
	}{
		{"the served caller", place.ID, "来电号码 Rang from"},
		{"the walk-in", walkIn.ID, "联系电话 Contact number"},
	} {
		var n string
		testenv.Must(t, s.db.Pool().QueryRow(ctx, `SELECT id::TEXT FROM notifications WHERE booking_id = $1 AND kind = 'session_stopped'`,
			tt.bookingID).Scan(&n), "%s's notice", tt.name)
		row := regexp.MustCompile(`(?s)id="cb-` + n + `".*?<p class="dial">\s*<span class="muted">([^<]*)</span>`).FindStringSubmatch(page.body)
		if got := "(no row, or no number)"; row == nil || row[1] != tt.label {
			if row != nil {
				got = row[1]
			}
			t.Errorf("%s's number is labelled %q, want %q", tt.name, got, tt.label)
		}
	}
}

// TestEveryOfferStateHasALabel: the call-back list names every state an
// offer can read as (StateAt) — withdrawn too, when the substitute's clinic
// was stopped in turn (review17) — never an empty cell.
func TestEveryOfferStateHasALabel(t *testing.T) {
	for _, st := range []string{booking.OfferOpen, booking.OfferAccepted, booking.OfferDeclined, booking.OfferLapsed, booking.OfferWithdrawn} {
		if offerStateLabels[st] == "" {
			t.Errorf("offer state %s has no label on the call-back list", st)
		}
	}
}
