// Package httpapi is fairslot's public HTTP API on fasthttp: routing, JSON,
// bearer-token authentication, rate limits, metrics, and the error answers
// (errors.go; the status of each error kind is booking.Kind.HTTPStatus,
// shared with the web consoles).
//
// fasthttp reuses a RequestCtx once the handler returns and never cancels it,
// so handlers copy what they keep and derive their own context with a
// deadline for Redis and SQL; the RequestCtx never escapes a handler.
package httpapi

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/ulule/limiter/v3"
	"github.com/valyala/fasthttp"

	"fairslot/internal/booking"
	"fairslot/internal/clientip"
	"fairslot/internal/ratelimit"
)

// Config tunes the server.
type Config struct {
	RequestTimeout time.Duration  // deadline for one request's Redis and SQL work (5s)
	MaxBodyBytes   int            // largest request body (64 KiB)
	TrustedProxies []netip.Prefix // peers whose X-Forwarded-For is believed
	IPRate         limiter.Rate   // requests per client IP
	AccountRate    limiter.Rate   // requests per account
	// LocalStore, when set, keeps a first tier of the same limits in this
	// instance's memory, counted on every request. The store given to New
	// (Redis: shared by the instances) is then the second tier, counted on
	// every request but the booking attempts answered from memory (the fast
	// reject path), which then cost no Redis round trip at all.
	// If it also counts prefix+key without their being joined (a
	// JoinedCounter: internal/ratelimit's store), each count allocates
	// nothing.
	LocalStore limiter.Store
	// SharedPrefix, when set, says the store given to New is ulule/limiter's
	// Redis store with this key prefix, on admission's Redis: a lottery
	// entry's or a booking attempt's shared limits are then counted by
	// admission in the attempt's own round trip, under the same keys
	// (booking.SharedLimit), instead of a round trip of their own before it.
	SharedPrefix string
}

// Server serves the API.
type Server struct {
	cfg     Config
	svc     *booking.Service
	log     *slog.Logger
	srv     *fasthttp.Server
	ipLim   *limiter.Limiter
	acctLim *limiter.Limiter
	// limitFailures logs the shared limiter's failures, a line at most
	// every limiterLogEvery (Redis down fails every request open).
	limitFailures *ratelimit.Failures
	// localIP and localAcct are the in-memory first tier; nil without one.
	// joined is its store when that is a JoinedCounter.
	localIP, localAcct *limiter.Limiter
	joined             JoinedCounter
	metrics            *metrics
	routes             []route
	// paths are the paths of the routes without a parameter, and methods
	// the routes' methods, each its own key: handle takes a known path and
	// method from here rather than copying them from the request (two
	// allocations on every booking attempt).
	paths, methods map[string]string
	base           context.Context
	stop           context.CancelFunc
}

// New builds a Server over svc. store keeps the rate-limit counters.
func New(cfg Config, svc *booking.Service, store limiter.Store, reg prometheus.Registerer, log *slog.Logger) *Server {
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 5 * time.Second
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 64 << 10
	}
	base, stop := context.WithCancel(context.Background())
	s := &Server{
		cfg:     cfg,
		svc:     svc,
		log:     log,
		ipLim:   limiter.New(store, cfg.IPRate),
		acctLim: limiter.New(store, cfg.AccountRate),
		metrics: newMetrics(reg),
		base:    base,
		stop:    stop,
	}
	s.limitFailures = ratelimit.NewFailures(log, limiterLogEvery)
	if cfg.LocalStore != nil {
		s.localIP, s.localAcct = limiter.New(cfg.LocalStore, cfg.IPRate), limiter.New(cfg.LocalStore, cfg.AccountRate)
		s.joined, _ = cfg.LocalStore.(JoinedCounter)
	}
	s.routes = s.table()
	s.paths, s.methods = make(map[string]string), make(map[string]string)
	for _, rt := range s.routes {
		if !rt.param {
			s.paths[rt.prefix] = rt.prefix
		}
		s.methods[rt.method] = rt.method
	}
	s.srv = NewFastHTTPServer(s.handle, s.connError, cfg.MaxBodyBytes, log)
	return s
}

