package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The throughput benchmark (`make bench`): one load generator, wrk with
// loadtest/wrk/book.lua, closed-loop with the same threads and connections,
// against each target in turn in the same run:
//   - a no-op fasthttp handler answering the bytes of a sold-out answer:
//     the ceiling of this machine for this request;
//   - fairslot's booking endpoint (and again with the fast reject path off);
//   - the SQL-only baseline (loadtest/sqlbaseline): one transaction with a
//     row lock per attempt, same schema, same fasthttp server.
// Each booking target gets a freshly seeded database with the same shape:
// 20 sessions × 50 slots, already released, and 20,000 patients, so every
// run books its first 1,000 attempts and answers the rest sold out, as the
// release minute does.

type target struct {
	name string
	// start starts the server on addr.
	start func(ctx context.Context, e *env, addr string) (*targetProc, error)
	seeds bool // needs a freshly seeded database
	// lottery seeds the sessions as lottery pools taking entries for the
	// whole run, with patients enough that every request is a new entry.
	lottery  bool
	fairslot bool // a fairslot build (profiled with -cpuprofile)
}

type wrkResult struct {
	Requests     int64   `json:"requests"`
	Seconds      float64 `json:"seconds"`
	RPS          float64 `json:"rps"`
	Non2xx       int64   `json:"non2xx"`
	SocketErrors int64   `json:"socket_errors"`
	P50MS        float64 `json:"p50_ms"`
	P90MS        float64 `json:"p90_ms"`
	P99MS        float64 `json:"p99_ms"`
	MaxMS        float64 `json:"max_ms"`
	// CPUPer100k is the server process's CPU time (user + system) while
	// wrk ran, in seconds per 100,000 requests answered.
	CPUPer100k float64 `json:"cpu_s_per_100k"`
	// ServiceP99MS is the p99 of the booking attempts in the service's own
	// histogram (from reading the request to writing the answer) over the
	// same run; 0 for a target without one (the no-op, the baseline).
	ServiceP99MS float64 `json:"service_p99_ms"`
	LoadAvg      string  `json:"load_avg"` // the machine's, when wrk ended
	// FromMemory is the share of the requests a fairslot build answered
	// from memory (the fast reject path), over the same run.
	FromMemory float64 `json:"from_memory"`
	Booked     int64   `json:"booked"` // bookings in SQL afterwards
	// AllocBytes and AllocObjects are what a fairslot build allocated per
	// request answered, over the same run (the Go runtime's counters:
	// the collector's work grows with them); GCCycles the collections.
	AllocBytes   float64 `json:"alloc_bytes"`
	AllocObjects float64 `json:"alloc_objects"`
	GCCycles     float64 `json:"gc_cycles"`
}

