// Command run is `make loadtest`: it seeds a fresh load-test database, starts
// fairslot, drives one k6 scenario at it while sampling the service every
// second, then checks the invariants in SQL and Redis and writes the report
// (PNG plots and a section of docs/performance.md).
//
//	go run ./loadtest/run -scenario release_hour
//
// It expects the local services running and their environment exported
// (deploy/local/loadtest.sh does both), bin/fairslot, bin/loadseed and bin/k6
// built.
package main

import (
	"bufio"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"fairslot/loadtest/report"
)

// scenario is what differs between the k6 scripts.
type scenario struct {
	seed     []string // loadseed flags
	k6env    []string // -e NAME=value pairs beyond the common ones
	releases bool     // the scenario waits for a release at START_DELAY
	steady   bool     // check resident memory for growth
}

type options struct {
	scenario   string
	only       string // throughput: the targets to measure
	cpuProfile string // folder for the service's CPU profiles (profileWindows; throughput: per target)
	memProfile string // the same for its allocation profiles (every allocation in the same windows)
	// trace: an execution trace of the service over the release second
	// (traceWindow), release.trace in the run folder.
	trace     bool
	bin, k6   string
	loadseed  string // the seeding tool (loadtest/loadseed)
	runDir    string
	docs      string
	rate      int
	duration  time.Duration
	patients  int
	releaseIn time.Duration
	generator string
	before    string
	serveEnv  string
	// refused: throughput measures only the sold-out answer's CPU, this
	// build against -before's (or -before-bin), alternating for rounds.
	refused   bool
	rounds    int
	beforeBin string
	// pin: the load generator on one CPU, the service on the other
	// (taskset), where the machine has two or more.
	pin       bool
	pinSplit  string // how -pin splits the CPUs: halves (default) or shared (pin.go)
	pinStores string
	// perf: record who holds each CPU over the load (cpushare.go).
	perf bool
	nice int
	// Lottery release: the release sessions' online pools are lotteries
	// whose window covers the load, drawn after it.
	mode     string
	screen   bool // hold out the entries of open scalper flags (the service's default)
	sessions int  // release sessions (scenario default when 0)
}

