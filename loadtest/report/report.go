// Package report turns what a load-test run left in its directory into PNG
// plots (drawn by gnuplot) and a Markdown section for docs/performance.md.
//
// The run directory holds samples.jsonl (the service sampled once a second
// during the scenario), k6-summary.json (k6's --summary-export), checks.json
// (the invariants checked after the scenario) and meta.json (what ran,
// where). Only samples.jsonl is required: the report on a run that lacks the
// others says so in place of the figures they would have given, because a
// half-finished run is still worth reading.
package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// The files a run directory holds.
const (
	SamplesFile = "samples.jsonl"
	SummaryFile = "k6-summary.json"
	ChecksFile  = "checks.json"
	MetaFile    = "meta.json"
)

// Run is one load-test run as read from its directory.
type Run struct {
	Dir     string
	Meta    Meta
	Samples []Sample   // in time order
	Summary *K6Summary // nil when k6-summary.json is absent
	Checks  []Check
	// Missing names the optional files that were not in Dir, so that the
	// report can tell "absent" from "empty".
	Missing []string
}

// Meta says what was run, when and where.
type Meta struct {
	Scenario     string `json:"scenario"`
	Command      string `json:"command"`
	Started      string `json:"started"` // RFC 3339; kept as written so a malformed date still shows
	Machine      string `json:"machine"`
	ServiceFlags string `json:"service_flags"`
	Notes        string `json:"notes"`
	// Client names the load generator whose summary k6-summary.json holds
	// (k6 when empty; loadtest/spike writes the same shape).
	Client string `json:"client,omitempty"`
	// ServerLatency is the service's own view of the whole run, from its
	// request histogram: where a client on the same cores adds its own
	// queueing, this is what the service itself took.
	ServerLatency []Latency `json:"server_latency,omitempty"`
}

// Latency is the server-side latency of one kind of answer over a run,
// estimated from histogram buckets by linear interpolation.
type Latency struct {
	What  string  `json:"what"` // e.g. "booking attempts", "201 answers"
	Count float64 `json:"count"`
	P50MS float64 `json:"p50_ms"`
	P95MS float64 `json:"p95_ms"`
	P99MS float64 `json:"p99_ms"`
}

// Sample is the service's state during one second of the scenario. A nil
// field was absent from the line (the runner did not know it then).
type Sample struct {
	T float64 // seconds since the scenario started
	// RPS is the service's own count of requests in that second.
	RPS *float64
	// Outcomes counts the responses completed in that second by "status" or
	// "status error_code", e.g. "201", "409 sold_out", "5xx".
	Outcomes   map[string]float64
	P50MS      *float64
	P95MS      *float64
	P99MS      *float64
	SlotsLeft  *float64
	RSSMB      *float64
	OfferedRPS *float64 // the load generator's target; absent or 0 when it has none
}

type sampleLine struct {
	T          *float64           `json:"t"`
	RPS        *float64           `json:"rps"`
	Outcomes   map[string]float64 `json:"outcomes"`
	P50MS      *float64           `json:"p50_ms"`
	P95MS      *float64           `json:"p95_ms"`
	P99MS      *float64           `json:"p99_ms"`
	SlotsLeft  *float64           `json:"slots_left"`
	RSSMB      *float64           `json:"rss_mb"`
	OfferedRPS *float64           `json:"offered_rps"`
}

// Check is one invariant checked after the scenario.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// K6Summary is what the report takes from k6's --summary-export file.
type K6Summary struct {
	// Metrics by name ("http_reqs", "http_req_duration", ...). A metric k6
	// recorded nothing for may be left out, so absence is normal.
	Metrics map[string]K6Metric
	// Checks are the k6 checks of the root group and all its subgroups.
	Checks []K6Check
}

// K6Metric is one metric of a k6 summary.
type K6Metric struct {
	// Values by k6's names: "count" and "rate" for counters; "avg", "min",
	// "med", "max", "p(90)", "p(95)", "p(99)" for trends (the percentiles
	// that summaryTrendStats asked for); "passes", "fails" and "value" or
	// "rate" for rates; "value", "min", "max" for gauges.
	Values map[string]float64
	// Thresholds maps each threshold expression to whether it held.
	Thresholds map[string]bool
}

// K6Check is one k6 check with its tallies.
type K6Check struct {
	Path   string // "::group::name", unique where names are not
	Name   string
	Passes float64
	Fails  float64
}

