// Command spike is an open-loop load generator for the release minute, for
// when k6 cannot offer the rate on the machine under test (k6 on the same
// two cores starts about 5,000 attempts a second). Attempts arrive on a
// schedule, RATE a second, whether or not earlier ones were answered; each
// one's latency is measured from its scheduled start, so a stall of the
// generator or the service counts against the service (no coordinated
// omission). An attempt that cannot start because MAX_IN_FLIGHT are already
// waiting is dropped and counted, as k6 counts dropped_iterations: at 20,000
// a second, 4,096 unanswered attempts are ~200 ms of answers owed. Each drop
// is also told by cause: when the generator's own schedule was late by more
// than 10 ms at that moment (its CPU was not its own), the drop is the
// generator's; otherwise the answers owed were the service's.
//
// It reads the seed's files (patients.csv, sessions.json), first lists every
// patient once (the waiting room, as release_hour.js does), opens its
// connections (the phones in the waiting room are connected; the pool does
// not grow during the load), waits for the release, then books, and prints
// its own CPU and run-queue wait over the load beside the latencies (is the
// generator keeping up on the CPU it was given?). It writes:
//   - k6-summary.json: its totals in the shape of k6's --summary-export;
//   - booked.log: "BOOKED <id>" per 201 and "ENTERED <request id>" per 202
//     (an entry in a lottery pool's draw), for the runner's checks.
package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

type attempt struct {
	auth, xff string
	body      []byte
}

func main() {
	dir := flag.String("run-dir", "", "the seed's files; results go here too")
	addr := flag.String("addr", "127.0.0.1:18080", "the service")
	rate := flag.Int("rate", 20000, "attempts per second after the release")
	duration := flag.Duration("duration", time.Minute, "how long the rate is held")
	startIn := flag.Duration("start-in", 0, "time until the release")
	// More connections model more independent phones, but on two shared
	// cores 4,096 of them cost more than they model: 5,600 attempts/s
	// instead of 19,600 (measured 2026-11-22).
	conns := flag.Int("conns", 512, "connections")
	maxInFlight := flag.Int("max-in-flight", 4096, "attempts waiting at once before new ones are dropped")
	cpuProfile := flag.String("cpuprofile", "", "write the generator's own CPU profile of the load (T-1s to its end) to this file")
	flag.Parse()
	if err := run(*dir, *addr, *rate, *duration, *startIn, *conns, *maxInFlight, *cpuProfile); err != nil {
		fmt.Fprintln(os.Stderr, "spike:", err)
		os.Exit(1)
	}
}