// NewFastHTTPServer is the fasthttp server the API runs on: its timeouts,
// body limit and settings, and its own log lines routed through log with
// their request bytes left out (FastHTTPLogger). The load-test peers
// (loadtest/noop, the SQL-only baseline) run on it too, so a benchmark
// compares handlers, not servers.
func NewFastHTTPServer(h fasthttp.RequestHandler, onError func(*fasthttp.RequestCtx, error), maxBodyBytes int, log *slog.Logger) *fasthttp.Server {
	return &fasthttp.Server{
		Logger:                       FastHTTPLogger(log),
		Handler:                      h,
		Name:                         "fairslot",
		ReadTimeout:                  10 * time.Second,
		WriteTimeout:                 10 * time.Second,
		IdleTimeout:                  60 * time.Second,
		MaxRequestBodySize:           maxBodyBytes,
		NoDefaultDate:                true,
		NoDefaultContentType:         true,
		DisableKeepalive:             false,
		TCPKeepalive:                 true,
		CloseOnShutdown:              true,
		ReduceMemoryUsage:            false,
		StreamRequestBody:            false,
		ErrorHandler:                 onError,
		DisablePreParseMultipartForm: true,
	}
}

// Serve accepts connections on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error { return s.srv.Serve(ln) }

// Handler is the API's own request handler.
func (s *Server) Handler() fasthttp.RequestHandler { return s.handle }

// SetHandler makes Serve send every request to h instead of Handler, so one
// listener, with the API server's timeouts and limits, can serve the API
// beside other handlers: cmd/fairslot mounts the web consoles this way, and
// h passes the API's paths on to Handler. Call it before Serve.
func (s *Server) SetHandler(h fasthttp.RequestHandler) { s.srv.Handler = h }

// Shutdown stops accepting, lets in-flight requests finish until ctx ends,
// then cancels whatever is still running.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.ShutdownWithContext(ctx)
	s.stop()
	return err
}

// connError answers requests fasthttp could not read (too large, timeout,
// malformed). Nothing of err is logged: it quotes the request.
func (s *Server) connError(rc *fasthttp.RequestCtx, err error) {
	WriteReadError(rc, err)
}

// request is what a handler gets: the fasthttp context (never to be kept),
// the path parameter and the caller, and a context with a deadline for Redis
// and SQL, made on first use (context): an answer from memory needs none,
// and a deadline costs a timer and two allocations.
type request struct {
	rc     *fasthttp.RequestCtx
	srv    *Server
	param  string
	actor  booking.Actor
	origin booking.Origin
	ctx    context.Context
	cancel context.CancelFunc
}

// context returns the request's context, with its deadline.
func (r *request) context() context.Context {
	if r.ctx == nil {
		r.ctx, r.cancel = context.WithTimeout(r.srv.base, r.srv.cfg.RequestTimeout)
	}
	return r.ctx
}

// done releases the request's context, if it was made.
func (r *request) done() {
	if r.cancel != nil {
		r.cancel()
	}
}

type handler func(r *request) error

type route struct {
	method   string
	template string // for metrics: "/v1/bookings/{id}"
	prefix   string // the path before the parameter, or the whole path
	param    bool   // one {id} segment follows prefix
	suffix   string // what follows the parameter
	auth     bool
	// fast routes may answer from memory; their handler applies the shared
	// limits itself (sharedLimits) when it cannot.
	fast bool
	h    handler
}

func (rt route) match(path string) (string, bool) {
	if !rt.param {
		return "", path == rt.prefix
	}
	rest, ok := strings.CutPrefix(path, rt.prefix)
	if !ok {
		return "", false
	}
	param, tail, _ := strings.Cut(rest, "/")
	if tail != "" {
		tail = "/" + tail
	}
	return param, param != "" && tail == rt.suffix
}

