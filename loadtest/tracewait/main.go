// Command tracewait says where the release second's winners spent their
// time, from an execution trace of the service (loadtest/run -trace writes
// release.trace into the run folder):
//
//	go run ./loadtest/tracewait .data/loadtest/release_hour_spike_pinned/release.trace
//
// It reads the trace through `go tool trace -d=parsed` (the parsed events,
// as text: golang.org/x/exp/trace is not a dependency). A request of a
// fasthttp connection goroutine runs from the wake-up that ends its wait
// for a request (a network wait under serveConn's Peek) to its next such
// wait; a winner's request is one whose goroutine entered the bookings'
// group commit (booking.(*Service).commit) in it. Each request's time is
// split into running, in a system call, runnable (woken and waiting for a
// P: a turn of the run queue, named by what woke it) and waiting, by what
// it waited on (Redis, PostgreSQL, the group commit's channels). A wait on
// the network ends when the netpoller sees the answer, so it holds the
// time the answer sat unseen as well as the server's.
package main

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: tracewait release.trace")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "tracewait:", err)
		os.Exit(1)
	}
}

func run(path string, out io.Writer) error {
	cmd := exec.Command("go", "tool", "trace", "-d=parsed", path)
	cmd.Stderr = os.Stderr
	r, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	a, err := parse(r)
	if werr := cmd.Wait(); err == nil && werr != nil {
		err = fmt.Errorf("go tool trace: %w", werr)
	}
	if err != nil {
		return err
	}
	a.report(out)
	return nil
}

// What a goroutine waited on, from its stack when it blocked.
const (
	onRequest     = "request"       // the next request on its connection
	onRedis       = "redis"         // a Redis answer (reserve.lua, the limits)
	onConfirm     = "redis-confirm" // the batch's confirm in Redis
	onPostgres    = "postgres"      // a PostgreSQL answer (the batch's INSERT)
	onGroupCommit = "group-commit"  // a turn to write or its batch's answer
	onOther       = "other"
)

// waitedOn names what a goroutine blocked at stack waits for.
func waitedOn(stack []string) string {
	has := func(s string) bool {
		return slices.ContainsFunc(stack, func(f string) bool { return strings.Contains(f, s) })
	}
	switch {
	case has("jackc/pgx"):
		return onPostgres
	case has("redis/go-redis") && has("confirm"):
		return onConfirm
	case has("redis/go-redis"):
		return onRedis
	case has("groupCommit"):
		return onGroupCommit
	case has("fasthttp.(*Server).serveConn") && has("bufio.(*Reader).Peek") && !has("fairslot/"):
		return onRequest
	}
	return onOther
}

// request is one request of a connection goroutine.
type request struct {
	start, end time.Duration // from the trace's first event
	winner     bool
	running    time.Duration
	syscall    time.Duration
	runnable   map[string][]time.Duration // by what woke it: each turn
	waiting    map[string][]time.Duration // by what it waited on: each wait
}

type goroutine struct {
	state    string
	since    time.Duration
	on       string // what its current or last wait was on
	wokeFrom string // what the wait that made it runnable was on
	req      *request
}

type analysis struct {
	first, last time.Duration
	known       bool
	gs          map[int]*goroutine
	requests    []*request
	busy        map[int]time.Duration // goroutines running, per 100 ms
}

var (
	eventLine = regexp.MustCompile(`^M=\S+ P=\S+ G=-?\d+ (\w+) Time=(\d+)(.*)$`)
	transLine = regexp.MustCompile(`GoID=(\d+) (\w+)->(\w+) Reason="`)
	frameLine = regexp.MustCompile(`^\t(\S+) @`)
)

