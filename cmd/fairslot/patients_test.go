package main

import (
	"maps"
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
)

// TestRemoveFamilyMember runs the removal and the edit of a family member
// over the real binary: a member with a booking is refused until it is
// cancelled, the holder's own entry never goes, the place is freed, the
// member added again is the same one, and the relationship is edited.
func TestRemoveFamilyMember(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 5, 5)
	svc := startService(t, sch, nil)
	sessions := []string{sch.Sessions[0].ID, sch.Sessions[1].ID}
	p := svc.newPatient(4101)
	add := func(n int, rel string) (reply, string) {
		r := svc.do("POST", "/v1/patients", p.token, map[string]any{"id_type": "resident_id", "id_number": residentID(n),
			"name": "陈一", "relationship": rel})
		var out struct {
			ID string `json:"patient_id"`
		}
		if r.status == 201 {
			r.decode(t, &out)
		}
		return r, out.ID
	}
	ids := []string{}
	for i := range 4 { // the self and 4 members: the account is full
		r, id := add(4200+i, "child")
		if r.status != 201 {
			t.Fatalf("add member %d = %d %s", i, r.status, r.body)
		}
		ids = append(ids, id)
	}
	if r, _ := add(4300, "other"); r.code != "too_many_patients" {
		t.Fatalf("sixth member = %d %s, want too_many_patients", r.status, r.body)
	}

	if r := svc.do("DELETE", "/v1/patients/"+p.patientID, p.token, nil); r.status != 409 || r.code != "patient_is_self" {
		t.Errorf("remove the holder = %d %s, want 409 patient_is_self", r.status, r.body)
	}
	r := svc.do("POST", "/v1/bookings", p.token, map[string]string{"session_id": sessions[0], "patient_id": ids[0]})
	if r.status != 201 {
		t.Fatalf("book for the member = %d %s", r.status, r.body)
	}
	var b struct {
		ID string `json:"booking_id"`
	}
	r.decode(t, &b)
	if r := svc.do("DELETE", "/v1/patients/"+ids[0], p.token, nil); r.status != 409 || r.code != "patient_has_pending" {
		t.Errorf("remove a member with a booking = %d %s, want 409 patient_has_pending", r.status, r.body)
	}
	if r := svc.do("DELETE", "/v1/bookings/"+b.ID, p.token, nil); r.status != 200 {
		t.Fatalf("cancel = %d %s", r.status, r.body)
	}
	if r := svc.do("DELETE", "/v1/patients/"+ids[0], p.token, nil); r.status != 204 {
		t.Fatalf("remove after cancelling = %d %s, want 204", r.status, r.body)
	}
	if n := svc.count(`SELECT count(*) FROM audit_log WHERE action = 'patient_removed' AND target = $1 AND actor_role = 'patient'`, "patient:"+ids[0]); n != 1 {
		t.Errorf("removal audit entries = %d, want 1", n)
	}
	var list []struct {
		ID string `json:"patient_id"`
	}
	svc.do("GET", "/v1/patients", p.token, nil).decode(t, &list)
	if len(list) != 4 {
		t.Errorf("list after removal has %d members, want 4", len(list))
	}
	for _, m := range list {
		if m.ID == ids[0] {
			t.Errorf("the removed member is still listed")
		}
	}
	r = svc.do("POST", "/v1/bookings", p.token, map[string]string{"session_id": sessions[1], "patient_id": ids[0]})
	if r.status != 409 || r.code != "patient_removed" {
		t.Errorf("book for the removed member = %d %s, want 409 patient_removed", r.status, r.body)
	}
	if r := svc.do("PATCH", "/v1/patients/"+ids[0], p.token, map[string]string{"relationship": "parent"}); r.status != 404 {
		t.Errorf("edit a removed member = %d %s, want 404", r.status, r.body)
	}
	if r := svc.do("DELETE", "/v1/patients/"+ids[0], p.token, nil); r.status != 404 {
		t.Errorf("remove twice = %d %s, want 404", r.status, r.body)
	}

	// The place is free; the member added again is the same one.
	r, back := add(4200, "parent")
	if r.status != 201 || back != ids[0] {
		t.Fatalf("add the member again = %d %s, want 201 with id %s", r.status, r.body, ids[0])
	}
	r = svc.do("PATCH", "/v1/patients/"+ids[1], p.token, map[string]string{"relationship": "spouse"})
	var edited struct {
		Relationship string `json:"relationship"`
	}
	if r.status != 200 {
		t.Fatalf("edit = %d %s", r.status, r.body)
	}
	if r.decode(t, &edited); edited.Relationship != "spouse" {
		t.Errorf("edited relationship = %q, want spouse", edited.Relationship)
	}
	for _, bad := range []map[string]string{{"relationship": "self"}, {"relationship": "cousin"}, {}} {
		r := svc.do("PATCH", "/v1/patients/"+ids[1], p.token, bad)
		if r.status != 400 && r.status != 409 {
			t.Errorf("edit with %v = %d %s, want 400 or 409", bad, r.status, r.body)
		}
	}
	// A member made self hears why, not that "the holder's own entry" cannot change.
	if r := svc.do("PATCH", "/v1/patients/"+ids[1], p.token, map[string]string{"relationship": "self"}); r.code != "patient_is_self" ||
		!strings.Contains(string(r.body), "a family member cannot become the account holder's own entry") {
		t.Errorf("make a member self = %d %s, want patient_is_self saying a member cannot become the holder", r.status, r.body)
	}
	if r := svc.do("PATCH", "/v1/patients/"+p.patientID, p.token, map[string]string{"relationship": "child"}); r.code != "patient_is_self" {
		t.Errorf("edit the holder = %d %s, want patient_is_self", r.status, r.body)
	}
	// Another account's member is not found.
	q := svc.newPatient(4102)
	if r := svc.do("DELETE", "/v1/patients/"+ids[1], q.token, nil); r.status != 404 {
		t.Errorf("another account removes the member = %d %s, want 404", r.status, r.body)
	}
}

