package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/detect"
	"fairslot/internal/detect/synth"
)

// TestDetectCommand runs `fairslot detect` in-process over a file of events
// and checks the flags file has the shape of GET /v1/admin/flags.
func TestDetectCommand(t *testing.T) {
	dir := t.TempDir()
	events, out := filepath.Join(dir, "events.jsonl"), filepath.Join(dir, "flags.json")
	release := time.Date(2026, 11, 2, 8, 0, 0, 0, time.FixedZone("CST", 8*3600))
	var evs []booking.Event
	for i, a := range []string{"a1", "a2", "a1", "a2", "a1", "a2"} {
		at := release.Add(time.Duration(i) * 24 * time.Hour)
		evs = append(evs, booking.Event{TS: at.Add(90 * time.Millisecond), Type: booking.EventBooked, AccountID: a,
			PatientID: "p" + a, SessionID: "s" + string(rune('a'+i)), ReleaseAt: at, DeviceID: "shared-handset", Channel: booking.ChannelOnline})
	}
	writeEvents(t, events, evs)

	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"detect", "--events", events, "--out", out}, func(string) string { return "" }, &stdout, &stderr); err != nil {
		t.Fatalf("detect: %v\n%s", err, stderr.String())
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var flags []map[string]any
	if err := json.Unmarshal(raw, &flags); err != nil {
		t.Fatalf("flags file is not a JSON array: %v\n%s", err, raw)
	}
	if len(flags) != 1 {
		t.Fatalf("got %d flags, want the ring as one: %s", len(flags), raw)
	}
	f := flags[0]
	for _, k := range []string{"flag_id", "score", "status", "reasons", "account_ids", "patient_ids", "created_at"} {
		if _, ok := f[k]; !ok {
			t.Errorf("flag lacks %q: %s", k, raw)
		}
	}
	if f["status"] != "open" {
		t.Errorf("status = %v, want open", f["status"])
	}
	if got := f["account_ids"].([]any); len(got) != 2 || got[0] != "a1" || got[1] != "a2" {
		t.Errorf("account_ids = %v, want [a1 a2]", got)
	}
	if _, err := time.Parse(time.RFC3339, f["created_at"].(string)); err != nil {
		t.Errorf("created_at: %v", err)
	}
	reasons := f["reasons"].([]any)
	first := reasons[0].(map[string]any)
	if first["signal"] == "" || !strings.Contains(first["detail"].(string), "bookings within 300 ms") {
		t.Errorf("reasons = %v", reasons)
	}
	if !strings.Contains(stderr.String(), "1 flags") {
		t.Errorf("stderr = %q", stderr.String())
	}

	// The same run with a configuration that raises the bar flags nothing.
	config := filepath.Join(dir, "detect.json")
	if err := os.WriteFile(config, []byte(`{"threshold": 100}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"detect", "--events", events, "--out", out, "--config", config}, func(string) string { return "" }, &stdout, &stderr); err != nil {
		t.Fatalf("detect --config: %v", err)
	}
	if raw, _ := os.ReadFile(out); strings.TrimSpace(string(raw)) != "[]" {
		t.Errorf("with threshold 100: %s, want []", raw)
	}
}

func TestDetectCommandErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.jsonl")
	if err := os.WriteFile(bad, []byte("{not json\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no events", []string{"detect"}, "--events is required"},
		{"missing file", []string{"detect", "--events", filepath.Join(dir, "nope.jsonl")}, "no such file"},
		{"bad line", []string{"detect", "--events", bad}, "line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tt.args, func(string) string { return "" }, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one saying %q", err, tt.want)
			}
		})
	}
}

// TestDetectEvalCommand measures a small generated trace written to files,
// as loadtest/gen writes them.
func TestDetectEvalCommand(t *testing.T) {
	dir := t.TempDir()
	tr := synth.Generate(synth.Params{Seed: 3, Families: 600})
	events, labels := filepath.Join(dir, "trace.jsonl"), filepath.Join(dir, "labels.json")
	writeEvents(t, events, tr.Events)
	raw, err := json.Marshal(tr.Labels)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(labels, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"detect-eval", "--events", events, "--labels", labels}, func(string) string { return "" }, &stdout, &stderr); err != nil {
		t.Fatalf("detect-eval: %v\n%s", err, stderr.String())
	}
	for _, want := range []string{"precision", "recall", "families flagged", "trace.jsonl"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout.String())
		}
	}
}

func writeEvents(t *testing.T, path string, evs []booking.Event) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := detect.WriteEvents(f, evs); err != nil {
		t.Fatal(err)
	}
}
