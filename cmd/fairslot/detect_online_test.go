package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"fairslot/internal/booking"
)

// TestDetectionOnlineEqualsOffline: scalper detection inside the service
// (over its event table) and `fairslot detect` over the same events exported
// to a file find the same flags. The trace is made through the real API: an
// identity farm of four accounts on one device, and an ordinary family.
func TestDetectionOnlineEqualsOffline(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 20)
	sess := sch.Sessions[0]
	svc := startService(t, sch, nil)

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
		return acct.ID, pids
	}
	var farm []string
	for n := 1; n <= 4; n++ {
		id, _ := account(n, "dv-farm-tablet", 3)
		farm = append(farm, id)
	}
	family, _ := account(9, "dv-family-phone", 3)

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

	dir := t.TempDir()
	events, flagsFile := filepath.Join(dir, "events.jsonl"), filepath.Join(dir, "flags.json")
	svc.run("events", "--out", events)
	svc.run("detect", "--events", events, "--out", flagsFile)
	raw, err := os.ReadFile(flagsFile)
	if err != nil {
		t.Fatal(err)
	}
	var offline []booking.Flag
	if err := json.Unmarshal(raw, &offline); err != nil {
		t.Fatalf("flags.json: %v", err)
	}

	key := func(fs []booking.Flag) []string {
		var out []string
		for _, f := range fs {
			b, _ := json.Marshal(struct {
				ID       string
				Score    float64
				Reasons  []booking.FlagReason
				Accounts []string
				Persons  []string
			}{f.ID, f.Score, f.Reasons, f.AccountIDs, f.PatientIDs})
			out = append(out, string(b))
		}
		slices.Sort(out)
		return out
	}
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
