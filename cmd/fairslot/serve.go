package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
	"github.com/ulule/limiter/v3"
	limredis "github.com/ulule/limiter/v3/drivers/store/redis"
	"github.com/valyala/fasthttp"

	"fairslot/internal/booking"
	"fairslot/internal/cockroach"
	"fairslot/internal/envflag"
	"fairslot/internal/httpapi"
	"fairslot/internal/lockout"
	"fairslot/internal/ratelimit"
	"fairslot/internal/web"
)

type serveConfig struct {
	common
	httpAddr        string
	adminAddr       string
	adminPublic     bool // --admin-addr may be other than loopback
	pprof           bool // serve /debug/pprof on the admin address
	ipRate          string
	accountRate     string
	limiterStore    string
	trustedProxies  string
	shutdownTimeout time.Duration
	refreshEvery    time.Duration
	sweepEvery      time.Duration
	reconcileEvery  time.Duration
	loginFailures   string
	phoneFailures   string
	revocationPoll  time.Duration
	healEvery       time.Duration
	catalogWatch    time.Duration
	watchEvery      time.Duration
	realName        realNameConfig
}

// memoryLimitStore keeps rate counters in this instance's memory
// (internal/ratelimit: the library's fixed windows, counted at a fraction
// of its memory store's CPU) and drops the expired ones every 2 s instead
// of the library's 30 s. Counters the garbage collector must trace cost
// every cycle: at the release hour, 30 s meant a counter for every patient
// and address seen in the last half minute (~250,000), the largest part of
// the collector's work (BenchmarkRateCountersGC: 60 ms a cycle for 250,000
// of the library's counters, 13 ms for 80,000). An expired counter is reset
// on its next use anyway, so sweeping sooner changes no limit.
func memoryLimitStore() limiter.Store {
	return ratelimit.NewMemoryStore(2 * time.Second)
}

// redisLoginGuard is the per-phone login failure limit in Redis, which
// every instance, and the staff commands that forget a phone's failures,
// share.
func redisLoginGuard(rdb redis.UniversalClient, prefix string, tiers, phoneTiers []lockout.Tier) (g, phone booking.LoginGuard, err error) {
	if g, err = redisGuard(rdb, prefix, "login", tiers); err != nil {
		return nil, nil, err
	}
	phone, err = redisGuard(rdb, prefix, "login-phone", phoneTiers)
	return g, phone, err
}

// The default login failure limits (docs/security.md, "Tokens and
// logins"): per known device and per phone and address, 5 in 15 minutes
// and 10 a day; per phone from every address without a device token, 10
// in 15 minutes and 20 a day — the ceiling on guesses at one account, as
// before; one address alone never reaches it.
const (
	defaultLoginFailures = "5/15m,10/24h"
	defaultPhoneFailures = "10/15m,20/24h"
)

// redisGuard is a failure count of its own name in Redis.
func redisGuard(rdb redis.UniversalClient, prefix, name string, tiers []lockout.Tier) (booking.LoginGuard, error) {
	st, err := limredis.NewStoreWithOptions(rdb, limiter.StoreOptions{Prefix: prefix + ":" + name})
	if err != nil {
		return nil, fmt.Errorf("%s limit: %w", name, err)
	}
	return lockout.New(st, tiers), nil
}

// The bounds on refused identity claims (booking.Config.ClaimGuard,
// ClaimIPGuard; docs/security.md): an honest account claims its self once
// and a family a handful of members, so three refusals a day (a typo, a
// number already someone's self, a name the desk verified otherwise) are
// more than it meets before it should go to the desk; an address is shared
// by a household or a hospital's Wi-Fi, hence ten. Accounts cost nothing
// here, so the address bound is the one a prober meets. A real-name
// provider's denial counts for the account only: it says nothing of the
// register, and typos behind one address are many (booking/realname.go).
var (
	claimTiers   = []lockout.Tier{{Failures: 3, Window: 24 * time.Hour}}
	claimIPTiers = []lockout.Tier{{Failures: 10, Window: 24 * time.Hour}}
)

