package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"fairslot/internal/booking"
	"fairslot/loadtest/report"
)

// sampler reads the service once a second: its request histogram (answers
// by outcome and latency, server-side), the slots left in SQL and its
// resident memory.
type sampler struct {
	env      *env
	srv      *server
	sessions []string
	allPools bool // count every channel's slots, not just online
	offered  func(t float64) float64
	start    time.Time
	first    snapshot // before the scenario, and after it: for whole-run
	last     snapshot // figures, with nothing lost between samples
	prev     snapshot
	lines    []map[string]any
	// fastRejects and refused (sold_out and not_released answers) are the
	// totals at the end, for the notes.
	fastRejects, refused float64
	// knownEntries and alreadyEntered (409 already_entered answers) are
	// the same for the entry memo.
	knownEntries, alreadyEntered float64
}

type snapshot struct {
	outcomes map[string]float64
	buckets  map[float64]float64 // upper bound → cumulative count, all API routes
	attempts map[float64]float64 // the same for booking attempts (POST …/bookings)
	booked   map[float64]float64 // and for those answered 201
	count    float64
	fast     float64
	known    float64 // fairslot_known_entries_total
	gc       goRuntime
}

// goRuntime is what the Go runtime says of the service's memory and
// collector (the Go collector's metrics, counters since the start).
type goRuntime struct {
	allocBytes, allocObjects float64 // go_memstats_alloc_bytes_total, go_memstats_mallocs_total
	cycles                   float64 // collections completed (the pause summary's count: any build has it)
	// The runtime's estimates, CPU-s: the collector; of it, mark assists
	// (taken from allocating goroutines) and idle marking (on a CPU that
	// had nothing else to run). They count the time its workers held a P,
	// so on a CPU other processes share they are an upper bound.
	gcCPU, assistCPU, idleCPU float64
}

// sub is what happened between o and g.
func (g goRuntime) sub(o goRuntime) goRuntime {
	return goRuntime{allocBytes: g.allocBytes - o.allocBytes, allocObjects: g.allocObjects - o.allocObjects,
		cycles: g.cycles - o.cycles, gcCPU: g.gcCPU - o.gcCPU, assistCPU: g.assistCPU - o.assistCPU, idleCPU: g.idleCPU - o.idleCPU}
}

// cycles is the count of the collector's pause summary: one a collection.
func cycles(f *dto.MetricFamily) float64 {
	if f == nil || len(f.Metric) == 0 || f.Metric[0].Summary == nil {
		return 0
	}
	return float64(f.Metric[0].Summary.GetSampleCount())
}

func readGoRuntime(fams map[string]*dto.MetricFamily) goRuntime {
	v := func(name string) float64 {
		f := fams[name]
		if f == nil || len(f.Metric) == 0 {
			return 0
		}
		m := f.Metric[0]
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Untyped != nil:
			return m.Untyped.GetValue()
		}
		return 0
	}
	return goRuntime{
		allocBytes: v("go_memstats_alloc_bytes_total"), allocObjects: v("go_memstats_mallocs_total"),
		cycles: cycles(fams["go_gc_duration_seconds"]),
		gcCPU:  v("go_cpu_classes_gc_total_cpu_seconds_total"), assistCPU: v("go_cpu_classes_gc_mark_assist_cpu_seconds_total"),
		idleCPU: v("go_cpu_classes_gc_mark_idle_cpu_seconds_total"),
	}
}

func newSampler(e *env, s *server, sessions []string, offered func(float64) float64) *sampler {
	return &sampler{env: e, srv: s, sessions: sessions, offered: offered}
}

func (s *sampler) run(ctx context.Context) {
	s.start = time.Now()
	s.prev, _ = s.scrape()
	s.first = s.prev
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			if last, err := s.scrape(); err == nil {
				s.last = last
			}
			return
		case <-tick.C:
		}
		s.sample(ctx)
	}
}

