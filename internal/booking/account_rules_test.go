package booking_test

import (
	"testing"

	"fairslot/internal/booking"
	"fairslot/internal/identity"
)

// Unit tests of the accounts' and families' rules over the fakes (world,
// rules_test.go): one account per phone, a login, the family list's
// relationships, limits and repeats, and a claim against the card. No
// Redis, no PostgreSQL.

func (w *world) account(phone string) booking.Actor {
	w.t.Helper()
	id, err := w.svc.CreateAccount(w.ctx, phone, "correct horse battery", "", booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, booking.Origin{})
	if err != nil {
		w.t.Fatalf("create account %s: %v", phone, err)
	}
	return booking.Actor{AccountID: id, Role: booking.RolePatient}
}

func (w *world) addPatient(a booking.Actor, c booking.IdentityRequest, rel, phone, key string) (booking.Patient, error) {
	return w.svc.AddPatient(w.ctx, a, booking.AddPatientRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, IDType: c.IDType, IDNumber: c.IDNumber, Name: c.Name,
		Relationship: rel, Phone: phone, IdempotencyKey: key}, booking.Origin{})
}

// One account per phone number; the password logs in, another does not.
func TestRuleAccountPerPhone(t *testing.T) {
	w := newWorld(t, booking.DefaultPolicy, booking.Config{})
	w.account("13800000001")
	_, err := w.svc.CreateAccount(w.ctx, "+86 138 0000 0001", "another password", "", booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, booking.Origin{})
	wantErr(t, "a second account on the phone", err, booking.ErrPhoneTaken)
	if tok, err := w.svc.Login(w.ctx, "13800000001", "correct horse battery", booking.Origin{}); err != nil || tok.Token == "" {
		t.Errorf("login = %v, want a token", err)
	}
	_, err = w.svc.Login(w.ctx, "13800000001", "wrong horse", booking.Origin{})
	wantErr(t, "a wrong password", err, booking.ErrBadCredentials)
	_, err = w.svc.Login(w.ctx, "13900000009", "correct horse battery", booking.Origin{})
	wantErr(t, "an unknown phone", err, booking.ErrBadCredentials)
}

// A family list (就诊人): one self, each person once, members told apart by
// relationship and the birth year their resident ID carries, at most the
// configured number of patients; a repeat with the same key is the first
// answer, and the key reused for another person is refused.
func TestRuleFamilyList(t *testing.T) {
	w := newWorld(t, booking.DefaultPolicy, booking.Config{Limits: booking.AccountLimits{MaxPatients: 3, MaxAccountsOnPhone: 3}})
	a := w.account("13800000001")
	self, err := w.addPatient(a, card(1, "陈大"), "self", "", "k1")
	if err != nil || !self.IsSelf || self.Relationship != booking.RelSelf || self.BirthYear != 1980 {
		t.Fatalf("self = %+v (%v); want the self, born 1980 as the ID says", self, err)
	}
	again, err := w.addPatient(a, card(1, "陈大"), "self", "", "k1")
	if err != nil || again.ID != self.ID {
		t.Errorf("the same request again = %s (%v), want the first patient %s", again.ID, err, self.ID)
	}
	_, err = w.addPatient(a, card(2, "陈二"), "child", "", "k1")
	wantErr(t, "the key reused for another person", err, booking.ErrIdempotencyReuse)
	_, err = w.addPatient(a, card(2, "陈二"), "self", "", "")
	wantErr(t, "a second self", err, booking.ErrSelfExists)
	_, err = w.addPatient(a, card(2, "陈二"), "cousin", "", "")
	wantErr(t, "an unknown relationship", err, booking.ErrInvalidField)
	_, err = w.svc.AddPatient(w.ctx, a, booking.AddPatientRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, IDType: card(2, "").IDType, IDNumber: card(2, "").IDNumber, Name: "陈二",
		IsSelf: true, Relationship: "child"}, booking.Origin{})
	wantErr(t, "the holder given as a child", err, booking.ErrInvalidField)
	child, err := w.addPatient(a, card(2, "陈二"), "child", "", "")
	if err != nil || child.Relationship != booking.RelChild || child.IsSelf {
		t.Fatalf("child = %+v (%v), want a child who is not the self", child, err)
	}
	_, err = w.addPatient(a, card(1, "陈大"), "", "", "")
	wantErr(t, "the same person twice", err, booking.ErrPatientExists)
	if _, err := w.addPatient(a, card(3, "陈三"), "parent", "", ""); err != nil {
		t.Fatalf("third patient: %v", err)
	}
	_, err = w.addPatient(a, card(4, "陈四"), "other", "", "")
	wantErr(t, "a fourth patient over the configured three", err, booking.ErrTooManyPatients)
	_, err = w.svc.AddPatient(w.ctx, w.staff(booking.RoleClerk), booking.AddPatientRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion}, IDType: card(5, "").IDType,
		IDNumber: card(5, "").IDNumber, Name: "王五"}, booking.Origin{})
	wantErr(t, "a clerk keeping a family list", err, booking.ErrForbidden)
	ps, err := w.svc.Patients(w.ctx, a)
	if err != nil || len(ps) != 3 {
		t.Errorf("the list has %d patients (%v), want 3", len(ps), err)
	}
}

// A claim is refused only against a verified name: once the desk has seen
// the card, an account may add the person under that name only; another
// account's earlier claim never stands in the way. A contact phone serves
// at most the configured number of accounts.
func TestRuleClaimsAndPhones(t *testing.T) {
	w := newWorld(t, booking.DefaultPolicy, booking.Config{Limits: booking.AccountLimits{MaxPatients: 5, MaxAccountsOnPhone: 2}})
	a, b, c := w.account("13800000001"), w.account("13800000002"), w.account("13800000003")
	zhao := card(7, "赵七")
	if _, err := w.addPatient(a, booking.IdentityRequest{IDType: zhao.IDType, IDNumber: zhao.IDNumber, Name: "赵柒"}, "parent", "", ""); err != nil {
		t.Fatalf("an unverified claim: %v", err)
	}
	if _, err := w.svc.VerifyIdentity(w.ctx, w.staff(booking.RoleClerk), booking.VerifyRequest{IdentityRequest: zhao}); err != nil {
		t.Fatalf("the desk verifies the card: %v", err)
	}
	_, err := w.addPatient(b, booking.IdentityRequest{IDType: zhao.IDType, IDNumber: zhao.IDNumber, Name: "赵柒"}, "parent", "", "")
	wantErr(t, "a claim against the verified name", err, booking.ErrIdentityUnverified)
	p, err := w.addPatient(b, zhao, "parent", "", "")
	if err != nil || !p.Verified || p.MaskedName != identity.MaskName("赵七") {
		t.Errorf("the card's name = %+v (%v), want a verified patient", p, err)
	}

	phone := "13900000009"
	if _, err := w.addPatient(a, card(8, "钱八"), "child", phone, ""); err != nil {
		t.Fatalf("contact phone on the first account: %v", err)
	}
	if _, err := w.addPatient(b, card(9, "孙九"), "child", phone, ""); err != nil {
		t.Fatalf("contact phone on the second account: %v", err)
	}
	_, err = w.addPatient(c, card(10, "李十"), "child", phone, "")
	wantErr(t, "the phone on a third account", err, booking.ErrPhoneLimit)
	if _, err := w.addPatient(a, card(11, "周十一"), "child", phone, ""); err != nil {
		t.Errorf("the phone again on an account that has it: %v", err)
	}
}
