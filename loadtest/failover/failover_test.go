//go:build cluster

package failover

import (
	"context"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The instances' settings in both tests: a short hold, so the sweeper
// settles holds whose commit outcome was unknown within the test; a sweep
// every second.
var serveArgs = []string{"--hold-for", "20s", "--commit-timeout", "5s", "--sweep-every", "1s"}

// Bounds stated in docs/operations.md, with room for a loaded 2-core machine:
// the measured times are logged.
const (
	pgResumeBound    = 45 * time.Second // Patroni's ttl is 10 s
	redisResumeBound = 30 * time.Second // cluster-node-timeout is 2 s
)

// TestPostgresFailoverMidBurst kills the PostgreSQL primary (its Patroni and
// its postmaster, as a machine's death would) while two instances take
// bookings. The synchronous standby is promoted; every 201 a client saw is
// on it, nothing is oversold, bookings resume, and attempts whose outcome
// was unknown get their true answer when the client repeats them.
func TestPostgresFailoverMidBurst(t *testing.T) {
	s := newStack(t, 20, 200, 6000)
	s.serve(2, serveArgs...)
	before := s.cluster("leader")
	b := newBurst(s)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); b.run(ctx, 120, 32) }()

	time.Sleep(4 * time.Second)
	killed := time.Now()
	node := s.cluster("crash-pg-leader")
	dead := time.Now()                              // the script has returned: the processes are gone
	t.Cleanup(func() { s.cluster("start", "sql") }) // the node rejoins as a standby
	if node != before {
		t.Fatalf("killed %s, but the leader was %s", node, before)
	}
	promoted, ok := waitFor(60*time.Second, func() bool {
		out, err := runScript(s.script, "leader")
		return err == nil && out != "" && out != node
	})
	if !ok {
		t.Fatalf("no new PostgreSQL leader within 60 s of killing %s", node)
	}
	_, ok = waitFor(pgResumeBound, func() bool { return resumed(b.snapshot(), promoted) })
	time.Sleep(5 * time.Second) // bookings go on after the failover
	cancel()
	<-done
	if !ok {
		t.Fatalf("no booking confirmed within %s of killing the primary; outcomes: %v", pgResumeBound, summary(b.snapshot()))
	}
	gap, _ := outage(b.attempts, killed)
	t.Logf("killed %s: new leader after %.1fs; bookings stopped for %.1fs (the longest time without a 201); %d attempts: %v",
		node, promoted.Sub(killed).Seconds(), gap.Seconds(), len(b.attempts), summary(b.attempts))
	if gap > pgResumeBound {
		t.Errorf("bookings stopped for %s, want at most %s", gap, pgResumeBound)
	}
	unknownFirst := 0
	var inFlight []*attempt // sent before the primary was gone, answered after: their commits may have been cut
	for _, a := range b.attempts {
		if unknown(a) {
			unknownFirst++
		}
		if a.at.Before(dead) && a.answered.After(dead) {
			inFlight = append(inFlight, a)
		}
	}
	first := summary(inFlight)

	b.settle(t, 90*time.Second)
	t.Logf("%d attempts had no definite answer at first; after repeating them with their Idempotency-Key: %v", unknownFirst, summary(b.attempts))
	t.Logf("%d attempts were in flight when the primary died: first answers %v, final %v", len(inFlight), first, summary(inFlight))
	s.verify(b, 60*time.Second)
}