func main() {
	var o options
	flag.StringVar(&o.scenario, "scenario", "release_hour", "release_hour, steady_day, scalper_mix, or throughput (the wrk benchmark)")
	flag.StringVar(&o.bin, "fairslot", "bin/fairslot", "the fairslot binary")
	flag.StringVar(&o.loadseed, "loadseed", "bin/loadseed", "the seeding tool's binary (go build -o bin/ ./loadtest/loadseed)")
	flag.StringVar(&o.k6, "k6", "bin/k6", "the k6 binary")
	flag.StringVar(&o.runDir, "run-dir", "", "where the run's files go (default .data/loadtest/<scenario>)")
	flag.StringVar(&o.docs, "docs", "docs", "where performance.md and its plots are (empty: write no report)")
	flag.IntVar(&o.rate, "rate", 0, "attempts per second at the peak (scenario default when 0)")
	flag.DurationVar(&o.duration, "duration", 0, "how long the peak or steady load lasts (scenario default when 0)")
	flag.IntVar(&o.patients, "patients", 0, "patients to seed (scenario default when 0)")
	flag.DurationVar(&o.releaseIn, "release-in", 0, "how long after seeding the slots are released (default: time for the waiting room)")
	flag.StringVar(&o.serveEnv, "serve-env", "", "NAME=value pairs, comma-separated, for fairslot serve alone (e.g. GOGC=400)")
	flag.StringVar(&o.before, "before", "", "throughput only: also measure fairslot as built at this git revision")
	flag.BoolVar(&o.refused, "refused", false, "throughput only: measure just the CPU per refused (sold-out) attempt, this build against -before or -before-bin, alternating")
	flag.IntVar(&o.rounds, "rounds", 3, "with -refused: how many times each build is measured")
	flag.StringVar(&o.beforeBin, "before-bin", "", "with -refused: the other build, as a binary (instead of -before REV)")
	flag.BoolVar(&o.pin, "pin", false, "pin the load generator (wrk, loadtest/spike) and the service to different CPUs with taskset (needs 2 or more)")
	flag.StringVar(&o.pinSplit, "pin-split", "", "with -pin: \"halves\" (the default: the generator on the last half of the CPUs, the service on the rest) or \"shared\" "+
		"(the generator on the last CPU, 10 steps of nice ahead; the service on every CPU, with the time the generator leaves)")
	flag.StringVar(&o.pinStores, "pin-stores", "", "with -pin: put Redis and PostgreSQL on the CPUs of the \"generator\" or the \"service\" for the run (default: all CPUs)")
	flag.IntVar(&o.nice, "nice", 0, "run the service, the generator, Redis and PostgreSQL at this nice(1) priority for the run (e.g. -10: ahead of other work on a shared machine; below 0 needs root)")
	flag.BoolVar(&o.perf, "perf", false, "record with perf who held each CPU (by process, PostgreSQL's by role) from T-1s to the load's end: cpu-shares.txt in the run folder")
	flag.StringVar(&o.generator, "generator", "k6", "k6, or spike (loadtest/spike, an open-loop Go generator; release_hour only)")
	flag.StringVar(&o.mode, "mode", "first_come", "release mode of the released pools: first_come, or lottery (entries during the load, drawn after it)")
	flag.BoolVar(&o.screen, "screen", true, "lottery: hold the entries of open scalper flags out of the draw (the service's default; false: --lottery-hold-score 0)")
	flag.IntVar(&o.sessions, "sessions", 0, "released sessions (scenario default when 0)")
	flag.StringVar(&o.only, "only", "", "throughput only: measure just the targets whose name contains one of these comma-separated words (e.g. \"POST,lottery\")")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write CPU profiles of the service into this folder (served with --pprof on the admin address): "+
		"throughput, one per fairslot target during its wrk run; a release, release.pprof (T-1s to T+4s) and after.pprof (the rest of the load); other loads, load.pprof; and heap.pprof at the load's end")
	flag.StringVar(&o.memProfile, "memprofile", "", "write allocation profiles of the service into this folder, over the same spans as -cpuprofile's and with the same names "+
		"(every allocation in the span: go tool pprof -sample_index=alloc_space or alloc_objects; throughput: a collection is forced at the span's start and "+
		"half a second before its end, so the profile is the span's own, not the last collection's)")
	flag.BoolVar(&o.trace, "trace", false, "write an execution trace of the service over the release second (T-0.3s to T+1.2s) into the run folder as release.trace "+
		"(served with --pprof on the admin address; go tool trace -pprof=sched, or loadtest/tracewait)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

func scenarios(o *options) (scenario, error) {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	switch o.scenario {
	case "release_hour":
		def(&o.rate, 20000)
		def(&o.patients, 200000)
		defDur(&o.duration, 60*time.Second)
		return scenario{seed: []string{"--sessions", "20", "--slots", "50"}, releases: true}, nil
	case "scalper_mix":
		def(&o.rate, 5000)
		def(&o.patients, 20000)
		defDur(&o.duration, 30*time.Second)
		return scenario{seed: []string{"--sessions", "10", "--slots", "20", "--bots", "40", "--bot-patients", "5"}, releases: true}, nil
	case "steady_day":
		def(&o.rate, 150)
		def(&o.patients, 20000)
		defDur(&o.duration, 10*time.Minute)
		return scenario{seed: []string{"--sessions", "20", "--slots", "50", "--steady"}, steady: true}, nil
	}
	return scenario{}, fmt.Errorf("unknown scenario %q: release_hour, steady_day or scalper_mix", o.scenario)
}

func run(ctx context.Context, o options) (err error) {
	if pinned, err = newPinning(o.pin, runtime.NumCPU(), o.pinSplit, o.pinStores); err != nil {
		return err
	}
	pinned.nice = o.nice
	if o.scenario == "throughput" {
		return throughput(ctx, o)
	}
	sc, err := scenarios(&o)
	if err != nil {
		return err
	}
	if o.sessions > 0 {
		sc.seed = append(sc.seed, "--sessions", fmt.Sprint(o.sessions))
	}
	switch o.mode {
	case "first_come":
	case "lottery":
		if !sc.releases {
			return fmt.Errorf("-mode lottery: %s has no release to draw", o.scenario)
		}
		// The window covers the load (and k6's ramp before T), then draws.
		sc.seed = append(sc.seed, "--lottery-window", (o.duration + 15*time.Second).String())
		if !o.screen {
			o.serveEnv = strings.Trim(o.serveEnv+",FAIRSLOT_LOTTERY_HOLD_SCORE=0", ",")
		}
	default:
		return fmt.Errorf("-mode %s: first_come or lottery", o.mode)
	}
	if o.generator != "k6" && (o.generator != "spike" || o.scenario != "release_hour") {
		return fmt.Errorf("-generator %s: k6, or spike for release_hour", o.generator)
	}
	if o.releaseIn == 0 {
		// release_hour's waiting room lists every patient once before the
		// release, at about 2,500 a second on this machine.
		o.releaseIn = max(45*time.Second, time.Duration(o.patients/2500)*time.Second+15*time.Second)
	}
	if o.runDir == "" {
		o.runDir = filepath.Join(".data", "loadtest", o.section())
	}
	if o.runDir, err = filepath.Abs(o.runDir); err != nil { // k6 opens files relative to the script
		return err
	}
	if err := os.RemoveAll(o.runDir); err != nil {
		return err
	}
	if err := os.MkdirAll(o.runDir, 0o755); err != nil {
		return err
	}
	env, err := newEnv(ctx)
	if err != nil {
		return err
	}
	defer env.close()
	restore, err := pinned.pinStores(ctx, env.db, env.rdb)
	if err != nil {
		return err
	}
	defer restore()

	step("seed %d patients into %s", o.patients, env.dbName)
	seedArgs := append([]string{"--out", o.runDir, "--patients", fmt.Sprint(o.patients),
		"--release-at", "+" + o.releaseIn.String()}, sc.seed...)
	if err := env.fairslot(ctx, o.bin, os.Stdout, "migrate"); err != nil {
		return err
	}
	if err := env.fairslot(ctx, o.loadseed, os.Stdout, seedArgs...); err != nil {
		return err
	}
	var seeded seedFile
	if err := readJSON(filepath.Join(o.runDir, "sessions.json"), &seeded); err != nil {
		return err
	}

	step("start fairslot serve")
	var serveArgs []string
	if o.profiled() {
		if err := o.makeProfileDirs(); err != nil {
			return err
		}
	}
	if o.profiled() || o.trace {
		serveArgs = append(serveArgs, "--pprof")
	}
	srv, err := env.serve(ctx, o.bin, o.runDir, o.serveEnv, serveArgs...)
	if err != nil {
		return err
	}
	defer srv.stop()

	startDelay := 0.0
	var release time.Time
	if sc.releases {
		if release, err = time.Parse(time.RFC3339, seeded.ReleaseAt); err != nil {
			return fmt.Errorf("sessions.json release_at: %w", err)
		}
		startDelay = max(0, time.Until(release).Seconds())
	}
	traced := func() error { return nil }
	if o.trace {
		traced = startTrace(ctx, adminAddr, filepath.Join(o.runDir, "release.trace"), release)
	}
	// The service's CPU over the load, and with -cpuprofile its profiles:
	// from a second before the release (the waiting room before it is not
	// the load), or from now.
	loadStart := time.Now()
	cpuFrom := loadStart
	if !release.IsZero() {
		cpuFrom = release.Add(-time.Second)
	}
	cpuOfLoad := measureLoadCPU(ctx, srv, cpuFrom)
	profiles := func() error { return nil }
	if o.profiled() {
		profiles = startLoadProfiles(ctx, adminAddr, o, profileWindows(release, loadStart, o.duration))
	}
	// Slots left: the released sessions' online pools, or for a steady day
	// every pool of today's sessions.
	var ids []string
	for _, s := range seeded.Sessions {
		ids = append(ids, s.ID)
	}
	if sc.steady {
		ids = ids[:0]
		for _, s := range seeded.SteadySessions {
			ids = append(ids, s.ID)
		}
	}
	shares := func(runPids) ([]cpuShare, error) { return nil, nil }
	if o.perf {
		if shares, err = startCPUShares(ctx, o.runDir, cpuFrom, o.duration+time.Second); err != nil {
			return err
		}
	}
	sampler := newSampler(env, srv, ids, func(t float64) float64 { return offered(o, sc, startDelay, t) })
	sampler.allPools = sc.steady
	sctx, stopSampling := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); sampler.run(sctx) }()

	var k6err error
	if o.generator == "spike" {
		step("loadtest/spike (%d/s for %s)", o.rate, o.duration)
		k6err = env.spike(ctx, o, startDelay)
	} else {
		step("k6 run loadtest/k6/%s.js (%d/s for %s)", o.scenario, o.rate, o.duration)
		k6err = env.k6(ctx, o, sc, startDelay)
	}
	lc, lcOK := cpuOfLoad()
	if lcOK {
		fmt.Println(lc)
	}
	if sh, err := shares(env.runPids(ctx, srv)); err != nil {
		fmt.Printf("cpu shares: %v\n", err)
	} else if sh != nil {
		printCPUShares(sh)
	}
	if err := traced(); err != nil {
		fmt.Printf("trace: %v\n", err)
	} else if o.trace {
		fmt.Printf("execution trace of the release second in %s\n", filepath.Join(o.runDir, "release.trace"))
	}
	if err := profiles(); err != nil {
		fmt.Printf("profiles: %v\n", err)
	} else {
		if o.cpuProfile != "" {
			fmt.Printf("cpu profiles of the service in %s (go tool pprof -top %s %s/*.pprof)\n", o.cpuProfile, o.bin, o.cpuProfile)
		}
		if o.memProfile != "" {
			fmt.Printf("allocation profiles of the service in %s (go tool pprof -sample_index=alloc_space -top %s %s/*.pprof)\n", o.memProfile, o.bin, o.memProfile)
		}
	}
	if o.mode == "lottery" {
		step("wait for the draws (at %s)", seeded.DrawAt)
		if err := env.waitDraws(ctx, seeded); err != nil {
			stopSampling()
			<-done
			return err
		}
	}
	stopSampling()
	saveMetrics(srv, filepath.Join(o.runDir, "metrics.txt"))
	<-done
	if ctx.Err() != nil {
		return ctx.Err()
	}
	// A sample cut short by stopSampling closes the connection it was
	// using (pgx closes a connection whose query is cancelled): the checks
	// get a fresh one.
	if err := env.reconnect(ctx); err != nil {
		return err
	}
	if err := sampler.write(filepath.Join(o.runDir, report.SamplesFile)); err != nil {
		return err
	}

	step("check the invariants")
	checks := env.check(ctx, o, sc, seeded, sampler)
	if err := writeJSON(filepath.Join(o.runDir, report.ChecksFile), checks); err != nil {
		return err
	}
	failed := 0
	for _, c := range checks {
		mark := "ok  "
		if !c.OK {
			mark, failed = "FAIL", failed+1
		}
		fmt.Printf("  %s %s: %s\n", mark, c.Name, c.Detail)
	}
	m := meta(o, k6err)
	if o.scenario == "scalper_mix" {
		sh, err := env.shares(ctx, o)
		if err != nil {
			return err
		}
		m.Notes += " " + sh.String()
		if err := writeJSON(filepath.Join(o.runDir, "shares.json"), sh); err != nil {
			return err
		}
		if o.docs != "" {
			if err := splice(filepath.Join(o.docs, "fairness.md"), o.section(), sh.markdown(o)); err != nil {
				return err
			}
		}
	}
	m.Notes += fmt.Sprintf(" Of %.0f sold_out and not_released answers, %.0f came from memory (the fast reject path, --sold-out-for).", sampler.refused, sampler.fastRejects)
	if lcOK {
		m.Notes += " " + lc.String()
	}
	if sampler.alreadyEntered > 0 {
		m.Notes += fmt.Sprintf(" Of %.0f already_entered answers, %.0f came from memory (the entry memo, --entry-memo-for).", sampler.alreadyEntered, sampler.knownEntries)
	}
	m.ServerLatency = sampler.wholeRun()
	if err := writeJSON(filepath.Join(o.runDir, report.MetaFile), m); err != nil {
		return err
	}
	if o.docs != "" {
		if err := writeReport(o); err != nil {
			return err
		}
	}
	switch {
	case failed > 0:
		return fmt.Errorf("%d invariant checks failed (files in %s)", failed, o.runDir)
	case k6err != nil:
		fmt.Printf("load generator: %v (its thresholds are targets, reported above; the invariants hold)\n", k6err)
	}
	return nil
}

