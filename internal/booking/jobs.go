package booking

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Background work has an owner, a deadline and a way to be joined
// (STYLE.md habit 14). Three shapes of it:
//
//   - Jobs run periodically, each in its own goroutine with its own ticker
//     and a deadline per run (Service.Run), so a 30-day detection pass
//     never delays the 5 s sweeper; Run returns once every job returned.
//   - Tasks run once, on demand, in the background: a session's
//     reconciliation after drift, a hospital's reload after Redis lost its
//     state. One per key at a time; a request while it runs makes it run
//     once more after (so nothing seen meanwhile is missed), never a pile.
//     Service.Close cancels and joins them.
//   - Follow-up work inside a request that must finish even if the client
//     hangs up (the commit, giving a slot back after a cancellation) runs on
//     Detach: the request's values, none of its cancellation, a timeout.

// Detach returns a context that keeps ctx's values but not its cancellation
// or deadline, with a timeout of its own: for work that must outlive the
// client's request (a commit, the follow-up of a committed change) yet never
// hang.
func Detach(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), timeout)
}

// Job is one periodic background job.
type Job struct {
	Name    string
	Every   time.Duration
	Timeout time.Duration // each run's deadline (Every when zero)
	// Exclusive marks work that one instance at a time is enough for
	// (detection, no-shows, full reconciliation). With a Lease in
	// Background, a run of an exclusive job first takes the job's lease and
	// is skipped while another instance holds it; without one, every
	// instance runs every job, as each job is safe to run concurrently.
	Exclusive bool
	Run       func(ctx context.Context) error
}

// RunTimeout is the deadline of each run: Timeout, or Every when zero.
func (j Job) RunTimeout() time.Duration {
	if j.Timeout > 0 {
		return j.Timeout
	}
	return j.Every
}

// Lease lets one instance at a time run an exclusive job, across instances:
// JobLease over the store's job_leases (lease.go). At each tick the
// instance claims or renews the job's lease and runs the job only if it
// holds it; a holder that dies is replaced once its lease expires.
type Lease interface {
	// Due claims or renews job's lease and reports whether this instance
	// runs the job now; an error (the claim could not be made) is a failed
	// run.
	Due(ctx context.Context, job string, every time.Duration) (bool, error)
	// Release gives up the leases of jobs this instance holds.
	Release(ctx context.Context, jobs ...string)
}

var _ Lease = JobLease{}

// leaseReleaseTimeout bounds giving the leases back at shutdown.
const leaseReleaseTimeout = 5 * time.Second

// JobMetrics receives the outcome of each run of a periodic job, so a job
// that keeps failing, or stops succeeding, is seen by more than its log
// line (docs/operations.md, "Background jobs").
type JobMetrics interface {
	// JobRan: a run of job ended, err nil when it succeeded. A run skipped
	// because another instance holds the job's lease, and a run cut short
	// by shutdown, are not reported.
	JobRan(job string, err error)
}

type noJobMetrics struct{}

func (noJobMetrics) JobRan(string, error) {}

// RunJobs runs each job in its own goroutine until ctx ends, and returns
// when all of them have, after giving back the leases this instance held,
// so another instance takes the exclusive jobs over at its next tick.
// lease may be nil: every job then runs on every instance. metrics may be
// nil.
func RunJobs(ctx context.Context, log *slog.Logger, lease Lease, metrics JobMetrics, jobs []Job) {
	if metrics == nil {
		metrics = noJobMetrics{}
	}
	var wg sync.WaitGroup
	var exclusive []string
	for _, j := range jobs {
		if j.Every <= 0 {
			continue
		}
		j.Timeout = j.RunTimeout()
		if j.Exclusive {
			exclusive = append(exclusive, j.Name)
		}
		wg.Go(func() { runJob(ctx, log, lease, metrics, j) })
	}
	wg.Wait()
	if lease != nil && len(exclusive) > 0 {
		rctx, cancel := Detach(ctx, leaseReleaseTimeout)
		defer cancel()
		lease.Release(rctx, exclusive...)
	}
}

func runJob(ctx context.Context, log *slog.Logger, lease Lease, metrics JobMetrics, j Job) {
	t := time.NewTicker(j.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ran, err := runOnce(ctx, lease, j)
		if !ran || ctx.Err() != nil {
			continue
		}
		if err != nil {
			log.Error("background job", "job", j.Name, "err", err)
		}
		metrics.JobRan(j.Name, err)
	}
}

// runOnce runs j once under its deadline, if this instance holds its lease
// when it needs one; ran says whether it did, or tried to: a lease that
// could not be claimed is a run that failed.
func runOnce(ctx context.Context, lease Lease, j Job) (ran bool, err error) {
	rctx, cancel := context.WithTimeout(ctx, j.Timeout)
	defer cancel()
	if j.Exclusive && lease != nil {
		due, err := lease.Due(rctx, j.Name, j.Every)
		if err != nil {
			return true, err
		}
		if !due {
			return false, nil
		}
	}
	return true, j.Run(rctx)
}

// tasks runs on-demand background work: one goroutine per key at a time,
// each run under a deadline, all cancelled and joined by close.
type tasks struct {
	ctx    context.Context
	cancel context.CancelFunc
	log    *slog.Logger
	wg     sync.WaitGroup

	mu      sync.Mutex
	closed  bool
	running map[string]bool // key → asked again while running
}

func newTasks(log *slog.Logger) *tasks {
	ctx, cancel := context.WithCancel(context.Background())
	return &tasks{ctx: ctx, cancel: cancel, log: log, running: map[string]bool{}}
}

// start runs fn in the background under timeout unless a task of the same
// key is running; then that task runs fn once more when it ends. It reports
// whether a new goroutine was started.
func (t *tasks) start(key string, timeout time.Duration, fn func(ctx context.Context) error) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	if _, ok := t.running[key]; ok {
		t.running[key] = true
		return false
	}
	t.running[key] = false
	t.wg.Go(func() {
		for {
			ctx, cancel := context.WithTimeout(t.ctx, timeout)
			err := fn(ctx)
			cancel()
			if err != nil && t.ctx.Err() == nil {
				t.log.Error("background task", "task", key, "err", err)
			}
			t.mu.Lock()
			again := t.running[key] && !t.closed
			if !again {
				delete(t.running, key)
			} else {
				t.running[key] = false
			}
			t.mu.Unlock()
			if !again {
				return
			}
		}
	})
	return true
}

// close cancels the running tasks, refuses new ones and waits for them.
func (t *tasks) close() {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
	t.cancel()
	t.wg.Wait()
}
