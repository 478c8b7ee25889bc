package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fairslot/internal/identity"
	"fairslot/internal/testenv"
)

// realNameGateway plays a hospital's real-name gateway over TLS with a
// certificate of its own CA, as the contract in docs/operations.md says:
// it refuses a request whose signature is not the shared secret's and
// answers from its register (ID number → name).
type realNameGateway struct {
	srv      *httptest.Server
	mu       sync.Mutex
	register map[string]string
	down     atomic.Bool // answer 503, as a gateway whose provider is down
	calls    atomic.Int64
	refused  atomic.Int64
	env      map[string]string // the service's settings for it
}

func newRealNameGateway(t *testing.T) *realNameGateway {
	t.Helper()
	secret := "a secret shared with the gateway, 32+ bytes"
	g := &realNameGateway{register: map[string]string{}}
	g.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.calls.Add(1)
		body, _ := io.ReadAll(r.Body)
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(r.Header.Get("X-Fairslot-Timestamp") + "\n"))
		m.Write(body)
		if !hmac.Equal([]byte(r.Header.Get("X-Fairslot-Signature")), []byte("v1="+hex.EncodeToString(m.Sum(nil)))) {
			g.refused.Add(1)
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		if g.down.Load() {
			http.Error(w, "provider unavailable", http.StatusServiceUnavailable)
			return
		}
		var req map[string]string
		_ = json.Unmarshal(body, &req)
		g.mu.Lock()
		holder, ok := g.register[req["id_number"]]
		g.mu.Unlock()
		verdict := "not_found"
		if ok && holder == req["name"] {
			verdict = "match"
		} else if ok {
			verdict = "mismatch"
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"verdict": verdict})
	}))
	t.Cleanup(g.srv.Close)
	dir := t.TempDir()
	secretFile, caFile := filepath.Join(dir, "realname.secret"), filepath.Join(dir, "gateway-ca.pem")
	testenv.Must(t, os.WriteFile(secretFile, []byte(secret+"\n"), 0o600), "write the secret")
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: g.srv.Certificate().Raw})
	testenv.Must(t, os.WriteFile(caFile, ca, 0o644), "write the CA")
	g.env = map[string]string{"FAIRSLOT_REALNAME_URL": g.srv.URL + "/v1/verify", "FAIRSLOT_REALNAME_SECRET_FILE": secretFile,
		"FAIRSLOT_REALNAME_CA_FILE": caFile}
	return g
}

// holdsPatient puts newPatient(n)'s holder in the register under the name
// newPatient gives.
func (g *realNameGateway) holdsPatient(n int) {
	g.holds(residentID(n), "测试"+string(rune('甲'+n%10)))
}

func (g *realNameGateway) holds(number, name string) {
	g.mu.Lock()
	g.register[number] = name
	g.mu.Unlock()
}

// addPerson adds a family member to p's account through the API.
func (s *service) addPerson(p patient, number, name string) reply {
	s.t.Helper()
	return s.do("POST", "/v1/patients", p.token, map[string]any{"id_type": "resident_id", "id_number": number,
		"name": name, "relationship": "parent"})
}

