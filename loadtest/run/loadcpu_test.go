package main

import (
	"slices"
	"testing"
	"time"
)

// TestProfileWindows: a release is profiled in two spans that meet, the
// release seconds (T−1 s to T+4 s) and the rest of the load (to T+hold,
// where loadtest/spike stops); a load without a release in one from its
// start.
func TestProfileWindows(t *testing.T) {
	T := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	start := T.Add(-90 * time.Second)
	s := time.Second
	got := profileWindows(T, start, 60*s)
	want := []profileWindow{{"release", T.Add(-s), 5 * s}, {"after", T.Add(4 * s), 56 * s}}
	if !slices.Equal(got, want) {
		t.Errorf("release: %v, want %v", got, want)
	}
	if end := got[1].from.Add(got[1].d); !end.Equal(T.Add(60 * s)) {
		t.Errorf("the profiles end at %s, want T+60s", end)
	}
	if got := profileWindows(T, start, 3*s); !slices.Equal(got, []profileWindow{{"release", T.Add(-s), 5 * s}}) {
		t.Errorf("a load shorter than the release seconds: %v, want the release window alone", got)
	}
	if got := profileWindows(time.Time{}, start, 10*time.Minute); !slices.Equal(got, []profileWindow{{"load", start, 10 * time.Minute}}) {
		t.Errorf("no release: %v", got)
	}
}

func TestLoadCPUPerHundredThousand(t *testing.T) {
	if got := (loadCPU{cpu: 30 * time.Second, attempts: 1_200_000}).perHundredThousand(); got != 2.5 {
		t.Errorf("30 CPU-s for 1.2 M attempts: %v per 100,000, want 2.5", got)
	}
	if got := (loadCPU{cpu: time.Second}).perHundredThousand(); got != 0 {
		t.Errorf("no attempts: %v, want 0", got)
	}
}
