package main

import (
	"bufio"
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"fairslot/internal/testenv"
)

// The operations kit (deploy/grafana, deploy/prometheus) names metrics and
// label values; every one must be exported by a real `fairslot serve`, or
// the panel stays empty and the alert never fires. This test scrapes the
// service's /metrics after a booking, a refusal and a sold-out answer, and
// checks every selector of the dashboard and of the alert rules against it:
// the metric's name, and each label the selector fixes with =.
func TestOpsKitNamesExportedMetrics(t *testing.T) {
	admin := freeAddr(t)
	sch := schedule(t, time.Now().Add(-time.Minute), 1)
	// With a real-name gateway, whose metrics exist only then.
	gw := newRealNameGateway(t)
	gw.holdsPatient(1)
	gw.holdsPatient(2)
	env := map[string]string{"FAIRSLOT_ADMIN_ADDR": admin}
	maps.Copy(env, gw.env)
	svc := startService(t, sch, env)
	sess := sch.Sessions[0]
	p1, p2 := svc.newPatient(1), svc.newPatient(2)
	book := func(p patient) reply {
		return svc.do("POST", "/v1/bookings", p.token, map[string]string{"session_id": sess.ID, "patient_id": p.patientID, "channel": "online"})
	}
	if r := book(p1); r.status != 201 {
		t.Fatalf("book: %d %s", r.status, r.body)
	}
	if r := book(p2); r.code != "sold_out" {
		t.Fatalf("second booking of a one-slot pool: %d %s, want sold_out", r.status, r.body)
	}
	book(p2) // from memory: the fast reject path

	samples := scrape(t, "http://"+admin+"/metrics")
	var selectors []string
	for _, f := range []string{"../../deploy/prometheus/alerts.yml", "../../deploy/grafana/fairslot-release-hour.json"} {
		exprs := exprsOf(t, f)
		if len(exprs) == 0 {
			t.Fatalf("%s: no expression found", f)
		}
		for _, e := range exprs {
			selectors = append(selectors, selectorRE.FindAllString(e, -1)...)
		}
	}
	slices.Sort(selectors)
	selectors = slices.Compact(selectors)
	if len(selectors) < 15 {
		t.Fatalf("found %d selectors in the kit, want the dozens it has", len(selectors))
	}
	for _, sel := range selectors {
		name, labels := parseSelector(sel)
		found := false
		for _, s := range samples[name] {
			if matches(s, labels) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("%s: no such series in the service's /metrics (%d series named %s)", sel, len(samples[name]), name)
		}
	}
}

// selectorRE finds a fairslot metric with its optional label selector.
var selectorRE = regexp.MustCompile(`fairslot_[a-z_]+(\{[^}]*\})?`)

var matcherRE = regexp.MustCompile(`([a-z_]+)\s*(=~|!=|!~|=)\s*"([^"]*)"`)

// parseSelector returns the metric name and the labels fixed with =; the
// job label is Prometheus's, not the service's.
func parseSelector(sel string) (string, map[string]string) {
	name, rest, _ := strings.Cut(sel, "{")
	labels := map[string]string{}
	for _, m := range matcherRE.FindAllStringSubmatch(rest, -1) {
		if m[2] == "=" && m[1] != "job" {
			labels[m[1]] = m[3]
		}
	}
	return name, labels
}

func matches(series, labels map[string]string) bool {
	for k, v := range labels {
		if series[k] != v {
			return false
		}
	}
	return true
}

// exprsOf reads the PromQL expressions of an alert-rule file (expr: lines
// and their block) or of a Grafana dashboard (targets' expr).
func exprsOf(t *testing.T, path string) []string {
	b, err := os.ReadFile(path)
	testenv.Must(t, err, "read %s", path)
	if strings.HasSuffix(path, ".json") {
		var d struct {
			Panels []struct {
				Targets []struct {
					Expr string `json:"expr"`
				} `json:"targets"`
			} `json:"panels"`
		}
		testenv.Must(t, json.Unmarshal(b, &d), "decode %s", path)
		var out []string
		for _, p := range d.Panels {
			for _, tg := range p.Targets {
				out = append(out, tg.Expr)
			}
		}
		return out
	}
	// alerts.yml: an expr is the rest of its line, or the indented block
	// under "expr: |".
	var out []string
	lines := strings.Split(string(b), "\n")
	for i := 0; i < len(lines); i++ {
		_, v, ok := strings.Cut(lines[i], "expr:")
		if !ok {
			continue
		}
		if v = strings.TrimSpace(v); v != "|" {
			out = append(out, v)
			continue
		}
		indent := len(lines[i]) - len(strings.TrimLeft(lines[i], " "))
		var block []string
		for i+1 < len(lines) && len(lines[i+1])-len(strings.TrimLeft(lines[i+1], " ")) > indent {
			i++
			block = append(block, lines[i])
		}
		out = append(out, strings.Join(block, "\n"))
	}
	return out
}

// scrape reads a Prometheus text exposition: name → each series' labels.
func scrape(t *testing.T, url string) map[string][]map[string]string {
	t.Helper()
	resp, err := http.Get(url)
	testenv.Must(t, err, "scrape %s", url)
	defer resp.Body.Close()
	out := map[string][]map[string]string{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		series, _, _ := strings.Cut(line, " ")
		name, rest, _ := strings.Cut(series, "{")
		labels := map[string]string{}
		for _, m := range matcherRE.FindAllStringSubmatch(rest, -1) {
			labels[m[1]] = m[3]
		}
		out[name] = append(out[name], labels)
	}
	testenv.Must(t, sc.Err(), "read %s", url)
	return out
}