func throughput(ctx context.Context, o options) error {
	if o.duration == 0 {
		o.duration = 20 * time.Second
	}
	if o.patients == 0 {
		o.patients = 20000
	}
	dir := filepath.Join(".data", "loadtest", "throughput")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	proc := func(bin string, args ...string) func(ctx context.Context, e *env, addr string) (*targetProc, error) {
		return func(ctx context.Context, e *env, addr string) (*targetProc, error) {
			return startProc(ctx, e, filepath.Join(dir, filepath.Base(bin)+".log"), bin, append(args, "--http-addr", addr)...)
		}
	}
	// The admin server is on for the service's own latency histogram
	// (read before and after each wrk run), and serves pprof for
	// -cpuprofile.
	admin := []string{"--admin-addr", adminAddr}
	if o.profiled() {
		if err := o.makeProfileDirs(); err != nil {
			return err
		}
		admin = append(admin, "--pprof")
	}
	serve := func(bin string, args ...string) func(ctx context.Context, e *env, addr string) (*targetProc, error) {
		return proc(bin, append(append([]string{"serve"}, admin...), append([]string{"--trusted-proxies", "127.0.0.0/8"}, args...)...)...)
	}
	if o.refused {
		return refusedAB(ctx, o, dir, serve)
	}
	// The no-op runs after a seeded target: it reads the same input file.
	targets := []target{
		{name: "fairslot POST /v1/bookings", start: serve(o.bin), seeds: true, fairslot: true},
		{name: "no-op fasthttp handler (ceiling)", start: proc("bin/noop")},
		{name: "fairslot, fast reject path off", start: serve(o.bin, "--sold-out-for", "0"), seeds: true, fairslot: true},
		{name: "SQL-only baseline", start: proc("bin/sqlbaseline"), seeds: true},
		{name: "fairslot POST /v1/bookings, lottery entries (202)", start: serve(o.bin), seeds: true, lottery: true, fairslot: true},
	}
	if o.before != "" {
		bin, err := buildAt(ctx, o.before, dir)
		if err != nil {
			return err
		}
		targets = append(targets, target{name: "fairslot at " + o.before, start: serve(bin), seeds: true, fairslot: true})
	}
	if o.only != "" {
		targets = onlyTargets(targets, o.only)
	}
	addr := apiAddr // one target at a time
	input := filepath.Join(dir, "wrk-input.txt")
	results := make([]wrkResult, len(targets))
	for i, t := range targets {
		e, err := newEnv(ctx)
		if err != nil {
			return err
		}
		if t.seeds {
			args := []string{"--out", dir, "--patients", fmt.Sprint(o.patients), "--sessions", "20", "--slots", "50", "--release-at", "-1m"}
			what := "released"
			if t.lottery {
				// One request a patient: 200,000 patients outlast 20 s even
				// at 10,000 entries a second.
				args = []string{"--out", dir, "--patients", fmt.Sprint(max(o.patients, lotteryPatients)), "--sessions", "20",
					"--slots", "50", "--release-at", "-1m", "--lottery-window", "30m"}
				what = "lottery pools taking entries"
			}
			step("seed %s patients, 20 sessions × 50 slots, %s", args[3], what)
			if err := e.fairslot(ctx, o.bin, io.Discard, "migrate"); err != nil {
				return err
			}
			if err := e.fairslot(ctx, o.loadseed, os.Stdout, args...); err != nil {
				return err
			}
			if err := wrkInput(dir, input); err != nil {
				return err
			}
		}
		step("%s: wrk -t2 -c64 -d%s", t.name, o.duration)
		srv, err := t.start(ctx, e, addr)
		if err != nil {
			e.close()
			return fmt.Errorf("%s: %w", t.name, err)
		}
		if t.lottery {
			// The lottery job commits the pools' seeds within seconds of
			// the start: entries wait for the commitment. Then the waiting
			// room: patients open the app before entering, which warms the
			// service's patient cache as a login does (a sold-out answer
			// from memory needs no patient, an entry does).
			if err = waitCommitted(ctx, e); err == nil {
				step("waiting room: GET /v1/patients for %s", lotteryWarmUp)
				err = warmUp(ctx, addr, input, lotteryWarmUp)
			}
		}
		var res wrkResult
		if err == nil {
			prof := startProfile(o, t, o.duration)
			res, err = measureWrk(ctx, srv, t.fairslot, addr, input, o.duration)
			if perr := prof(); perr != nil {
				fmt.Printf("    cpu profile: %v\n", perr)
			}
		}
		srv.stop()
		switch {
		case err == nil && t.lottery:
			err = e.db.QueryRow(ctx, `SELECT count(*) FROM lottery_entries`).Scan(&res.Booked)
		case err == nil && t.seeds:
			err = e.db.QueryRow(ctx, `SELECT count(*) FROM bookings`).Scan(&res.Booked)
		}
		e.close()
		if err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		fmt.Printf("    %.0f requests/s, p50 %.2f ms, p99 %.2f ms (service-side %s), %d socket errors, %d booked, %.2f CPU-s per 100,000 requests\n",
			res.RPS, res.P50MS, res.P99MS, msOrDash(res.ServiceP99MS), res.SocketErrors, res.Booked, res.CPUPer100k)
		results[i] = res
	}
	if o.only != "" {
		// Not the whole set of targets: no report, the ratios of the
		// first target to each other one measured.
		for i := 1; i < len(results); i++ {
			if results[0].RPS > 0 {
				fmt.Printf("%s / %s: %.2f×\n", targets[i].name, targets[0].name, results[i].RPS/results[0].RPS)
			}
		}
		return writeJSON(filepath.Join(dir, "results.json"), results)
	}
	md := throughputReport(o, targets, results)
	fmt.Println(md)
	if err := writeJSON(filepath.Join(dir, "results.json"), results); err != nil {
		return err
	}
	if o.docs == "" {
		return nil
	}
	return splice(filepath.Join(o.docs, "performance.md"), "throughput", md)
}

