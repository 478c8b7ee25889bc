package report

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os/exec"
	"strconv"
	"strings"
)

// Plot size in pixels: wide enough for a legend on the right, low enough
// that four plots read as one page.
const (
	plotWidth  = 900
	plotHeight = 360
)

// errNoGnuplot is returned when the gnuplot binary cannot be found.
var errNoGnuplot = errors.New("gnuplot not found: install gnuplot-nox (deploy/local/test.sh does)")

// plot is one PNG: lines over the run's time axis.
type plot struct {
	name   string // file suffix: <prefix>-<name>.png
	title  string
	ylabel string
	logY   bool
	// zeroAt, on a log axis, is where zeros are drawn: below the bottom of
	// the axis, so that a count dropping to zero for a second dives out of
	// the plot and a lone non-zero second shows as a spike, where a gap
	// (log 0 is undefined) would hide it. Lines at zero are clipped away
	// rather than drawn along the bottom in whichever colour came last.
	zeroAt float64
	series []series
}

type series struct {
	title string
	style string // gnuplot line style: colour, width, dash
	y     []float64
}

// Line styles: dark, saturated colours that stay visible on white, told
// apart by dash pattern as well so that the plots survive grey printing.
const (
	styleTotal   = "lc rgb '#000000' lw 2.5"
	styleOffered = "lc rgb '#555555' lw 2 dt (8,6)"
)

var classStyle = map[string]string{
	"201":          "lc rgb '#008060' lw 2",
	"2xx other":    "lc rgb '#4d7a00' lw 2 dt (4,3)",
	"409 sold_out": "lc rgb '#0060b0' lw 2",
	"409 other":    "lc rgb '#8c4a2f' lw 2 dt (4,3)",
	"429":          "lc rgb '#c07000' lw 2",
	"4xx other":    "lc rgb '#6a3d9a' lw 2 dt (4,3)",
	"5xx":          "lc rgb '#d00000' lw 2.5",
	"other":        "lc rgb '#707070' lw 2 dt (2,3)",
}

// drawable keeps the series gnuplot can draw: with a log axis a value must
// be positive to appear, and a series with no such value would make gnuplot
// fail ("all points y value undefined").
func (p plot) drawable() []series {
	var out []series
	for _, s := range p.series {
		for _, v := range s.y {
			if !math.IsNaN(v) && !math.IsInf(v, 0) && (!p.logY || v > 0) {
				out = append(out, s)
				break
			}
		}
	}
	return out
}

// script is the gnuplot program that draws p over times t into path.
func (p plot) script(path string, t []float64) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }

	// noenhanced: keep "sold_out" and "release_hour" literal instead of
	// reading "_" as a subscript.
	w("set terminal pngcairo noenhanced size %d,%d font 'DejaVu Sans,11'", plotWidth, plotHeight)
	w("set output %s", gpString(path))
	w("set title %s font ',13'", gpString(p.title))
	w("set xlabel 'time since the scenario started (s)'")
	w("set ylabel %s", gpString(p.ylabel))
	w("set border 3 lc rgb '#404040'")
	w("set tics nomirror")
	w("set clip one")
	w("set grid xtics ytics lt 1 lc rgb '#d8d8d8' lw 1")
	// Fixed margins, so that the plots' axes line up when the page stacks
	// them, whatever their tic labels and legends.
	w("set lmargin at screen 0.11")
	w("set rmargin at screen 0.80")
	w("set key at screen 0.82, graph 1 left top vertical Left reverse noautotitle samplen 3 spacing 1.2")
	lo, hi := t[0], t[len(t)-1]
	if hi <= lo {
		lo, hi = lo-1, hi+1
	}
	w("set xrange [%s:%s]", gpNum(lo), gpNum(hi))
	series := p.drawable()
	if p.logY {
		w("set logscale y 10")
	}
	// The y tics are chosen here rather than by gnuplot so that their
	// labels get thousands separators ("20,000", not "20000" or "2e+04").
	lo, hi, tics := p.yAxis(series)
	w("set yrange [%s:%s]", gpNum(lo), gpNum(hi))
	w("set ytics (%s)", strings.Join(tics, ", "))
	// gnuplot reads NaN as undefined and breaks the line there, which is
	// what a missing field should look like.
	w("$data << EOD")
	for i := range t {
		b.WriteString(gpNum(t[i]))
		for _, s := range series {
			v := s.y[i]
			if p.zeroAt > 0 && v == 0 {
				v = p.zeroAt
			}
			b.WriteByte(' ')
			b.WriteString(gpNum(v))
		}
		b.WriteByte('\n')
	}
	w("EOD")
	with := "lines"
	if len(t) < 3 {
		with = "linespoints pt 7 ps 0.8"
	}
	var plots []string
	for i, s := range series {
		plots = append(plots, fmt.Sprintf("$data using 1:%d with %s %s title %s", i+2, with, s.style, gpString(s.title)))
	}
	w("plot %s", strings.Join(plots, ", \\\n     "))
	return b.String()
}

