package booking

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// TestJobsDoNotWaitForEachOther: a job stuck in a long run does not delay
// another; every job returns when Run's context ends.
func TestJobsDoNotWaitForEachOther(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	stuck := make(chan struct{})
	var quick atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		RunJobs(ctx, quiet, nil, nil, []Job{
			{Name: "slow", Every: time.Millisecond, Timeout: time.Hour, Run: func(ctx context.Context) error {
				select {
				case stuck <- struct{}{}:
				default:
				}
				<-ctx.Done()
				return ctx.Err()
			}},
			{Name: "quick", Every: time.Millisecond, Run: func(context.Context) error { quick.Add(1); return nil }},
		})
	}()
	<-stuck // the slow job is inside its run, and stays there
	for quick.Load() < 5 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done // joined: the slow job saw the cancellation too
}

// TestJobRunDeadline: each run has its job's deadline.
func TestJobRunDeadline(t *testing.T) {
	_, err := runOnce(t.Context(), nil, Job{Name: "x", Every: time.Hour, Timeout: time.Millisecond,
		Run: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }})
	if err != context.DeadlineExceeded {
		t.Errorf("run = %v, want its deadline exceeded", err)
	}
}

type fakeLease struct {
	held     bool
	released []string
}

func (l *fakeLease) Due(context.Context, string, time.Duration) (bool, error) { return !l.held, nil }
func (l *fakeLease) Release(_ context.Context, jobs ...string) {
	l.released = append(l.released, jobs...)
}

// TestRunJobsReleasesLeases: when the jobs stop (shutdown), the leases of
// the exclusive ones are given back, so another instance takes them over
// at its next tick instead of after the lease expires.
func TestRunJobsReleasesLeases(t *testing.T) {
	lease := &fakeLease{}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	nop := func(context.Context) error { return nil }
	RunJobs(ctx, quiet, lease, nil, []Job{
		{Name: "reconcile", Every: time.Hour, Exclusive: true, Run: nop},
		{Name: "sweep", Every: time.Hour, Run: nop},
		{Name: "detect", Every: time.Hour, Exclusive: true, Run: nop},
	})
	if !slices.Equal(lease.released, []string{"reconcile", "detect"}) {
		t.Errorf("released %v, want [reconcile detect]", lease.released)
	}
}

// TestLeaseGuardsExclusiveJobsOnly: with a lease held elsewhere, an
// exclusive job is skipped and the others run.
func TestLeaseGuardsExclusiveJobsOnly(t *testing.T) {
	lease := &fakeLease{held: true}
	tests := []struct {
		name      string
		exclusive bool
		held      bool
		wantRun   bool
	}{
		{"exclusive, held elsewhere", true, true, false},
		{"exclusive, free", true, false, true},
		{"per instance, held elsewhere", false, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lease.held = tt.held
			ran := false
			_, err := runOnce(t.Context(), lease, Job{Name: "j", Every: time.Hour, Timeout: time.Second, Exclusive: tt.exclusive,
				Run: func(context.Context) error { ran = true; return nil }})
			if err != nil || ran != tt.wantRun {
				t.Errorf("ran %v, err %v; want ran %v", ran, err, tt.wantRun)
			}
		})
	}
}

// jobOutcomes records what RunJobs reports, per job.
type jobOutcomes struct {
	mu     sync.Mutex
	ok     map[string]int
	failed map[string]int
}

func (m *jobOutcomes) JobRan(job string, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		m.failed[job]++
	} else {
		m.ok[job]++
	}
}

func (m *jobOutcomes) counts(job string) (ok, failed int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ok[job], m.failed[job]
}

// TestJobOutcomesReported: each run's outcome reaches the metrics — a
// failure as a failure, a success as one — and an exclusive job skipped
// because another instance holds its lease reports nothing (it neither
// failed nor succeeded here).
func TestJobOutcomesReported(t *testing.T) {
	m := &jobOutcomes{ok: map[string]int{}, failed: map[string]int{}}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		RunJobs(ctx, quiet, &fakeLease{held: true}, m, []Job{
			{Name: "fails", Every: time.Millisecond, Run: func(context.Context) error { return errors.New("SQL down") }},
			{Name: "works", Every: time.Millisecond, Run: func(context.Context) error { return nil }},
			{Name: "elsewhere", Every: time.Millisecond, Exclusive: true, Run: func(context.Context) error { return nil }},
		})
	}()
	for {
		_, failed := m.counts("fails")
		ok, _ := m.counts("works")
		if failed >= 3 && ok >= 3 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	tests := []struct {
		job          string
		okMin, okMax int
		failedMin    int
		failedMax    int
	}{
		{"fails", 0, 0, 3, 1 << 30},
		{"works", 3, 1 << 30, 0, 0},
		{"elsewhere", 0, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.job, func(t *testing.T) {
			ok, failed := m.counts(tt.job)
			if ok < tt.okMin || ok > tt.okMax || failed < tt.failedMin || failed > tt.failedMax {
				t.Errorf("ok %d, failed %d; want ok in [%d, %d], failed in [%d, %d]", ok, failed, tt.okMin, tt.okMax, tt.failedMin, tt.failedMax)
			}
		})
	}
}

// TestTasksCoalesce: asking for a task while it runs makes it run once
// more afterwards, however often it was asked; close joins it.
func TestTasksCoalesce(t *testing.T) {
	ts := newTasks(quiet)
	release := make(chan struct{})
	var runs atomic.Int64
	fn := func(ctx context.Context) error {
		if runs.Add(1) == 1 {
			<-release
		}
		return nil
	}
	if !ts.start("k", time.Minute, fn) {
		t.Fatal("the first start did not start a task")
	}
	for range 10 {
		if ts.start("k", time.Minute, fn) {
			t.Error("a start while the task runs started another")
		}
	}
	close(release)
	for runs.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	ts.close()
	if got := runs.Load(); got != 2 {
		t.Errorf("the task ran %d times, want 2 (once, and once more for the asks meanwhile)", got)
	}
	if ts.start("k", time.Minute, fn) {
		t.Error("a start after close started a task")
	}
}

// brokenLeases is a lease store that cannot answer (SQL read-only or down).
type brokenLeases struct{}

func (brokenLeases) Claim(context.Context, string, string, time.Duration) (bool, error) {
	return false, errors.New("claim lease notify: cannot execute INSERT in a read-only transaction")
}
func (brokenLeases) Release(context.Context, string, string) error { return nil }

// TestLeaseClaimFailureIsAFailedRun (review18a H1): an exclusive job whose
// lease cannot be claimed did not run, and nobody may have run it: it is a
// failed run (fairslot_job_failures_total, an ERROR line), not a silent
// skip like a lease another instance holds.
func TestLeaseClaimFailureIsAFailedRun(t *testing.T) {
	ran := false
	lease := JobLease{Leases: brokenLeases{}, Holder: "me", Log: quiet}
	gotRan, err := runOnce(t.Context(), lease, Job{Name: "notify", Every: time.Hour, Timeout: time.Second, Exclusive: true,
		Run: func(context.Context) error { ran = true; return nil }})
	if !gotRan || err == nil {
		t.Errorf("a run whose lease claim failed: reported ran %v, err %v; want a failed run", gotRan, err)
	}
	if ran {
		t.Error("the job ran without its lease")
	}
}