// spike runs loadtest/spike, the open-loop Go generator, instead of k6.
func (e *env) spike(ctx context.Context, o options, startDelay float64) error {
	out, err := os.Create(filepath.Join(o.runDir, "spike.txt"))
	if err != nil {
		return err
	}
	defer out.Close()
	args := []string{"-run-dir", o.runDir, "-addr", apiAddr, "-rate", fmt.Sprint(o.rate),
		"-duration", o.duration.String(), "-start-in", fmt.Sprintf("%.3fs", startDelay)}
	if o.cpuProfile != "" {
		args = append(args, "-cpuprofile", filepath.Join(o.cpuProfile, "spike.pprof"))
	}
	cmd := pinned.commandContext(ctx, "generator", "bin/spike", args...)
	cmd.Stdout, cmd.Stderr = io.MultiWriter(os.Stdout, out), io.MultiWriter(os.Stderr, out)
	if err := cmd.Start(); err != nil {
		return err
	}
	e.generatorPid = cmd.Process.Pid
	return cmd.Wait()
}

// saveMetrics keeps the service's final metrics beside the run's files.
func saveMetrics(s *server, path string) {
	res, err := http.Get(s.admin + "/metrics")
	if err != nil {
		return
	}
	defer res.Body.Close()
	if b, err := io.ReadAll(res.Body); err == nil {
		_ = os.WriteFile(path, b, 0o644)
	}
}

