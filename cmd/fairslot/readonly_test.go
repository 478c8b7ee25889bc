package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"fairslot/internal/testenv"
)

// TestReadOnlyDatabaseEndToEnd (review18a H1): the database is made
// read-only and the service's backends are ended, as an operator does on a
// full disk. /readyz says so (it said ready while every booking failed);
// once the database takes writes again, bookings succeed at once, with no
// restart (they kept failing for minutes, on the warm pool's connections
// opened meanwhile, until both instances were restarted).
func TestReadOnlyDatabaseEndToEnd(t *testing.T) {
	const after = 12
	sch := schedule(t, time.Now().Add(-time.Minute), after+4)
	sess := sch.Sessions[0]
	svc := startService(t, sch, nil)
	ps := make([]patient, after+2)
	for i := range ps {
		ps[i] = svc.newPatient(i + 1)
	}
	book := func(p patient, key string) reply {
		return svc.do("POST", "/v1/bookings", p.token, map[string]string{"session_id": sess.ID, "patient_id": p.patientID},
			"Idempotency-Key", key)
	}
	if r := book(ps[0], "before"); r.status != 201 {
		t.Fatalf("book before = %d %s", r.status, r.body)
	}

	ctx := context.Background()
	ownerURL := svc.env["FAIRSLOT_MIGRATE_DATABASE_URL"]
	u, err := url.Parse(ownerURL)
	testenv.Must(t, err, "parse url")
	name := strings.TrimPrefix(u.Path, "/")
	op, err := pgx.Connect(ctx, ownerURL) // the operator's psql session
	testenv.Must(t, err, "connect as the operator")
	defer op.Close(ctx)
	_, err = op.Exec(ctx, "ALTER DATABASE "+name+" SET default_transaction_read_only = on")
	testenv.Must(t, err, "make the database read-only")
	t.Cleanup(func() {
		_, _ = op.Exec(context.Background(), "ALTER DATABASE "+name+" RESET default_transaction_read_only")
	})
	_, err = op.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND usename = $2", name, testenv.ServiceLogin)
	testenv.Must(t, err, "end the service's backends")

	for i := range 3 {
		if r := book(ps[1], fmt.Sprintf("during-%d", i)); r.status != 503 || r.code != "unavailable" {
			t.Errorf("attempt %d on a read-only database = %d %s, want 503 unavailable", i, r.status, r.body)
		}
	}
	// readyz asks whether SQL takes writes at most once a second: within
	// 10 s (ten of its periods on a busy machine) it must say so.
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := svc.do("GET", "/readyz", "", nil)
		if r.status == 503 && strings.Contains(string(r.body), "refuses writes") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz on a read-only database = %d %s, want 503 saying it refuses writes", r.status, r.body)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The operator's session opened read-only too: off first, then reset.
	for _, s := range []string{"SET default_transaction_read_only = off", "ALTER DATABASE " + name + " RESET default_transaction_read_only"} {
		_, err := op.Exec(ctx, s)
		testenv.Must(t, err, "%s", s)
	}
	// At most the first attempts (one per connection opened while
	// read-only, usually one) fail; then every one succeeds.
	var statuses []int
	for i := range after {
		statuses = append(statuses, book(ps[2+i], "after").status)
	}
	t.Logf("booking answers after the database took writes again: %v", statuses)
	first := -1
	for i, st := range statuses {
		if st == 201 && first < 0 {
			first = i
		}
		if first >= 0 && st != 201 {
			first = -2
			break
		}
	}
	if first < 0 || first > 3 {
		t.Errorf("bookings after the database took writes again: %v, want 201 from the first few on", statuses)
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		r := svc.do("GET", "/readyz", "", nil)
		if r.status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz after the database took writes again = %d %s, want 200", r.status, r.body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