func run(dir, addr string, rate int, hold, startIn time.Duration, conns, maxInFlight int, cpuProfile string) error {
	release := time.Now().Add(startIn)
	attempts, err := load(dir)
	if err != nil {
		return err
	}
	// An attempt waits for a free connection rather than failing: the wait
	// counts in its latency, which runs from its scheduled start.
	client := &fasthttp.HostClient{Addr: addr, MaxConns: conns, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second,
		MaxIdleConnDuration: time.Minute, MaxConnWaitTimeout: 10 * time.Second}

	warm := waitingRoom(client, attempts, time.Until(release.Add(-3*time.Second)))
	fmt.Printf("spike: waiting room listed %d of %d patients\n", warm, len(attempts))
	// The phones are connected before the release, as they are when they
	// sit in the waiting room: opening connections is not the attempts'.
	// Not sooner than 2.5 s before it: the server answers a new connection
	// that sends nothing for its read timeout (10 s) with a 408 and closes
	// it, and the attempt sent on it later would read that 408 as its own.
	time.Sleep(time.Until(release.Add(-2500 * time.Millisecond)))
	fmt.Printf("spike: %d of %d connections open before the load\n", connect(client, conns, time.Until(release.Add(-1500*time.Millisecond))), conns)
	time.Sleep(time.Until(release.Add(-time.Second)))

	booked, err := os.Create(filepath.Join(dir, "booked.log"))
	if err != nil {
		return err
	}
	defer booked.Close()
	var (
		mu        sync.Mutex
		latencies = make([]float64, 0, rate*int(hold.Seconds()+2))
		perSecond = make([][]float64, int(hold.Seconds())+2) // by scheduled second, from T−1 s
		// lags: per scheduled second, how late the generator itself sent
		// each attempt (from its scheduled start until its goroutine ran):
		// the generator's own share of the latency.
		lags     = make([][]float64, len(perSecond))
		outcomes = map[string]int{}
		// the 201s' latencies, client side: the winners' wait
		won      []float64
		inFlight atomic.Int64
		// drops by scheduled second, and those while the generator's own
		// schedule was late (its own, not the service's)
		drops, ownDrops = make([]int, len(perSecond)), make([]int, len(perSecond))
		wg              sync.WaitGroup
	)
	// The schedule: from one second before the release (those attempts are
	// answered not_released), RATE a second for the hold.
	start := release.Add(-time.Second)
	total := rate * int((hold + time.Second).Seconds())
	time.Sleep(time.Until(start))
	own := readOwnCost()
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	interval := time.Duration(float64(time.Second) / float64(rate))
	for i := range total {
		at := start.Add(time.Duration(i) * interval)
		if d := time.Until(at); d > 0 {
			time.Sleep(d)
		}
		if drop, own := dropped(inFlight.Load(), maxInFlight, time.Since(at)); drop {
			sec := min(i/rate, len(perSecond)-1)
			drops[sec]++
			if own {
				ownDrops[sec]++
			}
			continue
		}
		inFlight.Add(1)
		wg.Add(1)
		go func(a attempt, sec int) {
			defer wg.Done()
			defer inFlight.Add(-1)
			lag := float64(time.Since(at)) / 1e6
			o, id := post(client, a)
			ms := float64(time.Since(at)) / 1e6
			mu.Lock()
			latencies = append(latencies, ms)
			perSecond[sec] = append(perSecond[sec], ms)
			lags[sec] = append(lags[sec], lag)
			outcomes[o]++
			if o == "201" {
				won = append(won, ms)
			}
			switch {
			case id != "" && o == "202":
				fmt.Fprintf(booked, "ENTERED %s\n", id)
			case id != "":
				fmt.Fprintf(booked, "BOOKED %s\n", id)
			}
			mu.Unlock()
		}(attempts[i%len(attempts)], min(i/rate, len(perSecond)-1))
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	if cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	fmt.Println(readOwnCost().since(own, elapsed))
	printPerSecond(perSecond, lags)
	fmt.Printf("spike: attempts dropped, the same seconds:%s\n", join(drops))
	fmt.Printf("spike: of the %d dropped, %d while the generator's own schedule was more than %s late (the generator's drops; the rest waited on answers owed)\n",
		sum(drops), sum(ownDrops), lateness)
	sort.Float64s(won)
	fmt.Printf("spike: the %d 201s, client side (ms): p50 %.1f, p90 %.1f, p99 %.1f, max %.1f\n",
		len(won), quantile(won, .5), quantile(won, .9), quantile(won, .99), quantile(won, 1))
	return summary(dir, latencies, outcomes, int64(sum(drops)), elapsed)
}

// lateness is how late the generator's own schedule may run before a drop
// is put down to it rather than to the answers owed.
const lateness = 10 * time.Millisecond

// dropped says whether an attempt due now is dropped, with inFlight
// attempts unanswered of at most maxInFlight, and whether the drop is the
// generator's own: its schedule was more than lateness behind (late), so
// the attempts it owes are partly its own backlog.
func dropped(inFlight int64, maxInFlight int, late time.Duration) (drop, own bool) {
	if inFlight < int64(maxInFlight) {
		return false, false
	}
	return true, late > lateness
}

func join(v []int) string {
	var b strings.Builder
	for _, n := range v {
		fmt.Fprintf(&b, " %d", n)
	}
	return b.String()
}

func sum(v []int) (n int) {
	for _, x := range v {
		n += x
	}
	return n
}

// connect opens n connections to the service (the pool's, idle after)
// within budget; it returns how many it opened.
func connect(client *fasthttp.HostClient, n int, budget time.Duration) int {
	var (
		mu   sync.Mutex
		held []func()
		wg   sync.WaitGroup
	)
	for range n {
		wg.Go(func() {
			// Each is held until all are open, so none is handed out twice.
			if cc, err := client.AcquireConn(max(budget, time.Millisecond), false); err == nil {
				mu.Lock()
				held = append(held, func() { client.ReleaseConn(cc) })
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, release := range held {
		release()
	}
	return len(held)
}

// waitingRoom lists every patient once, from 64 connections, until done or
// the time is up; it returns how many it listed.
func waitingRoom(client *fasthttp.HostClient, attempts []attempt, budget time.Duration) int {
	var next, done atomic.Int64
	deadline := time.Now().Add(budget)
	var wg sync.WaitGroup
	seen := map[string]bool{}
	var tokens []attempt
	for _, a := range attempts {
		if !seen[a.auth] {
			seen[a.auth] = true
			tokens = append(tokens, a)
		}
	}
	for range 64 {
		wg.Go(func() {
			req, res := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(res)
			for time.Now().Before(deadline) {
				i := next.Add(1) - 1
				if i >= int64(len(tokens)) {
					return
				}
				req.Reset()
				req.SetRequestURI("http://" + client.Addr + "/v1/patients")
				req.Header.Set("Authorization", tokens[i].auth)
				req.Header.Set("X-Forwarded-For", tokens[i].xff)
				if client.Do(req, res) == nil && res.StatusCode() == 200 {
					done.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return int(done.Load())
}

// post makes one attempt and names its outcome as the runner does.
func post(client *fasthttp.HostClient, a attempt) (outcome, bookingID string) {
	req, res := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(res)
	req.SetRequestURI("http://" + client.Addr + "/v1/bookings")
	req.Header.SetMethod("POST")
	req.Header.SetContentType("application/json")
	req.Header.Set("Authorization", a.auth)
	req.Header.Set("X-Forwarded-For", a.xff)
	req.SetBodyRaw(a.body)
	if err := client.Do(req, res); err != nil {
		if errors.Is(err, fasthttp.ErrNoFreeConns) {
			return "error: no free connection", ""
		}
		return "error", ""
	}
	status, body := res.StatusCode(), res.Body()
	switch {
	case status == 201:
		var b struct {
			ID string `json:"booking_id"`
		}
		_ = json.Unmarshal(body, &b)
		return "201", b.ID
	case status == 202: // an entry in a lottery pool's draw
		var e struct {
			ID string `json:"request_id"`
		}
		_ = json.Unmarshal(body, &e)
		return "202", e.ID
	case status >= 500:
		return "5xx", ""
	case status == 429:
		return "429", ""
	}
	code := "?"
	if i := bytes.Index(body, []byte(`"code":"`)); i >= 0 {
		rest := body[i+8:]
		if j := bytes.IndexByte(rest, '"'); j >= 0 {
			code = string(rest[:j])
		}
	}
	return fmt.Sprintf("%d %s", status, code), ""
}

// load reads patients.csv and sessions.json into ready-made attempts: each
// patient after the expert its index picks, from one of 50,000 addresses,
// as release_hour.js does.
func load(dir string) ([]attempt, error) {
	var seed struct {
		Sessions []struct {
			ID string `json:"id"`
		} `json:"sessions"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "sessions.json"))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &seed); err != nil {
		return nil, err
	}
	if len(seed.Sessions) == 0 {
		return nil, errors.New("sessions.json lists no sessions")
	}
	f, err := os.Open(filepath.Join(dir, "patients.csv"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comment = '#'
	recs, err := r.ReadAll()
	if err != nil {
		return nil, err
	}
	out := make([]attempt, 0, len(recs))
	for i, rec := range recs[1:] {
		a := i % 50000
		out = append(out, attempt{
			auth: "Bearer " + rec[0],
			xff:  fmt.Sprintf("10.%d.%d.%d", (a>>16)&255, (a>>8)&255, a&255),
			body: fmt.Appendf(nil, `{"session_id":%q,"patient_id":%q}`, seed.Sessions[i%len(seed.Sessions)].ID, rec[1]),
		})
	}
	return out, nil
}

// printPerSecond prints the client-side p99 of the attempts scheduled in
// each second, from the second before the release, and the p99 of those
// scheduled from two seconds after it: where the tail comes from. Beside
// each it prints the p99 of the generator's own lag (scheduled start to
// sending), which is in the latency but not the service's.
func printPerSecond(perSecond, lags [][]float64) {
	var line, lagLine strings.Builder
	var after, lagAfter []float64
	for i, lat := range perSecond {
		sort.Float64s(lat)
		sort.Float64s(lags[i])
		fmt.Fprintf(&line, " %.0f", quantile(lat, .99))
		fmt.Fprintf(&lagLine, " %.0f", quantile(lags[i], .99))
		if i >= 3 {
			after = append(after, lat...)
			lagAfter = append(lagAfter, lags[i]...)
		}
	}
	sort.Float64s(after)
	sort.Float64s(lagAfter)
	fmt.Printf("spike: client p99 (ms) of the attempts scheduled in each second from T-1s:%s\n", line.String())
	fmt.Printf("spike: the generator's own lag, p99 (ms), the same seconds:%s\n", lagLine.String())
	fmt.Printf("spike: attempts scheduled from T+2s: %d, p99 %.2f ms (the generator's lag p99 %.2f ms)\n",
		len(after), quantile(after, .99), quantile(lagAfter, .99))
}

// quantile is the p-quantile of sorted, by the nearest rank.
func quantile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[max(0, min(len(sorted)-1, int(math.Ceil(p*float64(len(sorted))))-1))]
}

// summary writes the totals in the shape of k6's --summary-export and
// prints them.
func summary(dir string, lat []float64, outcomes map[string]int, dropped int64, elapsed float64) error {
	sort.Float64s(lat)
	q := func(p float64) float64 { return quantile(lat, p) }
	sum := 0.0
	for _, v := range lat {
		sum += v
	}
	failed := outcomes["5xx"] + outcomes["error"]
	metrics := map[string]map[string]float64{
		"http_reqs":          {"count": float64(len(lat)), "rate": float64(len(lat)) / elapsed},
		"dropped_iterations": {"count": float64(dropped), "rate": float64(dropped) / elapsed},
		"http_req_failed":    {"passes": float64(failed), "fails": float64(len(lat) - failed), "value": float64(failed) / math.Max(1, float64(len(lat)))},
		"http_req_duration": {"avg": sum / math.Max(1, float64(len(lat))), "min": q(0), "med": q(.5), "p(90)": q(.9),
			"p(95)": q(.95), "p(99)": q(.99), "max": q(1)},
	}
	for o, n := range outcomes {
		metrics["outcomes{outcome:"+o+"}"] = map[string]float64{"count": float64(n), "rate": float64(n) / elapsed}
	}
	b, err := json.MarshalIndent(map[string]any{"metrics": metrics}, "", "  ")
	if err != nil {
		return err
	}
	keys := make([]string, 0, len(outcomes))
	for k := range outcomes {
		keys = append(keys, fmt.Sprintf("%s: %d", k, outcomes[k]))
	}
	sort.Strings(keys)
	fmt.Printf("spike: %d attempts in %.1fs (%.0f/s), %d dropped; latency from the scheduled start p50 %.2f ms, p95 %.2f ms, p99 %.2f ms, max %.1f ms\n  %s\n",
		len(lat), elapsed, float64(len(lat))/elapsed, dropped, q(.5), q(.95), q(.99), q(1), strings.Join(keys, ", "))
	return os.WriteFile(filepath.Join(dir, "k6-summary.json"), append(b, '\n'), 0o644)
}