func step(format string, args ...any) { fmt.Printf("==> "+format+"\n", args...) }

// offered is the k6 scenario's target rate t seconds after k6 started, as
// the scripts set it.
func offered(o options, sc scenario, startDelay, t float64) float64 {
	if !sc.releases {
		return float64(o.rate)
	}
	if o.generator == "spike" { // from a second before the release
		if t >= startDelay-1 && t < startDelay+o.duration.Seconds() {
			return float64(o.rate)
		}
		return 0
	}
	begin := max(0, startDelay-5)
	hold := o.duration.Seconds()
	switch t -= begin; {
	case t < 0:
		return 0
	case t < 4:
		return 200 + (1000-200)*t/4
	case t < 5:
		return 1000 + (float64(o.rate)-1000)*(t-4)
	case t < 5+hold:
		return float64(o.rate)
	}
	return 0
}

// section names the run's report: the scenario, and the generator if not k6.
func (o options) section() string {
	name := o.scenario
	if o.generator == "spike" {
		name += "_spike"
	}
	if o.mode == "lottery" {
		name += "_lottery"
		if !o.screen {
			name += "_unscreened"
		}
	}
	if o.pin {
		name += "_pinned"
	}
	if o.pinSplit == splitShared {
		name += "_shared"
	}
	if o.pinStores != "" {
		name += "_stores_with_" + o.pinStores
	}
	if env := strings.Trim(strings.ReplaceAll(o.serveEnv, "FAIRSLOT_LOTTERY_HOLD_SCORE=0", ""), ","); env != "" {
		name += "_" + strings.ToLower(strings.NewReplacer("=", "", ",", "_").Replace(env))
	}
	return name
}

