package report

import (
	"encoding/json"
	"fmt"
	"image"
	_ "image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// needGnuplot fails, rather than skips, without gnuplot: the report is
// useless without its plots and the test script installs it.
func needGnuplot(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("gnuplot")
	if err != nil {
		t.Fatal(errNoGnuplot)
	}
	return bin
}

const k6SummaryLegacy = `{
    "root_group": {
        "name": "", "path": "", "id": "d41d8cd98f00b204e9800998ecf8427e",
        "groups": {},
        "checks": {
            "status is 201 or 409": {"name": "status is 201 or 409", "path": "::status is 201 or 409", "id": "1", "passes": 921400, "fails": 20}
        }
    },
    "metrics": {
        "http_reqs": {"count": 921420, "rate": 15357.0},
        "http_req_duration": {"avg": 2.1, "min": 0.3, "med": 0.81, "max": 212.4, "p(90)": 2.9, "p(95)": 3.1, "p(99)": 9.7,
            "thresholds": {"p(99)<50": false}},
        "dropped_iterations": {"count": 1234, "rate": 20.5},
        "iterations": {"count": 921420, "rate": 15357.0},
        "vus_max": {"value": 200, "min": 200, "max": 200},
        "checks": {"passes": 921400, "fails": 20, "value": 0.99997},
        "http_req_failed": {"passes": 20, "fails": 921400, "value": 0.0000217, "thresholds": {"rate<0.0001": false}},
        "outcomes": {"count": 921420, "rate": 15357.0},
        "outcomes{outcome:409 sold_out}": {"count": 855000, "rate": 14250.0, "thresholds": {"count>=0": false}},
        "outcomes{outcome:429}": {"count": 66000, "rate": 1100.0, "thresholds": {"count>=0": false}},
        "outcomes{outcome:201}": {"count": 400, "rate": 6.67, "thresholds": {"count>=0": false}},
        "outcomes{outcome:422 quota_day}": {"count": 0, "rate": 0, "thresholds": {"count>=0": false}},
        "outcomes{outcome:5xx}": {"count": 0, "rate": 0, "thresholds": {"count>=0": false}},
        "outcomes{outcome:error}": {"count": 20, "rate": 0.33, "thresholds": {"count>=0": false}}
    }
}`

// writeRun writes a 60-second run into a new directory. Its totals:
// 201 → 400, 409 sold_out → 855,000, 429 rate_limited → 66,000,
// 409 already_booked → 18, 5xx → 2 (all "503 overloaded"), 921,420 in all.
func writeRun(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	var lines []string
	for i := 1; i <= 60; i++ {
		s := map[string]any{"t": float64(i)}
		out := map[string]float64{"5xx": 0, "429 rate_limited": 1100}
		if i <= 10 {
			out["201"] = 40
			out["409 sold_out"] = 500
		} else {
			out["201"] = 0
			out["409 sold_out"] = 17000
		}
		if i%10 == 0 {
			out["409 already_booked"] = 3
		}
		if i == 30 {
			out["503 overloaded"] = 2
		}
		s["outcomes"] = out
		var sum float64
		for _, v := range out {
			sum += v
		}
		s["rps"] = sum
		if i != 7 {
			s["offered_rps"] = 20000
		}
		s["p50_ms"], s["p95_ms"], s["p99_ms"] = 0.8+0.01*float64(i%7), 3.1, 9.7
		if i == 30 {
			s["p95_ms"], s["p99_ms"] = 40.0, 120.0
		}
		if i == 45 {
			delete(s, "p99_ms")
		}
		if i >= 3 {
			s["slots_left"] = max(0, 400-40*i)
		}
		if i <= 40 {
			s["rss_mb"] = 140 + 0.5*float64(i)
		} else {
			s["rss_mb"] = 160 - 0.25*float64(i-40)
		}
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, string(b))
	}
	files := map[string]string{
		SamplesFile: strings.Join(lines, "\n") + "\n",
		SummaryFile: k6SummaryLegacy,
		ChecksFile: `[{"name": "no slot booked twice", "ok": true, "detail": "0 rows"},
			{"name": "slots sold = bookings", "ok": false, "detail": "400 ≠ 399 | off by one"}]`,
		MetaFile: `{"scenario": "release_hour", "command": "make loadtest SCENARIO=release_hour",
			"started": "2026-11-23T09:00:00+08:00", "machine": "2 cores, AMD EPYC",
			"service_flags": "-admission=cluster", "notes": "A synthetic run.",
			"server_latency": [{"what": "booking attempts", "count": 921420, "p50_ms": 0.31, "p95_ms": 0.5, "p99_ms": 4.2},
				{"what": "201 answers", "count": 400, "p50_ms": 180, "p95_ms": 640, "p99_ms": 912.5}]}`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func checkPNG(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("plot: %v", err)
	}
	defer f.Close()
	cfg, format, err := image.DecodeConfig(f)
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	if format != "png" || cfg.Width != plotWidth || cfg.Height != plotHeight {
		t.Errorf("%s: %s %dx%d, want png %dx%d", path, format, cfg.Width, cfg.Height, plotWidth, plotHeight)
	}
}

func TestRender(t *testing.T) {
	needGnuplot(t)
	dir := writeRun(t)
	run, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(run.Samples), 60; got != want {
		t.Fatalf("samples: got %d, want %d", got, want)
	}
	out := filepath.Join(t.TempDir(), "performance")
	md, err := Render(run, out, "release_hour", "performance")
	if err != nil {
		t.Fatal(err)
	}
	if testing.Verbose() {
		t.Logf("markdown:\n%s", md)
	}

	for _, name := range []string{"throughput", "latency", "slots", "memory"} {
		t.Run(name, func(t *testing.T) {
			file := "release_hour-" + name + ".png"
			checkPNG(t, filepath.Join(out, file))
			if link := "](performance/" + file + ")"; !strings.Contains(md, link) {
				t.Errorf("markdown has no link %q", link)
			}
		})
	}

	for _, want := range []string{
		"## Load test: release_hour, 2026-11-23 09:00 +08:00\n",
		"```sh\nmake loadtest SCENARIO=release_hour\n```\n",
		"- Service flags: `-admission=cluster`\n",
		"| **k6 (client)** | requests | 921,420 |\n",
		"| | request rate | 15,357/s |\n",
		"| | dropped iterations | 1,234 |\n",
		"| | http_req_duration p50 / p95 / p99 / max | 0.81 / 3.1 / 9.7 / 212.4 ms |\n",
		"| | failed requests | 20 (0.002%) |\n",
		"| | checks | 921,400 of 921,420 passed (99.998%); status is 201 or 409 ✘ 20 |\n",
		"| | attempts by outcome | 921,420 |\n" +
			"| | → `409 sold_out` | 855,000 (92.8%) |\n" +
			"| | → `429` | 66,000 (7.2%) |\n" +
			"| | → `201` | 400 (0.04%) |\n" +
			"| | → `error` | 20 (0.002%) |\n" +
			"| | → `5xx` | 0 (0%) |\n" +
			"| | thresholds | ✔ all 2 held |\n",
		"| **service (sampled each second)** | samples | 60, t = 1–60 s |\n",
		"| | responses | 921,420 |\n",
		"| | → `409 sold_out` | 855,000 (92.8%) |\n",
		"| | → `429 rate_limited` | 66,000 (7.2%) |\n",
		"| | → `201` | 400 (0.04%) |\n",
		"| | → `409 already_booked` | 18 (0.002%) |\n",
		"| | → `5xx` | 2 (0.0002%; `503 overloaded` 2) |\n",
		"| | peak p99 latency | 120 ms at t = 30 s |\n" +
			"| | booking attempts, whole run: p50 / p95 / p99 | 0.31 / 0.5 / 4.2 ms (921,420 answers) |\n" +
			"| | 201 answers, whole run: p50 / p95 / p99 | 180 / 640 / 912.5 ms (400 answers) |\n",
		"| | slots left, start → end | 280 → 0 |\n",
		"| | RSS start / end / peak | 140.5 / 155 / 160 MB (peak at t = 40 s) |\n",
		"**1 of 2 failed.**\n",
		"| ✔ | no slot booked twice | 0 rows |\n",
		`| ✘ | slots sold = bookings | 400 ≠ 399 \| off by one |` + "\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	if strings.Contains(md, "was not in the run directory") {
		t.Errorf("markdown says a file is missing; all four were written")
	}
}

func TestRenderMissingFiles(t *testing.T) {
	needGnuplot(t)
	tests := []struct {
		name      string
		remove    []string
		samples   string // replaces samples.jsonl when set
		wantPNGs  []string
		noPNGs    []string
		want, not []string
	}{
		{
			name:     "no k6 summary",
			remove:   []string{SummaryFile},
			wantPNGs: []string{"throughput", "latency", "slots", "memory"},
			want: []string{
				"_k6-summary.json was not in the run directory (k6 did not finish?): the client-side rows are left out._",
				"| **service (sampled each second)** | samples | 60, t = 1–60 s |\n",
			},
			not: []string{"k6 (client)", "| requests |"},
		},
		{
			name:     "memory only, no other file",
			remove:   []string{SummaryFile, ChecksFile, MetaFile},
			samples:  `{"t": 1, "rss_mb": 100}` + "\n\n" + `{"t": 2, "rss_mb": 101.25}` + "\n" + `{"t": 3, "rss_mb": 99}`,
			wantPNGs: []string{"memory"},
			noPNGs:   []string{"throughput", "latency", "slots"},
			want: []string{
				"_checks.json was not in the run directory: the invariants were not checked._",
				"_meta.json was not in the run directory",
				"| | RSS start / end / peak | 100 / 99 / 101.2 MB (peak at t = 2 s) |\n",
			},
			not: []string{"→ `5xx`", "-throughput.png"},
		},
		{
			name:    "no samples",
			remove:  []string{SummaryFile},
			samples: "\n",
			noPNGs:  []string{"throughput", "latency", "slots", "memory"},
			want:    []string{"_samples.jsonl holds no samples: there is nothing to plot._"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeRun(t)
			for _, name := range tt.remove {
				if err := os.Remove(filepath.Join(dir, name)); err != nil {
					t.Fatal(err)
				}
			}
			if tt.samples != "" {
				if err := os.WriteFile(filepath.Join(dir, SamplesFile), []byte(tt.samples), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			out := t.TempDir()
			// A plot from an earlier render that this run cannot draw must go.
			for _, name := range tt.noPNGs {
				if err := os.WriteFile(filepath.Join(out, "p-"+name+".png"), []byte("stale"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			run, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			md, err := Render(run, out, "p", "")
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range tt.wantPNGs {
				checkPNG(t, filepath.Join(out, "p-"+name+".png"))
			}
			for _, name := range tt.noPNGs {
				_, err := os.Stat(filepath.Join(out, "p-"+name+".png"))
				if len(run.Samples) > 0 && !os.IsNotExist(err) {
					t.Errorf("p-%s.png: stat error %v, want it removed", name, err)
				}
			}
			for _, want := range tt.want {
				if !strings.Contains(md, want) {
					t.Errorf("markdown lacks %q:\n%s", want, md)
				}
			}
			for _, not := range tt.not {
				if strings.Contains(md, not) {
					t.Errorf("markdown has %q:\n%s", not, md)
				}
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		body    string
		wantErr string
	}{
		{"malformed samples line", SamplesFile, "{\"t\": 1}\n{\"t\": 2}\n{\"t\": 3, \"rps\": }\n", "samples.jsonl line 3: invalid character"},
		{"sample without t", SamplesFile, "{\"t\": 1}\n\n{\"rps\": 5}\n", `samples.jsonl line 3: no "t"`},
		{"wrong type", SamplesFile, "{\"t\": \"1\"}\n", "samples.jsonl line 1: json: cannot unmarshal"},
		{"malformed checks", ChecksFile, `{"name": "x"}`, "checks.json: json: cannot unmarshal object"},
		{"malformed k6 summary", SummaryFile, `{"metrics": [`, "k6-summary.json: unexpected end of JSON input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeRun(t)
			if err := os.WriteFile(filepath.Join(dir, tt.file), []byte(tt.body), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(dir)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Load: got error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
	t.Run("no samples file", func(t *testing.T) {
		if _, err := Load(t.TempDir()); !os.IsNotExist(err) {
			t.Errorf("Load: got error %v, want a not-exist error", err)
		}
	})
}

// TestK6SummaryFormats reads the two shapes k6 writes with --summary-export:
// its default ("legacy") one and the newer machine-readable one.
func TestK6SummaryFormats(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{"legacy", k6SummaryLegacy},
		{"machine-readable", `{
			"metrics": {
				"http_reqs": {"type": "counter", "contains": "default", "values": {"count": 921420, "rate": 15357.0}},
				"http_req_duration": {"type": "trend", "contains": "time",
					"values": {"avg": 2.1, "min": 0.3, "med": 0.81, "max": 212.4, "p(90)": 2.9, "p(95)": 3.1, "p(99)": 9.7},
					"thresholds": {"p(99)<50": {"ok": true}}},
				"dropped_iterations": {"type": "counter", "contains": "default", "values": {"count": 1234, "rate": 20.5}},
				"checks": {"type": "rate", "contains": "default", "values": {"rate": 0.99997, "passes": 921400, "fails": 20}}
			},
			"root_group": {"name": "", "path": "", "id": "d41d8cd98f00b204e9800998ecf8427e",
				"groups": [{"name": "g", "path": "::g", "groups": [],
					"checks": [{"name": "status is 201 or 409", "path": "::g::status is 201 or 409", "passes": 921400, "fails": 20}]}],
				"checks": []}
		}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := parseK6Summary([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				metric, key string
				want        float64
			}{
				{"http_reqs", "count", 921420},
				{"http_reqs", "rate", 15357},
				{"http_req_duration", "p(99)", 9.7},
				{"http_req_duration", "med", 0.81},
				{"dropped_iterations", "count", 1234},
				{"checks", "fails", 20},
			} {
				if got, ok := s.Metrics[c.metric].Values[c.key]; !ok || got != c.want {
					t.Errorf("%s %s: got %v (present %v), want %v", c.metric, c.key, got, ok, c.want)
				}
			}
			if got := s.Metrics["http_req_duration"].Thresholds; len(got) != 1 || !got["p(99)<50"] {
				t.Errorf("thresholds: got %v, want p(99)<50 held", got)
			}
			if len(s.Checks) != 1 || s.Checks[0].Name != "status is 201 or 409" || s.Checks[0].Fails != 20 {
				t.Errorf("checks: got %+v, want one, status is 201 or 409 with 20 fails", s.Checks)
			}
		})
	}
}

func TestGnuplotErrorShowsStderr(t *testing.T) {
	bin := needGnuplot(t)
	err := gnuplot(bin, "set nosuchoption\n")
	if err == nil || !strings.Contains(err.Error(), "nosuchoption") {
		t.Errorf("gnuplot: got error %v, want one quoting gnuplot's complaint", err)
	}
}

func TestClassOf(t *testing.T) {
	for key, want := range map[string]string{
		"201":                "201",
		"409 sold_out":       "409 sold_out",
		"409 already_booked": "409 other",
		"429 rate_limited":   "429",
		"400 bad_id":         "4xx other",
		"404":                "4xx other",
		"5xx":                "5xx",
		"503 overloaded":     "5xx",
		"200":                "2xx other",
		"2xx":                "2xx other",
		"422 not_released":   "4xx other",
		"error":              "other",
	} {
		if got := classOf(key); got != want {
			t.Errorf("classOf(%q) = %q, want %q", key, got, want)
		}
	}
}

func TestNumbers(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"integer", human(18234), "18,234"},
		{"million", human(1234567.8), "1,234,568"},
		{"negative", human(-1234), "-1,234"},
		{"hundreds", human(142.5), "142.5"},
		{"tens", human(12.345), "12.3"},
		{"units", human(3.14159), "3.14"},
		{"trailing zeros", human(3.10), "3.1"},
		{"below one", human(0.8123), "0.812"},
		{"tiny", human(0.00012), "0.00012"},
		{"zero", human(0), "0"},
		{"count rounds", count(999.6), "1,000"},
		{"percent", percent(1, 4), "25%"},
		{"percent short of all", percent(921400, 921420), "99.998%"},
		{"percent all", percent(5, 5), "100%"},
		{"percent above none", percent(18, 921420), "0.002%"},
		{"percent of nothing", percent(0, 0), "—"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

func ExampleRender() {
	run := &Run{Meta: Meta{Scenario: "idle"}, Missing: []string{SummaryFile, ChecksFile}}
	md, err := Render(run, os.TempDir(), "idle", "performance")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(md)
	// Output:
	// ## Load test: idle
	//
	// ### Summary
	//
	// _k6-summary.json was not in the run directory (k6 did not finish?): the client-side rows are left out._
	//
	// _Nothing to summarise: no k6 summary and no samples._
	//
	// ### Invariant checks
	//
	// _checks.json was not in the run directory: the invariants were not checked._
	//
	// _samples.jsonl holds no samples: there is nothing to plot._
}
