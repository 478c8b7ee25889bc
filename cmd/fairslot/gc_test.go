package main

import (
	"math"
	"runtime/debug"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
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

// TestGCMetricsServed: the runtime's estimates of the collector's CPU are
// exported beside the Go collector's defaults, under
// the names loadtest/run reads (readGoRuntime), and nothing else of
// runtime/metrics is added.
func TestGCMetricsServed(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(gcMetrics)))
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, f := range fams {
		got[f.GetName()] = true
	}
	for _, name := range []string{"go_cpu_classes_gc_total_cpu_seconds_total", "go_cpu_classes_gc_mark_assist_cpu_seconds_total",
		"go_cpu_classes_gc_mark_idle_cpu_seconds_total",
		"go_gc_duration_seconds", "go_memstats_alloc_bytes_total", "go_memstats_mallocs_total"} {
		if !got[name] {
			t.Errorf("%s not served", name)
		}
	}
	for _, name := range []string{"go_cpu_classes_total_cpu_seconds_total", "go_cpu_classes_idle_cpu_seconds_total", "go_sched_goroutines_goroutines"} {
		if got[name] {
			t.Errorf("%s served: the rule takes more than the collector's CPU", name)
		}
	}
}
