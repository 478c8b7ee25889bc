package web

import (
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/identity"
	"fairslot/internal/testenv"
)

// TestPhoneCallerKinInBrowser: a mother rings the call centre from the
// number she logs in with; her account lists her and two children, 陈一
// and 陈二, given her number as theirs, and has booked each of them a
// clinic (a person with nothing at the hospital is not found at all,
// review21 L1). All three mask to 陈*: the number alone shows none of
// them; a caller who gives one's ID number and name is labelled as the
// desk and the patient pages do, 本人 · 1985, 子女 · 2016 and 子女 · 2018.
// A caller staff booked for, who
// is nobody's family, has no label. Screenshots phone-kin-*.png at 1280 and
// 390 px.
func TestPhoneCallerKinInBrowser(t *testing.T) {
	s := newSite(t)
	ctx := t.Context()
	phone := newPhone()
	account, err := s.svc.CreateAccount(ctx, phone, "patient password 1", "", booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, booking.Origin{})
	testenv.Must(t, err, "create the mother's account")
	mother := booking.Actor{AccountID: account, Role: booking.RolePatient}
	for _, m := range []booking.AddPatientRequest{
		{IDNumber: bornIn(1985, 771), Name: "陈静", IsSelf: true},
		{IDNumber: bornIn(2016, 772), Name: "陈一", Relationship: "child", Phone: phone},
		{IDNumber: bornIn(2018, 773), Name: "陈二", Relationship: "child", Phone: phone},
	} {
		m.IDType = "resident_id"
		m.Consent = booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: m.Relationship == "child"}
		p, err := s.svc.AddPatient(ctx, mother, m, booking.Origin{})
		testenv.Must(t, err, "add %s", m.Name)
		_, err = s.svc.Book(ctx, mother, booking.BookRequest{SessionID: s.open.ID, PatientID: p.ID, Channel: booking.ChannelOnline})
		testenv.Must(t, err, "book for %s", m.Name)
	}

	password := "operator password 1"
	opPhone := s.newOperator(password)
	b := newBrowser(t, s.base, 3*time.Minute)
	b.signIn("phone", opPhone, password)
	// The number alone shows nobody; each caller gives ID number and name,
	// and the page says who they are to the number's account.
	b.ringFrom(phone)
	b.absent(".person")
	for _, m := range []struct{ id, name, want string }{
		{bornIn(1985, 771), "陈静", "本人 · 1985"},
		{bornIn(2016, 772), "陈一", "子女 · 2016"},
		{bornIn(2018, 773), "陈二", "子女 · 2018"},
	} {
		b.fill("#caller-form input[name=phone]", phone)
		b.fill("#caller-form input[name=id_number]", m.id)
		b.fill("#caller-form input[name=name]", m.name)
		b.check("#caller-form input[name=privacy_consent]")
		b.click("#caller-form button[type=submit]", "/phone?")
		if html := b.html(); !strings.Contains(html, `<span class="family tag">`+m.want+`</span>`) {
			t.Errorf("the caller lookup does not label %s %q", identity.MaskName(m.name), m.want)
		}
		b.hidden(phone, m.name, m.id)
		b.shot("phone-kin-01")
		b.phoneShot("phone-kin-01-390")
	}

	// A caller staff booked for is nobody's family: no label.
	op := s.actor(opPhone, password)
	other := newPhone()
	_, err = s.svc.BookFor(ctx, op, booking.StaffBookRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: true}, IdentityRequest: booking.IdentityRequest{IDType: "resident_id",
		IDNumber: residentID(7701), Name: "王小明"}, SessionID: s.open.ID, Channel: booking.ChannelPhone, CallerPhone: other})
	testenv.Must(t, err, "book by phone")
	b.click("#next-caller", "ok=cleared")
	b.fill("#caller-form input[name=phone]", other)
	b.fill("#caller-form input[name=id_number]", residentID(7701))
	b.fill("#caller-form input[name=name]", "王小明")
	b.check("#caller-form input[name=privacy_consent]")
	b.click("#caller-form button[type=submit]", "/phone?")
	b.contains(".person", "王*明")
	b.absent(".person .family")
}
