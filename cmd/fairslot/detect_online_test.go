package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/detect"
)

// TestDetectionOnlineEqualsOffline: scalper detection inside the service
// (over its event table) and `fairslot detect` over the same events exported
// to a file find the same flags. The trace is made through the real API: an
// identity farm of four accounts on one tablet with 16 people between them
// that hammers the session once it is sold out (refused attempts, written by
// the service as events), and an ordinary family that tries twice.
func TestDetectionOnlineEqualsOffline(t *testing.T) {
	svc, farm, family := farmTrace(t)
	admin := svc.staffLogin(booking.RoleAdmin, 7)
	var opened struct{ Opened int }
	if r := svc.do("POST", "/v1/admin/detect", admin, nil); r.status != 200 {
		t.Fatalf("detect = %d %s", r.status, r.body)
	} else {
		r.decode(t, &opened)
	}
	var online []booking.Flag
	svc.do("GET", "/v1/admin/flags?status=open", admin, nil).decode(t, &online)
	if opened.Opened != len(online) || len(online) == 0 {
		t.Fatalf("detection opened %d flags, %d listed; want the farm flagged", opened.Opened, len(online))
	}

	events := filepath.Join(t.TempDir(), "events.jsonl")
	svc.run("events", "--out", events)
	offline := offlineFlags(t, svc, "--events", events)

	key := flagKeys
	if got, want := key(online), key(offline); !slices.Equal(got, want) {
		t.Errorf("online flags differ from offline flags:\n online  %v\n offline %v", got, want)
	}
	var flagged []string
	for _, f := range online {
		flagged = append(flagged, f.AccountIDs...)
	}
	for _, id := range farm {
		if !slices.Contains(flagged, id) {
			t.Errorf("farm account %s is not flagged; flags: %v", id, key(online))
		}
	}
	if slices.Contains(flagged, family) {
		t.Errorf("the family's account is flagged: %v", key(online))
	}
}

// flagKeys writes each flag's identity, score, reasons, members and attached
// reports as one comparable string, sorted.
func flagKeys(fs []booking.Flag) []string {
	var out []string
	for _, f := range fs {
		b, _ := json.Marshal(struct {
			ID       string
			Score    float64
			Reasons  []booking.FlagReason
			Accounts []string
			Persons  []string
			Cases    []string
		}{f.ID, f.Score, f.Reasons, f.AccountIDs, f.PatientIDs, f.CaseIDs})
		out = append(out, string(b))
	}
	slices.Sort(out)
	return out
}

// offlineFlags runs `fairslot detect` over files and reads its flags.
func offlineFlags(t *testing.T, svc *service, args ...string) []booking.Flag {
	t.Helper()
	out := filepath.Join(t.TempDir(), "flags.json")
	svc.run(append([]string{"detect"}, append(args, "--out", out)...)...)
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var flags []booking.Flag
	if err := json.Unmarshal(raw, &flags); err != nil {
		t.Fatalf("flags.json: %v", err)
	}
	return flags
}

