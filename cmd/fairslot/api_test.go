package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"fairslot/internal/identity"
	"fairslot/internal/testenv"
)

// TestAPITour walks the README's tour over the real binary: account, login,
// patient, sessions, book, list, cancel.
func TestAPITour(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 3)
	svc := startService(t, sch, nil)
	sess := sch.Sessions[0]

	if r := svc.do("GET", "/healthz", "", nil); r.status != 200 {
		t.Errorf("healthz = %d, want 200", r.status)
	}
	if r := svc.do("GET", "/readyz", "", nil); r.status != 200 {
		t.Errorf("readyz = %d %s, want 200", r.status, r.body)
	}
	p := svc.newPatient(1)

	var pts []map[string]any
	svc.do("GET", "/v1/patients", p.token, nil).decode(t, &pts)
	if len(pts) != 1 || pts[0]["patient_id"] != p.patientID {
		t.Fatalf("patients = %v, want the one added", pts)
	}
	if id := pts[0]["masked_id"].(string); strings.Count(id, "*") < 8 || strings.Contains(id, residentID(1)[3:14]) {
		t.Errorf("masked_id = %q, want the middle of the number hidden", id)
	}
	if pts[0]["relationship"] != "self" || pts[0]["birth_year"] != float64(1960) {
		t.Errorf("the holder reads relationship %v, birth_year %v; want self, 1960 (from the resident ID)", pts[0]["relationship"], pts[0]["birth_year"])
	}
	var child, abroad map[string]any
	born2016 := "11010520160304123" + string(identity.CheckDigit("11010520160304123"))
	svc.do("POST", "/v1/patients", p.token, map[string]any{"id_type": "resident_id", "id_number": born2016, "name": "测试乙",
		"relationship": "child", "guardian_consent": true}).decode(t, &child) // under 14: the parent consents for them
	svc.do("POST", "/v1/patients", p.token, map[string]any{"id_type": "passport", "id_number": "E20161234", "name": "测试丙"}).decode(t, &abroad)
	if child["relationship"] != "child" || child["birth_year"] != float64(2016) {
		t.Errorf("a child added reads %v, want relationship child, birth_year 2016", child)
	}
	if _, has := abroad["birth_year"]; abroad["relationship"] != "other" || has {
		t.Errorf("a member added by passport reads %v, want relationship other (the default) and no birth_year", abroad)
	}

	var hs []struct {
		ID string `json:"hospital_id"`
	}
	svc.do("GET", "/v1/hospitals", "", nil).decode(t, &hs)
	if len(hs) != 1 || hs[0].ID != sess.HospitalID {
		t.Fatalf("hospitals = %v, want the test hospital", hs)
	}
	var deps []map[string]any
	svc.do("GET", "/v1/hospitals/"+sess.HospitalID+"/departments", "", nil).decode(t, &deps)
	if len(deps) != 1 {
		t.Errorf("departments = %v, want 1", deps)
	}
	var ss []struct {
		ID       string `json:"session_id"`
		Channels []struct {
			Channel   string `json:"channel"`
			Remaining int    `json:"remaining"`
			Released  bool   `json:"released"`
		} `json:"channels"`
	}
	svc.do("GET", "/v1/hospitals/"+sess.HospitalID+"/sessions?date="+sess.VisitDate, "", nil).decode(t, &ss)
	if len(ss) != 1 || ss[0].ID != sess.ID || ss[0].Channels[0].Remaining != 3 || !ss[0].Channels[0].Released {
		t.Fatalf("sessions = %+v, want one released session with 3 online slots", ss)
	}

	r := svc.do("POST", "/v1/bookings", p.token, map[string]string{"session_id": sess.ID, "patient_id": p.patientID, "channel": "online"})
	if r.status != 201 {
		t.Fatalf("book = %d %s, want 201", r.status, r.body)
	}
	var b struct {
		ID        string `json:"booking_id"`
		SlotNo    int    `json:"slot_no"`
		SlotStart string `json:"slot_start"`
		Status    string `json:"status"`
	}
	r.decode(t, &b)
	if b.SlotNo != 1 || b.Status != "confirmed" || !strings.HasSuffix(b.SlotStart, "+08:00") {
		t.Errorf("booking = %+v, want slot 1, confirmed, time in +08:00", b)
	}
	var list []struct {
		ID string `json:"booking_id"`
	}
	svc.do("GET", "/v1/bookings", p.token, nil).decode(t, &list)
	if len(list) != 1 || list[0].ID != b.ID {
		t.Errorf("bookings = %v, want [%s]", list, b.ID)
	}
	if r := svc.do("GET", "/v1/bookings/"+b.ID, p.token, nil); r.status != 200 {
		t.Errorf("get booking = %d, want 200", r.status)
	}
	r = svc.do("DELETE", "/v1/bookings/"+b.ID, p.token, nil)
	var c struct{ Status string }
	r.decode(t, &c)
	if r.status != 200 || c.Status != "cancelled" {
		t.Errorf("cancel = %d %s, want 200 cancelled", r.status, r.body)
	}
	// The returned slot does not reappear at once: with nobody on the
	// waitlist it waits out a random delay (5 to 60 minutes by default).
	svc.do("GET", "/v1/hospitals/"+sess.HospitalID+"/sessions", "", nil).decode(t, &ss)
	if ss[0].Channels[0].Remaining != 2 {
		t.Errorf("remaining right after cancel = %d, want 2 (the slot waits out its delay)", ss[0].Channels[0].Remaining)
	}
	svc.run("reconcile", "--check")
}

