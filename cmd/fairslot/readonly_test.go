package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"fairslot/internal/booking"
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

// TestSQLDownSoldOutIsUnavailable (review18a M2): SQL goes down (a dead
// link: statements hang) while patients book. The first attempt is admitted
// and its hold waits on a commit that cannot happen; a second patient's
// attempt finds the pool empty of that pending hold. It used to be told
// 409 sold_out (and the fast reject memo repeated it) though the slot was
// free; once this instance knows SQL cannot take writes (its write probe,
// a failed commit) it is 503 unavailable with Retry-After, every time. When
// SQL is back the hold is settled and the second patient books.
func TestSQLDownSoldOutIsUnavailable(t *testing.T) {
	admin := freeAddr(t)
	sch := schedule(t, time.Now().Add(-time.Minute), 1)
	sess := sch.Sessions[0]
	var link *testenv.Outage
	svc := startServiceVia(t, sch, map[string]string{
		"FAIRSLOT_ADMIN_ADDR": admin,
		// Short, so the outage's holds settle within the test: a commit
		// gives up after 1 s, the sweeper settles a hold 4 s on.
		"FAIRSLOT_COMMIT_TIMEOUT": "1s", "FAIRSLOT_HOLD_FOR": "4s", "FAIRSLOT_SWEEP_EVERY": "1s",
	}, func(dbURL string) string {
		u, err := url.Parse(dbURL)
		testenv.Must(t, err, "parse url")
		link = testenv.NewOutage(t, u.Host)
		return link.Via(t, dbURL)
	})
	first, second := svc.newPatient(1), svc.newPatient(2)
	book := func(p patient) reply {
		return svc.do("POST", "/v1/bookings", p.token, map[string]string{"session_id": sess.ID, "patient_id": p.patientID})
	}
	failing := func() float64 {
		for _, l := range strings.Split(string(svc.scrapeText(admin)), "\n") {
			if v, ok := strings.CutPrefix(l, "fairslot_sql_writes_failing "); ok {
				f, err := strconv.ParseFloat(v, 64)
				testenv.Must(t, err, "parse %q", v)
				return f
			}
		}
		t.Fatal("no fairslot_sql_writes_failing in /metrics")
		return 0
	}
	if f := failing(); f != 0 {
		t.Fatalf("fairslot_sql_writes_failing before the outage = %v, want 0", f)
	}

	link.Down()
	firstDone := make(chan reply, 1)
	go func() { firstDone <- book(first) }()
	poll(t, "the first attempt holds the only slot", func() bool { return svc.remaining(sess) == 0 })
	poll(t, "the instance knows SQL cannot take writes", func() bool { return failing() == 1 })

	for i := range 3 {
		r := book(second)
		if r.status != 503 || r.code != "unavailable" {
			t.Errorf("attempt %d on a session whose only slot is held by a failing commit = %d %s, want 503 unavailable (not sold_out)", i, r.status, r.body)
		}
		if ra := r.header.Get("Retry-After"); ra == "" {
			t.Errorf("attempt %d: 503 without Retry-After", i)
		}
	}
	if r := <-firstDone; r.status != 503 {
		t.Errorf("the first attempt, whose commit could not happen = %d %s, want 503", r.status, r.body)
	}

	link.Back()
	var statuses []int
	poll(t, "the second patient books once SQL is back", func() bool {
		r := book(second)
		statuses = append(statuses, r.status)
		return r.status == 201
	})
	t.Logf("the second patient's answers once SQL was back: %v", statuses)
	if slices.Contains(statuses, 409) {
		t.Errorf("answers once SQL was back: %v, want no 409 (the slot was free)", statuses)
	}
	poll(t, "the instance knows SQL takes writes again", func() bool { return failing() == 0 })
}

// scrapeText is the text of the admin address's /metrics.
func (s *service) scrapeText(admin string) []byte {
	s.t.Helper()
	resp, err := http.Get("http://" + admin + "/metrics")
	testenv.Must(s.t, err, "scrape")
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	testenv.Must(s.t, err, "read /metrics")
	return b
}

// remaining is what the schedule shows left in sess's online pool.
func (s *service) remaining(sess booking.Session) int {
	s.t.Helper()
	var ss []struct {
		ID       string        `json:"session_id"`
		Channels []channelView `json:"channels"`
	}
	s.do("GET", "/v1/hospitals/"+sess.HospitalID+"/sessions", "", nil).decode(s.t, &ss)
	for _, x := range ss {
		for _, c := range x.Channels {
			if x.ID == sess.ID && c.Channel == "online" {
				return c.Remaining
			}
		}
	}
	s.t.Fatalf("sessions = %+v, want %s's online pool", ss, sess.ID)
	return 0
}