func (s *sampler) sample(ctx context.Context) {
	t := time.Since(s.start).Seconds()
	line := map[string]any{"t": math.Round(t*10) / 10}
	if o := s.offered(t); o > 0 {
		line["offered_rps"] = math.Round(o)
	}
	if cur, err := s.scrape(); err == nil {
		d := cur.count - s.prev.count
		line["rps"] = d
		out := map[string]float64{}
		for k, v := range cur.outcomes {
			if dv := v - s.prev.outcomes[k]; dv > 0 {
				out[k] = dv
			}
		}
		line["outcomes"] = out
		for _, q := range []struct {
			name string
			q    float64
		}{{"p50_ms", .50}, {"p95_ms", .95}, {"p99_ms", .99}} {
			if v, ok := quantile(q.q, s.prev.buckets, cur.buckets); ok {
				line[q.name] = math.Round(v*1e4) / 10 // seconds → ms, 0.1 ms
			}
		}
		s.fastRejects = cur.fast
		s.knownEntries, s.alreadyEntered = cur.known, cur.outcomes["409 already_entered"]
		s.refused = cur.outcomes["409 sold_out"] + cur.outcomes["422 not_released"]
		s.prev = cur
	}
	var left int64
	if err := s.env.db.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM slots WHERE session_id = ANY($1::uuid[]) AND ($2 OR channel = 'online')) -
		(SELECT count(*) FROM bookings WHERE session_id = ANY($1::uuid[]) AND ($2 OR channel = 'online')
		   AND status IN ('confirmed', 'checked_in'))`,
		s.sessions, s.allPools).Scan(&left); err == nil {
		line["slots_left"] = left
	}
	if rss, ok := residentMB(s.srv.cmd.Process.Pid); ok {
		line["rss_mb"] = math.Round(rss*10) / 10
	}
	s.lines = append(s.lines, line)
}

// scrape reads the service's metrics.
func (s *sampler) scrape() (snapshot, error) { return scrapeMetrics(s.srv.admin) }

// scrapeMetrics reads the metrics of the service whose admin server is at
// admin (a URL).
func scrapeMetrics(admin string) (snapshot, error) {
	res, err := http.Get(admin + "/metrics")
	if err != nil {
		return snapshot{}, err
	}
	defer res.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		return snapshot{}, err
	}
	snap := snapshot{outcomes: map[string]float64{}, buckets: map[float64]float64{},
		attempts: map[float64]float64{}, booked: map[float64]float64{}}
	snap.gc = readGoRuntime(fams)
	if f := fams["fairslot_fast_rejects_total"]; f != nil && len(f.Metric) > 0 {
		snap.fast = f.Metric[0].GetCounter().GetValue()
	}
	if f := fams["fairslot_known_entries_total"]; f != nil && len(f.Metric) > 0 {
		snap.known = f.Metric[0].GetCounter().GetValue()
	}
	f := fams["fairslot_http_request_duration_seconds"]
	if f == nil {
		return snap, nil
	}
	for _, m := range f.Metric {
		route, method, outcome := label(m, "route"), label(m, "method"), label(m, "outcome")
		if route == "/healthz" || route == "/readyz" {
			continue
		}
		h := m.GetHistogram()
		c := class(route, method, outcome)
		snap.outcomes[c] += float64(h.GetSampleCount())
		snap.count += float64(h.GetSampleCount())
		addBuckets(snap.buckets, h)
		if method == "POST" && strings.HasSuffix(route, "bookings") {
			addBuckets(snap.attempts, h)
		}
		if c == "201" {
			addBuckets(snap.booked, h)
		}
	}
	return snap, nil
}

// addBuckets adds h's cumulative counts to into, by upper bound.
func addBuckets(into map[float64]float64, h *dto.Histogram) {
	for _, b := range h.GetBucket() {
		if !math.IsInf(b.GetUpperBound(), 1) {
			into[b.GetUpperBound()] += float64(b.GetCumulativeCount())
		}
	}
	into[math.Inf(1)] += float64(h.GetSampleCount())
}

// wholeRun is the server-side latency of booking attempts, and of the
// bookings made, from the start of sampling to its end.
func (s *sampler) wholeRun() []report.Latency {
	var out []report.Latency
	for _, h := range []struct {
		what        string
		first, last map[float64]float64
	}{
		{"booking attempts", s.first.attempts, s.last.attempts},
		{"201 answers", s.first.booked, s.last.booked},
	} {
		l := report.Latency{What: h.what, Count: h.last[math.Inf(1)] - h.first[math.Inf(1)]}
		var ok bool
		for _, q := range []struct {
			q  float64
			ms *float64
		}{{.50, &l.P50MS}, {.95, &l.P95MS}, {.99, &l.P99MS}} {
			var v float64
			v, ok = quantile(q.q, h.first, h.last)
			*q.ms = math.Round(v*1e5) / 100 // seconds → ms, 0.01 ms
		}
		if ok {
			out = append(out, l)
		}
	}
	return out
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// class names an answer as the report does: "201" (a booking made), "2xx",
// "409 sold_out", "422 quota_day", "429", "5xx".
func class(route, method, outcome string) string {
	if outcome == "ok" {
		if method == "POST" && strings.HasSuffix(route, "bookings") {
			return "201"
		}
		return "2xx"
	}
	e, ok := booking.Sentinel(outcome)
	switch {
	case outcome == "internal" || ok && e.Kind.HTTPStatus() >= 500:
		return "5xx"
	case !ok:
		return "4xx " + outcome // the API's own: route_not_found, method_not_allowed
	case e.Kind.HTTPStatus() == 429:
		return "429"
	}
	return strconv.Itoa(e.Kind.HTTPStatus()) + " " + outcome
}

// quantile estimates the q-quantile of the observations between two
// cumulative histograms, interpolating linearly inside a bucket.
func quantile(q float64, prev, cur map[float64]float64) (float64, bool) {
	bounds := make([]float64, 0, len(cur))
	for b := range cur {
		bounds = append(bounds, b)
	}
	sort.Float64s(bounds)
	total := cur[math.Inf(1)] - prev[math.Inf(1)]
	if total <= 0 {
		return 0, false
	}
	rank, lower, below := q*total, 0.0, 0.0
	for _, b := range bounds {
		n := cur[b] - prev[b]
		if n >= rank {
			if math.IsInf(b, 1) {
				return lower, true // beyond the last bucket: its lower bound
			}
			if n == below {
				return b, true
			}
			return lower + (b-lower)*(rank-below)/(n-below), true
		}
		lower, below = b, n
	}
	return lower, true
}

func residentMB(pid int) (float64, bool) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024, err == nil
		}
	}
	return 0, false
}

func (s *sampler) write(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	for _, l := range s.lines {
		if err := enc.Encode(l); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}