// TestIdempotentCreation: a repeat of a POST that creates something, with the
// same Idempotency-Key, returns the first answer and creates nothing new.
func TestIdempotentCreation(t *testing.T) {
	svc := startService(t, schedule(t, time.Now().Add(-time.Minute), 3), nil)
	creds := map[string]string{"phone": "13600000001", "password": "long enough"}
	first := svc.do("POST", "/v1/accounts", "", creds, "Idempotency-Key", "acct-1")
	again := svc.do("POST", "/v1/accounts", "", creds, "Idempotency-Key", "acct-1")
	if first.status != 201 || again.status != 201 || string(first.body) != string(again.body) {
		t.Errorf("account twice with one key = %d %s then %d %s, want the same 201", first.status, first.body, again.status, again.body)
	}
	if r := svc.do("POST", "/v1/accounts", "", creds); r.status != 409 || r.code != "phone_taken" {
		t.Errorf("account again without the key = %d %q, want 409 phone_taken", r.status, r.code)
	}

	var tok struct{ Token string }
	svc.do("POST", "/v1/auth/login", "", creds).decode(t, &tok)
	me := map[string]any{"id_type": "resident_id", "id_number": residentID(7), "name": "赵六", "self": true}
	first = svc.do("POST", "/v1/patients", tok.Token, me, "Idempotency-Key", "pat-1")
	again = svc.do("POST", "/v1/patients", tok.Token, me, "Idempotency-Key", "pat-1")
	if first.status != 201 || again.status != 201 || string(first.body) != string(again.body) {
		t.Errorf("patient twice with one key = %d %s then %d %s, want the same 201", first.status, first.body, again.status, again.body)
	}
	kid := map[string]any{"id_type": "resident_id", "id_number": residentID(8), "name": "赵小六"}
	if r := svc.do("POST", "/v1/patients", tok.Token, kid, "Idempotency-Key", "pat-1"); r.status != 409 || r.code != "idempotency_key_reused" {
		t.Errorf("another patient with a used key = %d %q, want 409 idempotency_key_reused", r.status, r.code)
	}
	if n := svc.count("SELECT count(*) FROM patients"); n != 1 {
		t.Errorf("%d patients, want 1", n)
	}
	if n := svc.count("SELECT count(*) FROM accounts"); n != 1 {
		t.Errorf("%d accounts, want 1", n)
	}
}

// TestWaitlistIdempotent: joining a waitlist twice with one key answers the
// first entry both times.
func TestWaitlistIdempotent(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 1)
	svc := startService(t, sch, nil)
	sess := sch.Sessions[0]
	alice, bob := svc.newPatient(1), svc.newPatient(2)
	if r := svc.do("POST", "/v1/bookings", alice.token, map[string]string{"session_id": sess.ID, "patient_id": alice.patientID}); r.status != 201 {
		t.Fatalf("book = %d %s", r.status, r.body)
	}
	join := map[string]string{"session_id": sess.ID, "patient_id": bob.patientID}
	first := svc.do("POST", "/v1/waitlist", bob.token, join, "Idempotency-Key", "w-1")
	again := svc.do("POST", "/v1/waitlist", bob.token, join, "Idempotency-Key", "w-1")
	if first.status != 201 || again.status != 201 || string(first.body) != string(again.body) {
		t.Errorf("join twice with one key = %d %s then %d %s, want the same 201", first.status, first.body, again.status, again.body)
	}
	// Its time is in the hospital's zone, as a booking's (it was UTC).
	var joined struct {
		CreatedAt string `json:"created_at"`
	}
	first.decode(t, &joined)
	var listed []struct {
		CreatedAt string `json:"created_at"`
	}
	svc.do("GET", "/v1/waitlist", bob.token, nil).decode(t, &listed)
	if !strings.HasSuffix(joined.CreatedAt, "+08:00") || len(listed) != 1 || listed[0].CreatedAt != joined.CreatedAt {
		t.Errorf("created_at = %q, listed %+v; want one time in the hospital's +08:00", joined.CreatedAt, listed)
	}
	if r := svc.do("POST", "/v1/waitlist", bob.token, join); r.status != 409 || r.code != "already_waitlisted" {
		t.Errorf("join again without the key = %d %q, want 409 already_waitlisted", r.status, r.code)
	}
	if n := svc.count("SELECT count(*) FROM waitlist"); n != 1 {
		t.Errorf("%d waitlist rows, want 1", n)
	}
}