func meta(o options, k6err error) report.Meta {
	cmd := "make loadtest SCENARIO=" + o.scenario
	client := "k6"
	var args []string
	if o.generator == "spike" {
		args = append(args, "-generator spike")
		client = "loadtest/spike"
	}
	if o.mode == "lottery" {
		args = append(args, "-mode lottery")
		if !o.screen {
			args = append(args, "-screen=false")
		}
	}
	if o.sessions > 0 {
		args = append(args, fmt.Sprintf("-sessions %d", o.sessions))
	}
	if o.pin {
		args = append(args, "-pin")
	}
	if o.pinSplit == splitShared {
		args = append(args, "-pin-split "+o.pinSplit)
	}
	if o.pinStores != "" {
		args = append(args, "-pin-stores "+o.pinStores)
	}
	if o.nice != 0 {
		args = append(args, fmt.Sprintf("-nice %d", o.nice))
	}
	if env := strings.Trim(strings.ReplaceAll(o.serveEnv, "FAIRSLOT_LOTTERY_HOLD_SCORE=0", ""), ","); env != "" {
		args = append(args, "-serve-env "+env)
	}
	if len(args) > 0 {
		cmd += ` ARGS="` + strings.Join(args, " ") + `"`
	}
	gen := "k6 " + k6Version(o.k6)
	if o.generator == "spike" {
		gen = "loadtest/spike (open loop, latency from each attempt's scheduled start)"
	}
	notes := fmt.Sprintf("%s on the same machine as the service, Redis and PostgreSQL; rate limits at their defaults "+
		"(50/s per IP, 10/s per account), clients spread over 50,000 X-Forwarded-For addresses.", gen)
	notes += fmt.Sprintf(" CPUs %s; load average (1, 5, 15 min) when the report was written: %s.", pinned.describe(), loadAvg())
	if k6err != nil {
		notes += " k6: " + k6err.Error() + "."
	}
	return report.Meta{
		Scenario: o.scenario, Command: cmd, Started: time.Now().UTC().Format(time.RFC3339),
		Machine:      fmt.Sprintf("%d cores, %s", runtime.NumCPU(), cpuModel()),
		ServiceFlags: strings.TrimSpace(o.serveEnv + " fairslot serve --trusted-proxies 127.0.0.0/8 --log-level warn (other flags at defaults)"),
		Notes:        notes,
		Client:       client,
	}
}

