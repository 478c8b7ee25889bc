package main

import (
	"maps"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestRefusedCountsByReason: each refused attempt counts under its own
// reason, reasons interleaved, as the vector's lookup counted them, and a
// reason seen before counts without an allocation.
func TestRefusedCountsByReason(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := newBookingMetrics(reg)
	for range 3 {
		for code, n := range map[string]int{"sold_out": 5, "not_released": 2, "quota_exceeded": 1} {
			for range n {
				m.Refused(code)
			}
		}
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "fairslot_booking_rejections_total" {
			continue
		}
		for _, s := range f.GetMetric() {
			got[s.GetLabel()[0].GetValue()] = s.GetCounter().GetValue()
		}
	}
	if want := map[string]float64{"sold_out": 15, "not_released": 6, "quota_exceeded": 3}; !maps.Equal(got, want) {
		t.Errorf("refusals by reason %v, want %v", got, want)
	}
	if n := testing.AllocsPerRun(1000, func() { m.Refused("sold_out") }); n != 0 {
		t.Errorf("%v allocations a refusal, want 0", n)
	}
}
