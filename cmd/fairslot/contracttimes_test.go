package main

import (
	"bufio"
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
)

// stampRE is the one layout of an exported event's and an audit row's time:
// RFC 3339 with six fractional digits, always, and China Standard Time's
// offset for events (API.md's example), the hospital's (+08:00 here) for
// audit rows.
var stampRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+08:00$`)

// TestContractTimes: review19a L3. `fairslot events` writes ts and
// release_at in +08:00 with a fixed fractional width (it wrote the host's
// zone, "Z" on a UTC host, with 4 to 9 digits); the audit's ts has the same
// width; and ?since= pasted unencoded (its "+" decoded to a space) is read
// as the offset it was, not refused as invalid_date.
func TestContractTimes(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 3)
	svc := startService(t, sch, nil)
	p := svc.newPatient(5101)
	if r := svc.do("POST", "/v1/bookings", p.token, map[string]string{"session_id": sch.Sessions[0].ID, "patient_id": p.patientID}); r.status != 201 {
		t.Fatalf("book = %d %s", r.status, r.body)
	}
	admin := svc.staffLoginAt(booking.RoleAdmin, 5102, sch.Hospitals[0].ID)

	lines := 0
	sc := bufio.NewScanner(strings.NewReader(svc.run("events", "--out", "-")))
	for sc.Scan() {
		var ev map[string]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("event line %q: %v", sc.Text(), err)
		}
		lines++
		for _, f := range []string{"ts", "release_at"} {
			v, ok := ev[f].(string)
			if f == "release_at" && !ok {
				continue
			}
			if !stampRE.MatchString(v) {
				t.Errorf("event %v: %s = %q, want RFC 3339 with six fractional digits and +08:00", ev["type"], f, v)
			}
		}
	}
	if lines < 3 {
		t.Fatalf("fairslot events wrote %d lines, want the account, the patient and the booking", lines)
	}

	since := time.Now().Add(-time.Hour).In(booking.StandInLocation()).Format(time.RFC3339)
	for name, q := range map[string]string{
		"percent-encoded":              url.QueryEscape(since),
		"pasted unencoded (+ → space)": since,
		"a space typed for the +":      strings.Replace(since, "+", "%20", 1),
	} {
		r := svc.do("GET", "/v1/admin/audit?since="+q, admin, nil)
		if r.status != 200 {
			t.Errorf("%s since=%s: %d %s, want 200", name, q, r.status, r.body)
			continue
		}
		var rows []struct {
			TS     string `json:"ts"`
			Action string `json:"action"`
		}
		r.decode(t, &rows)
		if len(rows) == 0 {
			t.Errorf("%s since=%s: no audit rows, want the booking's and the staff account's", name, q)
		}
		for _, a := range rows {
			if !stampRE.MatchString(a.TS) {
				t.Errorf("audit %s ts = %q, want RFC 3339 with six fractional digits and the hospital's +08:00", a.Action, a.TS)
			}
		}
	}
	if r := svc.do("GET", "/v1/admin/audit?since=2026-12-01T00:00:00%2008:00x", admin, nil); r.status != 400 || r.code != "invalid_date" {
		t.Errorf("since not a time = %d %s, want 400 invalid_date", r.status, r.body)
	}
}