// onlyTargets keeps the targets whose name contains one of the
// comma-separated words, in their order.
func onlyTargets(targets []target, only string) []target {
	var kept []target
	for _, t := range targets {
		for w := range strings.SplitSeq(only, ",") {
			if w = strings.TrimSpace(w); w != "" && strings.Contains(t.name, w) {
				kept = append(kept, t)
				break
			}
		}
	}
	return kept
}

// startProfile, with -cpuprofile or -memprofile, fetches a CPU or
// allocation profile (or both) of a fairslot target (started with --pprof
// on the admin address) over the middle of its wrk run; the returned
// function waits for them. Without either, it does nothing.
func startProfile(o options, t target, d time.Duration) func() error {
	if !o.profiled() || !t.fairslot {
		return func() error { return nil }
	}
	done := make(chan error, 1)
	go func() {
		secs := max(1, int((d - 2*time.Second).Seconds()))
		time.Sleep(time.Second)
		name := strings.NewReplacer(" ", "_", "/", "_", ",", "", "(", "", ")", "").Replace(t.name)
		done <- fetchProfiles(context.Background(), adminAddr, o, secs, name+".pprof", true)
	}()
	return func() error { return <-done }
}

// profiled says whether the service is to be profiled (-cpuprofile,
// -memprofile).
func (o options) profiled() bool { return o.cpuProfile != "" || o.memProfile != "" }

// makeProfileDirs makes the profiles' folders.
func (o options) makeProfileDirs() error {
	for _, d := range []string{o.cpuProfile, o.memProfile} {
		if d != "" {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return err
			}
		}
	}
	return nil
}

func throughputReport(o options, targets []target, r []wrkResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### Throughput: fairslot against the machine's ceiling and a SQL-only baseline\n\n")
	fmt.Fprintf(&b, "`make bench`, %s. Load generator: wrk %s, `-t2 -c64 -d%s`, closed loop, with `loadtest/wrk/book.lua` "+
		"(each request a booking attempt by the next of %d seeded patients over 20 sessions × 50 released slots). "+
		"Generator, servers, Redis and PostgreSQL all on one machine: %s; CPUs %s. "+
		"Client-side latencies are wrk's; the service-side p99 is the service's own histogram of the booking attempts over the same run "+
		"(from reading the request to writing the answer: no socket queue). Load average (1, 5, 15 min) when each target's run ended in the last column.\n\n",
		time.Now().UTC().Format("2006-01-02"), wrkVersion(), o.duration, o.patients, meta(o, nil).Machine, pinned.describe())
	b.WriteString("| target | requests/s | p50 ms | p90 ms | p99 ms | max ms | service p99 ms | socket errors | booked | server CPU-s per 100,000 requests | load average |\n" +
		"|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for i, t := range targets {
		booked := "–"
		if t.seeds {
			booked = fmt.Sprint(r[i].Booked)
		}
		svc := "–"
		if r[i].ServiceP99MS > 0 {
			svc = fmt.Sprintf("%.2f", r[i].ServiceP99MS)
		}
		fmt.Fprintf(&b, "| %s | %.0f | %.2f | %.2f | %.2f | %.1f | %s | %d | %s | %.2f | %s |\n", t.name, r[i].RPS, r[i].P50MS, r[i].P90MS, r[i].P99MS, r[i].MaxMS,
			svc, r[i].SocketErrors, booked, r[i].CPUPer100k, r[i].LoadAvg)
	}
	ratio := func(a, c float64) string {
		if c == 0 {
			return "n/a"
		}
		return fmt.Sprintf("%.2f×", a/c)
	}
	fs, noop, off, sql, lot := r[0], r[1], r[2], r[3], r[4]
	fmt.Fprintf(&b, "\n- fairslot / no-op ceiling: **%s** (target ≥ 0.5×)\n", ratio(fs.RPS, noop.RPS))
	fmt.Fprintf(&b, "- fairslot / SQL-only baseline: **%s** (target ≥ 5×), p99 %.2f ms against %.2f ms\n", ratio(fs.RPS, sql.RPS), fs.P99MS, sql.P99MS)
	fmt.Fprintf(&b, "- fast reject path on / off: **%s**\n", ratio(fs.RPS, off.RPS))
	fmt.Fprintf(&b, "- lottery entries / booking attempts: **%s** (target ≥ 0.5×); / booking attempts without the fast reject path: **%s**; "+
		"%d entries committed (\"booked\" column), p99 %.2f ms\n", ratio(lot.RPS, fs.RPS), ratio(lot.RPS, off.RPS), lot.Booked, lot.P99MS)
	if len(r) > 5 {
		fmt.Fprintf(&b, "- fairslot now / at %s: **%s**, p99 %.2f ms against %.2f ms; CPU per 100,000 requests %.2f s against %.2f s (**%s**)\n",
			o.before, ratio(fs.RPS, r[5].RPS), fs.P99MS, r[5].P99MS, fs.CPUPer100k, r[5].CPUPer100k, ratio(fs.CPUPer100k, r[5].CPUPer100k))
	}
	return b.String()
}

