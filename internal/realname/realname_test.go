package realname

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"fairslot/internal/booking"
	"fairslot/internal/identity"
)

var secret = []byte("a shared secret of the gateway!!")

// gateway plays the hospital's real-name gateway over TLS: it checks each
// request's signature and timestamp as the contract says, as a gateway
// must, and answers from its register (ID number → name).
type gateway struct {
	t        *testing.T
	srv      *httptest.Server
	now      func() time.Time
	mu       sync.Mutex
	register map[string]string
	unknown  map[string]bool // numbers the register cannot tell about
	calls    atomic.Int64
	refused  atomic.Int64 // calls with a bad signature or timestamp
	// behave, when set (setBehave), answers instead of the register.
	behave func(w http.ResponseWriter, r *http.Request) bool
}

func newGateway(t *testing.T, now func() time.Time) *gateway {
	g := &gateway{t: t, now: now, register: map[string]string{}, unknown: map[string]bool{}}
	g.srv = httptest.NewTLSServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *gateway) setBehave(b func(w http.ResponseWriter, r *http.Request) bool) {
	g.mu.Lock()
	g.behave = b
	g.mu.Unlock()
}

func (g *gateway) serve(w http.ResponseWriter, r *http.Request) {
	g.calls.Add(1)
	body, _ := io.ReadAll(r.Body)
	ts := r.Header.Get("X-Fairslot-Timestamp")
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts + "\n"))
	m.Write(body)
	want := "v1=" + hex.EncodeToString(m.Sum(nil))
	sec, err := strconv.ParseInt(ts, 10, 64)
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" ||
		!hmac.Equal([]byte(r.Header.Get("X-Fairslot-Signature")), []byte(want)) ||
		err != nil || g.now().Sub(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		g.refused.Add(1)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	g.mu.Lock()
	behave := g.behave
	g.mu.Unlock()
	if behave != nil && behave(w, r) {
		return
	}
	var req struct {
		IDType, IDNumber, Name string
	}
	var fields map[string]string
	if err := json.Unmarshal(body, &fields); err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	req.IDType, req.IDNumber, req.Name = fields["id_type"], fields["id_number"], fields["name"]
	g.mu.Lock()
	holder, ok := g.register[req.IDNumber]
	unknown := g.unknown[req.IDNumber]
	g.mu.Unlock()
	verdict := "not_found"
	switch {
	case unknown:
		verdict = "unknown"
	case ok && holder == req.Name:
		verdict = "match"
	case ok:
		verdict = "mismatch"
	}
	_ = json.NewEncoder(w).Encode(map[string]string{"verdict": verdict})
}

// fakeClock is the verifier's clock, moved by the test.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func newClock() *fakeClock               { return &fakeClock{t: time.Now()} }
func residentID(body string) identity.ID { // body: 17 digits
	id, err := identity.Parse("resident_id", body+string(identity.CheckDigit(body)))
	if err != nil {
		panic(err)
	}
	return id
}

type fixture struct {
	g    *gateway
	v    *Verifier
	reg  *prometheus.Registry
	logs *bytes.Buffer
	clk  *fakeClock
}

func newFixture(t *testing.T, mod func(*Config)) *fixture {
	t.Helper()
	clk := newClock()
	g := newGateway(t, time.Now)
	cfg := Config{URL: g.srv.URL + "/verify", Secret: secret, Client: g.srv.Client(), Now: clk.Now, Timeout: 2 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	reg := prometheus.NewRegistry()
	logs := &bytes.Buffer{}
	v, err := New(cfg, slog.New(slog.NewTextHandler(&lockedWriter{w: logs}, nil)), reg)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{g: g, v: v, reg: reg, logs: logs, clk: clk}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (f *fixture) count(outcome string) int {
	var m dto.Metric
	if err := f.v.checks.WithLabelValues(outcome).Write(&m); err != nil {
		panic(err)
	}
	return int(m.GetCounter().GetValue())
}

func (f *fixture) verify(t *testing.T, id identity.ID, name string) booking.Verdict {
	t.Helper()
	v, err := f.v.Verify(context.Background(), id, name)
	if err != nil {
		t.Fatalf("Verify = %v, want never an error", err)
	}
	return v
}

var verdictNames = map[booking.Verdict]string{booking.Unverifiable: "unverifiable", booking.NameMatches: "matches", booking.NameDiffers: "differs"}

// TestVerdicts: each of the gateway's verdicts, over a signed request the
// gateway checked, is the domain's: match confirms the name, mismatch and
// not_found (a check-digit-valid number nobody holds) deny it alike, and
// unknown cannot tell.
func TestVerdicts(t *testing.T) {
	f := newFixture(t, nil)
	held, fake, passportless := residentID("11010519800101123"), residentID("11010519800101456"), residentID("11010519800101789")
	f.g.register[held.Number] = "李梅"
	f.g.unknown[passportless.Number] = true
	for _, c := range []struct {
		name    string
		id      identity.ID
		as      string
		want    booking.Verdict
		outcome string
	}{
		{"the holder's name", held, "李梅", booking.NameMatches, "match"},
		{"another name", held, "李玫", booking.NameDiffers, "mismatch"},
		{"a number nobody holds", fake, "李梅", booking.NameDiffers, "not_found"},
		{"a number the register cannot tell", passportless, "王芳", booking.Unverifiable, "unknown"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := f.count(c.outcome)
			if got := f.verify(t, c.id, c.as); got != c.want {
				t.Errorf("verdict = %s, want %s", verdictNames[got], verdictNames[c.want])
			}
			if got := f.count(c.outcome) - before; got != 1 {
				t.Errorf("checks counted %q = %d, want 1", c.outcome, got)
			}
		})
	}
	if n := f.g.refused.Load(); n != 0 {
		t.Errorf("the gateway refused %d signatures, want none", n)
	}
}

// TestWrongSecretIsRefusedAndUnverifiable: a request signed with another
// secret is refused by the gateway, and the check is Unverifiable (counted
// as an error), never a verdict.
func TestWrongSecretIsRefusedAndUnverifiable(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Secret = []byte("not the gateway's secret at all") })
	id := residentID("11010519800101123")
	f.g.register[id.Number] = "李梅"
	if got := f.verify(t, id, "李梅"); got != booking.Unverifiable {
		t.Errorf("verdict = %s, want unverifiable", verdictNames[got])
	}
	if f.g.refused.Load() != 1 || f.count("error") != 1 {
		t.Errorf("refused by the gateway %d, counted errors %d; want 1 and 1", f.g.refused.Load(), f.count("error"))
	}
}

