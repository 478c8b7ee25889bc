// Package realname is the real-name check (实名核验) a hospital plugs in:
// a booking.IdentityVerifier that asks the hospital's own real-name
// gateway, over HTTPS, whether a name is an ID number's holder's.
// Hospitals reach the commercial providers (公安一所 CTID, 阿里云 or 腾讯云
// 实名核验) through an integration gateway of their own; fairslot speaks one
// small contract to it (docs/operations.md, "Real-name gateway"):
//
//	POST <url>   Content-Type: application/json
//	X-Fairslot-Timestamp: <unix seconds>
//	X-Fairslot-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "\n" + body)>
//	{"id_type": "resident_id", "id_number": "…", "name": "…"}
//
//	200 {"verdict": "match" | "mismatch" | "not_found" | "unknown"}
//
// A gateway that fails — down, slow past the timeout, busy past the bound
// on calls in flight, a status other than 200, an answer it does not
// understand — is answered Unverifiable, never an error: the name stays a
// claim and the registration desk, with the card, remains the check. Each
// such failure is counted (fairslot_realname_checks_total) and logged at
// most once a minute, without the number or the name.
//
// With a daily Budget (shared by the instances, in Redis), a check past it
// is Unverifiable without a call, counted over_budget.
//
// Answers are cached in memory under a keyed hash of type, number and name
// (never the clear values), bounded in size, a match longer than a
// mismatch, "unknown" and failures not at all.
package realname

import (
	"bytes"
	"container/list"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"fairslot/internal/booking"
	"fairslot/internal/identity"
)

// Config is a gateway client's configuration.
type Config struct {
	// URL is the gateway's endpoint (https; http only to a loopback
	// address, for a gateway on the same host).
	URL string
	// Secret is the key shared with the gateway that signs each request.
	Secret []byte
	// Timeout bounds one check, waiting for a free call included (2s).
	Timeout time.Duration
	// MaxInFlight bounds the calls to the gateway at once (16); a check
	// that finds none free within Timeout is Unverifiable.
	MaxInFlight int
	// CacheSize bounds the cached answers (10,000); CacheMatch and
	// CacheMismatch are how long a match (24h) and a mismatch or
	// not_found (10m) are kept.
	CacheSize                 int
	CacheMatch, CacheMismatch time.Duration
	// Client is the HTTP client (one with the system's roots and Timeout
	// when nil; a gateway with a private CA gets a client trusting it).
	Client *http.Client
	// Budget, when set, is the daily allowance of paid calls; past it a
	// check is Unverifiable without a call (outcome over_budget).
	Budget Budget
	// Now is the clock (time.Now).
	Now func() time.Time
}

// Verifier asks the gateway; it is safe for concurrent use.
type Verifier struct {
	cfg     Config
	slots   chan struct{}
	cache   *cache
	log     *slog.Logger
	checks  *prometheus.CounterVec
	seconds prometheus.Histogram

	logMu      sync.Mutex
	lastLog    time.Time
	suppressed int
}

// The verdicts of the contract.
const (
	verdictMatch    = "match"
	verdictMismatch = "mismatch"
	verdictNotFound = "not_found"
	verdictUnknown  = "unknown"
)

// Outcomes of a check as counted (fairslot_realname_checks_total): the
// gateway's verdicts, an answer from the cache, and the failures that
// answer Unverifiable.
const (
	outcomeCached     = "cached"
	outcomeTimeout    = "timeout"     // no answer within Timeout
	outcomeBusy       = "busy"        // every call in flight for Timeout
	outcomeError      = "error"       // no connection, or a status other than 200
	outcomeBadBody    = "bad_reply"   // a 200 whose body is not the contract's
	outcomeOverBudget = "over_budget" // the day's budget of paid calls spent (Config.Budget)
)

// logEvery is how often a failing gateway is logged: a gateway down at the
// release hour would otherwise write a line per patient added.
const logEvery = time.Minute