// farmTrace makes, through the real API, an identity farm of four accounts
// on one tablet with 16 people between them that hammers a session once it
// is sold out, and an ordinary family of three that tries twice; it
// returns the service once the refused attempts are in SQL.
func farmTrace(t *testing.T) (svc *service, farm []string, family string) {
	t.Helper()
	sch := schedule(t, time.Now().Add(-time.Minute), 19)
	sess := sch.Sessions[0]
	svc = startService(t, sch, nil)
	tokens := map[string]string{}
	patients := map[string][]string{}

	account := func(n int, device string, people int) (string, []string) {
		phone := fmt.Sprintf("136%08d", n)
		creds := map[string]string{"phone": phone, "password": "password-" + phone}
		var acct struct {
			ID string `json:"account_id"`
		}
		svc.do("POST", "/v1/accounts", "", creds, "X-Device-Id", device).decode(t, &acct)
		var tok struct{ Token string }
		svc.do("POST", "/v1/auth/login", "", creds, "X-Device-Id", device).decode(t, &tok)
		var pids []string
		for i := range people {
			var p struct {
				ID string `json:"patient_id"`
			}
			r := svc.do("POST", "/v1/patients", tok.Token, map[string]any{
				"id_type": "resident_id", "id_number": residentID(n*10 + i), "name": "测试" + string(rune('甲'+i)), "self": i == 0,
			}, "X-Device-Id", device)
			r.decode(t, &p)
			pids = append(pids, p.ID)
			if r := svc.do("POST", "/v1/bookings", tok.Token, map[string]string{"session_id": sess.ID, "patient_id": p.ID}, "X-Device-Id", device); r.status != 201 {
				t.Fatalf("book = %d %s", r.status, r.body)
			}
		}
		tokens[acct.ID], patients[acct.ID] = tok.Token, pids
		return acct.ID, pids
	}
	family, _ = account(9, "dv-family-phone", 3)
	for n := 1; n <= 4; n++ {
		id, _ := account(n, "dv-farm-tablet", 4)
		farm = append(farm, id)
	}
	// Sold out now: the farm tries again and again, the family twice.
	retry := func(acct, device string, n int) {
		for range n {
			r := svc.do("POST", "/v1/bookings", tokens[acct], map[string]string{"session_id": sess.ID, "patient_id": patients[acct][0]}, "X-Device-Id", device)
			// Past the refusal explanations' budget (50 a second) the
			// account's own booking is not shown to be its own:
			// person_booked_elsewhere (docs/security.md).
			if r.code != "sold_out" && r.code != "already_booked" && r.code != "person_booked_elsewhere" {
				t.Fatalf("retry = %d %s, want a refusal", r.status, r.body)
			}
		}
	}
	for _, id := range farm {
		retry(id, "dv-farm-tablet", 16)
	}
	retry(family, "dv-family-phone", 2)
	// The refused attempts reach SQL in the background: wait for them.
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if svc.count(`SELECT count(*) FROM booking_events WHERE type = 'rejected'`) >= 4*4 {
			break
		}
	}
	// … all of them: the writer batches by time, so wait until a second
	// passes with none written (a loaded machine wrote the last ones after
	// detection read the events, and a report matched by its phone found
	// no account).
	for n, deadline := -1, time.Now().Add(20*time.Second); time.Now().Before(deadline); time.Sleep(time.Second) {
		now := svc.count(`SELECT count(*) FROM booking_events WHERE type = 'rejected'`)
		if now == n {
			break
		}
		n = now
	}

	return svc, farm, family
}

// TestRefusedAttemptsAreEvents: in a real run (Redis, PostgreSQL, the HTTP
// API) refused booking attempts — before release, sold out from Redis and
// from memory, over a quota — and rate-limited requests become events, and
// `fairslot events` exports them for `fairslot detect`.
func TestRefusedAttemptsAreEvents(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 1, 5)
	later := schedule(t, time.Now().Add(time.Hour), 5)
	sch.Hospitals = append(sch.Hospitals, later.Hospitals...)
	sch.Departments = append(sch.Departments, later.Departments...)
	sch.Doctors = append(sch.Doctors, later.Doctors...)
	sch.Sessions = append(sch.Sessions, later.Sessions...)
	soldOut, open, notYet := sch.Sessions[0], sch.Sessions[1], sch.Sessions[2]
	svc := startService(t, sch, map[string]string{"FAIRSLOT_RATE_ACCOUNT": "20-M"})
	alice, bob := svc.newPatient(11), svc.newPatient(12)
	book := func(p patient, s string) reply {
		return svc.do("POST", "/v1/bookings", p.token, map[string]string{"session_id": s, "patient_id": p.patientID}, "X-Device-Id", "dv-"+p.phone)
	}
	if r := book(alice, soldOut.ID); r.status != 201 {
		t.Fatalf("alice books the last slot: %d %s", r.status, r.body)
	}
	for range 3 {
		if r := book(bob, soldOut.ID); r.code != "sold_out" {
			t.Fatalf("bob = %d %s, want sold_out", r.status, r.body)
		}
	}
	if r := book(bob, notYet.ID); r.code != "not_released" {
		t.Fatalf("bob before release = %d %s, want not_released", r.status, r.body)
	}
	if r := book(alice, open.ID); r.status != 201 {
		t.Fatalf("alice books another session: %d %s", r.status, r.body)
	}
	if r := book(alice, open.ID); r.code != "already_booked" {
		t.Fatalf("alice again = %d %s, want already_booked", r.status, r.body)
	}
	limited := 0
	for range 25 {
		if r := svc.do("GET", "/v1/bookings", bob.token, nil, "X-Device-Id", "dv-"+bob.phone); r.status == 429 {
			limited++
		}
	}
	if limited == 0 {
		t.Fatal("bob was never rate-limited; want some 429s at 20 a minute")
	}

	// The writer drains every 250 ms: wait for the rows, not for a time.
	want := map[string]int{"sold_out": 3, "not_released": 1, "already_booked": 1, "rate_limited": 1}
	deadline := time.Now().Add(20 * time.Second)
	for {
		n := svc.count(`SELECT count(*) FROM booking_events WHERE type IN ('rejected', 'rate_limited')`)
		if n >= 6 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "events.jsonl")
	svc.run("events", "--out", file)
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := detect.ReadEvents(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	accountOf := map[string]string{alice.phone: "", bob.phone: ""}
	// The export names a device by its keyed pseudonym (review21 M5):
	// bob's is the one his sold_out refusals carry.
	bobDevice := ""
	for _, e := range evs {
		if e.Type == booking.EventBooked && e.PatientID == alice.patientID {
			accountOf[alice.phone] = e.AccountID
		}
		if e.Type == booking.EventRejected && e.Reason == "sold_out" {
			bobDevice = e.DeviceID
		}
	}
	if bobDevice == "" || strings.Contains(bobDevice, bob.phone) {
		t.Errorf("bob's refusals export the device %q, want a keyed pseudonym", bobDevice)
	}
	for _, e := range evs {
		switch e.Type {
		case booking.EventRejected:
			got[e.Reason]++
			if e.AccountID == "" || e.SessionID == "" || e.HospitalID == "" || e.DoctorID == "" || e.ReleaseAt.IsZero() ||
				e.Channel != booking.ChannelOnline || e.IP == "" || e.DeviceID == "" || e.PatientID == "" {
				t.Errorf("rejected event lacks a field: %+v", e)
			}
			if e.Reason == "not_released" && e.SessionID != notYet.ID {
				t.Errorf("not_released names session %s, want %s", e.SessionID, notYet.ID)
			}
			if e.Reason == "already_booked" && e.AccountID != accountOf[alice.phone] {
				t.Errorf("already_booked names account %s, want alice's %s", e.AccountID, accountOf[alice.phone])
			}
		case booking.EventRateLimited:
			got["rate_limited"]++
			if e.AccountID == "" || e.DeviceID != bobDevice || e.Reason != "rate_limited" {
				t.Errorf("rate_limited event = %+v, want bob's account and device", e)
			}
		}
	}
	for reason, n := range want {
		if got[reason] < n {
			t.Errorf("exported %d %s refusals, want %d (all: %v)", got[reason], reason, n, got)
		}
	}
	if got["rate_limited"] > limited {
		t.Errorf("%d rate_limited events for %d 429 answers", got["rate_limited"], limited)
	}
}

