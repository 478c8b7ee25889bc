package report

import (
	"cmp"
	"fmt"
	"math"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// figure is a rendered plot as the Markdown shows it.
type figure struct {
	alt, link string
}

func link(dir, file string) string {
	u := url.URL{Path: path.Join(dir, file)}
	return u.EscapedPath()
}

// markdown writes the run's section: heading, what ran, the summary table,
// the invariant checks and the plots.
func (r *Run) markdown(images []figure) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }

	m := r.Meta
	heading := "Load test: " + oneLine(m.Scenario)
	if d := date(m.Started); d != "" {
		heading += ", " + d
	}
	p("## %s\n", heading)
	if m.Command != "" {
		p("```sh\n%s\n```\n", m.Command)
	}
	var about []string
	if m.Machine != "" {
		about = append(about, "- Machine: "+oneLine(m.Machine))
	}
	if m.ServiceFlags != "" {
		about = append(about, "- Service flags: "+code(m.ServiceFlags))
	}
	if len(about) > 0 {
		p("%s\n", strings.Join(about, "\n"))
	}
	if m.Notes != "" {
		p("%s\n", strings.TrimSpace(m.Notes))
	}
	if !r.Has(MetaFile) {
		p("_%s was not in the run directory: the scenario is named after the directory, and the command, date and machine are unknown._\n", MetaFile)
	}

	p("### Summary\n")
	if !r.Has(SummaryFile) {
		p("_%s was not in the run directory (k6 did not finish?): the client-side rows are left out._\n", SummaryFile)
	}
	rows := append(r.clientRows(), r.serverRows()...)
	if len(rows) == 0 {
		p("_Nothing to summarise: no k6 summary and no samples._\n")
	} else {
		p("| | measure | value |")
		p("|---|---|---|")
		for _, row := range rows {
			p("%s | %s | %s |", strings.TrimSuffix("| "+row[0], " "), row[1], row[2])
		}
		p("")
	}

	p("### Invariant checks\n")
	switch {
	case !r.Has(ChecksFile):
		p("_%s was not in the run directory: the invariants were not checked._\n", ChecksFile)
	case len(r.Checks) == 0:
		p("_%s lists no checks._\n", ChecksFile)
	default:
		failed := 0
		for _, c := range r.Checks {
			if !c.OK {
				failed++
			}
		}
		if failed == 0 {
			p("All %d held.\n", len(r.Checks))
		} else {
			p("**%d of %d failed.**\n", failed, len(r.Checks))
		}
		p("| | check | detail |")
		p("|---|---|---|")
		for _, c := range r.Checks {
			mark := "✔"
			if !c.OK {
				mark = "✘"
			}
			p("| %s | %s | %s |", mark, cell(c.Name), cell(c.Detail))
		}
		p("")
	}

	if len(r.Samples) == 0 {
		p("_%s holds no samples: there is nothing to plot._\n", SamplesFile)
	} else if len(images) > 0 {
		p("### Plots\n")
		for _, img := range images {
			p("![%s](%s)\n", strings.NewReplacer("[", "(", "]", ")").Replace(img.alt), img.link)
		}
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}

// clientRows are k6's view: what the load generator sent and saw.
func (r *Run) clientRows() [][3]string {
	s := r.Summary
	if s == nil {
		return nil
	}
	var rows [][3]string
	add := func(measure, value string) {
		side := ""
		if len(rows) == 0 {
			side = "**" + cmp.Or(r.Meta.Client, "k6") + " (client)**"
		}
		rows = append(rows, [3]string{side, measure, value})
	}
	val := func(metric, key string) (float64, bool) {
		v, ok := s.Metrics[metric].Values[key]
		return v, ok
	}

	if v, ok := val("http_reqs", "count"); ok {
		add("requests", count(v))
	}
	if v, ok := val("http_reqs", "rate"); ok {
		add("request rate", human(v)+"/s")
	}
	if v, ok := val("iterations", "count"); ok {
		add("iterations", count(v))
	}
	if v, ok := val("dropped_iterations", "count"); ok {
		add("dropped iterations", count(v))
	}
	if v, ok := val("vus_max", "value"); ok {
		add("VUs (max)", count(v))
	}
	if v, ok := val("http_req_failed", "passes"); ok {
		// A rate metric's "passes" are its non-zero samples: here, the
		// failed requests (5xx and no answer, as the scripts define them).
		add("failed requests", count(v)+" ("+percent(v, v+s.Metrics["http_req_failed"].Values["fails"])+")")
	}
	var labels, values []string
	for _, st := range [][2]string{{"p50", "med"}, {"p95", "p(95)"}, {"p99", "p(99)"}, {"max", "max"}} {
		if v, ok := val("http_req_duration", st[1]); ok {
			labels = append(labels, st[0])
			values = append(values, human(v))
		}
	}
	if len(labels) > 0 {
		add("http_req_duration "+strings.Join(labels, " / "), strings.Join(values, " / ")+" ms")
	}
	if c, ok := s.Metrics["checks"]; ok {
		passes, fails := c.Values["passes"], c.Values["fails"]
		add("checks", checksValue(passes, fails, s.Checks))
	} else if len(s.Checks) > 0 {
		var passes, fails float64
		for _, c := range s.Checks {
			passes += c.Passes
			fails += c.Fails
		}
		add("checks", checksValue(passes, fails, s.Checks))
	}
	r.clientOutcomeRows(add)
	var held, broken []string
	for _, name := range sortedKeys(s.Metrics) {
		for _, expr := range sortedKeys(s.Metrics[name].Thresholds) {
			if expr == "count>=0" {
				continue // declares a sub-metric so that the summary lists it; not a target
			}
			if s.Metrics[name].Thresholds[expr] {
				held = append(held, expr)
			} else {
				broken = append(broken, code(name+": "+expr))
			}
		}
	}
	switch {
	case len(broken) > 0:
		add("thresholds", fmt.Sprintf("✘ %d of %d failed: %s", len(broken), len(held)+len(broken), strings.Join(broken, ", ")))
	case len(held) > 0:
		add("thresholds", fmt.Sprintf("✔ all %d held", len(held)))
	}
	return rows
}