// Load reads the run in dir. samples.jsonl must exist; the other files may
// be missing (Run.Missing names them) but not malformed.
func Load(dir string) (*Run, error) {
	run := &Run{Dir: dir}
	samples, err := readSamples(filepath.Join(dir, SamplesFile))
	if err != nil {
		return nil, err
	}
	run.Samples = samples

	if err := run.readOptional(MetaFile, func(b []byte) error { return json.Unmarshal(b, &run.Meta) }); err != nil {
		return nil, err
	}
	if run.Meta.Scenario == "" {
		run.Meta.Scenario = filepath.Base(filepath.Clean(dir))
	}
	if err := run.readOptional(ChecksFile, func(b []byte) error { return json.Unmarshal(b, &run.Checks) }); err != nil {
		return nil, err
	}
	if err := run.readOptional(SummaryFile, func(b []byte) error {
		s, err := parseK6Summary(b)
		run.Summary = s
		return err
	}); err != nil {
		return nil, err
	}
	return run, nil
}

// Has reports whether the run directory held the optional file name.
func (r *Run) Has(name string) bool {
	for _, m := range r.Missing {
		if m == name {
			return false
		}
	}
	return true
}

func (r *Run) readOptional(name string, decode func([]byte) error) error {
	path := filepath.Join(r.Dir, name)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		r.Missing = append(r.Missing, name)
		return nil
	}
	if err != nil {
		return err
	}
	if err := decode(b); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}

func readSamples(path string) ([]Sample, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()

	var samples []Sample
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 4<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var l sampleLine
		if err := json.Unmarshal(line, &l); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, n, err)
		}
		if l.T == nil {
			return nil, fmt.Errorf(`%s line %d: no "t" (seconds since the scenario started)`, path, n)
		}
		samples = append(samples, Sample{
			T: *l.T, RPS: l.RPS, Outcomes: l.Outcomes,
			P50MS: l.P50MS, P95MS: l.P95MS, P99MS: l.P99MS,
			SlotsLeft: l.SlotsLeft, RSSMB: l.RSSMB, OfferedRPS: l.OfferedRPS,
		})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	sort.SliceStable(samples, func(i, j int) bool { return samples[i].T < samples[j].T })
	return samples, nil
}

