//go:build cluster

package failover

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"fairslot/internal/testenv"
)

// The variables deploy/cluster/test.sh sets (cluster.sh env, and the binary).
const (
	envDatabase      = "FAIRSLOT_TEST_HA_DATABASE_URL"
	envRedis         = "FAIRSLOT_TEST_HA_REDIS"
	envRedisPassword = "FAIRSLOT_TEST_HA_REDIS_PASSWORD"
	envScript        = "FAIRSLOT_TEST_HA_SCRIPT"
	envBinary        = "FAIRSLOT_TEST_BIN"
	envLoadseed      = "FAIRSLOT_TEST_LOADSEED_BIN" // loadtest/loadseed, built
)

func need(t *testing.T, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		t.Fatalf("%s is not set: run these tests with deploy/cluster/test.sh (make test-cluster), which starts the stack", name)
	}
	return v
}

// stack is one test's slice of the cluster: a database of its own on the
// replicated PostgreSQL, a Redis key prefix of its own on the Redis Cluster,
// the load-test population, and the fairslot instances.
type stack struct {
	t         *testing.T
	env       []string
	dbURL     string
	script    string
	dir       string
	prefix    string
	hospital  string
	sessions  []seedSession
	patients  []seedPatient
	instances []*instance
}

type seedSession struct {
	ID    string `json:"id"`
	Slots int    `json:"slots"`
}

type seedPatient struct{ token, patientID string }

// newStack makes the database, migrates it and seeds `sessions` sessions of
// `slots` slots open for booking now, and `patients` patients, each on an
// account of their own.
func newStack(t *testing.T, sessions, slots, patients int) *stack {
	t.Helper()
	admin := need(t, envDatabase)
	name := "fairslot_fo_" + testenv.Token()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connect to the replicated PostgreSQL through HAProxy: %v", err)
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	conn.Close(ctx)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		for ctx.Err() == nil { // the primary may still be failing over
			conn, err := pgx.Connect(ctx, admin)
			if err == nil {
				_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
				conn.Close(ctx)
				if err == nil {
					return
				}
			}
			time.Sleep(time.Second)
		}
		t.Logf("drop database %s: gave up", name)
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("parse %s: %v", envDatabase, err)
	}
	u.Path = "/" + name
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	s := &stack{t: t, dbURL: u.String(), script: need(t, envScript), dir: t.TempDir(), prefix: "fo" + testenv.Token()}
	s.env = append(os.Environ(),
		// The service's own login (serve refuses the tables' owner);
		// migrate runs as the owner and grants it.
		"FAIRSLOT_DATABASE_URL="+testenv.ServiceURL(t, s.dbURL),
		"FAIRSLOT_MIGRATE_DATABASE_URL="+s.dbURL,
		"FAIRSLOT_REDIS_ADDR="+need(t, envRedis),
		"FAIRSLOT_REDIS_PASSWORD="+os.Getenv(envRedisPassword),
		"FAIRSLOT_REDIS_PREFIX="+s.prefix,
		"FAIRSLOT_SECRET_KEY="+base64.StdEncoding.EncodeToString(key),
		"FAIRSLOT_PASSWORD_ITERATIONS=1000",
	)
	s.fairslot("migrate")
	out := s.loadseed("--out", s.dir, "--patients", fmt.Sprint(patients), "--sessions", fmt.Sprint(sessions),
		"--slots", fmt.Sprint(slots), "--release-at", "-1m")
	t.Logf("%s", strings.TrimSpace(out))
	var sf struct {
		HospitalID string        `json:"hospital_id"`
		Sessions   []seedSession `json:"sessions"`
	}
	b, err := os.ReadFile(filepath.Join(s.dir, "sessions.json"))
	if err == nil {
		err = json.Unmarshal(b, &sf)
	}
	if err != nil || len(sf.Sessions) != sessions {
		t.Fatalf("read sessions.json: %v (%d sessions)", err, len(sf.Sessions))
	}
	s.hospital, s.sessions = sf.HospitalID, sf.Sessions
	f, err := os.Open(filepath.Join(s.dir, "patients.csv"))
	if err != nil {
		t.Fatalf("open patients.csv: %v", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("read patients.csv: %v", err)
	}
	for _, r := range rows[1:] {
		s.patients = append(s.patients, seedPatient{token: r[0], patientID: r[1]})
	}
	return s
}