// clientOutcomeRows adds what k6 saw by outcome: the scripts count every
// booking attempt in the counter "outcomes", tagged with the outcome as the
// service's samples name it, and declare its sub-metrics so that the
// summary holds "outcomes{outcome:409 sold_out}" and the like.
func (r *Run) clientOutcomeRows(add func(measure, value string)) {
	const prefix, suffix = "outcomes{outcome:", "}"
	counts := map[string]float64{}
	var total float64
	for name, m := range r.Summary.Metrics {
		o, ok := strings.CutPrefix(name, prefix)
		if !ok || !strings.HasSuffix(o, suffix) {
			continue
		}
		o = strings.TrimSuffix(o, suffix)
		counts[o] = m.Values["count"]
		total += m.Values["count"]
	}
	if len(counts) == 0 {
		return
	}
	add("attempts by outcome", count(total))
	keys := sortedKeys(counts)
	sort.SliceStable(keys, func(i, j int) bool { return counts[keys[i]] > counts[keys[j]] })
	for _, k := range keys {
		// Failures get their row at zero too: "none" is the result.
		if counts[k] > 0 || k == "5xx" || k == "error" {
			add("→ "+code(k), count(counts[k])+" ("+percent(counts[k], total)+")")
		}
	}
}

func checksValue(passes, fails float64, checks []K6Check) string {
	total := passes + fails
	if total == 0 {
		return "none ran"
	}
	v := fmt.Sprintf("%s of %s passed (%s)", count(passes), count(total), percent(passes, total))
	var failing []string
	for _, c := range checks {
		if c.Fails > 0 {
			failing = append(failing, fmt.Sprintf("%s ✘ %s", cell(c.Name), count(c.Fails)))
		}
	}
	if len(failing) > 0 {
		v += "; " + strings.Join(failing, ", ")
	}
	return v
}

// serverRows are the service's view, summed or picked over the samples.
func (r *Run) serverRows() [][3]string {
	if len(r.Samples) == 0 {
		return nil
	}
	var rows [][3]string
	add := func(measure, value string) {
		side := ""
		if len(rows) == 0 {
			side = "**service (sampled each second)**"
		}
		rows = append(rows, [3]string{side, measure, value})
	}

	first, last := r.Samples[0], r.Samples[len(r.Samples)-1]
	add("samples", fmt.Sprintf("%s, t = %s–%s s", count(float64(len(r.Samples))), human(first.T), human(last.T)))

	outcomes := map[string]float64{}
	var responses, errs5xx float64
	sawOutcomes := false
	for _, s := range r.Samples {
		for k, v := range s.Outcomes {
			sawOutcomes = true
			outcomes[k] += v
			responses += v
			if classOf(k) == "5xx" {
				errs5xx += v
			}
		}
	}
	if sawOutcomes {
		add("responses", count(responses))
		keys := sortedKeys(outcomes)
		sort.SliceStable(keys, func(i, j int) bool { return outcomes[keys[i]] > outcomes[keys[j]] })
		var five []string
		for _, k := range keys {
			if classOf(k) == "5xx" {
				if k != "5xx" {
					five = append(five, code(k)+" "+count(outcomes[k]))
				}
				continue
			}
			add("→ "+code(k), count(outcomes[k])+" ("+percent(outcomes[k], responses)+")")
		}
		// 5xx always gets its row, zero included: "no server errors" is a
		// result.
		v := count(errs5xx) + " (" + percent(errs5xx, responses)
		if len(five) > 0 {
			v += "; " + strings.Join(five, ", ")
		}
		add("→ "+code("5xx"), v+")")
	}

	if t, v, ok := peak(r.Samples, func(s Sample) *float64 {
		if s.Outcomes == nil {
			return s.RPS
		}
		var sum float64
		for _, v := range s.Outcomes {
			sum += v
		}
		return &sum
	}); ok {
		add("peak throughput", fmt.Sprintf("%s responses/s at t = %s s", count(v), human(t)))
	}
	if t, v, ok := peak(r.Samples, func(s Sample) *float64 { return s.OfferedRPS }); ok && v > 0 {
		add("peak offered load", fmt.Sprintf("%s requests/s at t = %s s", count(v), human(t)))
	}
	if t, v, ok := peak(r.Samples, func(s Sample) *float64 { return s.P99MS }); ok {
		add("peak p99 latency", fmt.Sprintf("%s ms at t = %s s", human(v), human(t)))
	}
	for _, l := range r.Meta.ServerLatency {
		add(l.What+", whole run: p50 / p95 / p99", fmt.Sprintf("%s / %s / %s ms (%s answers)", human(l.P50MS), human(l.P95MS), human(l.P99MS), count(l.Count)))
	}
	if start, end, ok := ends(r.Samples, func(s Sample) *float64 { return s.SlotsLeft }); ok {
		add("slots left, start → end", count(start)+" → "+count(end))
	}
	if start, end, ok := ends(r.Samples, func(s Sample) *float64 { return s.RSSMB }); ok {
		t, top, _ := peak(r.Samples, func(s Sample) *float64 { return s.RSSMB })
		add("RSS start / end / peak", fmt.Sprintf("%s / %s / %s MB (peak at t = %s s)", human(start), human(end), human(top), human(t)))
	}
	return rows
}