// lotteryPatients is how many patients the lottery target seeds, and
// lotteryWarmUp how long its waiting room lasts.
const (
	lotteryPatients = 200_000
	lotteryWarmUp   = 20 * time.Second
)

// warmUp runs loadtest/wrk/book.lua as the waiting room: every patient
// lists their patients.
func warmUp(ctx context.Context, addr, input string, d time.Duration) error {
	out, err := pinned.commandContext(ctx, "generator", "wrk", "-t2", "-c64", "-d"+d.String(), "--timeout", "5s",
		"-s", "loadtest/wrk/book.lua", "http://"+addr, "--", input, "patients").CombinedOutput()
	if err != nil {
		return fmt.Errorf("wrk waiting room: %w: %s", err, out)
	}
	return nil
}

// waitCommitted waits until every lottery pool has its seed committed.
func waitCommitted(ctx context.Context, e *env) error {
	for deadline := time.Now().Add(30 * time.Second); ; {
		var pools, committed int
		err := e.db.QueryRow(ctx, `SELECT (SELECT count(*) FROM session_channels WHERE release_mode = 'lottery'),
			(SELECT count(*) FROM lottery_pools)`).Scan(&pools, &committed)
		if err != nil {
			return err
		}
		if pools > 0 && committed == pools {
			time.Sleep(time.Second) // the catalog refresh that follows loads them into Redis
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d lottery seeds committed after 30s", committed, pools)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// buildAt builds fairslot as it was at rev, in a git worktree under dir.
func buildAt(ctx context.Context, rev, dir string) (string, error) {
	tree, err := filepath.Abs(filepath.Join(dir, "worktree"))
	if err != nil {
		return "", err
	}
	bin := filepath.Join(tree, "fairslot-before")
	_ = exec.CommandContext(ctx, "git", "worktree", "remove", "--force", tree).Run()
	steps := [][]string{
		{"git", "worktree", "add", "--force", "--detach", tree, rev},
		{"go", "build", "-C", tree, "-o", bin, "./cmd/fairslot"},
	}
	for _, s := range steps {
		if out, err := exec.CommandContext(ctx, s[0], s[1:]...).CombinedOutput(); err != nil {
			return "", fmt.Errorf("%s: %w: %s", strings.Join(s, " "), err, out)
		}
	}
	return bin, nil
}

// splice puts section into the file between its markers, or appends it.
func splice(path, name, section string) error {
	doc, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	begin, end := "<!-- loadtest:"+name+" -->", "<!-- /loadtest:"+name+" -->"
	block := begin + "\n" + strings.TrimSpace(section) + "\n" + end
	text := string(doc)
	i, j := strings.Index(text, begin), strings.Index(text, end)
	if i < 0 || j < i {
		text = strings.TrimRight(text, "\n") + "\n\n" + block + "\n"
	} else {
		text = text[:i] + block + text[j+len(end):]
	}
	step("report: %s (section %s)", path, name)
	return os.WriteFile(path, []byte(text), 0o644)
}

// wrkInput turns the seed's files into book.lua's input lines.
func wrkInput(dir, path string) error {
	var seeded seedFile
	if err := readJSON(filepath.Join(dir, "sessions.json"), &seeded); err != nil {
		return err
	}
	f, err := os.Open(filepath.Join(dir, "patients.csv"))
	if err != nil {
		return err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return err
	}
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(out)
	for i, r := range recs[1:] {
		a := i % 50000
		fmt.Fprintf(w, "%s %s %s 10.%d.%d.%d\n", r[0], r[1], seeded.Sessions[i%len(seeded.Sessions)].ID, (a>>16)&255, (a>>8)&255, a&255)
	}
	if err := w.Flush(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// targetProc is one target's server process.
type targetProc struct {
	pid  int
	stop func()
}

// cpu is the process's CPU time so far (user + system, from /proc), or 0
// where /proc cannot tell.
func (s *targetProc) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (in parentheses, which may hold
	// spaces): state is field 3, utime 14 and stime 15, in clock ticks.
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	var ticks int64
	for _, v := range f[11:13] {
		n, _ := strconv.ParseInt(v, 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks
}

// clockTicks is USER_HZ, the unit of /proc's CPU times: 100 on Linux.
const clockTicks = 100

func startProc(ctx context.Context, e *env, logPath, bin string, args ...string) (*targetProc, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := pinned.command("service", bin, args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = e.vars, logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); logf.Close() }()
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	addr := args[len(args)-1]
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); {
		select {
		case err := <-exited:
			return nil, fmt.Errorf("%s exited (%v); see %s", bin, err, logPath)
		case <-ctx.Done():
			stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return &targetProc{pid: cmd.Process.Pid, stop: stop}, nil
		}
	}
	stop()
	return nil, fmt.Errorf("%s did not listen on %s within 60s", bin, addr)
}

// measureWrk runs wrk against a started target and adds what the target
// itself says over the same run: its CPU time and, for a fairslot build,
// its own p99 of the booking attempts.
func measureWrk(ctx context.Context, srv *targetProc, fairslot bool, addr, input string, d time.Duration) (wrkResult, error) {
	var before snapshot
	var err error
	if fairslot {
		if before, err = scrapeMetrics("http://" + adminAddr); err != nil {
			return wrkResult{}, fmt.Errorf("service metrics: %w", err)
		}
	}
	cpu0 := srv.cpu()
	res, err := runWrk(ctx, addr, input, d)
	cpu := srv.cpu() - cpu0
	res.LoadAvg = loadAvg()
	if err != nil {
		return res, err
	}
	if res.Requests > 0 {
		res.CPUPer100k = cpu.Seconds() / float64(res.Requests) * 100_000
	}
	if fairslot {
		after, err := scrapeMetrics("http://" + adminAddr)
		if err != nil {
			return res, fmt.Errorf("service metrics: %w", err)
		}
		if p99, ok := quantile(.99, before.attempts, after.attempts); ok {
			res.ServiceP99MS = p99 * 1000
		}
		if res.Requests > 0 {
			n := float64(res.Requests)
			g := after.gc.sub(before.gc)
			res.FromMemory = (after.fast - before.fast) / n
			res.AllocBytes, res.AllocObjects, res.GCCycles = g.allocBytes/n, g.allocObjects/n, g.cycles
		}
	}
	return res, nil
}

// loadAvg is the machine's load average over 1, 5 and 15 minutes.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "?"
}

func msOrDash(ms float64) string {
	if ms == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f ms", ms)
}

func runWrk(ctx context.Context, addr, input string, d time.Duration) (wrkResult, error) {
	var res wrkResult
	out, err := pinned.commandContext(ctx, "generator", "wrk", "-t2", "-c64", "-d"+d.String(), "--timeout", "5s",
		"-s", "loadtest/wrk/book.lua", "http://"+addr, "--", input).CombinedOutput()
	if err != nil {
		return res, fmt.Errorf("wrk: %w: %s", err, out)
	}
	for line := range strings.Lines(string(out)) {
		if j, ok := strings.CutPrefix(line, "WRK "); ok {
			return res, json.Unmarshal([]byte(j), &res)
		}
	}
	return res, errors.New("wrk printed no result line: " + string(out))
}

func wrkVersion() string {
	out, _ := exec.Command("wrk", "-v").CombinedOutput()
	if f := strings.Fields(string(out)); len(f) > 1 {
		return f[1]
	}
	return "?"
}
