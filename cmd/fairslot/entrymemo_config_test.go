package main

import (
	"testing"
	"time"
)

// --entry-memo-for: 0 turns the memo off, and it never lasts longer than
// --hold-for (the faults harness runs with --hold-for 8s).
func TestEntryMemoFor(t *testing.T) {
	for _, c := range []struct{ flag, holdFor, want time.Duration }{
		{30 * time.Second, 30 * time.Second, 30 * time.Second},
		{10 * time.Second, 30 * time.Second, 10 * time.Second},
		{30 * time.Second, 8 * time.Second, 8 * time.Second},
		{0, 30 * time.Second, -1},
	} {
		if got := entryMemoFor(c.flag, c.holdFor); got != c.want {
			t.Errorf("entryMemoFor(%s, hold-for %s) = %s, want %s", c.flag, c.holdFor, got, c.want)
		}
	}
}
