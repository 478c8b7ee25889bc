package httpapi

import (
	"maps"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestObserveCountsUnderItsOwnLabels: the counters and histograms kept per
// label set count each request under its own labels, as the vectors'
// lookups did: label sets alike but for one label never share a count.
func TestObserveCountsUnderItsOwnLabels(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := newMetrics(reg)
	seen := []struct {
		route, method string
		status        int
		outcome       string
		times         int
	}{
		{"/v1/bookings", "POST", 409, "sold_out", 5},
		{"/v1/bookings", "POST", 409, "already_booked", 2},
		{"/v1/bookings", "POST", 201, "ok", 3},
		{"/v1/bookings", "GET", 200, "ok", 1},
		{"/v1/patients", "POST", 201, "ok", 4},
		{"unmatched", "BREW", 404, "route_not_found", 2},
	}
	for round := range 3 { // interleaved, so each set is found again after the others
		for _, s := range seen {
			for range s.times {
				m.observe(s.route, s.method, s.status, s.outcome, time.Duration(round+1)*time.Millisecond)
			}
		}
	}
	want := map[string]map[string]uint64{
		"fairslot_http_requests_total": {
			"/v1/bookings POST 409": 21, "/v1/bookings POST 201": 9, "/v1/bookings GET 200": 3,
			"/v1/patients POST 201": 12, "unmatched other 404": 6,
		},
		"fairslot_http_request_duration_seconds": {
			"/v1/bookings POST sold_out": 15, "/v1/bookings POST already_booked": 6, "/v1/bookings POST ok": 9,
			"/v1/bookings GET ok": 3, "/v1/patients POST ok": 12, "unmatched other route_not_found": 6,
		},
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string]uint64{}
	for _, f := range families {
		got[f.GetName()] = map[string]uint64{}
		for _, s := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range s.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			n := uint64(s.GetCounter().GetValue())
			if h := s.GetHistogram(); h != nil {
				n = h.GetSampleCount()
			}
			last := labels["code"] + labels["outcome"] // each family has one of the two
			got[f.GetName()][labels["route"]+" "+labels["method"]+" "+last] = n
		}
	}
	for name, series := range want {
		if !maps.Equal(got[name], series) {
			t.Errorf("%s: %v, want %v", name, got[name], series)
		}
	}
}

// TestObserveAllocatesNothing: a request whose labels were seen before is
// counted without an allocation (the vectors' lookup formatted the status
// and passed the labels on the heap, every time).
func TestObserveAllocatesNothing(t *testing.T) {
	m := newMetrics(prometheus.NewRegistry())
	m.observe("/v1/bookings", "POST", 409, "sold_out", time.Millisecond)
	if n := testing.AllocsPerRun(1000, func() {
		m.observe("/v1/bookings", "POST", 409, "sold_out", time.Millisecond)
	}); n != 0 {
		t.Errorf("%v allocations a request, want 0", n)
	}
}
