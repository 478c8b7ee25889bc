package booking_test

import (
	"fmt"
	"testing"

	"fairslot/internal/booking"
	"fairslot/internal/identity"
	"fairslot/internal/testenv"
)

// childID is a valid resident ID of someone born on 4 March of year.
func childID(year, n int) string {
	first17 := fmt.Sprintf("110105%d0304%03d", year, n%1000)
	return first17 + string(identity.CheckDigit(first17))
}

// TestFamilyRelationship checks, over PostgreSQL, that a family member
// keeps the relationship the account gives it and the birth year its
// resident ID carries (none for a passport), both read back from SQL and
// not only from the service's cache; and that an unknown relationship, or
// a holder who is someone's child, is refused before anything is written.
func TestFamilyRelationship(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	u := h.user(0)
	add := func(req booking.AddPatientRequest) (booking.Patient, error) {
		// The holder consents, as the parent for the children (under 14).
		req.Consent = booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: req.Relationship == "child"}
		return h.svc.AddPatient(h.ctx, u.actor, req, booking.Origin{})
	}
	me, err := add(booking.AddPatientRequest{IDType: "resident_id", IDNumber: childID(1984, int(h.seq.Add(1))), Name: "陈静", IsSelf: true})
	testenv.Must(t, err, "add the holder")
	one, err := add(booking.AddPatientRequest{IDType: "resident_id", IDNumber: childID(2016, int(h.seq.Add(1))), Name: "陈一", Relationship: "child"})
	testenv.Must(t, err, "add 陈一")
	two, err := add(booking.AddPatientRequest{IDType: "resident_id", IDNumber: childID(2019, int(h.seq.Add(1))), Name: "陈二", Relationship: "child"})
	testenv.Must(t, err, "add 陈二")
	abroad, err := add(booking.AddPatientRequest{IDType: "passport", IDNumber: fmt.Sprintf("E%08d", h.seq.Add(1)), Name: "陈三"})
	testenv.Must(t, err, "add 陈三 by passport")

	want := map[string]struct {
		rel  booking.Relationship
		year int
	}{
		me.ID: {booking.RelSelf, 1984}, one.ID: {booking.RelChild, 2016}, two.ID: {booking.RelChild, 2019},
		abroad.ID: {booking.RelOther, 0}, // no relationship given: other; a passport carries no birth year
	}
	for _, p := range []booking.Patient{me, one, two, abroad} {
		if w := want[p.ID]; p.Relationship != w.rel || p.BirthYear != w.year {
			t.Errorf("AddPatient answered %s %d, want %s %d", p.Relationship, p.BirthYear, w.rel, w.year)
		}
		got, err := h.store.Patient(h.ctx, p.ID)
		testenv.Must(t, err, "read the patient from SQL")
		if w := want[p.ID]; got.Relationship != w.rel || got.BirthYear != w.year {
			t.Errorf("SQL holds %s %d, want %s %d", got.Relationship, got.BirthYear, w.rel, w.year)
		}
		if got.MaskedName != "陈*" {
			t.Errorf("masked name %q, want 陈* (the names collide; that is the point)", got.MaskedName)
		}
	}
	listed, err := h.svc.Patients(h.ctx, u.actor)
	testenv.Must(t, err, "list patients")
	for _, p := range listed {
		if w := want[p.ID]; p.Relationship != w.rel || p.BirthYear != w.year {
			t.Errorf("Patients lists %s %d, want %s %d", p.Relationship, p.BirthYear, w.rel, w.year)
		}
	}

	before := len(listed)
	_, err = add(booking.AddPatientRequest{IDType: "resident_id", IDNumber: childID(2020, int(h.seq.Add(1))), Name: "陈四", Relationship: "cousin"})
	wantErr(t, "an unknown relationship", err, booking.ErrInvalidField)
	other := h.user(0)
	_, err = h.svc.AddPatient(h.ctx, other.actor, booking.AddPatientRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion},
		IDType: "resident_id", IDNumber: childID(1990, int(h.seq.Add(1))), Name: "陈五", IsSelf: true, Relationship: "child",
	}, booking.Origin{})
	wantErr(t, "the holder as someone's child", err, booking.ErrInvalidField)
	listed, err = h.svc.Patients(h.ctx, u.actor)
	testenv.Must(t, err, "list patients")
	if len(listed) != before {
		t.Errorf("a refused member was written: %d patients, want %d", len(listed), before)
	}
}

// TestNewbornByBirthCertificate: a child without a resident ID number yet
// is added by a parent with their 出生医学证明 and booked like any member;
// a birth certificate is never an account's self, and the refusal writes
// nothing.
func TestNewbornByBirthCertificate(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	parent := h.userOf(h.person("林芳"))
	cert := fmt.Sprintf("p%09d", h.seq.Add(1))
	baby, err := h.svc.AddPatient(h.ctx, parent.actor, booking.AddPatientRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: true}, IDType: "birth_certificate", IDNumber: cert,
		Name: "林小宝", Relationship: "child"}, booking.Origin{})
	testenv.Must(t, err, "add the newborn by birth certificate")
	if baby.Relationship != booking.RelChild || baby.BirthYear != 0 || baby.MaskedID != "P"+"*******"+cert[8:] {
		t.Errorf("newborn = %s, born %d, %s; want a child with no birth year and the number masked", baby.Relationship, baby.BirthYear, baby.MaskedID)
	}
	parent.patients = append(parent.patients, baby)
	h.mustBook(parent, 1, h.session(sessionOpts{online: 1}), "")

	other := h.user(0)
	_, err = h.svc.AddPatient(h.ctx, other.actor, booking.AddPatientRequest{Consent: booking.ConsentRequest{Version: booking.PrivacyNoticeVersion, Guardian: true}, IDType: "birth_certificate",
		IDNumber: fmt.Sprintf("Q%09d", h.seq.Add(1)), Name: "赵小宝", IsSelf: true}, booking.Origin{})
	wantErr(t, "a birth certificate as the account's self", err, booking.ErrInvalidField)
	if listed, err := h.svc.Patients(h.ctx, other.actor); err != nil || len(listed) != 0 {
		t.Errorf("after the refusal the account lists %d patients (%v), want none", len(listed), err)
	}
}
