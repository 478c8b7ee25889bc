package cockroach_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/cockroach"
	"fairslot/internal/testenv"
)

// twoInstances opens two pools on one migrated database, as two fairslot
// instances would.
func twoInstances(t *testing.T) (a, b *cockroach.Leases, db *cockroach.DB) {
	t.Helper()
	ctx := t.Context()
	url := testenv.DatabaseURL(t)
	var dbs [2]*cockroach.DB
	for i := range dbs {
		var err error
		dbs[i], err = cockroach.Open(ctx, url, nil)
		testenv.Must(t, err, "open instance %d", i)
		t.Cleanup(dbs[i].Close)
	}
	_, err := dbs[0].Migrate(ctx)
	testenv.Must(t, err, "migrate")
	return cockroach.NewLeases(dbs[0]), cockroach.NewLeases(dbs[1]), dbs[0]
}

func TestLeaseClaimRenewRelease(t *testing.T) {
	ctx := t.Context()
	a, b, db := twoInstances(t)
	claim := func(l *cockroach.Leases, holder string, want bool, step string) {
		t.Helper()
		got, err := l.Claim(ctx, "sweeper", holder, time.Hour)
		testenv.Must(t, err, "%s: claim", step)
		if got != want {
			t.Fatalf("%s: claim by %s = %v, want %v", step, holder, got, want)
		}
	}
	claim(a, "A", true, "free lease")
	claim(b, "B", false, "held by A")
	claim(a, "A", true, "renewal by its holder")
	claim(b, "B", false, "still held by A")

	testenv.Must(t, b.Release(ctx, "sweeper", "B"), "release by a non-holder")
	claim(b, "B", false, "a non-holder's release changes nothing")
	testenv.Must(t, a.Release(ctx, "sweeper", "A"), "release by the holder")
	claim(b, "B", true, "released lease")
	claim(a, "A", false, "held by B")

	// A holder that stopped renewing: its lease expires by the database's
	// clock, and the other instance takes it.
	_, err := db.Pool().Exec(ctx, `UPDATE job_leases SET expires_at = now() - INTERVAL '1 second' WHERE job = 'sweeper'`)
	testenv.Must(t, err, "expire B's lease")
	claim(a, "A", true, "expired lease")
	claim(b, "B", false, "taken over by A")

	// Each job has its own lease.
	got, err := b.Claim(ctx, "detect", "B", time.Hour)
	testenv.Must(t, err, "claim another job")
	if !got {
		t.Fatalf("claim of job detect by B = false, want true (sweeper's lease must not cover it)")
	}

	var acquired, expires time.Time
	testenv.Must(t, db.Pool().QueryRow(ctx, `SELECT acquired_at, expires_at FROM job_leases WHERE job = 'detect'`).Scan(&acquired, &expires), "read lease")
	if d := expires.Sub(acquired); d < 59*time.Minute || d > 61*time.Minute {
		t.Errorf("lease lasts %s, want the claimed hour", d)
	}
	if _, err := a.Claim(ctx, "detect", "A", 0); err == nil {
		t.Errorf("claim with ttl 0: no error, want one")
	}
}

// Two instances claim the same lease at the same moment, round after round:
// exactly one wins each round, and every round's job runs exactly once.
func TestLeaseTwoInstancesRace(t *testing.T) {
	ctx := t.Context()
	a, b, _ := twoInstances(t)
	const rounds = 60
	runs := make([]int, rounds)
	winners := make([][]string, rounds)
	var mu sync.Mutex
	for r := range rounds {
		job := fmt.Sprintf("job-%d", r)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for _, inst := range []struct {
			l      *cockroach.Leases
			holder string
		}{{a, "A"}, {b, "B"}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				ok, err := inst.l.Claim(ctx, job, inst.holder, time.Hour)
				if err != nil {
					t.Errorf("round %d: claim by %s: %v", r, inst.holder, err)
					return
				}
				if ok {
					mu.Lock()
					runs[r]++
					winners[r] = append(winners[r], inst.holder)
					mu.Unlock()
				}
			}()
		}
		close(start)
		wg.Wait()
	}
	won := map[string]int{}
	for r := range rounds {
		if runs[r] != 1 {
			t.Errorf("round %d: the job ran %d times (%v), want exactly once", r, runs[r], winners[r])
			continue
		}
		won[winners[r][0]]++
	}
	t.Logf("rounds won: %v", won)
}

