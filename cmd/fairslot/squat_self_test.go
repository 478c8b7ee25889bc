package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
)

// newAccount registers a patient account and logs it in, with nobody on
// its list yet.
func (s *service) newAccount(n int) patient {
	s.t.Helper()
	p := patient{phone: fmt.Sprintf("137%08d", n)}
	creds := map[string]string{"phone": p.phone, "password": "password-" + p.phone}
	if r := s.do("POST", "/v1/accounts", "", creds); r.status != 201 {
		s.t.Fatalf("create account: %d %s", r.status, r.body)
	}
	var tok struct{ Token string }
	s.do("POST", "/v1/auth/login", "", creds).decode(s.t, &tok)
	if tok.Token == "" {
		s.t.Fatalf("login %s failed", p.phone)
	}
	p.token = tok.Token
	return p
}

// TestSquattersFalseSelfLocksNobodyOut is review17's first finding over the
// HTTP API: an account that knows only a person's ID number adds it as its
// own self under a false name and books for it; the person's own account
// is refused adding themselves (409 identity_taken, one number is one
// account's self), and the answer tells them to bring the card to the desk
// — nothing of the other account. At the desk, the card's verification
// disproves the squatter's self: with the owner's account phone it makes
// the owner's account the person's bound self in the one visit (the owner
// had not added them: the add was refused); naming no account it frees the
// self, and the owner's own add succeeds. Either way the squatter's
// booking under the false name is void, the drop of its self audited as the
// clerk's and told to it. The near miss: a family member's booking another
// account made under the true name stands. A remote add never takes the
// self from another account, not even after the desk verified the name.
func TestSquattersFalseSelfLocksNobodyOut(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 5, 5, 5)
	svc := startService(t, sch, nil)
	clerk := svc.staffLogin(booking.RoleClerk, 4801)
	for _, tc := range []struct {
		name string
		n    int  // the person's ID number
		bind bool // the clerk gives the owner's account phone
	}{
		{"the desk binds the owner's account", 4810, true},
		{"the desk names no account", 4820, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			person := map[string]any{"id_type": "resident_id", "id_number": residentID(tc.n), "name": "测试真名"}
			self := maps.Clone(person)
			self["self"] = true
			squatter := svc.newAccount(tc.n + 1)
			false_ := maps.Clone(self)
			false_["name"] = "冒名顶替"
			var sp struct {
				ID string `json:"patient_id"`
			}
			r := svc.do("POST", "/v1/patients", squatter.token, false_)
			if r.status != 201 {
				t.Fatalf("the squatter adds the number as its self under a false name: %d %s", r.status, r.body)
			}
			r.decode(t, &sp)
			var sb struct {
				ID string `json:"booking_id"`
			}
			r = svc.do("POST", "/v1/bookings", squatter.token, map[string]string{"session_id": sch.Sessions[0].ID, "patient_id": sp.ID})
			if r.status != 201 {
				t.Fatalf("the squatter books for the person: %d %s", r.status, r.body)
			}
			r.decode(t, &sb)
			family := svc.newPatient(tc.n + 2)
			member := maps.Clone(person)
			member["relationship"] = "parent"
			var fp struct {
				ID string `json:"patient_id"`
			}
			svc.do("POST", "/v1/patients", family.token, member).decode(t, &fp)
			var fb struct {
				ID string `json:"booking_id"`
			}
			r = svc.do("POST", "/v1/bookings", family.token, map[string]string{"session_id": sch.Sessions[1].ID, "patient_id": fp.ID})
			if r.status != 201 {
				t.Fatalf("the family books for the person under the true name: %d %s", r.status, r.body)
			}
			r.decode(t, &fb)

			owner := svc.newAccount(tc.n + 3)
			r = svc.do("POST", "/v1/patients", owner.token, self)
			if r.code != "identity_taken" {
				t.Fatalf("the owner adds themselves: %d %s, want 409 identity_taken", r.status, r.body)
			}
			var e struct {
				Error struct{ Message string } `json:"error"`
			}
			_ = json.Unmarshal(r.body, &e)
			if !strings.Contains(e.Error.Message, "desk") || !strings.Contains(e.Error.Message, "card") {
				t.Errorf("the owner is told %q; want to bring the ID card to the registration desk", e.Error.Message)
			}
			for _, secret := range []string{squatter.phone, squatter.phone[:3] + "****" + squatter.phone[7:], "冒", sp.ID} {
				if strings.Contains(string(r.body), secret) {
					t.Errorf("the owner's refusal %s tells %q of the other account", r.body, secret)
				}
			}

			verify := maps.Clone(person)
			if tc.bind {
				verify["account_phone"], verify["number_rung"] = owner.phone, true
			}
			if r := svc.do("POST", "/v1/desk/identities/verify", clerk, verify); r.status != 200 {
				t.Fatalf("the desk verifies the owner's card: %d %s", r.status, r.body)
			}
			if !tc.bind {
				// The squatter's self is freed, but no remote add takes
				// a self another account still holds: the owner's is the
				// first self since.
				if r := svc.do("POST", "/v1/patients", owner.token, self); r.status != 201 {
					t.Fatalf("the owner adds themselves after the desk: %d %s, want 201", r.status, r.body)
				}
			}
			selfOf := func(who string, p patient) (isSelf, verified bool) {
				t.Helper()
				var ps []struct {
					Self     bool `json:"self"`
					Verified bool `json:"verified"`
				}
				svc.do("GET", "/v1/patients", p.token, nil).decode(t, &ps)
				for _, x := range ps {
					if x.Self {
						return true, x.Verified
					}
				}
				return false, false
			}
			if isSelf, verified := selfOf("the owner", owner); !isSelf || verified != tc.bind {
				t.Errorf("the owner's self: %v, verified %v; want a self, verified %v", isSelf, verified, tc.bind)
			}
			if isSelf, _ := selfOf("the squatter", squatter); isSelf {
				t.Errorf("the squatter still holds the person as its self")
			}
			if n := svc.count(`SELECT count(*) FROM bookings WHERE id = $1 AND status = 'cancelled'`, sb.ID); n != 1 {
				t.Errorf("the squatter's booking under the false name is not void")
			}
			if n := svc.count(`SELECT count(*) FROM bookings WHERE id = $1 AND status = 'confirmed'`, fb.ID); n != 1 {
				t.Errorf("the family's booking under the true name is not confirmed")
			}
			if n := svc.count(`SELECT count(*) FROM audit_log WHERE action = 'self_disproved' AND target = $1 AND actor_role = 'clerk'`,
				"patient:"+sp.ID); n != 1 {
				t.Errorf("audit entries of the squatter's self dropped = %d, want 1", n)
			}
			if n := svc.count(`SELECT count(*) FROM booking_events WHERE type = 'cancelled' AND patient_id = $1 AND booking_id IS NULL
				AND reason = 'name_disproved'`, sp.ID); n != 1 {
				t.Errorf("events telling the squatter its self is dropped = %d, want 1", n)
			}
			// The squatter cannot take it back remotely.
			if r := svc.do("POST", "/v1/patients", squatter.token, false_); r.status < 400 {
				t.Errorf("the squatter adds the false self again: %d %s, want a refusal", r.status, r.body)
			}
		})
	}
}