// New returns a Verifier of cfg, its metrics registered with reg.
func New(cfg Config, log *slog.Logger, reg prometheus.Registerer) (*Verifier, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Host == "" {
		return nil, errors.New("real-name gateway: the URL is not a valid absolute URL")
	}
	if u.Scheme != "https" && (u.Scheme != "http" || !loopback(u.Hostname())) {
		return nil, errors.New("real-name gateway: the URL must be https (http only to a loopback address): names and ID numbers travel in it")
	}
	if u.User != nil {
		return nil, errors.New("real-name gateway: the URL must not hold a user or password: requests are signed with the shared secret")
	}
	if len(cfg.Secret) < 16 {
		return nil, errors.New("real-name gateway: the shared secret must be at least 16 bytes")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Second
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 16
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = 10_000
	}
	if cfg.CacheMatch <= 0 {
		cfg.CacheMatch = 24 * time.Hour
	}
	if cfg.CacheMismatch <= 0 {
		cfg.CacheMismatch = 10 * time.Minute
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: cfg.Timeout}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("real-name gateway: cache key: %w", err)
	}
	v := &Verifier{cfg: cfg, slots: make(chan struct{}, cfg.MaxInFlight), cache: newCache(key, cfg.CacheSize), log: log,
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fairslot_realname_checks_total",
			Help: "Real-name checks by outcome: the gateway's verdict (match, mismatch, not_found, unknown), cached, a failure answered unverifiable (timeout, busy, error, bad_reply), or over_budget: not asked, the day's budget of paid calls spent, answered unverifiable.",
		}, []string{"outcome"}),
		seconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "fairslot_realname_check_seconds",
			Help:    "Time of a call to the real-name gateway, failures included.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2, 5},
		}),
	}
	for _, o := range []string{verdictMatch, verdictMismatch, verdictNotFound, verdictUnknown, outcomeCached, outcomeTimeout, outcomeBusy, outcomeError, outcomeBadBody, outcomeOverBudget} {
		v.checks.WithLabelValues(o)
	}
	if reg != nil {
		if err := reg.Register(v.checks); err != nil {
			return nil, err
		}
		if err := reg.Register(v.seconds); err != nil {
			return nil, err
		}
	}
	return v, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// request is the body fairslot sends.
type request struct {
	IDType   string `json:"id_type"`
	IDNumber string `json:"id_number"`
	Name     string `json:"name"`
}

// reply is the body the gateway answers.
type reply struct {
	Verdict string `json:"verdict"`
}

// Verify asks the gateway whether name is id's holder's. It never returns
// an error: a gateway that cannot answer is Unverifiable.
func (v *Verifier) Verify(ctx context.Context, id identity.ID, name string) (booking.Verdict, error) {
	key := v.cache.key(string(id.Type), id.Number, name)
	now := v.cfg.Now()
	if verdict, ok := v.cache.get(key, now); ok {
		v.checks.WithLabelValues(outcomeCached).Inc()
		return verdict, nil
	}
	ctx, cancel := context.WithTimeout(ctx, v.cfg.Timeout)
	defer cancel()
	select {
	case v.slots <- struct{}{}:
		defer func() { <-v.slots }()
	case <-ctx.Done():
		v.failed(outcomeBusy, errors.New("every call to the gateway in flight for the whole timeout"))
		return booking.Unverifiable, nil
	}
	if v.cfg.Budget != nil {
		ok, err := v.cfg.Budget.Spend(ctx)
		switch {
		case err != nil:
			v.logLimited("real-name budget unavailable; the check is made", "err", err)
		case !ok:
			v.checks.WithLabelValues(outcomeOverBudget).Inc()
			v.logLimited("the day's budget of paid real-name checks is spent (--realname-daily-budget); names stay claims for the desk to verify until local midnight")
			return booking.Unverifiable, nil
		}
	}
	start := time.Now()
	answer, err := v.ask(ctx, request{IDType: string(id.Type), IDNumber: id.Number, Name: name})
	v.seconds.Observe(time.Since(start).Seconds())
	var verdict booking.Verdict
	var ttl time.Duration
	switch {
	case err != nil && ctx.Err() != nil:
		v.failed(outcomeTimeout, err)
		return booking.Unverifiable, nil
	case errors.Is(err, errBadReply):
		v.failed(outcomeBadBody, err)
		return booking.Unverifiable, nil
	case err != nil:
		v.failed(outcomeError, err)
		return booking.Unverifiable, nil
	case answer == verdictMatch:
		verdict, ttl = booking.NameMatches, v.cfg.CacheMatch
	case answer == verdictMismatch || answer == verdictNotFound:
		// No such number in the register is a fake ID, answered as a wrong
		// name is: the patient learns no more than that the two do not go
		// together.
		verdict, ttl = booking.NameDiffers, v.cfg.CacheMismatch
	default: // unknown: the register cannot tell (a passport, a permit)
		verdict = booking.Unverifiable
	}
	v.checks.WithLabelValues(answer).Inc()
	if ttl > 0 {
		v.cache.put(key, verdict, now.Add(ttl))
	}
	return verdict, nil
}