// writeReport renders the plots into docs/performance/ and puts the section
// into docs/performance.md between its markers for the scenario.
func writeReport(o options) error {
	r, err := report.Load(o.runDir)
	if err != nil {
		return err
	}
	md, err := report.Render(r, filepath.Join(o.docs, "performance"), o.section(), "performance")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(o.runDir, "report.md"), []byte(md), 0o644); err != nil {
		return err
	}
	return splice(filepath.Join(o.docs, "performance.md"), o.section(), md)
}

// env is the load test's own database and Redis prefix beside the ones
// `make run` uses, and the environment fairslot runs with.
type env struct {
	dbName, dbURL string
	prefix        string
	vars          []string
	db            *pgx.Conn
	rdb           *redis.Client
	// generatorPid is the load generator's process, once started.
	generatorPid int
}

func newEnv(ctx context.Context) (*env, error) {
	base := os.Getenv("FAIRSLOT_DATABASE_URL")
	if base == "" {
		return nil, errors.New("FAIRSLOT_DATABASE_URL is not set: run through `make loadtest`, which starts the services")
	}
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	// The owner makes the database and migrates it; the service runs as
	// its own login (FAIRSLOT_DATABASE_URL), as under `make run`.
	owner := cmp.Or(os.Getenv("FAIRSLOT_MIGRATE_DATABASE_URL"), base)
	ou, err := url.Parse(owner)
	if err != nil {
		return nil, err
	}
	e := &env{dbName: "fairslot_load", prefix: "load"}
	admin, err := pgx.Connect(ctx, owner)
	if err != nil {
		return nil, err
	}
	defer admin.Close(ctx)
	for _, q := range []string{"DROP DATABASE IF EXISTS " + e.dbName + " WITH (FORCE)", "CREATE DATABASE " + e.dbName} {
		if _, err := admin.Exec(ctx, q); err != nil {
			return nil, fmt.Errorf("%s: %w", q, err)
		}
	}
	u.Path, ou.Path = "/"+e.dbName, "/"+e.dbName
	e.dbURL = u.String()
	if e.db, err = pgx.Connect(ctx, ou.String()); err != nil {
		return nil, err
	}
	e.rdb = redis.NewClient(&redis.Options{Addr: cmp.Or(os.Getenv("FAIRSLOT_REDIS_ADDR"), "127.0.0.1:16379"),
		Password: os.Getenv("FAIRSLOT_REDIS_PASSWORD")})
	if err := e.dropKeys(ctx); err != nil {
		return nil, err
	}
	key := os.Getenv("FAIRSLOT_SECRET_KEY")
	if key == "" {
		var b [32]byte
		_, _ = rand.Read(b[:])
		key = base64.StdEncoding.EncodeToString(b[:])
	}
	e.vars = append(os.Environ(), "FAIRSLOT_DATABASE_URL="+e.dbURL, "FAIRSLOT_MIGRATE_DATABASE_URL="+ou.String(), "FAIRSLOT_REDIS_PREFIX="+e.prefix,
		"FAIRSLOT_SECRET_KEY="+key, "FAIRSLOT_LOG_LEVEL=warn",
		// The scenarios' few operators stand for a call centre: the bound
		// on one person's pace (review23 H1) is still counted, never met.
		"FAIRSLOT_OPERATOR_PER_HOUR=1000000", "FAIRSLOT_CLERK_WALK_INS_PER_DAY=1000000")
	return e, nil
}

