package main

import (
	"math"
	"runtime/debug"
	"testing"
)

// TestGCDefaults: serve collects at 400% growth under a 1 GiB soft limit
// unless GOGC or GOMEMLIMIT says otherwise, and then leaves the runtime's
// own reading of them alone.
func TestGCDefaults(t *testing.T) {
	prevPercent := debug.SetGCPercent(100)
	prevLimit := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() { debug.SetGCPercent(prevPercent); debug.SetMemoryLimit(prevLimit) })

	gogc, limit := gcDefaults(func(string) string { return "" })
	if gogc != "400" || limit != "1024MiB" {
		t.Errorf("defaults reported as GOGC=%s GOMEMLIMIT=%s, want 400 and 1024MiB", gogc, limit)
	}
	if got := debug.SetGCPercent(100); got != serveGCPercent {
		t.Errorf("GC percent in force = %d, want %d", got, serveGCPercent)
	}
	if got := debug.SetMemoryLimit(math.MaxInt64); got != serveMemoryLimit {
		t.Errorf("memory limit in force = %d, want %d", got, int64(serveMemoryLimit))
	}

	set := map[string]string{"GOGC": "150", "GOMEMLIMIT": "512MiB"}
	gogc, limit = gcDefaults(func(k string) string { return set[k] })
	if gogc != "150" || limit != "512MiB" {
		t.Errorf("with the environment's settings reported GOGC=%s GOMEMLIMIT=%s, want 150 and 512MiB", gogc, limit)
	}
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GC percent changed to %d though GOGC was set", got)
	}
	if got := debug.SetMemoryLimit(math.MaxInt64); got != math.MaxInt64 {
		t.Errorf("memory limit changed to %d though GOMEMLIMIT was set", got)
	}
}