// errBadReply is a 200 whose body is not the contract's.
var errBadReply = errors.New("the gateway's answer is not the contract's")

// ask makes one signed call; it returns the gateway's verdict.
func (v *Verifier) ask(ctx context.Context, r request) (string, error) {
	body, err := json.Marshal(r)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return "", errors.New("build the request")
	}
	ts := strconv.FormatInt(v.cfg.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Fairslot-Timestamp", ts)
	req.Header.Set("X-Fairslot-Signature", Sign(v.cfg.Secret, ts, body))
	resp, err := v.cfg.Client.Do(req)
	if err != nil {
		// url.Error repeats the URL: keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		return "", fmt.Errorf("read the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("the gateway answered %d", resp.StatusCode)
	}
	var rep reply
	if err := json.Unmarshal(b, &rep); err != nil {
		return "", errBadReply
	}
	switch rep.Verdict {
	case verdictMatch, verdictMismatch, verdictNotFound, verdictUnknown:
		return rep.Verdict, nil
	}
	return "", errBadReply
}

// Sign is the request's signature as the gateway checks it: "v1=" and the
// hex HMAC-SHA256, under the shared secret, of the timestamp header, a
// newline and the body as sent. The gateway refuses a timestamp more than
// five minutes from its clock, so a captured request cannot be replayed
// later.
func Sign(secret []byte, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte("\n"))
	m.Write(body)
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

// failed counts a check the gateway could not answer and logs it, at most
// once every logEvery with how many went unlogged since. err never holds
// the number or the name: they travel only in the request's body.
func (v *Verifier) failed(outcome string, err error) {
	v.checks.WithLabelValues(outcome).Inc()
	v.logLimited("real-name gateway did not answer; the name stays a claim for the desk to verify",
		"outcome", outcome, "err", err)
}

// logLimited logs msg at most once every logEvery, with how many lines
// went unlogged since (a failing gateway's and a spent budget's share the
// bound).
func (v *Verifier) logLimited(msg string, args ...any) {
	if v.log == nil {
		return
	}
	v.logMu.Lock()
	now := v.cfg.Now()
	if !v.lastLog.IsZero() && now.Sub(v.lastLog) < logEvery {
		v.suppressed++
		v.logMu.Unlock()
		return
	}
	n := v.suppressed
	v.lastLog, v.suppressed = now, 0
	v.logMu.Unlock()
	v.log.Warn(msg, append(args, "failures_unlogged_since_last", n)...)
}

// cache keeps answers under a keyed hash, the least recently used first
// out when full.
type cache struct {
	secret []byte
	max    int

	mu      sync.Mutex
	order   *list.List // of *entry, the most recently used first
	entries map[[32]byte]*list.Element
}

type entry struct {
	k       [32]byte
	verdict booking.Verdict
	until   time.Time
}

func newCache(key []byte, max int) *cache {
	return &cache{secret: key, max: max, order: list.New(), entries: map[[32]byte]*list.Element{}}
}

// key is the keyed hash of a check: the clear values are never kept.
func (c *cache) key(parts ...string) [32]byte {
	m := hmac.New(sha256.New, c.secret)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	var k [32]byte
	copy(k[:], m.Sum(nil))
	return k
}

func (c *cache) get(k [32]byte, now time.Time) (booking.Verdict, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[k]
	if !ok {
		return booking.Unverifiable, false
	}
	e := el.Value.(*entry)
	if !now.Before(e.until) {
		c.order.Remove(el)
		delete(c.entries, k)
		return booking.Unverifiable, false
	}
	c.order.MoveToFront(el)
	return e.verdict, true
}

func (c *cache) put(k [32]byte, v booking.Verdict, until time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[k]; ok {
		e := el.Value.(*entry)
		e.verdict, e.until = v, until
		c.order.MoveToFront(el)
		return
	}
	c.entries[k] = c.order.PushFront(&entry{k: k, verdict: v, until: until})
	for c.order.Len() > c.max {
		old := c.order.Back()
		c.order.Remove(old)
		delete(c.entries, old.Value.(*entry).k)
	}
}

// Len is how many answers are cached.
func (v *Verifier) Len() int {
	v.cache.mu.Lock()
	defer v.cache.mu.Unlock()
	return v.cache.order.Len()
}