// TestFailuresAreUnverifiable: a gateway that does not answer in time,
// answers 5xx, answers what the contract does not say, or is not there at
// all, makes a check Unverifiable (the desk remains the check), counted by
// outcome and never cached; the failures are logged once a minute, with
// neither the number nor the name.
func TestFailuresAreUnverifiable(t *testing.T) {
	release := make(chan struct{})
	f := newFixture(t, func(c *Config) { c.Timeout = 300 * time.Millisecond })
	t.Cleanup(func() { close(release) })
	id := residentID("11010519800101123")
	f.g.register[id.Number] = "李梅"
	cases := []struct {
		name, outcome string
		behave        func(w http.ResponseWriter, r *http.Request) bool
	}{
		{"slow past the timeout", "timeout", func(w http.ResponseWriter, r *http.Request) bool {
			select { // until the caller gives up
			case <-r.Context().Done():
			case <-release:
			}
			return true
		}},
		{"5xx", "error", func(w http.ResponseWriter, _ *http.Request) bool {
			http.Error(w, "provider down", http.StatusBadGateway)
			return true
		}},
		{"not the contract", "bad_reply", func(w http.ResponseWriter, _ *http.Request) bool {
			_, _ = io.WriteString(w, `{"verdict":"probably"}`)
			return true
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f.g.setBehave(c.behave)
			for range 2 { // never cached: asked again
				if got := f.verify(t, id, "李梅"); got != booking.Unverifiable {
					t.Errorf("verdict = %s, want unverifiable", verdictNames[got])
				}
			}
			if got := f.count(c.outcome); got != 2 {
				t.Errorf("counted %q = %d, want 2", c.outcome, got)
			}
		})
	}
	t.Run("down", func(t *testing.T) {
		f.g.setBehave(nil)
		f.g.srv.Close()
		if got := f.verify(t, id, "李梅"); got != booking.Unverifiable {
			t.Errorf("verdict = %s, want unverifiable", verdictNames[got])
		}
	})
	if f.count("error") != 3 {
		t.Errorf("counted errors = %d, want 3 (two 5xx, one down)", f.count("error"))
	}
	if f.v.Len() != 0 {
		t.Errorf("cached answers = %d after failures only, want 0", f.v.Len())
	}
	logs := f.logs.String()
	if n := strings.Count(logs, "real-name gateway did not answer"); n != 1 {
		t.Errorf("failure log lines within a minute = %d, want 1:\n%s", n, logs)
	}
	f.clk.add(logEvery)
	f.verify(t, id, "李梅")
	logs = f.logs.String()
	if n := strings.Count(logs, "real-name gateway did not answer"); n != 2 || !strings.Contains(logs, "failures_unlogged_since_last=6") {
		t.Errorf("a minute later: %d lines, want 2, the second counting the 6 unlogged:\n%s", n, logs)
	}
	for _, secretish := range []string{id.Number, "李梅", f.g.srv.URL} {
		if strings.Contains(logs, secretish) {
			t.Errorf("the log holds %q:\n%s", secretish, logs)
		}
	}
}