// fairslot runs a fairslot command to its end and returns its stdout.
func (s *stack) fairslot(args ...string) string {
	s.t.Helper()
	out, err := s.tryFairslot(args...)
	if err != nil {
		s.t.Fatalf("fairslot %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (s *stack) tryFairslot(args ...string) (string, error) {
	return s.command(need(s.t, envBinary), args...)
}

// loadseed runs the load tests' seeding tool (loadtest/loadseed) to its
// end, in the stack's environment, and returns its output.
func (s *stack) loadseed(args ...string) string {
	s.t.Helper()
	out, err := s.command(need(s.t, envLoadseed), args...)
	if err != nil {
		s.t.Fatalf("loadseed %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (s *stack) command(bin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = s.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// cluster runs deploy/cluster/cluster.sh.
func (s *stack) cluster(args ...string) string {
	s.t.Helper()
	cmd := exec.Command(s.script, args...)
	cmd.Env = os.Environ()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		s.t.Fatalf("cluster.sh %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// instance is one `fairslot serve` process.
type instance struct {
	cmd     *exec.Cmd
	api     string
	metrics string
	logs    *testenv.LogBuffer
	done    chan error
}

// serve starts n instances on free loopback ports; they are stopped (SIGTERM,
// a clean exit expected) when the test ends.
func (s *stack) serve(n int, args ...string) {
	s.t.Helper()
	for i := range n {
		in := &instance{logs: &testenv.LogBuffer{}, done: make(chan error, 1)}
		in.cmd = exec.Command(need(s.t, envBinary), append([]string{"serve", "--http-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0",
			"--rate-ip", "1000000-S", "--rate-account", "1000000-S"}, args...)...)
		in.cmd.Env = s.env
		in.cmd.Stderr = in.logs
		stdout, err := in.cmd.StdoutPipe()
		if err != nil {
			s.t.Fatal(err)
		}
		if err := in.cmd.Start(); err != nil {
			s.t.Fatalf("start instance %d: %v", i, err)
		}
		go func() { in.done <- in.cmd.Wait() }()
		sc := bufio.NewScanner(stdout)
		for (in.api == "" || in.metrics == "") && sc.Scan() {
			line := sc.Text()
			if v, ok := strings.CutPrefix(line, "fairslot API:"); ok {
				in.api = strings.TrimSpace(v)
			}
			if v, ok := strings.CutPrefix(line, "fairslot metrics:"); ok {
				in.metrics = strings.TrimSpace(v)
			}
		}
		go func() { _, _ = io.Copy(io.Discard, stdout) }()
		if in.api == "" || in.metrics == "" {
			s.t.Fatalf("instance %d did not start:\n%s", i, in.logs)
		}
		s.instances = append(s.instances, in)
		s.t.Cleanup(func() {
			_ = in.cmd.Process.Signal(os.Interrupt)
			select {
			case err := <-in.done:
				if err != nil {
					s.t.Errorf("instance %d exited with %v\n%s", i, err, in.logs)
				}
			case <-time.After(40 * time.Second):
				_ = in.cmd.Process.Kill()
				s.t.Errorf("instance %d did not stop within 40 s", i)
			}
			if s.t.Failed() {
				s.t.Logf("instance %d log (last 25 lines):\n%s", i, tail(in.logs.String(), 25))
			}
		})
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// metric sums a metric's samples in an instance's /metrics.
func (in *instance) metric(name string) (float64, error) {
	resp, err := http.Get(in.metrics)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var sum float64
	found := false
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+" ") && !strings.HasPrefix(line, name+"{") {
			continue
		}
		var v float64
		if _, err := fmt.Sscan(line[strings.LastIndexByte(line, ' ')+1:], &v); err == nil {
			sum += v
			found = true
		}
	}
	if !found {
		return 0, fmt.Errorf("%s not in %s", name, in.metrics)
	}
	return sum, sc.Err()
}

// attempt is one booking request as the client saw it.
type attempt struct {
	patient  int
	session  string
	key      string    // Idempotency-Key
	at       time.Time // sent
	answered time.Time
	status   int // 0: no answer (connection failed)
	code     string
	booking  string
	instance int
}

// book sends one booking attempt.
func (s *stack) book(client *http.Client, a *attempt) {
	p := s.patients[a.patient]
	body, _ := json.Marshal(map[string]string{"session_id": a.session, "patient_id": p.patientID, "channel": "online"})
	req, _ := http.NewRequest(http.MethodPost, s.instances[a.instance].api+"/v1/bookings", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+p.token)
	req.Header.Set("Idempotency-Key", a.key)
	req.Header.Set("Content-Type", "application/json")
	a.at = time.Now()
	a.status, a.code, a.booking = 0, "", ""
	resp, err := client.Do(req)
	a.answered = time.Now()
	if err != nil {
		a.code = "no_answer"
		return
	}
	defer resp.Body.Close()
	a.status = resp.StatusCode
	var out struct {
		BookingID string `json:"booking_id"`
		Error     struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	a.booking, a.code = out.BookingID, out.Error.Code
}

// burst is a paced stream of booking attempts, each by a patient of its
// own, spread over the sessions and the instances.
type burst struct {
	s        *stack
	client   *http.Client
	mu       sync.Mutex
	attempts []*attempt
	next     atomic.Int64
}

func newBurst(s *stack) *burst {
	return &burst{s: s, client: &http.Client{Timeout: 15 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}}}
}

// run sends `rate` attempts a second from `workers` goroutines until ctx
// ends or the patients run out.
func (b *burst) run(ctx context.Context, rate, workers int) {
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	work := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				a := &attempt{patient: i, session: b.s.sessions[i%len(b.s.sessions)].ID, key: testenv.Token() + testenv.Token(),
					instance: i % len(b.s.instances)}
				b.s.book(b.client, a)
				b.mu.Lock()
				b.attempts = append(b.attempts, a)
				b.mu.Unlock()
			}
		}()
	}
	defer wg.Wait()
	defer close(work)
	for {
		i := int(b.next.Add(1) - 1)
		if i >= len(b.s.patients) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		select {
		case <-ctx.Done():
			return
		case work <- i:
		}
	}
}

// settle repeats, with the same Idempotency-Key, every attempt whose
// outcome the client does not know (no answer, 503, 409 request_in_progress)
// until it has one, as a careful client would. A booking whose commit
// outcome was unknown is found by the read-back or the sweeper and answered
// with its 201; one that never committed is released and booked afresh or
// refused.
func (b *burst) settle(t *testing.T, within time.Duration) {
	deadline := time.Now().Add(within)
	for {
		var open []*attempt
		for _, a := range b.attempts {
			if unknown(a) {
				open = append(open, a)
			}
		}
		if len(open) == 0 {
			return
		}
		if time.Now().After(deadline) {
			codes := map[string]int{}
			for _, a := range open {
				codes[fmt.Sprintf("%d %s", a.status, a.code)]++
			}
			t.Fatalf("%d attempts still without a definite answer after %s of retries: %v", len(open), within, codes)
		}
		var wg sync.WaitGroup
		sem := make(chan struct{}, 16)
		for _, a := range open {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				b.s.book(b.client, a)
			}()
		}
		wg.Wait()
		time.Sleep(time.Second)
	}
}

func unknown(a *attempt) bool {
	return a.status == 0 || a.status == http.StatusServiceUnavailable || a.status >= 500 ||
		a.status == http.StatusConflict && a.code == "request_in_progress"
}

// summary counts outcomes by "status code".
func summary(as []*attempt) map[string]int {
	out := map[string]int{}
	for _, a := range as {
		k := fmt.Sprint(a.status)
		if a.code != "" {
			k += " " + a.code
		}
		out[k]++
	}
	return out
}

// outage is the longest time without a 201 answer, from `from` until the
// last 201: how long bookings stopped. Answers to attempts sent before the
// failure count too (a commit that completed meanwhile is a booking taken).
func outage(as []*attempt, from time.Time) (time.Duration, bool) {
	var times []time.Time
	for _, a := range as {
		if a.status == http.StatusCreated && a.answered.After(from) {
			times = append(times, a.answered)
		}
	}
	if len(times) == 0 {
		return 0, false
	}
	slices.SortFunc(times, time.Time.Compare)
	longest, prev := time.Duration(0), from
	for _, t := range times {
		longest = max(longest, t.Sub(prev))
		prev = t
	}
	return longest, true
}

// resumed reports a 201 answered to an attempt sent after `from`.
func resumed(as []*attempt, from time.Time) bool {
	for _, a := range as {
		if a.status == http.StatusCreated && a.at.After(from) {
			return true
		}
	}
	return false
}

// verify checks the invariants in SQL against what the clients were told:
// every 201 is a confirmed booking of that patient and session, every
// confirmed booking was answered 201 to its client, no slot is booked twice
// and no session holds more bookings than slots; then that Redis agrees
// with SQL (`fairslot reconcile --check`), waiting up to `within` for the
// sweeper to settle holds whose commit outcome was unknown.
func (s *stack) verify(b *burst, within time.Duration) {
	t := s.t
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.dbURL)
	if err != nil {
		t.Fatalf("connect to the new primary: %v", err)
	}
	defer conn.Close(ctx)
	type row struct{ session, patient, status string }
	inSQL := map[string]row{}
	rows, err := conn.Query(ctx, `SELECT id::TEXT, session_id::TEXT, patient_id::TEXT, status FROM bookings`)
	if err != nil {
		t.Fatalf("read bookings: %v", err)
	}
	for rows.Next() {
		var id string
		var r row
		if err := rows.Scan(&id, &r.session, &r.patient, &r.status); err != nil {
			t.Fatalf("scan: %v", err)
		}
		inSQL[id] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read bookings: %v", err)
	}
	told := map[string]bool{}
	for _, a := range b.attempts {
		if a.status != http.StatusCreated {
			continue
		}
		told[a.booking] = true
		r, ok := inSQL[a.booking]
		switch {
		case !ok:
			t.Errorf("LOST: booking %s was answered 201 but is not in SQL on the new primary", a.booking)
		case r.status != "confirmed" || r.session != a.session || r.patient != s.patients[a.patient].patientID:
			t.Errorf("booking %s answered 201 for session %s, patient %s; SQL has %+v", a.booking, a.session, s.patients[a.patient].patientID, r)
		}
	}
	for id, r := range inSQL {
		if r.status == "confirmed" && !told[id] {
			t.Errorf("booking %s is confirmed in SQL but its client was never told (no 201 after retrying)", id)
		}
	}
	var doubles, over int
	err = conn.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM (SELECT 1 FROM bookings WHERE status IN ('confirmed','checked_in')
		  GROUP BY session_id, slot_no HAVING count(*) > 1) d),
		(SELECT count(*) FROM (SELECT 1 FROM bookings b JOIN session_channels c ON c.session_id = b.session_id AND c.channel = b.channel
		  WHERE b.status IN ('confirmed','checked_in') GROUP BY b.session_id, b.channel, c.quota HAVING count(*) > c.quota) o)`).Scan(&doubles, &over)
	if err != nil {
		t.Fatalf("check oversell: %v", err)
	}
	if doubles != 0 || over != 0 {
		t.Errorf("OVERSOLD: %d slots booked twice, %d pools with more bookings than slots", doubles, over)
	}
	t.Logf("%d confirmed bookings in SQL, %d answered 201", len(told), len(told))

	deadline := time.Now().Add(within)
	for {
		out, err := s.tryFairslot("reconcile", "--check")
		if err == nil {
			t.Logf("reconcile --check: %s", tail(out, 1))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Redis and SQL still disagree %s after the burst:\n%s", within, tail(out, 20))
		}
		time.Sleep(2 * time.Second)
	}
}

// must fails on err.
func must(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// snapshot copies the attempts so far.
func (b *burst) snapshot() []*attempt {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]*attempt, len(b.attempts))
	for i, a := range b.attempts {
		c := *a
		out[i] = &c
	}
	return out
}

// waitFor polls cond every 200 ms for up to d and returns when it held.
func waitFor(d time.Duration, cond func() bool) (time.Time, bool) {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return time.Now(), true
		}
		if time.Now().After(deadline) {
			return time.Time{}, false
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// runScript runs cluster.sh without failing the test.
func runScript(script string, args ...string) (string, error) {
	out, err := exec.Command(script, args...).Output()
	return strings.TrimSpace(string(out)), err
}