// TestRealNameGatewayRefusesFakeIDs: the fake-identity farm's near miss
// (docs/detection.md, "Limits"). A check-digit-valid ID number nobody holds
// passes every local check: with the local default (DeskOnly) it is added
// as a claim, 201. With a hospital's gateway configured it is refused at
// registration, 422 identity_unverified, with the one answer a wrong name
// for a real number gets; the right name is added, its name verified by
// the provider (and only that: the account's self is still the desk's to
// bind). A gateway that is down leaves the name a claim (201) and the
// desk the check, and the log holds neither the number nor the name.
func TestRealNameGatewayRefusesFakeIDs(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 5)
	fake := residentID(7301) // check-digit valid; nobody holds it
	if _, err := identity.Parse("resident_id", fake); err != nil {
		t.Fatalf("the fake number %s is not check-digit valid: %v", fake, err)
	}

	t.Run("desk only: the near miss", func(t *testing.T) {
		svc := startService(t, sch, nil)
		p := svc.newPatient(7300)
		if r := svc.addPerson(p, fake, "赵假"); r.status != 201 {
			t.Errorf("a fake ID without a gateway = %d %s, want 201 (a claim for the desk)", r.status, r.body)
		}
	})

	t.Run("gateway", func(t *testing.T) {
		g := newRealNameGateway(t)
		svc := startService(t, sch, g.env)
		// The account holder is in the register; newPatient adds them as
		// its self under the name it gives.
		g.holdsPatient(7310)
		p := svc.newPatient(7310)
		held := residentID(7311)
		g.holds(held, "钱真")

		r := svc.addPerson(p, fake, "赵假")
		if r.status != 422 || r.code != "identity_unverified" {
			t.Fatalf("a fake ID with a gateway = %d %s, want 422 identity_unverified", r.status, r.body)
		}
		if !strings.Contains(string(r.body), "do not match the register") {
			t.Errorf("the answer %s does not say the name and number do not match the register", r.body)
		}
		wrong := svc.addPerson(p, held, "钱假")
		if wrong.status != r.status || string(wrong.body) != string(r.body) {
			t.Errorf("a wrong name for a real number = %d %s; a fake number = %d %s; want one answer", wrong.status, wrong.body, r.status, r.body)
		}
		if r := svc.addPerson(p, held, "钱真"); r.status != 201 {
			t.Fatalf("the right name = %d %s, want 201", r.status, r.body)
		} else {
			var out struct{ Verified bool }
			r.decode(t, &out)
			if out.Verified {
				t.Errorf("a provider-confirmed family member shows verified %s: only the desk binds a self", r.body)
			}
		}
		if n := svc.count(`SELECT count(*) FROM identities WHERE name_verified_by = 'provider' AND name_verified_at IS NOT NULL`); n != 2 {
			t.Errorf("identities verified by the provider = %d, want 2 (the holder and the member)", n)
		}
		if n := svc.count(`SELECT count(*) FROM patients WHERE self_verified_at IS NOT NULL`); n != 0 {
			t.Errorf("selves bound = %d, want 0: the provider binds no account", n)
		}
		if g.refused.Load() != 0 || g.calls.Load() < 4 {
			t.Errorf("gateway calls %d, refused signatures %d; want 4 or more and none", g.calls.Load(), g.refused.Load())
		}

		// The gateway down: the name stays a claim, the desk the check.
		g.down.Store(true)
		other := residentID(7312)
		if r := svc.addPerson(p, other, "孙某"); r.status != 201 {
			t.Errorf("with the gateway down = %d %s, want 201 (a claim for the desk)", r.status, r.body)
		}
		if n := svc.count(`SELECT count(*) FROM identities WHERE name_verified_at IS NOT NULL`); n != 2 {
			t.Errorf("verified names = %d after the gateway failed, want still 2", n)
		}
		logs := svc.logs.String()
		if !strings.Contains(logs, "realname_secret=[set]") || strings.Contains(logs, "a secret shared with the gateway") {
			t.Errorf("the start-up line does not mask the gateway's secret:\n%s", logs)
		}
		if !strings.Contains(logs, "real-name gateway did not answer") {
			t.Errorf("the gateway's failure is not logged:\n%s", logs)
		}
		for _, pii := range []string{fake, held, other, "赵假", "钱真", "钱假", "孙某"} {
			if strings.Contains(logs, pii) {
				t.Errorf("the log holds %q", pii)
			}
		}
	})
}

// TestRealNameLimitPerNumberAcrossInstances: five wrong names for one ID
// number a day, from accounts on two instances, and the number is checked
// no more: 429 realname_checks_limited with Retry-After, even for the
// right name, without a call to the gateway.
func TestRealNameLimitPerNumberAcrossInstances(t *testing.T) {
	g := newRealNameGateway(t)
	svc := startService(t, schedule(t, time.Now().Add(-time.Minute), 5), g.env)
	other := svc.another()
	victim := residentID(7401)
	g.holds(victim, "李梅")
	instances := []*service{svc, other}
	for i, guess := range []string{"李玫", "李美", "黎梅", "李媚", "李没"} {
		s := instances[i%2]
		g.holdsPatient(7410 + i)
		p := s.newPatient(7410 + i) // a fresh account each: an account's own claims are bounded at three
		if r := s.addPerson(p, victim, guess); r.status != 422 || r.code != "identity_unverified" {
			t.Fatalf("guess %d = %d %s, want 422 identity_unverified", i+1, r.status, r.body)
		}
	}
	calls := g.calls.Load()
	for i, s := range instances {
		g.holdsPatient(7420 + i)
		p := s.newPatient(7420 + i)
		r := s.addPerson(p, victim, "李梅")
		if r.status != 429 || r.code != "realname_checks_limited" || r.header.Get("Retry-After") == "" {
			t.Errorf("instance %d: the right name past the number's limit = %d %s (Retry-After %q), want 429 realname_checks_limited with Retry-After",
				i+1, r.status, r.body, r.header.Get("Retry-After"))
		}
	}
	// newPatient's own adds of the holders reach the gateway; the victim's
	// do not.
	if got := g.calls.Load() - calls; got != 2 {
		t.Errorf("gateway calls past the limit = %d, want 2 (the two new holders only)", got)
	}
}