// TestRefusedCheckInNamesWhoCame: a check-in the desk refuses for a
// mismatch is exported with who showed the card, through the real API,
// PostgreSQL and `fairslot events`: the account's own child picked by
// mistake is on the account; another account's holder and a card nobody
// registered are strangers, the first by their identity id, the second by a
// keyed id. No ID number appears in the export.
func TestRefusedCheckInNamesWhoCame(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 1)
	now := time.Now()
	today, err := booking.BuildSession(booking.SessionSpec{
		HospitalID: sch.Hospitals[0].ID, DepartmentID: sch.Departments[0].ID, DoctorID: sch.Doctors[0].ID,
		VisitDate: now.In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly), Period: "evening",
		StartsAt: now.Add(time.Hour), EndsAt: now.Add(2 * time.Hour),
		Quotas: []booking.ChannelQuota{{Channel: booking.ChannelOnline, Quota: 2, ReleaseAt: now.Add(-24 * time.Hour)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	sch.Sessions = append(sch.Sessions, today)
	svc := startService(t, sch, nil)
	alice, bob := svc.newPatient(31), svc.newPatient(32)
	clerk := svc.staffLogin(booking.RoleClerk, 31)
	child := map[string]any{"id_type": "resident_id", "id_number": residentID(33), "name": "测试子", "relationship": "child"}
	if r := svc.do("POST", "/v1/patients", alice.token, child); r.status != 201 {
		t.Fatalf("add alice's child: %d %s", r.status, r.body)
	}
	var booked struct {
		ID string `json:"booking_id"`
	}
	svc.do("POST", "/v1/bookings", alice.token, map[string]string{"session_id": today.ID, "patient_id": alice.patientID}).decode(t, &booked)
	if booked.ID == "" {
		t.Fatal("alice could not book today's session")
	}
	cards := []map[string]string{
		{"id_number": residentID(33), "name": "测试子"},                      // her child, picked by mistake
		{"id_number": residentID(32), "name": "测试" + string(rune('甲'+2))}, // bob, another account's holder
		{"id_number": residentID(34), "name": "路人"},                       // nobody registered this card
	}
	for _, c := range cards {
		c["booking_id"], c["id_type"] = booked.ID, "resident_id"
		if r := svc.do("POST", "/v1/desk/checkins", clerk, c); r.code != "identity_mismatch" {
			t.Fatalf("check-in of alice's booking with %s's card = %d %s, want identity_mismatch", c["name"], r.status, r.body)
		}
	}
	file := filepath.Join(t.TempDir(), "events.jsonl")
	svc.run("events", "--out", file)
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{31, 32, 33, 34} {
		if bytes.Contains(raw, []byte(residentID(n))) {
			t.Errorf("the export carries ID number %d", n)
		}
	}
	evs, err := detect.ReadEvents(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	bobIdentity := ""
	for _, e := range evs {
		if e.Type == booking.EventPatientAdded && e.PatientID == bob.patientID {
			bobIdentity = e.IdentityID
		}
	}
	var got []booking.Event
	for _, e := range evs {
		if e.Type == booking.EventRejected && e.Reason == "identity_mismatch" {
			got = append(got, e)
		}
	}
	if len(got) != 3 {
		t.Fatalf("exported %d refused check-ins, want 3", len(got))
	}
	for i, want := range []bool{true, false, false} {
		e := got[i]
		if e.BookingID != booked.ID || e.StaffID == "" || e.PresentedOnAccount == nil || *e.PresentedOnAccount != want ||
			!booking.IsUUID(e.PresentedIdentityID) || e.PresentedIdentityID == e.IdentityID {
			t.Errorf("refused check-in %d (%s) = %+v, want the presented person, on the account %v", i, cards[i]["name"], e, want)
		}
	}
	if bobIdentity == "" || got[1].PresentedIdentityID != bobIdentity {
		t.Errorf("bob's card presented as %q, want his identity %q", got[1].PresentedIdentityID, bobIdentity)
	}
}

// TestOperatorDetectionOnlineEqualsOffline: an operator's calls through the
// real API (review23 H1, H2) — 18 people booked by phone within seconds
// from four numbers (none past the service's 5 persons a number a day),
// then a phone booking cancelled for its caller and its session given, by
// the same operator, to somebody else — are flagged alike inside the
// service and by `fairslot detect` over the exported events: staff_pace
// (automation) and staff_handoff (transfer), two kinds.
func TestOperatorDetectionOnlineEqualsOffline(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 1, 1, 1, 1)
	svc := startService(t, sch, nil)
	operator := svc.staffLogin(booking.RoleOperator, 93)
	admin := svc.staffLogin(booking.RoleAdmin, 94)
	person := func(i int) map[string]string {
		return map[string]string{"id_type": "resident_id", "id_number": residentID(900 + i), "name": "测试" + string(rune('甲'+i))}
	}
	number := func(i int) string { return fmt.Sprintf("1360000%04d", i/5) }
	var first string
	for i := range 18 {
		s := sch.Sessions[0] // four of its five phone slots
		if i >= 4 {
			s = sch.Sessions[1+(i-4)/5]
		}
		r := svc.do("POST", "/v1/phone/bookings", operator, with(person(i), "caller_phone", number(i), "session_id", s.ID, "privacy_consent", booking.PrivacyNoticeVersion))
		var b struct {
			ID string `json:"booking_id"`
		}
		if r.decode(t, &b); r.status != 201 {
			t.Fatalf("phone booking %d = %d %s", i, r.status, r.body)
		}
		if i == 0 {
			first = b.ID
		}
	}
	if r := svc.do("POST", "/v1/phone/cancellations", operator, with(person(0), "caller_phone", number(0), "booking_id", first)); r.status != 200 {
		t.Fatalf("cancel for the caller = %d %s", r.status, r.body)
	}
	if r := svc.do("POST", "/v1/phone/bookings", operator, with(person(18), "caller_phone", "13600009999", "session_id", sch.Sessions[0].ID, "privacy_consent", booking.PrivacyNoticeVersion)); r.status != 201 {
		t.Fatalf("the operator's next booking in that session = %d %s", r.status, r.body)
	}

	if r := svc.do("POST", "/v1/admin/detect", admin, nil); r.status != 200 {
		t.Fatalf("detect = %d %s", r.status, r.body)
	}
	var online []booking.Flag
	svc.do("GET", "/v1/admin/flags?status=open", admin, nil).decode(t, &online)
	events := filepath.Join(t.TempDir(), "events.jsonl")
	svc.run("events", "--out", events)
	offline := offlineFlags(t, svc, "--events", events)
	if got, want := flagKeys(online), flagKeys(offline); !slices.Equal(got, want) {
		t.Errorf("online flags differ from offline flags:\n online  %v\n offline %v", got, want)
	}
	if len(online) != 1 || len(online[0].AccountIDs) != 1 {
		t.Fatalf("flags = %v, want the operator's", flagKeys(online))
	}
	var signals []string
	for _, r := range online[0].Reasons {
		signals = append(signals, r.Signal)
	}
	if !slices.Contains(signals, "staff_pace") || !slices.Contains(signals, "staff_handoff") {
		t.Errorf("the operator's signals = %v, want staff_pace and staff_handoff", signals)
	}
}