// TestRemovedMemberAcrossInstances: a member removed through one instance
// is not booked through another that still holds it in its patient cache:
// the commit refuses it (patient_removed), its held slot goes back to the
// pool (the holder books that last slot next), and the instance stops
// offering the member.
func TestRemovedMemberAcrossInstances(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 1)
	a := startService(t, sch, nil)
	b := a.another()
	sessions := []string{sch.Sessions[0].ID}
	p := a.newPatient(4111) // logged in on a: its cache holds the family
	r := a.do("POST", "/v1/patients", p.token, map[string]any{"id_type": "resident_id", "id_number": residentID(4211), "name": "陈二"})
	var m struct {
		ID string `json:"patient_id"`
	}
	r.decode(t, &m)
	if r.status != 201 {
		t.Fatalf("add member = %d %s", r.status, r.body)
	}
	if r := b.do("DELETE", "/v1/patients/"+m.ID, p.token, nil); r.status != 204 {
		t.Fatalf("remove through the other instance = %d %s", r.status, r.body)
	}
	for i := range 2 {
		r := a.do("POST", "/v1/bookings", p.token, map[string]string{"session_id": sessions[0], "patient_id": m.ID})
		if r.status != 409 || r.code != "patient_removed" {
			t.Errorf("attempt %d for the removed member on the caching instance = %d %s, want 409 patient_removed", i, r.status, r.body)
		}
	}
	if n := a.count(`SELECT count(*) FROM bookings WHERE patient_id = $1`, m.ID); n != 0 {
		t.Errorf("bookings of the removed member = %d, want 0", n)
	}
	if r := a.do("POST", "/v1/bookings", p.token, map[string]string{"session_id": sessions[0], "patient_id": p.patientID}); r.status != 201 {
		t.Errorf("the holder books the session's only slot = %d %s, want 201 (the refused hold went back)", r.status, r.body)
	}
}

// TestVerifiedIsTheAccountsOwnFact: `verified` on a patient says only what
// is the listing account's own: its self, bound by the desk. Another
// account that added the person under their true name sees `verified:
// false` whether or not the desk verified that name for somebody else (it
// would tell the number and name are real and that the person came to the
// hospital), and so does the person's own self until the desk binds it.
func TestVerifiedIsTheAccountsOwnFact(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 5)
	svc := startService(t, sch, nil)
	clerk := svc.staffLogin(booking.RoleClerk, 4401)
	person := svc.newPatient(4402)
	person1 := map[string]any{"id_type": "resident_id", "id_number": residentID(4402), "name": "测试" + string(rune('甲'+4402%10))}
	other := svc.newPatient(4403)
	add := maps.Clone(person1)
	add["relationship"] = "other"
	if r := svc.do("POST", "/v1/patients", other.token, add); r.status != 201 {
		t.Fatalf("another account adds the person: %d %s", r.status, r.body)
	}
	// verified is the person's row on p's list: p's self, or the member.
	verified := func(who string, p patient, self bool) bool {
		t.Helper()
		var ps []struct {
			Self     bool `json:"self"`
			Verified bool `json:"verified"`
		}
		svc.do("GET", "/v1/patients", p.token, nil).decode(t, &ps)
		for _, x := range ps {
			if x.Self == self {
				return x.Verified
			}
		}
		t.Fatalf("%s does not list the person: %+v", who, ps)
		return false
	}
	want := func(when string, self, family bool) {
		t.Helper()
		if got := verified("the person", person, true); got != self {
			t.Errorf("%s: the person's own self shows verified %v, want %v", when, got, self)
		}
		if got := verified("the other account", other, false); got != family {
			t.Errorf("%s: the other account's member shows verified %v, want %v", when, got, family)
		}
	}
	want("nobody verified", false, false)
	if r := svc.do("POST", "/v1/desk/identities/verify", clerk, person1); r.status != 200 {
		t.Fatalf("a clerk verifies the card, naming no account: %d %s", r.status, r.body)
	}
	want("the desk verified the name, binding no account", false, false)
	bind := maps.Clone(person1)
	bind["account_phone"], bind["number_rung"] = person.phone, true
	if r := svc.do("POST", "/v1/desk/identities/verify", clerk, bind); r.status != 200 {
		t.Fatalf("the desk binds the person's account: %d %s", r.status, r.body)
	}
	want("the desk bound the person's self", true, false)
}
