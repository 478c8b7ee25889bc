package main

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func TestQuantileInterpolatesInsideABucket(t *testing.T) {
	inf := math.Inf(1)
	prev := map[float64]float64{0.001: 10, 0.01: 10, inf: 10}
	// 100 new observations: 50 up to 1ms, 40 in (1ms, 10ms], 10 above.
	cur := map[float64]float64{0.001: 60, 0.01: 100, inf: 110}
	for _, tt := range []struct{ q, want float64 }{
		{0.25, 0.0005},                 // 25 of the 50 in [0, 1ms]
		{0.5, 0.001},                   // the 50th: the top of the first bucket
		{0.7, 0.001 + 0.009*20.0/40.0}, // 20 into the 40 of (1ms, 10ms]
		{0.99, 0.01},                   // beyond the last bound: its lower edge
	} {
		got, ok := quantile(tt.q, prev, cur)
		if !ok || math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("quantile(%v) = %v, %v; want %v", tt.q, got, ok, tt.want)
		}
	}
	if _, ok := quantile(0.5, cur, cur); ok {
		t.Error("quantile of no new observations reported a value")
	}
}

func TestClassNamesAnswersAsTheReportDoes(t *testing.T) {
	for _, tt := range []struct{ route, method, outcome, want string }{
		{"/v1/bookings", "POST", "ok", "201"},
		{"/v1/desk/bookings", "POST", "ok", "201"},
		{"/v1/bookings", "GET", "ok", "2xx"},
		{"/v1/patients", "GET", "ok", "2xx"},
		{"/v1/bookings", "POST", "sold_out", "409 sold_out"},
		{"/v1/bookings", "POST", "not_released", "422 not_released"},
		{"/v1/bookings", "POST", "rate_limited", "429"},
		{"/v1/bookings", "POST", "unavailable", "5xx"},
		{"unmatched", "GET", "internal", "5xx"},
		{"unmatched", "GET", "route_not_found", "4xx route_not_found"},
	} {
		if got := class(tt.route, tt.method, tt.outcome); got != tt.want {
			t.Errorf("class(%q, %q, %q) = %q, want %q", tt.route, tt.method, tt.outcome, got, tt.want)
		}
	}
}

func TestWholeRunIsBetweenTheStartAndEndOfSampling(t *testing.T) {
	inf := math.Inf(1)
	s := &sampler{
		// The waiting room's answers before the first scrape do not count.
		first: snapshot{attempts: map[float64]float64{0.001: 500, 0.1: 500, inf: 500}},
		last: snapshot{
			// 1,000 attempts in the run: 990 within 1 ms, 10 in (1ms, 100ms].
			attempts: map[float64]float64{0.001: 1490, 0.1: 1500, inf: 1500},
			booked:   map[float64]float64{0.001: 0, 0.1: 10, inf: 10},
		},
	}
	got := s.wholeRun()
	if len(got) != 2 {
		t.Fatalf("wholeRun = %+v, want attempts and 201 answers", got)
	}
	if a := got[0]; a.What != "booking attempts" || a.Count != 1000 || a.P50MS != 0.51 || a.P99MS != 1 {
		t.Errorf("attempts = %+v, want 1000 with p50 0.51 ms (500 of 990 within 1 ms) and p99 1 ms", a)
	}
	if b := got[1]; b.What != "201 answers" || b.Count != 10 || b.P50MS != 50.5 {
		t.Errorf("201 answers = %+v, want 10 with p50 50.5 ms", b)
	}
}

// TestGoRuntimeFromTheServicesMetrics: the collector's figures are read
// under the names the service's Go collector gives them (cmd/fairslot's
// gcMetrics), and a span's are the difference of two readings.
func TestGoRuntimeFromTheServicesMetrics(t *testing.T) {
	read := func(text string) goRuntime {
		t.Helper()
		p := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := p.TextToMetricFamilies(strings.NewReader(text))
		if err != nil {
			t.Fatal(err)
		}
		return readGoRuntime(fams)
	}
	const at = `# TYPE go_memstats_alloc_bytes_total counter
go_memstats_alloc_bytes_total %d
# TYPE go_memstats_mallocs_total counter
go_memstats_mallocs_total %d
# TYPE go_gc_duration_seconds summary
go_gc_duration_seconds{quantile="0.5"} 0.0001
go_gc_duration_seconds_sum 0.001
go_gc_duration_seconds_count %d
# TYPE go_cpu_classes_gc_total_cpu_seconds_total counter
go_cpu_classes_gc_total_cpu_seconds_total %g
# TYPE go_cpu_classes_gc_mark_assist_cpu_seconds_total counter
go_cpu_classes_gc_mark_assist_cpu_seconds_total %g
# TYPE go_cpu_classes_gc_mark_idle_cpu_seconds_total counter
go_cpu_classes_gc_mark_idle_cpu_seconds_total %g
`
	a := read(fmt.Sprintf(at, 1000, 10, 2, 0.5, 0.1, 0.05))
	b := read(fmt.Sprintf(at, 801000, 4010, 5, 2.5, 0.6, 0.25))
	want := goRuntime{allocBytes: 800000, allocObjects: 4000, cycles: 3, gcCPU: 2, assistCPU: 0.5, idleCPU: 0.2}
	got := b.sub(a)
	for _, f := range []struct {
		name      string
		got, want float64
	}{{"allocBytes", got.allocBytes, want.allocBytes}, {"allocObjects", got.allocObjects, want.allocObjects},
		{"cycles", got.cycles, want.cycles}, {"gcCPU", got.gcCPU, want.gcCPU}, {"assistCPU", got.assistCPU, want.assistCPU},
		{"idleCPU", got.idleCPU, want.idleCPU}} {
		if math.Abs(f.got-f.want) > 1e-9 {
			t.Errorf("%s = %v, want %v", f.name, f.got, f.want)
		}
	}
	if s := (loadCPU{cpu: 40 * time.Second, gc: got}).gcShare(); math.Abs(s-0.05) > 1e-12 {
		t.Errorf("gcShare = %v, want 0.05 (2 of 40 CPU-s)", s)
	}
	if s := (loadCPU{gc: got}).gcShare(); s != 0 {
		t.Errorf("gcShare with no CPU = %v, want 0", s)
	}
}