func (s *Server) handle(rc *fasthttp.RequestCtx) {
	start := time.Now()
	path, ok := s.paths[string(rc.Path())] // looked up in place: no copy
	if !ok {
		path = string(rc.Path())
	}
	method, ok := s.methods[string(rc.Method())]
	if !ok {
		method = string(rc.Method())
	}
	var rt *route
	pathKnown := false
	var param string
	for i := range s.routes {
		p, ok := s.routes[i].match(path)
		if !ok {
			continue
		}
		pathKnown = true
		if s.routes[i].method == method {
			rt, param = &s.routes[i], p
			break
		}
	}
	template, outcome := "unmatched", "ok"
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("panic in handler", "route", template, "panic", v, "stack", string(debug.Stack()))
			rc.ResetBody()
			outcome = s.writeError(rc, template, ErrInternal)
		}
		s.metrics.observe(template, method, rc.Response.StatusCode(), outcome, time.Since(start))
	}()
	// No answer of the API may be kept by a cache: they are per account and
	// hold masked personal data. Behind TLS, browsers are told to stay on it.
	rc.Response.Header.Set("Cache-Control", "no-store")
	o, secure := s.origin(rc)
	if secure {
		rc.Response.Header.Set("Strict-Transport-Security", clientip.HSTS)
	}
	r := &request{rc: rc, srv: s, param: param, origin: o}
	defer r.done()
	// Every request but the probes counts against its IP, matched or not:
	// scanners pay for their 404s too.
	if path != "/healthz" && path != "/readyz" {
		if err := s.limitIP(r, rt == nil || !rt.fast); err != nil {
			outcome = s.writeError(rc, template, err)
			return
		}
	}
	switch {
	case rt != nil && !PlainText(param):
		// A path parameter is an id: printable ASCII. Anything else (a
		// "%ff", a NUL) names nothing, and never reaches the database.
		outcome = s.writeError(rc, template, ErrRouteNotFound)
		return
	case rt == nil && pathKnown:
		outcome = s.writeError(rc, template, ErrMethodNotAllowed)
		rc.SetStatusCode(fasthttp.StatusMethodNotAllowed)
		return
	case rt == nil:
		outcome = s.writeError(rc, template, ErrRouteNotFound)
		return
	}
	template = rt.template
	if err := checkHeaders(rc); err != nil {
		outcome = s.writeError(rc, template, err)
		return
	}
	if err := s.authenticate(r, rt); err != nil {
		s.noteLimited(r, err)
		outcome = s.writeError(rc, template, err)
		return
	}
	if err := rt.h(r); err != nil {
		s.noteLimited(r, err)
		outcome = s.writeError(rc, template, err)
	}
}

// noteLimited records a request of a known account that a rate limit
// turned away, as a rate_limited event (booking.Service.NoteRateLimited:
// an append to a bounded buffer). It runs on every refused request, so it
// asks the error's type, not errors.Is (whose match on codes allocates).
func (s *Server) noteLimited(r *request, err error) {
	if r.actor.AccountID == "" {
		return
	}
	if _, ok := err.(*rateLimitError); ok || isSharedLimit(err) {
		s.svc.NoteRateLimited(r.actor, r.origin)
	}
}

// isSharedLimit reports an entry refused by the shared limits that
// admission counted with it (Server.attemptLimits).
func isSharedLimit(err error) bool {
	l, ok := err.(*booking.LimitError)
	return ok && l.Err == booking.ErrRateLimited
}

// authenticate checks the bearer token of routes that need one and applies
// the per-account rate limit.
func (s *Server) authenticate(r *request, rt *route) error {
	if !rt.auth {
		return nil
	}
	tok, ok := Bearer(r.rc.Request.Header.Peek("Authorization"))
	if !ok {
		return booking.ErrUnauthenticated
	}
	actor, err := s.svc.Authenticate(tok)
	if err != nil {
		return err
	}
	r.actor = actor
	if s.localAcct != nil {
		if err := s.limitLocal(s.localAcct, "acct:", actor.AccountID); err != nil {
			return err
		}
	}
	if rt.fast {
		return nil // the handler calls sharedLimits
	}
	return s.limit(r.context(), s.acctLim, "acct:"+actor.AccountID)
}

// limitIP counts the request against its client IP: in memory first, then,
// when shared, in the store New was given.
func (s *Server) limitIP(r *request, shared bool) error {
	if s.localIP != nil {
		if err := s.limitLocal(s.localIP, "ip:", r.origin.IP); err != nil {
			return err
		}
	}
	if !shared {
		return nil
	}
	return s.limit(r.context(), s.ipLim, "ip:"+r.origin.IP)
}

// sharedLimits is what a fast route's handler calls once it knows it cannot
// answer from memory: the shared IP and account limits the other routes
// passed before their handler ran. The two counters are independent Redis
// round trips, so they run at once: an attempt that reaches admission (a
// booking not answered from memory, every lottery entry) waits for one
// round trip here, not two.
func (s *Server) sharedLimits(r *request) error {
	ctx := r.context()
	ipErr := make(chan error, 1)
	ip := "ip:" + r.origin.IP
	go func() { ipErr <- s.limit(ctx, s.ipLim, ip) }()
	acct := s.limit(ctx, s.acctLim, "acct:"+r.actor.AccountID)
	if err := <-ipErr; err != nil {
		return err
	}
	return acct
}