// dropKeys deletes what an earlier run left under the prefix.
func (e *env) dropKeys(ctx context.Context) error {
	iter := e.rdb.Scan(ctx, 0, e.prefix+":*", 1000).Iterator()
	var batch []string
	for iter.Next(ctx) {
		if batch = append(batch, iter.Val()); len(batch) == 1000 {
			if err := e.rdb.Unlink(ctx, batch...).Err(); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		if err := e.rdb.Unlink(ctx, batch...).Err(); err != nil {
			return err
		}
	}
	return iter.Err()
}

// reconnect replaces the database connection if it was closed, or is
// still busy with the sampler's cancelled query (pgx closes such a
// connection once the cancellation comes back, which may be after the
// sampler has returned: the checks then failed "conn busy").
func (e *env) reconnect(ctx context.Context) error {
	if !e.db.IsClosed() && !e.db.PgConn().IsBusy() {
		return nil
	}
	if old := e.db; !old.IsClosed() {
		go old.Close(context.Background())
	}
	db, err := pgx.Connect(ctx, e.dbURL)
	if err != nil {
		return err
	}
	e.db = db
	return nil
}

func (e *env) close() {
	e.db.Close(context.Background())
	e.rdb.Close()
}

// fairslot runs a command of the fairslot binary, or a tool that reads the
// same FAIRSLOT_* variables (loadseed), in the run's environment.
func (e *env) fairslot(ctx context.Context, bin string, out io.Writer, args ...string) error {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = e.vars, out, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w", filepath.Base(bin), args[0], err)
	}
	return nil
}