// yAxis is the y range and its labelled tics for the series: whole
// decades on a log axis, 0 to a round top in 4 to 10 round steps on a
// linear one.
func (p plot) yAxis(series []series) (lo, hi float64, tics []string) {
	tic := func(v float64, label string) string {
		return gpString(label) + " " + gpNum(v)
	}
	minY, maxY := math.Inf(1), math.Inf(-1)
	for _, s := range series {
		for _, v := range s.y {
			if math.IsNaN(v) || math.IsInf(v, 0) || (p.logY && v <= 0) {
				continue
			}
			minY, maxY = math.Min(minY, v), math.Max(maxY, v)
		}
	}
	if math.IsInf(maxY, 0) { // nothing to draw; drawable keeps this from happening
		minY, maxY = 1, 1
	}
	if p.logY {
		first := math.Floor(math.Log10(minY))
		last := math.Floor(math.Log10(maxY)) + 1
		lo = math.Pow(10, first)
		if p.zeroAt > 0 {
			// Counts of 1 sit just above the border, zeros below it.
			first, lo = 0, 0.8
		}
		for e := first; e <= last; e++ {
			tics = append(tics, tic(math.Pow(10, e), human(math.Pow(10, e))))
		}
		return lo, math.Pow(10, last), tics
	}
	maxY = math.Max(maxY, 0)
	step := niceStep(maxY / 5)
	top := math.Ceil(maxY/step) * step
	if top <= maxY { // headroom, so that a flat line is not drawn on the border
		top += step
	}
	for i := 0.0; i*step <= top+step/2; i++ {
		tics = append(tics, tic(i*step, human(i*step)))
	}
	// A little below zero, so that a line at zero is not lost in the
	// border.
	return -top / 60, top, tics
}

// niceStep is the smallest of 1, 2, 2.5 and 5 times a power of ten that is
// at least x.
func niceStep(x float64) float64 {
	if x <= 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return 1
	}
	base := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*base >= x*(1-1e-9) {
			return m * base
		}
	}
	return 10 * base
}

// gnuplot runs the gnuplot binary at bin on script, returning its error
// output with the failure: gnuplot names the offending line there.
func gnuplot(bin, script string) error {
	cmd := exec.Command(bin)
	cmd.Stdin = strings.NewReader(script)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("gnuplot: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// gpString quotes s as a gnuplot single-quoted string, in which nothing is
// special but the quote itself, written twice.
func gpString(s string) string {
	s = strings.NewReplacer("\n", " ", "\r", " ").Replace(s)
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

func gpNum(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// plots builds the run's plots; the ones with nothing to draw are dropped
// by the caller.
func (r *Run) plots() []plot {
	n := len(r.Samples)
	nan := func() []float64 {
		y := make([]float64, n)
		for i := range y {
			y[i] = math.NaN()
		}
		return y
	}
	get := func(f func(Sample) *float64) []float64 {
		y := nan()
		for i, s := range r.Samples {
			if v := f(s); v != nil {
				y[i] = *v
			}
		}
		return y
	}

	total, offered := nan(), nan()
	class := map[string][]float64{}
	for _, c := range outcomeClasses {
		class[c] = nan()
	}
	for i, s := range r.Samples {
		// Total is the responses completed, as the classes below count
		// them; rps stands in when a line has no outcomes.
		if s.RPS != nil {
			total[i] = *s.RPS
		}
		if s.Outcomes != nil {
			var sum float64
			for _, c := range outcomeClasses {
				class[c][i] = 0
			}
			for k, v := range s.Outcomes {
				class[classOf(k)][i] += v
				sum += v
			}
			total[i] = sum
		}
		if s.OfferedRPS != nil && *s.OfferedRPS > 0 {
			offered[i] = *s.OfferedRPS
		}
	}
	tp := plot{
		name:   "throughput",
		title:  r.Meta.Scenario + ": responses per second by outcome (log scale)",
		ylabel: "responses/s",
		logY:   true,
		zeroAt: 0.1,
		series: []series{
			{title: "total", style: styleTotal, y: total},
			{title: "offered", style: styleOffered, y: offered},
		},
	}
	for _, c := range outcomeClasses {
		tp.series = append(tp.series, series{title: c, style: classStyle[c], y: class[c]})
	}

	return []plot{
		tp,
		{
			name:   "latency",
			title:  r.Meta.Scenario + ": server-side latency percentiles (log scale)",
			ylabel: "latency (ms)",
			logY:   true,
			series: []series{
				{title: "p50", style: "lc rgb '#0060b0' lw 2", y: get(func(s Sample) *float64 { return s.P50MS })},
				{title: "p95", style: "lc rgb '#c07000' lw 2 dt (8,4)", y: get(func(s Sample) *float64 { return s.P95MS })},
				{title: "p99", style: "lc rgb '#d00000' lw 2", y: get(func(s Sample) *float64 { return s.P99MS })},
			},
		},
		{
			name:   "slots",
			title:  r.Meta.Scenario + ": slots left",
			ylabel: "slots left",
			series: []series{
				{title: "slots left", style: "lc rgb '#008060' lw 2.5", y: get(func(s Sample) *float64 { return s.SlotsLeft })},
			},
		},
		{
			name:   "memory",
			title:  r.Meta.Scenario + ": resident memory of the service",
			ylabel: "RSS (MB)",
			series: []series{
				{title: "RSS", style: "lc rgb '#6a3d9a' lw 2.5", y: get(func(s Sample) *float64 { return s.RSSMB })},
			},
		},
	}
}
