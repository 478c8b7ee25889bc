package main

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
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
	card := map[string]string{"id_type": "resident_id", "id_number": residentID(2201), "identity_check": "card_shown"}
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
		{"operator", theirOperator, with(card, "name", name, "caller_phone", alice.phone, "identity_check", "spoken")},
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

// TestDeskLookupSaysHowTheIdentityWasChecked (review21 L2): the desk's
// lookup by the number alone assumed the card was at the desk, and
// nothing asked. The clerk now says how the identity was checked — the
// card read, the card shown, or otherwise with the reason — and the audit
// keeps it; without the card a clerk looks up at most 10 persons an hour
// (the same person again, as each page of a visit does, is not another),
// and a clerk's persons past 60 in an hour are marked in the audit.
func TestDeskLookupSaysHowTheIdentityWasChecked(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 2)
	svc := startService(t, sch, nil)
	alice := svc.newPatient(2211)
	if r := svc.do("POST", "/v1/bookings", alice.token, map[string]string{"session_id": sch.Sessions[0].ID, "patient_id": alice.patientID}); r.status != 201 {
		t.Fatalf("alice books = %d %s", r.status, r.body)
	}
	clerk := svc.staffLogin(booking.RoleClerk, 2211)
	card := map[string]string{"id_type": "resident_id", "id_number": residentID(2211)}
	for _, c := range []struct {
		what  string
		body  map[string]string
		field string
	}{
		{"no identity check", card, "identity_check"},
		{"an unknown check", with(card, "identity_check", "trust_me"), "identity_check"},
		{"other without a reason", with(card, "identity_check", "other"), "identity_check_reason"},
		{"other with an ID number for reason", with(card, "identity_check", "other", "identity_check_reason", "家属报号 "+residentID(2212)), "identity_check_reason"},
		{"a reason with the card read", with(card, "identity_check", "card_read", "identity_check_reason", "读卡"), "identity_check_reason"},
	} {
		if r := svc.do("POST", "/v1/desk/lookup", clerk, c.body); r.status != 400 || r.code != "invalid_field" || r.field != c.field {
			t.Errorf("a lookup with %s = %d %s, want 400 invalid_field on %s", c.what, r.status, r.body, c.field)
		}
	}
	for check, reason := range map[string]string{"card_read": "", "card_shown": "", "other": "病房护士电话报号，患者卧床 ward nurse on the phone"} {
		body := with(card, "identity_check", check)
		if reason != "" {
			body["identity_check_reason"] = reason
		}
		if r := svc.do("POST", "/v1/desk/lookup", clerk, body); r.status != 200 {
			t.Errorf("a lookup with %s = %d %s, want 200", check, r.status, r.body)
		}
	}
	for want, n := range map[string]int{"found; card read": 1, "found; card shown": 1,
		"found; no card, identity checked otherwise: 病房护士电话报号，患者卧床 ward nurse on the phone": 1} {
		if got := svc.count(`SELECT count(*) FROM audit_log WHERE action = 'identity_lookup' AND reason = $1`, want); got != n {
			t.Errorf("%d audit entries %q, want %d", got, want, n)
		}
	}

	// Without the card: alice counts as one, nine unknown numbers make
	// ten persons; the eleventh is refused, alice again is not.
	other := func(n int) reply {
		return svc.do("POST", "/v1/desk/lookup", clerk, map[string]string{"id_type": "resident_id", "id_number": residentID(n),
			"identity_check": "other", "identity_check_reason": "来电报号 a caller's number"})
	}
	for i := range 9 {
		if r := other(2220 + i); r.status != 404 {
			t.Fatalf("lookup %d without the card = %d %s, want 404 (nobody)", i+2, r.status, r.body)
		}
	}
	r := other(2230)
	if r.status != 429 || r.code != "lookups_limited" {
		t.Fatalf("the 11th person without the card in an hour = %d %s, want 429 lookups_limited", r.status, r.body)
	}
	if ra, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || ra < 1 || ra > 3600 {
		t.Errorf("Retry-After = %q, want 1 to 3600 seconds", r.header.Get("Retry-After"))
	}
	if r := svc.do("POST", "/v1/desk/lookup", clerk, with(card, "identity_check", "other", "identity_check_reason", "再次查询 again")); r.status != 200 {
		t.Errorf("alice again without the card = %d %s, want 200 (not another person)", r.status, r.body)
	}
	if r := svc.do("POST", "/v1/desk/lookup", clerk, map[string]string{"id_type": "resident_id", "id_number": residentID(2230), "identity_check": "card_shown"}); r.status != 404 {
		t.Errorf("the 11th person with the card shown = %d %s, want 404 (nobody: answered)", r.status, r.body)
	}
	if n := svc.count(`SELECT count(*) FROM audit_log WHERE action = 'identity_lookup' AND reason LIKE 'refused: %'`); n != 1 {
		t.Errorf("%d audit entries of a refused lookup, want 1", n)
	}

	// Past 60 persons in an hour, whatever the check, each further
	// person's entry is marked.
	for i := 12; i <= 60; i++ { // persons 12 to 60
		svc.do("POST", "/v1/desk/lookup", clerk, map[string]string{"id_type": "resident_id", "id_number": residentID(2300 + i), "identity_check": "card_shown"})
	}
	if n := svc.count(`SELECT count(*) FROM audit_log WHERE action = 'identity_lookup' AND reason LIKE '%marked:%'`); n != 0 {
		t.Fatalf("%d marked entries after 60 persons, want 0", n)
	}
	svc.do("POST", "/v1/desk/lookup", clerk, map[string]string{"id_type": "resident_id", "id_number": residentID(2400), "identity_check": "card_read"})
	if n := svc.count(`SELECT count(*) FROM audit_log WHERE action = 'identity_lookup' AND reason LIKE $1`,
		fmt.Sprintf("%%marked: the clerk's person %d looked up in an hour%%", 61)); n != 1 {
		t.Errorf("%d entries marked as the clerk's 61st person, want 1", n)
	}
}