// server is the running fairslot.
type server struct {
	cmd   *exec.Cmd
	api   string
	admin string
	exit  chan error
}

// The service's addresses for the run: FAIRSLOT_HTTP_ADDR and
// FAIRSLOT_ADMIN_ADDR when set (engineers sharing a machine each have their
// own ports), else 18080 and 19090.
var (
	apiAddr   = cmp.Or(os.Getenv("FAIRSLOT_HTTP_ADDR"), "127.0.0.1:18080")
	adminAddr = cmp.Or(os.Getenv("FAIRSLOT_ADMIN_ADDR"), "127.0.0.1:19090")
)

func (e *env) serve(ctx context.Context, bin, runDir, extraEnv string, args ...string) (*server, error) {
	logf, err := os.Create(filepath.Join(runDir, "serve.log"))
	if err != nil {
		return nil, err
	}
	s := &server{api: "http://" + apiAddr, admin: "http://" + adminAddr, exit: make(chan error, 1)}
	s.cmd = pinned.command("service", bin, append([]string{"serve", "--http-addr", apiAddr, "--admin-addr", adminAddr, "--trusted-proxies", "127.0.0.0/8"}, args...)...)
	s.cmd.Env, s.cmd.Stdout, s.cmd.Stderr = e.vars, logf, logf
	if extraEnv != "" {
		s.cmd.Env = append(slices.Clip(e.vars), strings.Split(extraEnv, ",")...)
	}
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { s.exit <- s.cmd.Wait(); logf.Close() }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-s.exit:
			return nil, fmt.Errorf("fairslot serve exited (%v); see %s", err, logf.Name())
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if res, err := http.Get(s.api + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("fairslot serve not ready after 60s; see %s", logf.Name())
		}
	}
}

func (s *server) stop() {
	if s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exit:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exit
	}
}

// k6 runs the scenario's script; a threshold k6 reports as crossed is
// returned as an error, after the summary is written.
func (e *env) k6(ctx context.Context, o options, sc scenario, startDelay float64) error {
	out, err := os.Create(filepath.Join(o.runDir, "k6.txt"))
	if err != nil {
		return err
	}
	defer out.Close()
	args := []string{"run", "--quiet", "--no-usage-report", "--no-color",
		"--summary-export", filepath.Join(o.runDir, report.SummaryFile),
		"--log-output", "file=" + filepath.Join(o.runDir, "booked.log"), "--log-format", "raw",
		"-e", "RUN_DIR=" + o.runDir, "-e", "BASE_URL=http://" + apiAddr,
		"-e", fmt.Sprintf("START_DELAY=%.0f", startDelay), "-e", fmt.Sprintf("RATE=%d", o.rate),
		"-e", "DURATION=" + o.duration.String()}
	for _, v := range sc.k6env {
		args = append(args, "-e", v)
	}
	cmd := pinned.commandContext(ctx, "generator", o.k6, append(args, filepath.Join("loadtest", "k6", o.scenario+".js"))...)
	cmd.Env = append(os.Environ(), "K6_NO_USAGE_REPORT=true")
	cmd.Stdout, cmd.Stderr = io.MultiWriter(os.Stdout, out), io.MultiWriter(os.Stderr, out)
	if err = cmd.Start(); err == nil {
		e.generatorPid = cmd.Process.Pid
		err = cmd.Wait()
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 99 {
		return errors.New("some thresholds were crossed")
	}
	return err
}

func k6Version(bin string) string {
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		return "k6"
	}
	return strings.Fields(string(out) + " k6 ?")[1]
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

type seedFile struct {
	HospitalID  string `json:"hospital_id"`
	ReleaseAt   string `json:"release_at"`
	ReleaseMode string `json:"release_mode"`
	DrawAt      string `json:"draw_at"`
	Sessions    []struct {
		ID    string `json:"id"`
		Slots int    `json:"slots"`
	} `json:"sessions"`
	SteadySessions []struct {
		ID string `json:"id"`
	} `json:"steady_sessions"`
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
