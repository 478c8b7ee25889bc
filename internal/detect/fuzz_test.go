package detect

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzReadEvents: any file is read or refused without a panic, and what is
// read writes back to a file that reads the same.
func FuzzReadEvents(f *testing.F) {
	for _, seed := range []string{
		`{"ts":"2026-11-02T08:00:00.412+08:00","type":"booked","account_id":"a1","patient_id":"p9","session_id":"s3"}`,
		"\n\n" + `{"ts":"2026-11-02T08:00:00Z","type":"login"}` + "\n" + `{"type":"cancelled","reason":"late"}`,
		`{"ts":"not a time"}`, `[1,2]`, "{", "\xff\xfe",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		events, err := ReadEvents(bytes.NewReader(in))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "events line") && !strings.HasPrefix(err.Error(), "read events") {
				t.Fatalf("ReadEvents error %q names no line", err)
			}
			return
		}
		var out bytes.Buffer
		if err := WriteEvents(&out, events); err != nil {
			t.Fatalf("WriteEvents of what ReadEvents read: %v", err)
		}
		again, err := ReadEvents(&out)
		if err != nil || len(again) != len(events) {
			t.Fatalf("reading back %d events: %d, %v", len(events), len(again), err)
		}
	})
}