// TestDeskLookupLimitsAreConfigured (session 23): the limits of a clerk's
// lookups were constants. They are serve's flags (here their environment
// twins, 2 and 3), and what they did is counted for the ops kit: the
// refused lookup and the marked one, each once.
func TestDeskLookupLimitsAreConfigured(t *testing.T) {
	admin := freeAddr(t)
	svc := startService(t, schedule(t, time.Now().Add(-time.Minute), 1), map[string]string{"FAIRSLOT_ADMIN_ADDR": admin,
		"FAIRSLOT_LOOKUPS_WITHOUT_CARD": "2", "FAIRSLOT_LOOKUPS_MARKED_OVER": "3"})
	clerk := svc.staffLogin(booking.RoleClerk, 2311)
	lookup := func(n int, check string) reply {
		body := map[string]string{"id_type": "resident_id", "id_number": residentID(n), "identity_check": check}
		if check == "other" {
			body["identity_check_reason"] = "来电报号 a caller's number"
		}
		return svc.do("POST", "/v1/desk/lookup", clerk, body)
	}
	for i := range 2 {
		if r := lookup(2320+i, "other"); r.status != 404 {
			t.Fatalf("person %d without the card = %d %s, want 404 (nobody)", i+1, r.status, r.body)
		}
	}
	if r := lookup(2322, "other"); r.status != 429 || r.code != "lookups_limited" {
		t.Fatalf("the 3rd person without the card, over --lookups-without-card 2 = %d %s, want 429 lookups_limited", r.status, r.body)
	}
	// The refused one counts as a person read at (its audit entry's
	// target): the next, with the card, is the 4th, past
	// --lookups-marked-over 3.
	if r := lookup(2330, "card_shown"); r.status != 404 {
		t.Errorf("the 4th person with the card = %d %s, want 404 (nobody: answered)", r.status, r.body)
	}
	if n := svc.count(`SELECT count(*) FROM audit_log WHERE action = 'identity_lookup' AND reason LIKE '%marked: the clerk''s person 4 looked up in an hour (more than 3)%'`); n != 1 {
		t.Errorf("%d entries marked as the clerk's 4th person, want 1", n)
	}
	resp, err := http.Get("http://" + admin + "/metrics")
	testenv.Must(t, err, "scrape")
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	testenv.Must(t, err, "read the metrics")
	for _, want := range []string{"\nfairslot_desk_lookups_refused_total 1\n", "\nfairslot_desk_lookups_marked_total 1\n"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("serve's /metrics lacks %q", strings.TrimSpace(want))
		}
	}
}

// TestCallerLookupSaysSpoken (session 23): the phone operator's caller
// lookup ignored identity_check. A telephone carries no card: an operator
// states spoken (the caller read the number aloud), or nothing, which is
// taken for it; a card check or a reason is refused on its field. The
// audit entry says it, as a clerk's check is said.
func TestCallerLookupSaysSpoken(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 2)
	svc := startService(t, sch, nil)
	alice := svc.newPatient(2341)
	if r := svc.do("POST", "/v1/bookings", alice.token, map[string]string{"session_id": sch.Sessions[0].ID, "patient_id": alice.patientID}); r.status != 201 {
		t.Fatalf("alice books = %d %s", r.status, r.body)
	}
	operator := svc.staffLogin(booking.RoleOperator, 2341)
	caller := map[string]string{"id_type": "resident_id", "id_number": residentID(2341), "name": "测试" + string(rune('甲'+2341%10)), "caller_phone": alice.phone}
	for _, c := range []struct {
		what, field string
		body        map[string]string
	}{
		{"the card read", "identity_check", with(caller, "identity_check", "card_read")},
		{"the card shown", "identity_check", with(caller, "identity_check", "card_shown")},
		{"other", "identity_check", with(caller, "identity_check", "other", "identity_check_reason", "家属代问 a relative")},
		{"spoken with a reason", "identity_check_reason", with(caller, "identity_check", "spoken", "identity_check_reason", "读了号码")},
	} {
		if r := svc.do("POST", "/v1/desk/lookup", operator, c.body); r.status != 400 || r.code != "invalid_field" || r.field != c.field {
			t.Errorf("a caller's lookup with %s = %d %s, want 400 invalid_field on %s", c.what, r.status, r.body, c.field)
		}
	}
	for _, body := range []map[string]string{with(caller, "identity_check", "spoken"), caller} {
		if r := svc.do("POST", "/v1/desk/lookup", operator, body); r.status != 200 {
			t.Errorf("a caller's lookup (identity_check %q) = %d %s, want 200", body["identity_check"], r.status, r.body)
		}
	}
	if n := svc.count(`SELECT count(*) FROM audit_log WHERE action = 'identity_lookup' AND actor_role = 'operator'
		AND reason = 'found; the name given matches; spoken: the caller read the number aloud'`); n != 2 {
		t.Errorf("%d operator lookups audited as spoken, want 2", n)
	}
	if n := svc.count(`SELECT count(*) FROM audit_log WHERE action = 'identity_lookup' AND actor_role = 'operator'`); n != 2 {
		t.Errorf("%d operator lookups audited, want 2 (the refused ones read nobody)", n)
	}
}