// TestRealNameDailyBudgetAcrossInstances: with --realname-daily-budget the
// instances share one day's budget of paid calls; past it an add is not
// checked, as with the gateway down: a fake number is added as a claim
// for the desk (201), without a call, never refused for the budget.
func TestRealNameDailyBudgetAcrossInstances(t *testing.T) {
	g := newRealNameGateway(t)
	env := map[string]string{"FAIRSLOT_REALNAME_DAILY_BUDGET": "4"}
	for k, v := range g.env {
		env[k] = v
	}
	svc := startService(t, schedule(t, time.Now().Add(-time.Minute), 5), env)
	other := svc.another()
	g.holdsPatient(7501)
	g.holdsPatient(7502)
	a, b := svc.newPatient(7501), other.newPatient(7502) // two calls
	for i, s := range []*service{svc, other} {
		p := []patient{a, b}[i]
		if r := s.addPerson(p, residentID(7510+i), "赵六"); r.status != 422 || r.code != "identity_unverified" {
			t.Errorf("instance %d: a fake number within the budget = %d %s, want 422 identity_unverified", i+1, r.status, r.body)
		}
	}
	calls := g.calls.Load()
	if calls != 4 {
		t.Fatalf("gateway calls = %d, want 4 (two selves, two fakes)", calls)
	}
	for i, s := range []*service{svc, other} {
		p := []patient{a, b}[i]
		if r := s.addPerson(p, residentID(7520+i), "孙七"); r.status != 201 {
			t.Errorf("instance %d: a fake number past the day's budget = %d %s, want 201 (a claim for the desk)", i+1, r.status, r.body)
		}
	}
	if got := g.calls.Load() - calls; got != 0 {
		t.Errorf("gateway calls past the budget = %d, want 0", got)
	}
}

// TestRealNameSettingsRefused: serve refuses, before it connects to
// anything, a gateway secret on the command line, a secret file others may
// read, a gateway without a secret (or a secret without a gateway), a short
// secret, and a gateway URL that would carry names and numbers in clear.
func TestRealNameSettingsRefused(t *testing.T) {
	dir := t.TempDir()
	private, public, short := filepath.Join(dir, "private"), filepath.Join(dir, "public"), filepath.Join(dir, "short")
	testenv.Must(t, os.WriteFile(private, []byte("a secret shared with the gateway, 32+ bytes\n"), 0o600), "write")
	testenv.Must(t, os.WriteFile(public, []byte("a secret shared with the gateway, 32+ bytes\n"), 0o644), "write")
	testenv.Must(t, os.WriteFile(short, []byte("short\n"), 0o600), "write")
	env := map[string]string{"FAIRSLOT_SECRET_KEY": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "FAIRSLOT_ADMIN_ADDR": "off",
		"FAIRSLOT_HTTP_ADDR": "127.0.0.1:0"}
	for _, c := range []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"secret on the command line", []string{"--realname-url", "https://gw.example/v", "--realname-secret", "s3cret-on-argv-xxxxxx"}, "--realname-secret-file"},
		{"no secret", []string{"--realname-url", "https://gw.example/v"}, "needs --realname-secret-file"},
		{"a secret file others can read", []string{"--realname-url", "https://gw.example/v", "--realname-secret-file", public}, "chmod o-rwx"},
		{"a short secret", []string{"--realname-url", "https://gw.example/v", "--realname-secret-file", short}, "at least 16 bytes"},
		{"http to another host", []string{"--realname-url", "http://gw.example/v", "--realname-secret-file", private}, "must be https"},
		{"a secret without a gateway", []string{"--realname-secret-file", private}, "need --realname-url"},
		{"a negative budget", []string{"--realname-url", "https://gw.example/v", "--realname-secret-file", private, "--realname-daily-budget", "-1"}, "--realname-daily-budget"},
		{"a budget without a gateway", []string{"--realname-daily-budget", "1000"}, "needs --realname-url"},
		{"a budget's day in no zone", []string{"--realname-url", "https://gw.example/v", "--realname-secret-file", private, "--realname-budget-zone", "Mars/Olympus"}, "--realname-budget-zone"},
		{"the master key on the command line", []string{"--secret-key=s3cret-on-argv-xxxxxx"}, "--secret-key-file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), append([]string{"serve"}, c.args...), func(k string) string { return env[k] }, &out, &out)
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("serve %s = %v, want an error naming %q", strings.Join(c.args, " "), err, c.wantErr)
			}
			if err != nil && strings.Contains(err.Error()+out.String(), "s3cret-on-argv") {
				t.Errorf("the refusal repeats the secret: %v\n%s", err, out.String())
			}
		})
	}
}