// TestBadInput sends each kind of bad request and checks the documented
// status and stable code, and that nothing was written to SQL or Redis.
func TestBadInput(t *testing.T) {
	release := time.Now().Add(-time.Minute)
	sch := schedule(t, release, 3, 3)
	later := schedule(t, time.Now().Add(24*time.Hour), 3)
	sch.Hospitals = append(sch.Hospitals, later.Hospitals...)
	sch.Departments = append(sch.Departments, later.Departments...)
	sch.Doctors = append(sch.Doctors, later.Doctors...)
	sch.Sessions = append(sch.Sessions, later.Sessions...)
	svc := startService(t, sch, nil)
	open, notYet := sch.Sessions[0], sch.Sessions[2]

	alice, bob := svc.newPatient(1), svc.newPatient(2)
	r := svc.do("POST", "/v1/bookings", bob.token, map[string]string{"session_id": open.ID, "patient_id": bob.patientID})
	var bobs struct {
		ID string `json:"booking_id"`
	}
	r.decode(t, &bobs)

	book := func(session, patient string) map[string]string {
		return map[string]string{"session_id": session, "patient_id": patient}
	}
	addPatient := func(idType, number, name string) map[string]string {
		return map[string]string{"id_type": idType, "id_number": number, "name": name}
	}
	valid := residentID(3)
	badCheck := valid[:17] + map[bool]string{true: "0", false: "1"}[valid[17] != '0']
	tests := []struct {
		name         string
		method, path string
		token        string
		body         any
		status       int
		code         string
	}{
		{"malformed JSON", "POST", "/v1/bookings", alice.token, `{"session_id": "x",`, 400, "invalid_json"},
		{"empty body", "POST", "/v1/bookings", alice.token, ``, 400, "invalid_json"},
		{"not an object", "POST", "/v1/bookings", alice.token, `[1,2]`, 400, "invalid_json"},
		{"null body", "POST", "/v1/bookings", alice.token, `null`, 400, "invalid_json"},
		{"two values", "POST", "/v1/bookings", alice.token, `{} {}`, 400, "invalid_json"},
		{"unknown field", "POST", "/v1/bookings", alice.token, `{"session_id":"x","patient_id":"y","vip":true}`, 400, "invalid_field"},
		{"wrong type", "POST", "/v1/bookings", alice.token, `{"session_id":42,"patient_id":"y"}`, 400, "invalid_field"},
		{"missing field", "POST", "/v1/bookings", alice.token, `{"session_id":"x"}`, 400, "invalid_field"},
		{"unknown channel", "POST", "/v1/bookings", alice.token, map[string]string{"session_id": open.ID, "patient_id": alice.patientID, "channel": "vip"}, 400, "invalid_channel"},
		{"phone channel as a patient", "POST", "/v1/bookings", alice.token, map[string]string{"session_id": open.ID, "patient_id": alice.patientID, "channel": "phone"}, 403, "channel_forbidden"},
		{"invalid check digit", "POST", "/v1/patients", alice.token, addPatient("resident_id", badCheck, "王五"), 400, "invalid_id_number"},
		{"unknown id type", "POST", "/v1/patients", alice.token, addPatient("library_card", "12345678", "王五"), 400, "invalid_id_type"},
		{"name with digits", "POST", "/v1/patients", alice.token, addPatient("resident_id", valid, "王五5"), 400, "invalid_name"},
		{"invalid phone on patient", "POST", "/v1/patients", alice.token, map[string]string{"id_type": "resident_id", "id_number": valid, "name": "王五", "phone": "12345"}, 400, "invalid_phone"},
		{"unknown relationship", "POST", "/v1/patients", alice.token, map[string]string{"id_type": "resident_id", "id_number": valid, "name": "王五", "relationship": "cousin"}, 400, "invalid_field"},
		{"holder as a child", "POST", "/v1/patients", alice.token, map[string]any{"id_type": "resident_id", "id_number": valid, "name": "王五", "self": true, "relationship": "child"}, 400, "invalid_field"},
		{"unknown session", "POST", "/v1/bookings", alice.token, book("7d9f3c1e-0000-4000-8000-000000000000", alice.patientID), 404, "session_not_found"},
		{"malformed session id", "POST", "/v1/bookings", alice.token, book("../etc", alice.patientID), 404, "session_not_found"},
		{"before release", "POST", "/v1/bookings", alice.token, book(notYet.ID, alice.patientID), 422, "not_released"},
		{"patient of another account", "POST", "/v1/bookings", alice.token, book(open.ID, bob.patientID), 404, "patient_not_found"},
		{"cancel someone else's booking", "DELETE", "/v1/bookings/" + bobs.ID, alice.token, nil, 404, "booking_not_found"},
		{"read someone else's booking", "GET", "/v1/bookings/" + bobs.ID, alice.token, nil, 404, "booking_not_found"},
		{"no token", "POST", "/v1/bookings", "", book(open.ID, alice.patientID), 401, "unauthenticated"},
		{"forged token", "POST", "/v1/bookings", alice.token[:len(alice.token)-2] + "xx", book(open.ID, alice.patientID), 401, "invalid_token"},
		{"weak password", "POST", "/v1/accounts", "", map[string]string{"phone": "13712349999", "password": "short"}, 400, "weak_password"},
		{"invalid phone", "POST", "/v1/accounts", "", map[string]string{"phone": "12345", "password": "long enough"}, 400, "invalid_phone"},
		{"phone taken", "POST", "/v1/accounts", "", map[string]string{"phone": alice.phone, "password": "long enough"}, 409, "phone_taken"},
		{"wrong password", "POST", "/v1/auth/login", "", map[string]string{"phone": alice.phone, "password": "not the password"}, 401, "invalid_credentials"},
		{"invalid date", "GET", "/v1/hospitals/" + open.HospitalID + "/sessions?date=tomorrow", "", nil, 400, "invalid_date"},
		{"unknown hospital", "GET", "/v1/hospitals/7d9f3c1e-0000-4000-8000-000000000000/sessions", "", nil, 404, "hospital_not_found"},
		{"unknown department", "GET", "/v1/hospitals/" + open.HospitalID + "/sessions?department_id=7d9f3c1e-0000-4000-8000-000000000000", "", nil, 404, "department_not_found"},
		{"another hospital's department", "GET", "/v1/hospitals/" + open.HospitalID + "/sessions?department_id=" + notYet.DepartmentID, "", nil, 404, "department_not_found"},
		{"a department with no sessions that day", "GET", "/v1/hospitals/" + open.HospitalID + "/sessions?date=2000-01-01&department_id=" + open.DepartmentID, "", nil, 200, ""},
		{"unknown route", "GET", "/v1/nothing", "", nil, 404, "route_not_found"},
		{"wrong method", "PUT", "/v1/bookings", alice.token, nil, 405, "method_not_allowed"},
	}
	counts := func() map[string]int {
		m := map[string]int{}
		for _, table := range []string{"accounts", "identities", "patients", "bookings"} {
			m[table] = svc.count("SELECT count(*) FROM " + table)
		}
		// A refused attempt is recorded, by design (rejected, rate_limited:
		// docs/detection.md), and by a writer in the background, so it may
		// land before or after this count; anything else is a trace.
		m["booking_events (not refusals)"] = svc.count("SELECT count(*) FROM booking_events WHERE type NOT IN ('rejected', 'rate_limited')")
		return m
	}
	before := counts()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := svc.do(tt.method, tt.path, tt.token, tt.body)
			if r.status != tt.status || r.code != tt.code {
				t.Errorf("%s %s = %d %q, want %d %q (%s)", tt.method, tt.path, r.status, r.code, tt.status, tt.code, r.body)
			}
		})
	}
	t.Run("body too large", func(t *testing.T) {
		// The server answers from the headers and closes; a client still
		// writing the body may see the reset before the answer, so speak
		// HTTP by hand: announce a body over the limit, send none, read.
		addr := strings.TrimPrefix(svc.base, "http://")
		conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
		testenv.Must(t, err, "dial")
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(conn, "POST /v1/patients HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", addr, alice.token, 70<<10)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		testenv.Must(t, err, "read response")
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 400 || !strings.Contains(string(body), `"body_too_large"`) {
			t.Errorf("oversized body = %d %s, want 400 body_too_large", resp.StatusCode, body)
		}
	})
	after := counts()
	for table, n := range before {
		if after[table] != n {
			t.Errorf("%s rows: %d before the bad requests, %d after; want no trace", table, n, after[table])
		}
	}
	// Redis: still agrees with SQL (only bob's booking is held).
	svc.run("reconcile", "--check")
}
