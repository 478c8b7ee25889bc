package web

import (
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// TestPhoneCallerKinInBrowser: a mother rings the call centre from the
// number she logs in with; her account lists her and two children, 陈一
// and 陈二, given her number as theirs. All three mask to 陈*: the operator's
// lookup by number tells them apart as the desk and the patient pages do,
// 本人 · 1985, 子女 · 2016 and 子女 · 2018. A caller staff booked for, who
// is nobody's family, has no label. Screenshots phone-kin-*.png at 1280 and
// 390 px.
func TestPhoneCallerKinInBrowser(t *testing.T) {
	s := newSite(t)
	ctx := t.Context()
	phone := newPhone()
	account, err := s.svc.CreateAccount(ctx, phone, "patient password 1", "", booking.Origin{})
	testenv.Must(t, err, "create the mother's account")
	mother := booking.Actor{AccountID: account, Role: booking.RolePatient}
	for _, m := range []booking.AddPatientRequest{
		{IDNumber: bornIn(1985, 771), Name: "陈静", IsSelf: true},
		{IDNumber: bornIn(2016, 772), Name: "陈一", Relationship: "child", Phone: phone},
		{IDNumber: bornIn(2018, 773), Name: "陈二", Relationship: "child", Phone: phone},
	} {
		m.IDType = "resident_id"
		_, err := s.svc.AddPatient(ctx, mother, m, booking.Origin{})
		testenv.Must(t, err, "add %s", m.Name)
	}

	password := "operator password 1"
	opPhone := s.newOperator(password)
	b := newBrowser(t, s.base, 3*time.Minute)
	b.signIn("phone", opPhone, password)
	b.ringFrom(phone)
	html := b.html()
	for _, want := range []string{"本人 · 1985", "子女 · 2016", "子女 · 2018"} {
		if !strings.Contains(html, `<span class="family tag">`+want+`</span>`) {
			t.Errorf("the caller lookup does not label a person %q", want)
		}
	}
	if n := strings.Count(html, `class="person"`); n != 3 {
		t.Errorf("the lookup lists %d people, want 3", n)
	}
	b.hidden(phone, "陈静", "陈一", "陈二")
	b.shot("phone-kin-01")
	b.phoneShot("phone-kin-01-390")

	// A caller staff booked for is nobody's family: no label.
	op := s.actor(opPhone, password)
	other := newPhone()
	_, err = s.svc.BookFor(ctx, op, booking.StaffBookRequest{IdentityRequest: booking.IdentityRequest{IDType: "resident_id",
		IDNumber: residentID(7701), Name: "王小明"}, SessionID: s.open.ID, Channel: booking.ChannelPhone, CallerPhone: other})
	testenv.Must(t, err, "book by phone")
	b.click("#next-caller", "ok=cleared")
	b.fill("#caller-form input[name=phone]", other)
	b.click("#caller-form button[type=submit]", "/phone?")
	b.contains(".person", "王*明")
	b.absent(".person .family")
}