// attemptLimits leaves an attempt's shared limits to admission, which
// counts them with the entry or the reservation in one round trip
// (Config.SharedPrefix), when the attempt may
// (booking.BookRequest.LimitsAtAdmission); otherwise it counts them here,
// now.
func (s *Server) attemptLimits(r *request, req *booking.BookRequest) error {
	if s.cfg.SharedPrefix == "" || !req.LimitsAtAdmission() {
		return s.sharedLimits(r)
	}
	req.Limits = []booking.SharedLimit{
		{Key: s.cfg.SharedPrefix + ":ip:" + r.origin.IP, Limit: s.cfg.IPRate.Limit, Period: s.cfg.IPRate.Period},
		{Key: s.cfg.SharedPrefix + ":acct:" + r.actor.AccountID, Limit: s.cfg.AccountRate.Limit, Period: s.cfg.AccountRate.Period},
	}
	req.TakeLimits = func(context.Context) error { return s.sharedLimits(r) }
	return nil
}

// limiterLogEvery bounds the log lines of a failing limiter store.
const limiterLogEvery = 10 * time.Second

// limit counts one request against key. A broken limiter store must not take
// the service down: it fails open, and the failure is counted, and logged
// a line at most every limiterLogEvery.
func (s *Server) limit(ctx context.Context, l *limiter.Limiter, key string) error {
	res, err := l.Get(ctx, key)
	if err != nil {
		s.metrics.limiterErrors.Inc()
		s.limitFailures.LetThrough(err)
		return nil
	}
	return reached(res)
}

// JoinedCounter is a limiter.Store that counts the key prefix+key without
// the caller making that string (ratelimit's GetJoined): the same counter
// as Get(prefix+key).
type JoinedCounter interface {
	GetJoined(prefix, key string, rate limiter.Rate) limiter.Context
}

// limitLocal counts the request in the first tier (l), under prefix+key.
func (s *Server) limitLocal(l *limiter.Limiter, prefix, key string) error {
	if s.joined == nil {
		return s.limit(s.base, l, prefix+key)
	}
	return reached(s.joined.GetJoined(prefix, key, l.Rate))
}

// reached is the refusal of a count over its limit, nil under it.
func reached(res limiter.Context) error {
	if res.Reached {
		wait := int(time.Until(time.Unix(res.Reset, 0)).Seconds() + 0.999)
		return &rateLimitError{seconds: max(wait, 1)}
	}
	return nil
}

// Bearer returns the token of an Authorization header of the Bearer scheme.
func Bearer(h []byte) ([]byte, bool) {
	const p = "Bearer "
	if len(h) <= len(p) || !strings.EqualFold(string(h[:len(p)]), p) {
		return nil, false
	}
	return h[len(p):], true
}

// origin is the request's client address and device id, and whether the
// client reached us over TLS (directly, or through a trusted proxy that says
// so in X-Forwarded-Proto). A device id that is not printable ASCII is left
// out here and refused by checkHeaders.
func (s *Server) origin(rc *fasthttp.RequestCtx) (booking.Origin, bool) {
	o := booking.Origin{}
	var proxied bool
	o.IP, proxied = clientip.Proxies(s.cfg.TrustedProxies).ClientIP(rc)
	if d := rc.Request.Header.Peek("X-Device-Id"); len(d) > 0 && PlainText(string(d)) {
		o.DeviceID = string(d[:min(len(d), 64)])
	}
	return o, clientip.Secure(rc, proxied)
}

// MaxIdempotencyKey is the longest Idempotency-Key taken, in bytes (of
// printable ASCII, so characters): the common bound for the header.
const MaxIdempotencyKey = 255

// checkHeaders refuses headers whose values the service stores or compares
// (Idempotency-Key, X-Device-Id) unless they are printable ASCII: a cut
// multibyte character or a NUL would otherwise reach SQL. An
// Idempotency-Key over MaxIdempotencyKey is refused, not cut: two keys alike
// in their first bytes would otherwise name one request.
func checkHeaders(rc *fasthttp.RequestCtx) error {
	for _, name := range [...]string{"Idempotency-Key", "X-Device-Id"} {
		if v := rc.Request.Header.Peek(name); len(v) > 0 && !PlainText(string(v)) {
			return booking.Errorf(ErrInvalidHeader, "%s must be printable ASCII", name)
		}
	}
	if n := len(rc.Request.Header.Peek("Idempotency-Key")); n > MaxIdempotencyKey {
		return booking.Errorf(ErrInvalidHeader, "Idempotency-Key must be at most %d characters (it has %d)", MaxIdempotencyKey, n)
	}
	return nil
}

// PlainText reports whether s is printable ASCII (space to tilde).
func PlainText(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
