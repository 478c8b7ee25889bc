package booking

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"time"
)

// Leases let several instances agree which one runs a background job: a
// lease names a job, its holder and when it expires, by the store's clock
// (so the instances' own clocks need not agree). The jobs stay idempotent
// (two runs at a handover change nothing twice); the lease keeps N instances
// from doing N times the work every period — the detector over a month of
// events, the no-show marking, the sweeper's reads — and keeps the periods
// regular whatever the number of instances.
type Leases interface {
	// Claim takes the lease of job for holder, or renews it when holder
	// already has it, until ttl from now. It reports whether holder holds
	// the lease now; false means another holder's lease has not expired.
	Claim(ctx context.Context, job, holder string, ttl time.Duration) (bool, error)
	// Release gives the lease up if holder has it, so another instance may
	// claim it at once (a clean shutdown).
	Release(ctx context.Context, job, holder string) error
}

// JobLease decides, at each tick of a periodic job, whether this instance
// runs it: it claims (or renews) the job's lease for LeaseTTL(every).
// A holder that stops (crash, shutdown without Release) is replaced after
// its lease expires, at the next tick of another instance: a gap of at most
// LeaseTTL(every) + every.
type JobLease struct {
	Leases Leases
	Holder string // this instance, from NewHolderID
	Log    *slog.Logger
}

// Due claims or renews job's lease and reports whether this instance should
// run the job now. A store that cannot answer is an error: the job cannot
// run here, and may not run anywhere (review18a: a read-only database made
// the notify job stop on every instance while its failures stayed at 0);
// RunJobs counts it as a failed run.
func (l JobLease) Due(ctx context.Context, job string, every time.Duration) (bool, error) {
	ok, err := l.Leases.Claim(ctx, job, l.Holder, LeaseTTL(every))
	if err != nil {
		return false, fmt.Errorf("claim the job's lease: %w", err)
	}
	return ok, nil
}

// Release gives up the leases of jobs this instance holds, at shutdown.
func (l JobLease) Release(ctx context.Context, jobs ...string) {
	for _, job := range jobs {
		if err := l.Leases.Release(ctx, job, l.Holder); err != nil && l.Log != nil {
			l.Log.Warn("release job lease", "job", job, "err", err)
		}
	}
}

// LeaseTTL is how long a claim at one tick lasts: past the next tick, with
// room for a slow run and for the ticker's drift, so the holder renews it
// before anyone else may take it.
func LeaseTTL(every time.Duration) time.Duration {
	return max(2*every, every+10*time.Second)
}

// NewHolderID names this process among the instances: host, pid and a
// random suffix (a restarted process with the same pid is another holder).
func NewHolderID() string {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}
