package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fairslot/internal/testenv"
)

// TestFaultSubset runs a bounded part of the fault table as an ordinary
// test: the real binary, a private redis-server (it is killed), the shared
// test PostgreSQL through the suite's proxy (only the proxy's connections
// are cut), 200 attempts at 40/s per fault. It asserts the invariants, and
// no timing but one generous bound per fault (below, with its reason).
//
// `make test-faults` runs the whole table, on a private PostgreSQL too.
func TestFaultSubset(t *testing.T) {
	admin := os.Getenv(testenv.DatabaseURLEnv)
	if admin == "" {
		t.Fatalf("%s is not set: run the tests with `make test`", testenv.DatabaseURLEnv)
	}
	root, err := filepath.Abs("../..")
	testenv.Must(t, err, "module root")
	s, err := NewSuite(t.Context(), Config{Root: root, Dir: t.TempDir(), AdminURL: admin,
		// The test's own ports, apart from the full run's (15500, 16500,
		// 15510), so both may run at once.
		PGPort: 15550, RedisPort: 16550, HTTPPort: 15560,
		Attempts: 200, Rate: 40, Patients: 60, Log: testLog{t}})
	testenv.Must(t, err, "start the fault suite")
	t.Cleanup(s.Close)

	// recoveryBound: bookings must succeed again within 10 s of the fault's
	// end. What each fault needs, on an idle machine, is well under a
	// second: after Redis restarts empty the heal job (every 1 s) or the
	// first refused attempt reloads nine sessions in milliseconds; with one
	// of two instances dead, the client's next retry (≤ 1 s backoff) goes
	// to the other; after a reset, pgx dials a new connection on the next
	// query. Ten seconds leaves a busy two-core machine running the race
	// detector ten times that.
	const recoveryBound = 10.0
	want := map[string]bool{"Redis restarted empty": true, "one of two instances kill -9": true, "SQL connections reset": true}
	for _, f := range faultTable() {
		if !want[f.Name] {
			continue
		}
		t.Run(f.Name, func(t *testing.T) {
			row, err := s.Run(t.Context(), f)
			testenv.Must(t, err, "run %s", f.Name)
			t.Logf("%d attempts, %d requests, %d 201s, %d hand-overs, recovery %.2f s; answers %v; in the outage %v",
				row.Attempts, row.Requests, row.Confirmed, row.Promoted, row.Recovery, row.Answers, row.Outage)
			if !row.OK() {
				t.Errorf("lost %d, oversold %d, double %d, Redis ≠ SQL %d, 404s %d, recovery %.2f s; want all 0 and a recovery:\n%s",
					row.Lost, row.Oversold, row.Double, row.Drift, row.NotFound, row.Recovery, strings.Join(row.Problems, "\n"))
			}
			if row.Recovery > recoveryBound {
				t.Errorf("bookings succeeded again %.2f s after the fault ended, want within %.0f s", row.Recovery, recoveryBound)
			}
			if row.Confirmed == 0 {
				t.Error("no booking was confirmed: the load did not run")
			}
			if f.Name == "Redis restarted empty" {
				// In between, every booking answer is 503 (or, while Redis
				// is down, no answer at all): never a 404 or a refusal
				// judged on an empty state.
				for a, n := range row.Outage {
					if a != "503 unavailable" && a != "0" {
						t.Errorf("%d answers %q between the fault and the recovery, want only 503 unavailable", n, a)
					}
				}
			}
		})
	}
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