// parse reads `go tool trace -d=parsed`: an event a line, each followed
// by its stacks' frames, one a line.
func parse(r io.Reader) (*analysis, error) {
	a := &analysis{gs: map[int]*goroutine{}, busy: map[int]time.Duration{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var kind, rest string
	var at time.Duration
	var stack []string
	pending := false
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "M=") {
			if pending {
				a.event(kind, at, rest, stack)
			}
			m := eventLine.FindStringSubmatch(line)
			pending = m != nil
			if pending {
				ns, _ := strconv.ParseInt(m[2], 10, 64)
				kind, at, rest, stack = m[1], time.Duration(ns), m[3], stack[:0]
			}
			continue
		}
		if m := frameLine.FindStringSubmatch(line); pending && m != nil {
			stack = append(stack, m[1])
		}
	}
	if pending {
		a.event(kind, at, rest, stack)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if !a.known {
		return nil, errors.New("no events")
	}
	return a, nil
}

// event takes one parsed event: a goroutine's state transition ends its
// time in the state it leaves and starts or ends its requests.
func (a *analysis) event(kind string, at time.Duration, rest string, stack []string) {
	if !a.known {
		a.first, a.known = at, true
	}
	a.last = at
	at -= a.first
	if kind != "StateTransition" {
		return
	}
	m := transLine.FindStringSubmatch(rest)
	if m == nil {
		return
	}
	id, _ := strconv.Atoi(m[1])
	from, to := m[2], m[3]
	g := a.gs[id]
	if g == nil {
		g = &goroutine{state: from, since: at}
		a.gs[id] = g
	}
	d := at - g.since
	if from == "Running" {
		a.busy[int(g.since/(100*time.Millisecond))] += d
	}
	if r := g.req; r != nil {
		switch from {
		case "Running":
			r.running += d
		case "Syscall":
			r.syscall += d
		case "Runnable":
			r.runnable[g.wokeFrom] = append(r.runnable[g.wokeFrom], d)
		case "Waiting":
			r.waiting[g.on] = append(r.waiting[g.on], d)
		}
	}
	if (to == "Waiting" || to == "Syscall") && len(stack) > 0 {
		on := waitedOn(stack)
		if g.req != nil && slices.ContainsFunc(stack, func(f string) bool { return strings.Contains(f, "booking.(*Service).commit") }) {
			g.req.winner = true
		}
		if to == "Waiting" {
			g.on = on
			if on == onRequest && g.req != nil {
				g.req.end = at
				a.requests = append(a.requests, g.req)
				g.req = nil
			}
		}
	}
	if from == "Waiting" && to == "Runnable" {
		g.wokeFrom = g.on
		if g.on == onRequest {
			g.req = &request{start: at, runnable: map[string][]time.Duration{}, waiting: map[string][]time.Duration{}}
		}
	}
	g.state, g.since = to, at
}

// report writes the breakdown: the winners' requests, their turns and
// waits, the other requests, and how busy the service's goroutines kept
// its CPUs.
func (a *analysis) report(w io.Writer) {
	var winners, others []*request
	for _, r := range a.requests {
		if r.winner {
			winners = append(winners, r)
		} else {
			others = append(others, r)
		}
	}
	fmt.Fprintf(w, "trace: %.0f ms; requests seen whole: %d, of them winners' (in the group commit): %d\n",
		ms(a.last-a.first), len(a.requests), len(winners))
	a.breakdown(w, "winners", winners)
	a.breakdown(w, "other requests", others)
	fmt.Fprintf(w, "winners' turns (runnable, waiting for a P), by what woke them:\n")
	printEach(w, winners, func(r *request) map[string][]time.Duration { return r.runnable })
	fmt.Fprintf(w, "winners' waits, each:\n")
	printEach(w, winners, func(r *request) map[string][]time.Duration { return r.waiting })
	fmt.Fprintf(w, "winners by start (ms from the trace's start): count, request mean, of it runnable:\n")
	for lo := time.Duration(0); lo < a.last-a.first; lo += 100 * time.Millisecond {
		var n int
		var span, runnable time.Duration
		for _, r := range winners {
			if r.start >= lo && r.start < lo+100*time.Millisecond {
				n++
				span += r.end - r.start
				runnable += sumAll(r.runnable)
			}
		}
		if n > 0 {
			fmt.Fprintf(w, "  %5.0f  %4d  %6.1f ms  %6.1f ms\n", ms(lo), n, ms(span)/float64(n), ms(runnable)/float64(n))
		}
	}
	fmt.Fprintf(w, "goroutines running, per 100 ms (100 %% = one CPU):")
	for i := 0; time.Duration(i)*100*time.Millisecond < a.last-a.first; i++ {
		fmt.Fprintf(w, " %.0f%%", 100*a.busy[i].Seconds()/0.1)
	}
	fmt.Fprintln(w)
}

// breakdown is the mean request of rs, part by part.
func (a *analysis) breakdown(w io.Writer, name string, rs []*request) {
	if len(rs) == 0 {
		return
	}
	parts := map[string]time.Duration{}
	var total time.Duration
	spans := make([]float64, len(rs))
	for i, r := range rs {
		total += r.end - r.start
		spans[i] = ms(r.end - r.start)
		parts["running"] += r.running
		parts["in a system call"] += r.syscall
		for on, ds := range r.runnable {
			parts["runnable, woken from "+on] += sum(ds)
		}
		for on, ds := range r.waiting {
			parts["waiting on "+on] += sum(ds)
		}
	}
	slices.Sort(spans)
	n := float64(len(rs))
	fmt.Fprintf(w, "%s: %d, from the request's wake-up to the next request wait: mean %.1f ms, p50 %.1f, p90 %.1f, p99 %.1f, max %.1f\n",
		name, len(rs), ms(total)/n, pct(spans, .5), pct(spans, .9), pct(spans, .99), spans[len(spans)-1])
	keys := slices.Collect(maps.Keys(parts))
	slices.SortFunc(keys, func(x, y string) int { return cmp.Compare(parts[y], parts[x]) })
	for _, k := range keys {
		if parts[k] > 0 {
			fmt.Fprintf(w, "  %-40s mean %8.2f ms  %5.1f %%\n", k, ms(parts[k])/n, 100*parts[k].Seconds()/total.Seconds())
		}
	}
}

// printEach gives, per kind, how many a winner had and their distribution.
func printEach(w io.Writer, rs []*request, of func(*request) map[string][]time.Duration) {
	all := map[string][]float64{}
	for _, r := range rs {
		for on, ds := range of(r) {
			for _, d := range ds {
				all[on] = append(all[on], ms(d))
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(all)) {
		l := all[k]
		slices.Sort(l)
		var s float64
		for _, v := range l {
			s += v
		}
		fmt.Fprintf(w, "  %-14s %5.2f a winner, each: mean %7.2f ms, p50 %7.2f, p90 %7.2f, max %7.2f\n",
			k, float64(len(l))/float64(len(rs)), s/float64(len(l)), pct(l, .5), pct(l, .9), l[len(l)-1])
	}
}

func sum(ds []time.Duration) (t time.Duration) {
	for _, d := range ds {
		t += d
	}
	return t
}

func sumAll(m map[string][]time.Duration) (t time.Duration) {
	for _, ds := range m {
		t += sum(ds)
	}
	return t
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

// pct is the p-quantile of sorted l (nearest rank).
func pct(l []float64, p float64) float64 {
	return l[min(len(l)-1, int(p*float64(len(l))))]
}