// peak is the largest value f gives over the samples, and when.
func peak(samples []Sample, f func(Sample) *float64) (t, v float64, ok bool) {
	for _, s := range samples {
		if p := f(s); p != nil && (!ok || *p > v) {
			t, v, ok = s.T, *p, true
		}
	}
	return t, v, ok
}

// ends are the first and last values f gives over the samples.
func ends(samples []Sample, f func(Sample) *float64) (start, end float64, ok bool) {
	for _, s := range samples {
		if p := f(s); p != nil {
			if !ok {
				start = *p
			}
			end, ok = *p, true
		}
	}
	return start, end, ok
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// date shows an RFC 3339 time to the minute in its own zone; anything else
// as written.
func date(s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return oneLine(s)
	}
	if _, off := t.Zone(); off == 0 {
		return t.Format("2006-01-02 15:04") + " UTC"
	}
	return t.Format("2006-01-02 15:04 -07:00")
}

// count formats a tally: rounded, with thousands separators.
func count(v float64) string {
	return group(strconv.FormatFloat(math.Round(v), 'f', 0, 64))
}

// human formats a measurement for reading: thousands separators, and
// decimals only where they carry something (three significant digits below
// 100, one decimal below 1,000, none above).
func human(v float64) string {
	a := math.Abs(v)
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "—"
	case a >= 1000 || a == math.Trunc(a):
		return count(v)
	case a >= 10:
		return trimZeros(strconv.FormatFloat(v, 'f', 1, 64))
	case a >= 1:
		return trimZeros(strconv.FormatFloat(v, 'f', 2, 64))
	case a >= 0.001:
		return trimZeros(strconv.FormatFloat(v, 'f', 3, 64))
	default:
		return strconv.FormatFloat(v, 'g', 2, 64)
	}
}

// percent is part/whole as a percentage with as many decimals as it takes
// (up to four) not to round a shortfall up to 100% or a remainder down to 0%.
func percent(part, whole float64) string {
	if whole == 0 {
		return "—"
	}
	pc := 100 * part / whole
	for prec := 1; ; prec++ {
		s := trimZeros(strconv.FormatFloat(pc, 'f', prec, 64))
		if prec == 4 || ((s != "100" || part == whole) && (s != "0" || part == 0)) {
			return s + "%"
		}
	}
}

func trimZeros(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// group puts thousands separators into an integer's digits.
func group(digits string) string {
	sign := ""
	if strings.HasPrefix(digits, "-") {
		sign, digits = "-", digits[1:]
	}
	if len(digits) <= 3 {
		return sign + digits
	}
	var b strings.Builder
	lead := len(digits) % 3
	if lead > 0 {
		b.WriteString(digits[:lead])
	}
	for i := lead; i < len(digits); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(digits[i : i+3])
	}
	return sign + b.String()
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// cell makes s safe inside a Markdown table cell.
func cell(s string) string {
	return strings.ReplaceAll(oneLine(s), "|", `\|`)
}

// code shows s as inline code in a table cell, with a fence longer than
// any run of backticks in s.
func code(s string) string {
	s = oneLine(s)
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	pad := ""
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		pad = " "
	}
	return fence + pad + strings.ReplaceAll(s, "|", `\|`) + pad + fence
}