// JobLease over two instances' leases: each tick of a periodic job runs it
// on one instance only, the holder keeps it while it ticks, and when the
// holder stops the other takes over once the lease has expired.
func TestJobLeaseOncePerTick(t *testing.T) {
	ctx := t.Context()
	a, b, db := twoInstances(t)
	ia := booking.JobLease{Leases: a, Holder: "A"}
	ib := booking.JobLease{Leases: b, Holder: "B"}
	const every = 5 * time.Second
	ran := map[string]int{}
	for tick := range 20 {
		// Both instances tick; the order alternates, as it would.
		first, second := ia, ib
		if tick%2 == 1 {
			first, second = ib, ia
		}
		for _, inst := range []booking.JobLease{first, second} {
			if due(t, inst, "sweeper", every) {
				ran[inst.Holder]++
			}
		}
	}
	if ran["A"]+ran["B"] != 20 || ran["A"] != 20 && ran["B"] != 20 {
		t.Fatalf("runs over 20 ticks = %v, want 20 by the first holder alone", ran)
	}
	holder := "A"
	if ran["B"] == 20 {
		holder = "B"
	}
	other := map[string]booking.JobLease{"A": ib, "B": ia}[holder]

	// The holder stops; until its lease expires nobody else runs the job.
	if due(t, other, "sweeper", every) {
		t.Fatalf("%s ran the job while %s's lease was live", other.Holder, holder)
	}
	_, err := db.Pool().Exec(ctx, `UPDATE job_leases SET expires_at = now() - INTERVAL '1 millisecond' WHERE job = 'sweeper'`)
	testenv.Must(t, err, "expire the lease")
	if !due(t, other, "sweeper", every) {
		t.Fatalf("%s did not take over the expired lease", other.Holder)
	}

	// A clean shutdown hands over at once.
	other.Release(context.WithoutCancel(ctx), "sweeper")
	back := map[string]booking.JobLease{"A": ia, "B": ib}[holder]
	if !due(t, back, "sweeper", every) {
		t.Fatalf("%s could not claim a released lease", back.Holder)
	}
}

// TestJobLoopsOnTwoInstances: two instances' job loops (booking.RunJobs)
// over one database. An exclusive job runs on one of them only, a
// per-instance job on both; when the holder's loop stops it gives its lease
// back, and the other instance takes the job over at its next tick rather
// than after the lease's 10 s.
func TestJobLoopsOnTwoInstances(t *testing.T) {
	a, b, _ := twoInstances(t)
	const every = 20 * time.Millisecond
	type counts struct{ exclusive, each atomic.Int64 }
	var ran [2]counts
	jobs := func(c *counts) []booking.Job {
		return []booking.Job{
			{Name: "detect", Every: every, Exclusive: true,
				Run: func(context.Context) error { c.exclusive.Add(1); return nil }},
			{Name: "sweep", Every: every, Run: func(context.Context) error { c.each.Add(1); return nil }},
		}
	}
	quiet := slog.New(slog.DiscardHandler)
	var ctxs [2]context.Context
	var stops [2]context.CancelFunc
	var done [2]chan struct{}
	for i, l := range []*cockroach.Leases{a, b} {
		ctxs[i], stops[i] = context.WithCancel(t.Context())
		done[i] = make(chan struct{})
		lease := booking.JobLease{Leases: l, Holder: fmt.Sprintf("instance-%d", i)}
		go func() {
			defer close(done[i])
			booking.RunJobs(ctxs[i], quiet, lease, nil, jobs(&ran[i]))
		}()
	}
	defer func() {
		for i := range stops {
			stops[i]()
			<-done[i]
		}
	}()
	// The wait bounds a hung test, it is not what the test checks: a
	// machine under load (CI beside other builds) has missed 5 s.
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(every) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 30 s (exclusive runs %d and %d, per-instance %d and %d)", what,
					ran[0].exclusive.Load(), ran[1].exclusive.Load(), ran[0].each.Load(), ran[1].each.Load())
			}
		}
	}
	waitFor("ten exclusive runs and both instances' own job", func() bool {
		return ran[0].exclusive.Load()+ran[1].exclusive.Load() >= 10 && ran[0].each.Load() > 0 && ran[1].each.Load() > 0
	})
	holder := 0
	if ran[1].exclusive.Load() > 0 {
		holder = 1
	}
	other := 1 - holder
	if ran[other].exclusive.Load() != 0 {
		t.Fatalf("the exclusive job ran on both instances: %d and %d times", ran[0].exclusive.Load(), ran[1].exclusive.Load())
	}
	stops[holder]()
	<-done[holder]
	waitFor("the other instance takes the released job over", func() bool { return ran[other].exclusive.Load() > 0 })
}

func TestLeaseTTL(t *testing.T) {
	for _, c := range []struct{ every, want time.Duration }{
		{time.Second, 11 * time.Second},
		{5 * time.Second, 15 * time.Second},
		{time.Minute, 2 * time.Minute},
		{10 * time.Minute, 20 * time.Minute},
	} {
		if got := booking.LeaseTTL(c.every); got != c.want {
			t.Errorf("LeaseTTL(%s) = %s, want %s", c.every, got, c.want)
		}
	}
}

// due is l.Due, which must answer.
func due(t *testing.T, l booking.JobLease, job string, every time.Duration) bool {
	t.Helper()
	ok, err := l.Due(t.Context(), job, every)
	testenv.Must(t, err, "claim the lease of %s", job)
	return ok
}
