package ratelimit

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pkg/errors"
)

// TestFailuresDoNotFloodTheLog: a store that fails for every request
// writes one line at once and then one an interval with the count let
// through, each without the wrapped error's stack (review15: a 1.7 KB
// stack per request while Redis was down).
func TestFailuresDoNotFloodTheLog(t *testing.T) {
	var buf bytes.Buffer
	clock := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
	f := NewFailures(slog.New(slog.NewTextHandler(&buf, nil)), 10*time.Second)
	f.now = func() time.Time { return clock }
	err := errors.Wrap(errors.New("dial tcp 127.0.0.1:6379: connect: connection refused"), "limiter: cannot get value")
	for range 1000 {
		f.LetThrough(err)
	}
	clock = clock.Add(9 * time.Second)
	f.LetThrough(err) // still within the interval
	clock = clock.Add(2 * time.Second)
	f.LetThrough(err)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2:\n%s", len(lines), buf.String())
	}
	if !strings.Contains(lines[0], "since_last_line=0") || !strings.Contains(lines[1], "since_last_line=1000") {
		t.Errorf("lines = %q; want the first at once, the next counting the 1,000 let through since", lines)
	}
	for _, l := range lines {
		if len(l) > 300 || strings.Contains(l, ".go:") || !strings.Contains(l, "connection refused") {
			t.Errorf("line %q: want the error's message, without its stack", l)
		}
	}
}
