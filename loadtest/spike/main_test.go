package main

import (
	"os"
	"path/filepath"
	"testing"

	"fairslot/loadtest/report"
)

// TestSummaryReadsAsK6s: the totals spike writes are read by the report as
// k6's own summary, with nearest-rank percentiles over every attempt.
func TestSummaryReadsAsK6s(t *testing.T) {
	dir := t.TempDir()
	lat := make([]float64, 0, 100)
	for i := 100; i >= 1; i-- {
		lat = append(lat, float64(i))
	}
	outcomes := map[string]int{"201": 10, "409 sold_out": 88, "5xx": 1, "error": 1}
	if err := summary(dir, lat, outcomes, 7, 10); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, report.SamplesFile), []byte(`{"t":1}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run, err := report.Load(dir)
	if err != nil {
		t.Fatalf("report.Load: %v", err)
	}
	if run.Summary == nil {
		t.Fatal("the report found no summary")
	}
	want := map[string]map[string]float64{
		"http_reqs":                      {"count": 100, "rate": 10},
		"dropped_iterations":             {"count": 7},
		"http_req_failed":                {"passes": 2, "fails": 98},
		"http_req_duration":              {"min": 1, "med": 50, "p(95)": 95, "p(99)": 99, "max": 100, "avg": 50.5},
		"outcomes{outcome:409 sold_out}": {"count": 88},
	}
	for metric, values := range want {
		for k, v := range values {
			if got := run.Summary.Metrics[metric].Values[k]; got != v {
				t.Errorf("%s %s = %v, want %v", metric, k, got, v)
			}
		}
	}
}