// parseK6Summary reads k6's --summary-export file. By default k6 writes its
// "legacy" shape: each metric is a flat object of values plus "thresholds"
// (expression → true when it FAILED), and groups and checks are objects
// keyed by name. With the newer machine-readable summary each metric is
// {"type", "contains", "values", "thresholds": {expr: {"ok"}}} and groups
// and checks are arrays. Both are accepted.
func parseK6Summary(b []byte) (*K6Summary, error) {
	var raw struct {
		Metrics   map[string]map[string]json.RawMessage `json:"metrics"`
		RootGroup json.RawMessage                       `json:"root_group"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, err
	}
	s := &K6Summary{Metrics: make(map[string]K6Metric, len(raw.Metrics))}
	for name, fields := range raw.Metrics {
		m := K6Metric{Values: map[string]float64{}}
		for k, v := range fields {
			switch k {
			case "values":
				var vals map[string]json.RawMessage
				if json.Unmarshal(v, &vals) == nil {
					for vk, vv := range vals {
						var f float64
						if json.Unmarshal(vv, &f) == nil {
							m.Values[vk] = f
						}
					}
				}
			case "thresholds":
				m.Thresholds = parseThresholds(v)
			default:
				var f float64
				if json.Unmarshal(v, &f) == nil {
					m.Values[k] = f
				}
			}
		}
		s.Metrics[name] = m
	}
	if len(raw.RootGroup) > 0 && !bytes.Equal(raw.RootGroup, []byte("null")) {
		if err := collectChecks(raw.RootGroup, &s.Checks); err != nil {
			return nil, fmt.Errorf("root_group: %w", err)
		}
		sort.SliceStable(s.Checks, func(i, j int) bool { return s.Checks[i].Path < s.Checks[j].Path })
	}
	return s, nil
}

func parseThresholds(b json.RawMessage) map[string]bool {
	var raw map[string]json.RawMessage
	if json.Unmarshal(b, &raw) != nil || len(raw) == 0 {
		return nil
	}
	held := make(map[string]bool, len(raw))
	for expr, v := range raw {
		var failed bool
		if json.Unmarshal(v, &failed) == nil {
			held[expr] = !failed
			continue
		}
		var res struct {
			OK bool `json:"ok"`
		}
		if json.Unmarshal(v, &res) == nil {
			held[expr] = res.OK
		}
	}
	return held
}

func collectChecks(group json.RawMessage, out *[]K6Check) error {
	var g struct {
		Groups json.RawMessage `json:"groups"`
		Checks json.RawMessage `json:"checks"`
	}
	if err := json.Unmarshal(group, &g); err != nil {
		return err
	}
	var checks []struct {
		Name   string  `json:"name"`
		Path   string  `json:"path"`
		Passes float64 `json:"passes"`
		Fails  float64 `json:"fails"`
	}
	if err := unmarshalListOrMap(g.Checks, &checks); err != nil {
		return fmt.Errorf("checks: %w", err)
	}
	for _, c := range checks {
		path := c.Path
		if path == "" {
			path = c.Name
		}
		*out = append(*out, K6Check{Path: path, Name: c.Name, Passes: c.Passes, Fails: c.Fails})
	}
	var groups []json.RawMessage
	if err := unmarshalListOrMap(g.Groups, &groups); err != nil {
		return fmt.Errorf("groups: %w", err)
	}
	for _, sub := range groups {
		if err := collectChecks(sub, out); err != nil {
			return err
		}
	}
	return nil
}

// unmarshalListOrMap decodes a JSON array, or the values of a JSON object,
// into the slice *dst points to.
func unmarshalListOrMap[T any](b json.RawMessage, dst *[]T) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || bytes.Equal(b, []byte("null")) {
		return nil
	}
	if b[0] == '[' {
		return json.Unmarshal(b, dst)
	}
	var m map[string]T
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	for _, v := range m {
		*dst = append(*dst, v)
	}
	return nil
}

// outcome classes, in the order the throughput plot draws them.
var outcomeClasses = []string{"201", "2xx other", "409 sold_out", "409 other", "429", "4xx other", "5xx", "other"}

// classOf puts an outcome key ("409 already_booked") in its class.
func classOf(key string) string {
	code, rest, _ := strings.Cut(strings.TrimSpace(key), " ")
	switch {
	case code == "201":
		return "201"
	case strings.HasPrefix(code, "2"):
		return "2xx other"
	case code == "409" && strings.TrimSpace(rest) == "sold_out":
		return "409 sold_out"
	case code == "409":
		return "409 other"
	case code == "429":
		return "429"
	case strings.HasPrefix(code, "4"):
		return "4xx other"
	case strings.HasPrefix(code, "5"):
		return "5xx"
	default:
		return "other"
	}
}

// Render draws the run's plots with gnuplot into outDir, as
// <pngPrefix>-throughput.png, -latency.png, -slots.png and -memory.png, and
// returns the Markdown section that reports the run and shows them. A plot
// with nothing to draw (no sample had slots_left, say) is left out, and a
// PNG of that name left by an earlier render is removed so that outDir
// holds no stale figure. linkDir is outDir as seen from the directory the
// Markdown will live in: "performance" for docs/performance.md showing
// docs/performance/; "" links the bare file names.
func Render(run *Run, outDir, pngPrefix, linkDir string) (markdown string, err error) {
	if pngPrefix == "" {
		return "", errors.New("render: empty PNG prefix")
	}
	var images []figure
	if len(run.Samples) > 0 {
		bin, err := exec.LookPath("gnuplot")
		if err != nil {
			return "", errNoGnuplot
		}
		if err := os.MkdirAll(outDir, 0o755); err != nil {
			return "", err
		}
		t := make([]float64, len(run.Samples))
		for i, s := range run.Samples {
			t[i] = s.T
		}
		for _, p := range run.plots() {
			file := pngPrefix + "-" + p.name + ".png"
			path := filepath.Join(outDir, file)
			if len(p.drawable()) == 0 {
				if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return "", err
				}
				continue
			}
			if err := gnuplot(bin, p.script(path, t)); err != nil {
				return "", fmt.Errorf("plot %s: %w", path, err)
			}
			images = append(images, figure{alt: p.title, link: link(linkDir, file)})
		}
	}
	return run.markdown(images), nil
}
