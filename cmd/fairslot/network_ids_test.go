package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/detect"
)

// TestNetworkIDsArePseudonymous (review21 M5): what leaves the service of
// an event's IP address and device id — the events export an operator
// carries elsewhere, a flag's timeline — is a keyed pseudonym, never the
// clear value; the same address or device gives the same pseudonym, so the
// detector reading the export still sees equal ones as equal (online equals
// offline: TestDetectOnlineEqualsOffline).
func TestNetworkIDsArePseudonymous(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 5, 5)
	svc := startService(t, sch, nil)
	h := sch.Hospitals[0].ID
	platform := svc.staffLoginAt(booking.RoleAdmin, 571, "")
	clerk := svc.staffLoginAt(booking.RoleClerk, 572, h)
	p, scalper := svc.newPatient(573), svc.newPatient(574)
	const device = "scalper-phone-7"

	made := svc.resell(scalper, p, 573, clerk, sch.Sessions[0].ID, "X-Device-Id", device)
	if r := svc.do("POST", "/v1/bookings", scalper.token, map[string]string{"session_id": sch.Sessions[1].ID, "patient_id": scalper.patientID}, "X-Device-Id", device); r.status != 201 {
		t.Fatalf("book: %d %s", r.status, r.body)
	}
	if n := svc.count(`SELECT count(*) FROM booking_events WHERE device_id = $1`, device); n < 2 {
		t.Fatalf("%d events hold the device id; want the scalper's (the table keeps it within the window)", n)
	}

	file := filepath.Join(t.TempDir(), "events.jsonl")
	svc.run("events", "--out", file)
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(device)) || bytes.Contains(raw, []byte(`"127.0.0.1"`)) {
		t.Errorf("the events export holds an IP address or device id in clear")
	}
	evs, err := detect.ReadEvents(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	devs := map[string]int{}
	for _, e := range evs {
		if e.Type == booking.EventBooked && e.AccountID != "" && e.DeviceID != "" {
			devs[e.DeviceID]++
		}
		if e.IP == "127.0.0.1" {
			t.Errorf("an exported event's IP is in clear")
		}
	}
	if len(devs) != 1 {
		t.Errorf("the scalper's two bookings from one device export as %v, want one pseudonym twice", devs)
	}

	var rep caseReply
	r := svc.do("POST", "/v1/reports", p.token, map[string]any{"text": "有人加价卖号给我", "booking_id": made})
	r.decode(t, &rep)
	if r.status != 201 {
		t.Fatalf("report: %d %s", r.status, r.body)
	}
	var fl struct {
		FlagID string `json:"flag_id"`
	}
	r = svc.do("POST", "/v1/admin/cases/"+rep.ID+"/flag", platform, map[string]any{"reason": "代抢号后加价转卖"})
	r.decode(t, &fl)
	if r.status != 201 {
		t.Fatalf("open a flag: %d %s", r.status, r.body)
	}
	r = svc.do("GET", "/v1/admin/flags/"+fl.FlagID, platform, nil)
	if r.status != 200 || !strings.Contains(string(r.body), `"device_id"`) {
		t.Fatalf("the flag = %d %s, want its timeline with devices", r.status, r.body)
	}
	if strings.Contains(string(r.body), device) || strings.Contains(string(r.body), `"127.0.0.1"`) {
		t.Errorf("the flag's timeline shows an IP address or device id in clear: %s", r.body)
	}
}