// TestBoundedConcurrency: with every call in flight, a check that cannot
// get one before its deadline is Unverifiable (busy) without reaching the
// gateway.
func TestBoundedConcurrency(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.MaxInFlight = 1; c.Timeout = time.Minute })
	id := residentID("11010519800101123")
	entered, release := make(chan struct{}), make(chan struct{})
	f.g.setBehave(func(w http.ResponseWriter, r *http.Request) bool {
		close(entered)
		<-release
		return false // then from the register
	})
	f.g.register[id.Number] = "李梅"
	first := make(chan booking.Verdict)
	go func() { v, _ := f.v.Verify(context.Background(), id, "李梅"); first <- v }()
	<-entered
	gone, cancel := context.WithCancel(context.Background())
	cancel() // a caller whose deadline passes while the one call is in flight
	if got, err := f.v.Verify(gone, residentID("11010519800101456"), "王芳"); got != booking.Unverifiable || err != nil {
		t.Errorf("second check = %s, %v; want unverifiable", verdictNames[got], err)
	}
	if f.count("busy") != 1 || f.g.calls.Load() != 1 {
		t.Errorf("busy %d, gateway calls %d; want 1 and 1", f.count("busy"), f.g.calls.Load())
	}
	close(release)
	if got := <-first; got != booking.NameMatches {
		t.Errorf("the call in flight = %s, want matches", verdictNames[got])
	}
}

// TestCache: a repeated check is answered from the cache; a mismatch is
// kept shorter than a match; unknown is not kept; the cache holds at most
// its size, dropping the least recently used.
func TestCache(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.CacheSize = 3; c.CacheMatch = time.Hour; c.CacheMismatch = time.Minute })
	held, other, cannot := residentID("11010519800101123"), residentID("11010519800101456"), residentID("11010519800101789")
	f.g.register[held.Number], f.g.register[other.Number] = "李梅", "王芳"
	f.g.unknown[cannot.Number] = true
	calls := func() int { return int(f.g.calls.Load()) }

	f.verify(t, held, "李梅")
	f.verify(t, held, "李玫")
	f.verify(t, cannot, "张三")
	if calls() != 3 {
		t.Fatalf("gateway calls = %d, want 3", calls())
	}
	if got := f.verify(t, held, "李梅"); got != booking.NameMatches || calls() != 3 {
		t.Errorf("a repeated match = %s after %d calls, want matches from the cache (3 calls)", verdictNames[got], calls())
	}
	if got := f.verify(t, held, "李玫"); got != booking.NameDiffers || calls() != 3 {
		t.Errorf("a repeated mismatch = %s after %d calls, want differs from the cache (3 calls)", verdictNames[got], calls())
	}
	f.verify(t, cannot, "张三")
	if calls() != 4 {
		t.Errorf("a repeated unknown: %d calls, want 4 (unknown is asked again)", calls())
	}
	if f.count("cached") != 2 {
		t.Errorf("cached answers counted = %d, want 2", f.count("cached"))
	}

	f.clk.add(time.Minute) // the mismatch's time is up, the match's not
	f.verify(t, held, "李玫")
	f.verify(t, held, "李梅")
	if calls() != 5 {
		t.Errorf("after a minute: %d calls, want 5 (the mismatch asked again, the match cached)", calls())
	}

	// Size: the mismatch, then the match (used last), then two more; the
	// least recently used, the mismatch, goes first.
	f.verify(t, other, "王芳")
	f.verify(t, other, "王方")
	if f.v.Len() != 3 {
		t.Errorf("cached answers = %d, want the size, 3", f.v.Len())
	}
	before := calls()
	f.verify(t, held, "李梅")
	if calls() != before {
		t.Errorf("a recently used answer was dropped (calls %d → %d)", before, calls())
	}
	f.verify(t, held, "李玫")
	if calls() != before+1 {
		t.Errorf("the least recently used answer was still cached (calls %d → %d)", before, calls())
	}
}

// TestConfigRefused: a gateway URL that would send names and numbers in
// clear over the network, one holding credentials, and a short secret are
// refused at start.
func TestConfigRefused(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  Config
	}{
		{"http to another host", Config{URL: "http://gateway.example/verify", Secret: secret}},
		{"no host", Config{URL: "/verify", Secret: secret}},
		{"credentials in the URL", Config{URL: "https://u:p@gateway.example/verify", Secret: secret}},
		{"a short secret", Config{URL: "https://gateway.example/verify", Secret: []byte("short")}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := New(c.cfg, nil, nil); err == nil {
				t.Errorf("New(%s) = nil error, want a refusal", c.name)
			} else if strings.Contains(err.Error(), "u:p") {
				t.Errorf("the refusal repeats the credentials: %v", err)
			}
		})
	}
	for _, ok := range []string{"https://gateway.example/verify", "http://127.0.0.1:9000/verify", "http://localhost/verify"} {
		if _, err := New(Config{URL: ok, Secret: secret}, nil, nil); err != nil {
			t.Errorf("New(%s) = %v, want it accepted", ok, err)
		}
	}
}