// The bound on reports and complaints per client address
// (booking.Config.ReportIPGuard; docs/security.md, "Reports and
// complaints"): a household files one or two a year; a hospital's Wi-Fi or
// a carrier's NAT shares one address among many patients, and a scalper
// working a hospital's lobby may be reported by several of them the same
// day, hence twenty. Past it the address waits for the day's window: the
// service desk still takes a complaint in person.
var reportIPTiers = []lockout.Tier{{Failures: 20, Window: 24 * time.Hour}}

// The API's first tier counts "ip:"+address and "acct:"+account without
// making those strings.
var _ httpapi.JoinedCounter = (*ratelimit.Store)(nil)

// The garbage collector's defaults for serve, from the release minute
// (docs/performance.md, "The garbage collector"): collecting at 400%
// growth instead of Go's 100% runs a quarter as many cycles, whose mark
// phases otherwise land in the tail of two busy cores, at about twice the
// memory; the soft limit makes the collector work harder before the heap
// passes 1 GiB, so a host is not surprised by GOGC's growth. GOGC and
// GOMEMLIMIT in the environment (the Go runtime's own variables) still
// decide when set.
const (
	serveGCPercent   = 400
	serveMemoryLimit = 1 << 30
)

// gcMetrics adds, to the Go collector's defaults, the runtime's estimate
// of the CPU the collector took (go_cpu_classes_gc_*_cpu_seconds_total;
// against process_cpu_seconds_total): with the collections
// (go_gc_duration_seconds_count) and the bytes allocated, what the GC
// settings above were chosen by, and what an operator reads to change them.
var gcMetrics = collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/cpu/classes/gc/`)}

// gcDefaults applies serve's collector defaults where the environment sets
// none, and returns the settings in force as the runtime's variables spell
// them.
func gcDefaults(getenv func(string) string) (gogc, memLimit string) {
	gogc, memLimit = getenv("GOGC"), getenv("GOMEMLIMIT")
	if gogc == "" {
		debug.SetGCPercent(serveGCPercent)
		gogc = fmt.Sprint(serveGCPercent)
	}
	if memLimit == "" {
		debug.SetMemoryLimit(serveMemoryLimit)
		memLimit = fmt.Sprintf("%dMiB", serveMemoryLimit>>20)
	}
	return gogc, memLimit
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	e := envflag.New(getenv)
	var c serveConfig
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.register(fs, e)
	fs.StringVar(&c.httpAddr, "http-addr", e.Str("HTTP_ADDR", "127.0.0.1:8080"), "address of the public API")
	fs.StringVar(&c.adminAddr, "admin-addr", e.Str("ADMIN_ADDR", "127.0.0.1:9090"), "address of /metrics (and /debug/pprof with --pprof); loopback only unless --admin-public (off: none)")
	fs.BoolVar(&c.adminPublic, "admin-public", e.Bool("ADMIN_PUBLIC"), "allow an --admin-addr that is not loopback (it has no login: put a firewall in front)")
	fs.BoolVar(&c.pprof, "pprof", e.Bool("PPROF"), "serve Go's /debug/pprof profiles on the admin address")
	fs.StringVar(&c.ipRate, "rate-ip", e.Str("RATE_IP", "50-S"), "requests per client IP (limiter format: 50-S, 1000-M)")
	fs.StringVar(&c.accountRate, "rate-account", e.Str("RATE_ACCOUNT", "10-S"), "requests per account")
	fs.StringVar(&c.limiterStore, "rate-store", e.Str("RATE_STORE", "redis"), "where rate counters live: redis (shared by instances) or memory")
	fs.StringVar(&c.trustedProxies, "trusted-proxies", e.Str("TRUSTED_PROXIES", ""), "comma-separated CIDRs whose X-Forwarded-For is believed")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", e.Dur("SHUTDOWN_TIMEOUT", 15*time.Second), "grace period for in-flight requests on shutdown")
	fs.DurationVar(&c.refreshEvery, "refresh-every", e.Dur("REFRESH_EVERY", 30*time.Second), "how often the schedule is reloaded from SQL")
	fs.DurationVar(&c.sweepEvery, "sweep-every", e.Dur("SWEEP_EVERY", 5*time.Second), "how often abandoned holds are settled")
	fs.DurationVar(&c.reconcileEvery, "reconcile-every", e.Dur("RECONCILE_EVERY", 10*time.Minute), "how often Redis is reconciled with SQL")
	fs.StringVar(&c.loginFailures, "login-failures", e.Str("LOGIN_FAILURES", defaultLoginFailures), "failed logins per known device (its device token), and per phone and address for other clients, before it must wait out the window, in tiers (kept in --rate-store)")
	fs.StringVar(&c.phoneFailures, "login-phone-failures", e.Str("LOGIN_PHONE_FAILURES", defaultPhoneFailures), "failed logins per phone from every client without a device token together before they wait out the window: the ceiling on guesses at one account, in tiers")
	fs.DurationVar(&c.revocationPoll, "revocation-poll", e.Dur("REVOCATION_POLL", time.Second), "how often revoked tokens (logout, password change) are read from SQL: how long another instance may still accept one")
	fs.DurationVar(&c.healEvery, "heal-every", e.Dur("HEAL_EVERY", time.Second), "how often each hospital's state in Redis is checked for loss (then reloaded from SQL)")
	fs.DurationVar(&c.catalogWatch, "catalog-watch", e.Dur("CATALOG_WATCH", time.Second), "how often the schedule's version in SQL is read; a change made on another instance reloads the catalog")
	fs.DurationVar(&c.watchEvery, "watch-every", e.Dur("WATCH_EVERY", time.Second), "how often the Redis node serving each hospital is checked (a change, e.g. a failover, reconciles the hospital); the release gauges every 5×")
	c.realName.register(fs, e)
	if err := parse(fs, e, args); err != nil {
		return err
	}
	ipRate, accountRate, proxies, tiers, phoneTiers, err := c.validate()
	if err != nil {
		return err
	}
	c.loginGuard = func(rdb redis.UniversalClient) (booking.LoginGuard, booking.LoginGuard, error) {
		if c.limiterStore == "memory" {
			return lockout.New(memoryLimitStore(), tiers), lockout.New(memoryLimitStore(), phoneTiers), nil
		}
		return redisLoginGuard(rdb, c.redisPrefix, tiers, phoneTiers)
	}
	c.claimGuards = func(rdb redis.UniversalClient) (account, ip booking.LoginGuard, err error) {
		if c.limiterStore == "memory" {
			return lockout.New(memoryLimitStore(), claimTiers), lockout.New(memoryLimitStore(), claimIPTiers), nil
		}
		if account, err = redisGuard(rdb, c.redisPrefix, "claims", claimTiers); err != nil {
			return nil, nil, err
		}
		ip, err = redisGuard(rdb, c.redisPrefix, "claims-ip", claimIPTiers)
		return account, ip, err
	}
	c.reportGuard = func(rdb redis.UniversalClient) (booking.LoginGuard, error) {
		if c.limiterStore == "memory" {
			return lockout.New(memoryLimitStore(), reportIPTiers), nil
		}
		return redisGuard(rdb, c.redisPrefix, "reports-ip", reportIPTiers)
	}
	c.realNameGuards = func(rdb redis.UniversalClient) (id, account booking.LoginGuard, err error) {
		return c.realName.guards(rdb, c.redisPrefix, c.limiterStore == "memory")
	}
	log := newLogger(stderr, c.logLevel)
	gogc, memLimit := gcDefaults(getenv)
	attrs := append(c.logAttrs(), "http_addr", c.httpAddr, "admin_addr", c.adminAddr, "pprof", c.pprof,
		"rate_ip", c.ipRate, "rate_account", c.accountRate, "rate_store", c.limiterStore, "trusted_proxies", c.trustedProxies,
		"gogc", gogc, "gomemlimit", memLimit)
	log.Info("starting", append(attrs, c.realName.logAttrs()...)...)
	if getenv(envflag.Prefix+"MIGRATE_DATABASE_URL") != "" {
		// serve never reads it; in its environment it is the credential
		// that rewrites the audit log, for whoever runs code as serve
		// (review21b M3). Only migrate should be given it.
		log.Warn("FAIRSLOT_MIGRATE_DATABASE_URL is set in serve's environment: the tables' owner's password is readable by anything running as serve " +
			"(/proc/self/environ); give it to fairslot migrate only (deploy/systemd/migrate.env)")
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(gcMetrics)),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	c.verifier = func(rdb redis.UniversalClient) (booking.IdentityVerifier, error) {
		return c.realName.verifier(rdb, c.redisPrefix, log.With("component", "realname"), reg)
	}
	// The pool keeps every connection open, each readied for the release
	// second's commits as it opens (cockroach.Warm), and is filled before
	// the API listens.
	c.holder = booking.NewHolderID()
	d, err := c.open(ctx, log, reg, cockroach.Warm())
	if err != nil {
		return err
	}
	defer d.Close()
	// The presence lease open recorded is renewed from here to the end,
	// and given back after everything else has stopped (d.Close).
	rotation := make(chan error, 1)
	defer stayPresent(ctx, d.db, c.holder, log.With("component", "presence"), func(err error) { rotation <- err })()
	if err := d.db.CheckServiceRole(ctx); err != nil {
		return err
	}
	warnOldNameHashes(ctx, d.db, log)
	fctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	err = d.db.Fill(fctx)
	cancel()
	if err != nil {
		// The pool opens the rest as they are needed, as without Warm.
		log.Warn("could not open every SQL connection before listening", "err", err)
	}
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "fairslot_fast_rejects_total",
		Help: "Booking attempts answered sold_out or not_released from memory, without a Redis round trip (--sold-out-for).",
	}, func() float64 { return float64(d.svc.FastRejects()) }))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "fairslot_sql_writes_failing",
		Help: "1 while this instance knows SQL refuses or cannot take writes (a failed commit, or the write probe); a sold_out that pending holds may cause is then answered 503.",
	}, func() float64 {
		if d.svc.WritesFailing() {
			return 1
		}
		return 0
	}))
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "fairslot_known_entries_total",
		Help: "Lottery attempts answered already_entered from memory, without a Redis round trip (--entry-memo-for).",
	}, func() float64 { return float64(d.svc.KnownEntries()) }))
	for _, c := range []struct {
		outcome, help string
		n             func(w, t, d uint64) uint64
	}{
		{"written", "written to SQL", func(w, _, _ uint64) uint64 { return w }},
		{"thinned", "left out: more than four alike (account, session, person, reason) in one second", func(_, t, _ uint64) uint64 { return t }},
		{"dropped", "dropped under overload: the buffer full, over the write rate, or a failed write", func(_, _, d uint64) uint64 { return d }},
	} {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "fairslot_refusal_events_total",
			Help:        "Refused attempts (rejected, rate_limited) on their way to the event table, by outcome.",
			ConstLabels: prometheus.Labels{"outcome": c.outcome},
		}, func() float64 { return float64(c.n(d.svc.RefusalStats())) }))
	}

	n, err := d.svc.Refresh(ctx)
	if err != nil {
		return err
	}
	if err := d.svc.Reconcile(ctx); err != nil {
		return err
	}
	log.Info("schedule loaded and reconciled", "sessions", n)
	// Listings made before 0084 get their 14th-birthday day (0087 marked
	// them), before the first request: never on the release hour's path.
	if filled, err := d.svc.FillConsentDue(ctx); err != nil {
		log.Error("fill the 14th-birthday day of listings made before 0084: the rest stay marked, the next start goes on", "filled", filled, "err", err)
	} else if filled > 0 {
		log.Info("filled the 14th-birthday day of listings made before 0084", "listings", filled)
	}

	// With Redis, the limits have two tiers: this instance's memory counts
	// every request, Redis (shared by the instances) every request that
	// does not end in the fast reject path (httpapi.Config.LocalStore).
	// A lottery entry's or a booking attempt's shared limits are counted by
	// admission, in the attempt's round trip, under the Redis store's keys
	// (SharedPrefix).
	var store, local limiter.Store
	var shared string
	if c.limiterStore == "memory" {
		store = memoryLimitStore()
	} else if store, err = limredis.NewStoreWithOptions(d.rdb, limiter.StoreOptions{Prefix: c.redisPrefix + ":rl"}); err != nil {
		return fmt.Errorf("rate limiter: %w", err)
	} else {
		local, shared = memoryLimitStore(), c.redisPrefix+":rl"
	}
	api := httpapi.New(httpapi.Config{IPRate: ipRate, AccountRate: accountRate, TrustedProxies: proxies, LocalStore: local,
		SharedPrefix: shared},
		d.svc, store, reg, log.With("component", "http"))
	consoles := web.New(d.svc, log.With("component", "web"), web.Options{
		Keys:           d.keys,
		TrustedProxies: proxies,
		IPLimiter:      limiter.New(store, ipRate),
	})
	api.SetHandler(mount(api.Handler(), consoles.Handler))

	// The exclusive jobs (reconcile, no-shows, detection) run on one
	// instance at a time, under a lease in SQL (job_leases). Their metrics'
	// series exist before the first scrape, and before the first request.
	bg := booking.Background{Refresh: c.refreshEvery, Sweep: c.sweepEvery, Reconcile: c.reconcileEvery, Heal: c.healEvery,
		CatalogWatch: c.catalogWatch,
		Lease:        booking.JobLease{Leases: cockroach.NewLeases(d.db), Holder: c.holder, Log: log.With("component", "lease")}}
	bg.Metrics = newJobMetrics(reg, d.svc.Jobs(bg), time.Now)

	ln, err := net.Listen("tcp", c.httpAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.httpAddr, err)
	}
	errc := make(chan error, 2)
	go func() { errc <- api.Serve(ln) }()
	fmt.Fprintf(stdout, "fairslot API:     http://%s\n", ln.Addr())
	fmt.Fprintf(stdout, "fairslot consoles: http://%s/\n", ln.Addr())

	var admin *http.Server
	if c.adminAddr != "" && c.adminAddr != "off" {
		aln, err := net.Listen("tcp", c.adminAddr)
		if err != nil {
			_ = api.Shutdown(context.Background())
			return fmt.Errorf("listen on %s: %w", c.adminAddr, err)
		}
		admin = &http.Server{Handler: adminMux(reg, c.pprof, d.svc.Ready), ReadHeaderTimeout: 5 * time.Second}
		go func() {
			if err := admin.Serve(aln); !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
		fmt.Fprintf(stdout, "fairslot metrics: http://%s/metrics\n", aln.Addr())
	}

	bgctx, stopBackground := context.WithCancel(ctx)
	bgdone, watchdone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(bgdone)
		d.svc.Run(bgctx, bg)
	}()
	revdone := make(chan struct{})
	go func() {
		defer close(revdone)
		d.svc.WatchRevocations(bgctx, c.revocationPoll)
	}()
	watch := newRedisWatch(d.gate, d.svc, log.With("component", "watch"), reg)
	go func() {
		defer close(watchdone)
		watch.run(bgctx, c.watchEvery)
	}()
	// Refused attempts are written by their own goroutine, stopped after
	// the API so that the last requests' refusals are written too.
	refusalsCtx, stopRefusals := context.WithCancel(context.WithoutCancel(ctx))
	refusalsDone := make(chan struct{})
	go func() {
		defer close(refusalsDone)
		d.svc.WriteRefusals(refusalsCtx)
	}()

	select {
	case <-ctx.Done():
		log.Info("shutting down", "grace", c.shutdownTimeout)
	case err = <-errc:
		log.Error("server failed; shutting down", "err", err)
	case err = <-rotation:
		log.Error("a master key rotation began: this instance stops", "err", err)
	}
	sctx, cancel := context.WithTimeout(context.Background(), c.shutdownTimeout)
	defer cancel()
	serr := api.Shutdown(sctx)
	if admin != nil {
		_ = admin.Shutdown(sctx)
	}
	stopBackground()
	<-bgdone
	<-revdone
	<-watchdone
	stopRefusals()
	<-refusalsDone
	log.Info("stopped")
	return errors.Join(err, serr)
}

func (c *serveConfig) validate() (ip, account limiter.Rate, proxies []netip.Prefix, tiers, phoneTiers []lockout.Tier, err error) {
	errs := []error{c.common.validate(), c.realName.validate()}
	if tiers, err = lockout.ParseTiers(c.loginFailures); err != nil {
		errs = append(errs, fmt.Errorf("--login-failures: %w", err))
	}
	if phoneTiers, err = lockout.ParseTiers(c.phoneFailures); err != nil {
		errs = append(errs, fmt.Errorf("--login-phone-failures: %w", err))
	}
	if !c.adminPublic {
		errs = append(errs, loopbackOnly(c.adminAddr))
	}
	if ip, err = limiter.NewRateFromFormatted(c.ipRate); err != nil {
		errs = append(errs, fmt.Errorf("--rate-ip: %w", err))
	}
	if account, err = limiter.NewRateFromFormatted(c.accountRate); err != nil {
		errs = append(errs, fmt.Errorf("--rate-account: %w", err))
	}
	if c.watchEvery <= 0 {
		errs = append(errs, fmt.Errorf("--watch-every must be positive, not %s", c.watchEvery))
	}
	if c.limiterStore != "redis" && c.limiterStore != "memory" {
		errs = append(errs, fmt.Errorf("--rate-store must be redis or memory, not %q", c.limiterStore))
	}
	for _, p := range strings.Split(c.trustedProxies, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		pfx, perr := netip.ParsePrefix(p)
		if perr != nil {
			errs = append(errs, fmt.Errorf("--trusted-proxies: %w", perr))
			continue
		}
		proxies = append(proxies, pfx)
	}
	return ip, account, proxies, tiers, phoneTiers, errors.Join(errs...)
}

// mount is the top-level handler of the public address: the API's paths go
// to the API, everything else to the web consoles.
func mount(api, consoles fasthttp.RequestHandler) fasthttp.RequestHandler {
	return func(rc *fasthttp.RequestCtx) {
		p := rc.Path()
		if bytes.HasPrefix(p, []byte("/v1/")) || string(p) == "/v1" || string(p) == "/healthz" || string(p) == "/readyz" {
			api(rc)
			return
		}
		consoles(rc)
	}
}

// adminMux serves metrics, readiness with its detail, and the profiles
// when asked for; it has no login and belongs on a private address. pprof's
// cmdline page is never served: it shows the process's arguments.
func adminMux(reg *prometheus.Registry, profiles bool, ready func(context.Context) error) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	// The API's /readyz tells a load balancer only why in a few words;
	// here is which hospital's state is missing, stale or being
	// reloaded, and the driver's error, for the operator.
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := ready(r.Context()); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, err)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	if profiles {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		mux.Handle("/debug/pprof/cmdline", http.NotFoundHandler())
	}
	return mux
}

// loopbackOnly refuses an admin address that is not loopback: /metrics and
// /debug/pprof have no login.
func loopbackOnly(addr string) error {
	if addr == "" || addr == "off" {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--admin-addr: %w", err)
	}
	if host == "localhost" {
		return nil
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("--admin-addr %s is not a loopback address: /metrics has no login; pass --admin-public (FAIRSLOT_ADMIN_PUBLIC=true) to serve it there anyway", addr)
}
