package main

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"fairslot/internal/booking"
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

// TestJobFailuresCounted: a background job whose runs fail is counted in
// fairslot_job_failures_total under its name, and its last success stays
// where it was; a job that succeeds moves its own last success and counts
// no failure; each job's interval and deadline are exported beside them
// (FairslotJobNotSucceeding's threshold is made of them). Read from the
// registry, as /metrics serves it.
func TestJobFailuresCounted(t *testing.T) {
	reg := prometheus.NewRegistry()
	var clock atomic.Int64
	clock.Store(1_000)
	now := func() time.Time { return time.Unix(clock.Add(1), 0) } // each reading a second later
	m := newJobMetrics(reg, []booking.Job{
		{Name: "notify", Every: 2 * time.Second, Timeout: 30 * time.Second},
		{Name: "sweep", Every: 5 * time.Second}, // the deadline is the interval
	}, now)
	configured := map[string]map[string]float64{}
	read := func() (failures, last map[string]float64) {
		families, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		failures, last = map[string]float64{}, map[string]float64{}
		for _, f := range families {
			for _, s := range f.GetMetric() {
				switch f.GetName() {
				case "fairslot_job_failures_total":
					failures[s.GetLabel()[0].GetValue()] = s.GetCounter().GetValue()
				case "fairslot_job_last_success_timestamp_seconds":
					last[s.GetLabel()[0].GetValue()] = s.GetGauge().GetValue()
				case "fairslot_job_interval_seconds", "fairslot_job_timeout_seconds":
					if configured[f.GetName()] == nil {
						configured[f.GetName()] = map[string]float64{}
					}
					configured[f.GetName()][s.GetLabel()[0].GetValue()] = s.GetGauge().GetValue()
				}
			}
		}
		return failures, last
	}
	failures, last := read()
	if want := map[string]float64{"notify": 0, "sweep": 0}; !maps.Equal(failures, want) {
		t.Errorf("failures before any run %v, want %v (every job's series exported at 0)", failures, want)
	}
	if want := map[string]float64{"notify": 1001, "sweep": 1001}; !maps.Equal(last, want) {
		t.Errorf("last successes before any run %v, want %v (the start)", last, want)
	}
	if got, want := configured["fairslot_job_interval_seconds"], map[string]float64{"notify": 2, "sweep": 5}; !maps.Equal(got, want) {
		t.Errorf("intervals %v, want %v", got, want)
	}
	if got, want := configured["fairslot_job_timeout_seconds"], map[string]float64{"notify": 30, "sweep": 5}; !maps.Equal(got, want) {
		t.Errorf("deadlines %v, want %v (sweep's: its interval)", got, want)
	}

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		booking.RunJobs(ctx, slog.New(slog.DiscardHandler), nil, m, []booking.Job{
			{Name: "notify", Every: time.Millisecond, Run: func(context.Context) error { return errors.New("SQL down") }},
		})
	}()
	for failures["notify"] < 3 {
		time.Sleep(time.Millisecond)
		failures, _ = read()
	}
	cancel()
	<-done
	m.JobRan("sweep", nil)
	failures, last = read()
	if failures["notify"] < 3 || failures["sweep"] != 0 {
		t.Errorf("failures %v, want notify's 3 or more and sweep's 0", failures)
	}
	if want := map[string]float64{"notify": 1001, "sweep": 1002}; !maps.Equal(last, want) {
		t.Errorf("last successes %v, want %v (notify's unmoved by its failures, sweep's at its success)", last, want)
	}
}
