package main

import (
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
)

// twoHospitals is a schedule of two hospitals: the first with the given
// online quotas, the second with one session of its own.
func twoHospitals(t *testing.T, quotas ...int) (booking.Schedule, booking.Hospital) {
	t.Helper()
	release := time.Now().Add(-time.Minute)
	sch := schedule(t, release, quotas...)
	other := schedule(t, release, 2)
	sch.Hospitals = append(sch.Hospitals, other.Hospitals...)
	sch.Departments = append(sch.Departments, other.Departments...)
	sch.Doctors = append(sch.Doctors, other.Doctors...)
	sch.Sessions = append(sch.Sessions, other.Sessions...)
	return sch, other.Hospitals[0]
}

// TestLookupOfAPersonWithNothingHere (review21 L1): a clerk or operator of
// another hospital learned, by a lookup, that an ID number is registered
// on the platform and the person's masked name, though the person has
// nothing at their hospital. Such a lookup now answers as an unknown
// number does, word for word; the person's own hospital still finds them,
// and the audit keeps what was looked up.
func TestLookupOfAPersonWithNothingHere(t *testing.T) {
	sch, other := twoHospitals(t, 2)
	svc := startService(t, sch, nil)
	alice := svc.newPatient(2201)
	if r := svc.do("POST", "/v1/bookings", alice.token, map[string]string{"session_id": sch.Sessions[0].ID, "patient_id": alice.patientID}); r.status != 201 {
		t.Fatalf("alice books at the first hospital = %d %s", r.status, r.body)
	}
	ours := svc.staffLogin(booking.RoleClerk, 2201)
	theirs := svc.staffLoginAt(booking.RoleClerk, 2202, other.ID)
	theirOperator := svc.staffLoginAt(booking.RoleOperator, 2203, other.ID)
	card := map[string]string{"id_type": "resident_id", "id_number": residentID(2201)}
	unknown := with(card, "id_number", residentID(2299))
	name := "测试" + string(rune('甲'+2201%10))

	if r := svc.do("POST", "/v1/desk/lookup", ours, card); r.status != 200 || !strings.Contains(string(r.body), `"bookings":[{`) {
		t.Errorf("the clerk of alice's hospital looks her up = %d %s, want 200 with her booking", r.status, r.body)
	}
	nobody := svc.do("POST", "/v1/desk/lookup", theirs, unknown)
	if nobody.status != 404 || nobody.code != "patient_not_found" {
		t.Fatalf("another hospital's clerk looks up an unknown number = %d %s, want 404 patient_not_found", nobody.status, nobody.body)
	}
	for _, c := range []struct {
		who, token string
		body       map[string]string
	}{
		{"clerk", theirs, card},
		{"operator", theirOperator, with(card, "name", name, "caller_phone", alice.phone)},
	} {
		r := svc.do("POST", "/v1/desk/lookup", c.token, c.body)
		if r.status != nobody.status || string(r.body) != string(nobody.body) {
			t.Errorf("another hospital's %s looks alice up = %d %s; want the unknown number's answer, %d %s", c.who, r.status, r.body, nobody.status, nobody.body)
		}
		if masked := []rune(name)[0]; strings.ContainsRune(string(r.body), masked) {
			t.Errorf("another hospital's %s reads alice's masked name: %s", c.who, r.body)
		}
	}
	// The clerk's hospital keeps who was looked up, and that nothing of
	// theirs was listed; alice's hospital reads that staff elsewhere did.
	if n := svc.count(`SELECT count(*) FROM audit_log a JOIN identities i ON a.target = 'identity:' || i.id::TEXT
		WHERE a.action = 'identity_lookup' AND a.hospital_id = $1 AND a.reason LIKE 'found%nothing at this hospital%'`, other.ID); n != 2 {
		t.Errorf("%d audit entries of the other hospital say its staff found alice with nothing there, want 2 (the clerk's, the operator's)", n)
	}
	if n := svc.count(`SELECT count(*) FROM audit_log WHERE action = 'identity_lookup' AND hospital_id = $1 AND reason LIKE '%'||$2`,
		sch.Hospitals[0].ID, booking.AuditOfPersonHere); n != 2 {
		t.Errorf("%d copies of the other hospital's lookups in alice's hospital, want 2", n)
	}
}