// TestRedisFailoverMidBurst kills the Redis master of the hospital's hash
// slot while two instances take bookings, after cutting its replica off for a
// moment so the replica misses the last holds (replication is
// asynchronous): the replica takes over without them. SQL's unique indexes
// refuse the slots Redis hands out twice, no confirmation is lost, the
// instances see the new master and reconcile the hospital, and bookings
// resume.
func TestRedisFailoverMidBurst(t *testing.T) {
	s := newStack(t, 20, 200, 6000)
	s.serve(2, serveArgs...)
	ctx := context.Background()
	addrs := strings.Split(os.Getenv(envRedis), ",")
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, Password: os.Getenv(envRedisPassword)})
	defer rdb.Close()
	master, err := rdb.MasterForKey(ctx, s.prefix+":{"+s.hospital+"}:pending")
	must(t, err, "master of the hospital's slot")
	masterID, err := master.Do(ctx, "CLUSTER", "MYID").Text()
	must(t, err, "cluster myid")
	lines, err := master.Do(ctx, "CLUSTER", "REPLICAS", masterID).StringSlice()
	must(t, err, "cluster replicas")
	if len(lines) != 1 {
		t.Fatalf("master %s has %d replicas, want 1: %q", master.Options().Addr, len(lines), lines)
	}
	replicaAddr, _, _ := strings.Cut(strings.Fields(lines[0])[1], "@")
	replica := redis.NewClient(&redis.Options{Addr: replicaAddr, Password: os.Getenv(envRedisPassword)})
	defer replica.Close()
	masterPID, replicaPID := pidOf(t, master), pidOf(t, replica)

	b := newBurst(s)
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); b.run(bctx, 120, 32) }()
	time.Sleep(4 * time.Second)

	// The replica misses 1.5 s of writes, then the master dies: the replica
	// is paused and the master drops its link, so what the master accepts
	// meanwhile reaches no copy (a paused replica alone would still read
	// what its kernel had buffered).
	must(t, syscall.Kill(replicaPID, syscall.SIGSTOP), "pause the replica")
	must(t, master.Do(ctx, "CLIENT", "KILL", "TYPE", "replica").Err(), "drop the replication link")
	time.Sleep(1500 * time.Millisecond)
	killed := time.Now()
	must(t, syscall.Kill(masterPID, syscall.SIGKILL), "kill the master")
	must(t, syscall.Kill(replicaPID, syscall.SIGCONT), "resume the replica")
	t.Cleanup(func() { s.cluster("start", "redis") }) // the old master rejoins as a replica

	promoted, ok := waitFor(30*time.Second, func() bool {
		role, err := replica.Do(ctx, "ROLE").Slice()
		return err == nil && len(role) > 0 && role[0] == "master"
	})
	if !ok {
		t.Fatalf("replica %s was not promoted within 30 s", replicaAddr)
	}
	reconciled, ok := waitFor(redisResumeBound, func() bool {
		for _, in := range s.instances {
			if n, err := in.metric("fairslot_redis_failover_reconciles_total"); err != nil || n < 1 {
				return false
			}
		}
		return true
	})
	if !ok {
		t.Errorf("the instances did not reconcile the hospital within %s of the failover", redisResumeBound)
	}
	_, ok = waitFor(redisResumeBound, func() bool { return resumed(b.snapshot(), promoted) })
	time.Sleep(5 * time.Second)
	cancel()
	<-done
	if !ok {
		t.Fatalf("no booking confirmed within %s of the promotion; outcomes: %v", redisResumeBound, summary(b.snapshot()))
	}
	gap, _ := outage(b.attempts, killed)
	var drift float64
	for _, in := range s.instances {
		n, err := in.metric("fairslot_admission_drift_total")
		must(t, err, "drift metric")
		drift += n
	}
	t.Logf("killed master %s (replica %s cut off 1.5 s before): promoted after %.1fs, hospital reconciled by both instances after %.1fs; bookings stopped for %.1fs (the longest time without a 201); %.0f commits refused by SQL as drift; %d attempts: %v",
		master.Options().Addr, replicaAddr, promoted.Sub(killed).Seconds(), reconciled.Sub(killed).Seconds(), gap.Seconds(),
		drift, len(b.attempts), summary(b.attempts))
	if gap > redisResumeBound {
		t.Errorf("bookings stopped for %s, want at most %s", gap, redisResumeBound)
	}

	b.settle(t, 90*time.Second)
	t.Logf("after repeating the attempts without a definite answer: %v", summary(b.attempts))
	s.verify(b, 60*time.Second)
}

// pidOf reads a Redis server's process id from INFO.
func pidOf(t *testing.T, c *redis.Client) int {
	t.Helper()
	info, err := c.Info(context.Background(), "server").Result()
	must(t, err, "info server of "+c.Options().Addr)
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
			pid, err := strconv.Atoi(v)
			must(t, err, "process_id")
			return pid
		}
	}
	t.Fatalf("no process_id in INFO of %s", c.Options().Addr)
	return 0
}
