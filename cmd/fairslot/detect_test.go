package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/detect"
)

// TestDetectCommand runs `fairslot detect` in-process over a file of events
// and checks the flags file has the shape of GET /v1/admin/flags.
func TestDetectCommand(t *testing.T) {
	dir := t.TempDir()
	events, out := filepath.Join(dir, "events.jsonl"), filepath.Join(dir, "flags.json")
	release := time.Date(2026, 11, 2, 8, 0, 0, 0, time.FixedZone("CST", 8*3600))
	// Two accounts on one handset book eight sessions 90 ms after release:
	// sessions that five other people booked within seconds too (the
	// scarcest). Speed and the scarcest sessions: two kinds of evidence.
	var evs []booking.Event
	for i, a := range []string{"a1", "a2", "a1", "a2", "a1", "a2", "a1", "a2"} {
		at := release.Add(time.Duration(i) * 24 * time.Hour)
		s := "s" + string(rune('a'+i))
		evs = append(evs, booking.Event{TS: at.Add(90 * time.Millisecond), Type: booking.EventBooked, AccountID: a,
			PatientID: "p" + a, SessionID: s, ReleaseAt: at, DeviceID: "shared-handset", Channel: booking.ChannelOnline})
		for j := range 5 {
			evs = append(evs, booking.Event{TS: at.Add(time.Duration(j+1) * time.Second), Type: booking.EventBooked,
				AccountID: fmt.Sprintf("other%d%d", i, j), PatientID: "q", SessionID: s, ReleaseAt: at, Channel: booking.ChannelOnline})
		}
	}
	for i := range 40 {
		at := release.Add(time.Duration(i%6)*24*time.Hour + 3*time.Hour)
		evs = append(evs, booking.Event{TS: at, Type: booking.EventBooked, AccountID: fmt.Sprintf("plain%d", i),
			PatientID: "q", SessionID: fmt.Sprintf("plain%d", i%8), ReleaseAt: release.Add(time.Duration(i%6) * 24 * time.Hour), Channel: booking.ChannelOnline})
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
	for _, k := range []string{"flag_id", "score", "status", "reasons", "account_ids", "patient_ids", "created_at", "threshold", "explanation", "explanation_zh"} {
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
	// In the zone GET /v1/admin/flags tells a platform-wide administrator
	// (a flag spans hospitals: China Standard Time), with its offset, as
	// the other tools print times (lows17: "…Z", the machine's UTC).
	if c, err := time.Parse(time.RFC3339, f["created_at"].(string)); err != nil || !strings.HasSuffix(f["created_at"].(string), "+08:00") {
		t.Errorf("created_at = %v (%v); want RFC 3339 with +08:00", f["created_at"], err)
	} else if last := release.Add(7*24*time.Hour + 90*time.Millisecond); !c.Equal(last) {
		t.Errorf("created_at = %s; want the ring's last booking, %s", c, last)
	}
	reasons := f["reasons"].([]any)
	first := reasons[0].(map[string]any)
	if first["signal"] == "" || !strings.Contains(first["detail"].(string), "bookings within 300 ms") || first["detail_zh"] == "" {
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

// TestWriteToDevice: --out naming something that is not a regular file
// (/dev/null, a pipe) writes into it and leaves it what it was; renaming a
// temporary file over /dev/null once replaced the machine's device with a
// file only root could write.
func TestWriteToDevice(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "out.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no fifo here: %v", err)
	}
	// The reading end, opened without waiting for a writer, so that the
	// test cannot hang whatever writeTo does.
	r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := writeTo(fifo, nil, func(w io.Writer) error { _, err := io.WriteString(w, "[]\n"); return err }); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 16)
	n, _ := r.Read(b)
	if string(b[:n]) != "[]\n" {
		t.Errorf("read %q from the pipe, want %q", b[:n], "[]\n")
	}
	fi, err := os.Lstat(fifo)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("%s is now %v, want the named pipe it was", fifo, fi.Mode())
	}
}

// TestDetectProfiles: --cpuprofile and --memprofile write the run's CPU
// and allocation profiles (gzipped protocol buffers, as go tool pprof
// reads them) beside the flags.
func TestDetectProfiles(t *testing.T) {
	dir := t.TempDir()
	events := filepath.Join(dir, "events.jsonl")
	at := time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
	writeEvents(t, events, []booking.Event{{TS: at, Type: booking.EventBooked, AccountID: "a1", PatientID: "p1", SessionID: "s1"}})
	cpu, mem := filepath.Join(dir, "cpu.pprof"), filepath.Join(dir, "mem.pprof")
	var stdout, stderr bytes.Buffer
	args := []string{"detect", "--events", events, "--out", filepath.Join(dir, "flags.json"), "--cpuprofile", cpu, "--memprofile", mem}
	if err := run(context.Background(), args, func(string) string { return "" }, &stdout, &stderr); err != nil {
		t.Fatalf("detect: %v\n%s", err, stderr.String())
	}
	for _, p := range []string{cpu, mem} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
			t.Errorf("%s: %d bytes, not a gzipped profile", filepath.Base(p), len(b))
		}
	}
	if !strings.Contains(stderr.String(), "writing the flags") {
		t.Errorf("summary line %q does not say how long writing took", stderr.String())
	}
}

// TestOutputToAMissingFolderNamesTheFile: an --out in a folder that does
// not exist is refused naming the file asked for, not the temporary file
// the write goes through (".flags-NNN", the detector's, even for
// `fairslot events`: review of session 17).
func TestOutputToAMissingFolderNamesTheFile(t *testing.T) {
	dir := t.TempDir()
	events := filepath.Join(dir, "events.jsonl")
	writeEvents(t, events, nil)
	for _, name := range []string{"x.jsonl", "flags.json"} {
		out := filepath.Join(dir, "nonexistent", name)
		err := writeTo(out, io.Discard, func(w io.Writer) error { _, err := io.WriteString(w, "{}\n"); return err })
		if err == nil || !strings.Contains(err.Error(), out) || strings.Contains(err.Error(), ".flags-") {
			t.Errorf("writeTo(%s) = %v; want an error naming %s and no temporary file", out, err, out)
		}
	}
	var stdout, stderr bytes.Buffer
	out := filepath.Join(dir, "nonexistent", "flags.json")
	err := run(context.Background(), []string{"detect", "--events", events, "--out", out}, func(string) string { return "" }, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), out) || strings.Contains(err.Error(), ".flags-") {
		t.Errorf("detect --out %s = %v; want an error naming the file", out, err)
	}
}

// TestMissingKeyPointsAtTheKeyFile: a tool run without the master key is
// told to name the deployment's key file (FAIRSLOT_SECRET_KEY_FILE,
// .data/secret.key on a local checkout), never to make a new key, which the
// database's key check would refuse (review of session 17: it suggested
// `head -c32 /dev/urandom | base64`).
func TestMissingKeyPointsAtTheKeyFile(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"reconcile", "--check"}, func(string) string { return "" }, &stdout, &stderr)
	if err == nil {
		t.Fatal("reconcile --check without a key succeeded")
	}
	for _, want := range []string{"FAIRSLOT_SECRET_KEY_FILE", ".data/secret.key", "key check"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q; want it to say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "urandom") {
		t.Errorf("error %q suggests making a new key", err)
	}
}
