package booking

import (
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// queued is how many items wait in g's queue.
func (g *groupCommit[T]) queued() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.queue)
}

// waitQueued yields until n items wait in g's queue: a condition, not a
// time (the test never sleeps for a batch to form).
func waitQueued[T any](t *testing.T, g *groupCommit[T], n int) {
	t.Helper()
	for i := 0; g.queued() < n; i++ {
		if i > 10_000_000 {
			t.Fatalf("%d items queued, want %d", g.queued(), n)
		}
		runtime.Gosched()
	}
}

// TestGroupCommitBatches: what arrives while the batches in flight are
// written goes together in the next batch, up to maxBatch; the rest waits
// for the one after. The first caller is held inside its write (the explicit
// flush), so the batches' composition is known exactly.
func TestGroupCommitBatches(t *testing.T) {
	const maxBatch = 3
	var mu sync.Mutex
	var batches [][]int
	hold, holding := make(chan struct{}), make(chan struct{})
	g := newGroupCommit("test", maxBatch, 1, func(items []int) []error {
		mu.Lock()
		batches = append(batches, slices.Clone(items))
		first := len(batches) == 1
		mu.Unlock()
		if first {
			close(holding)
			<-hold
		}
		return make([]error, len(items))
	})
	var wg sync.WaitGroup
	wg.Go(func() { _ = g.do(0) })
	<-holding
	for i := 1; i <= 5; i++ {
		wg.Go(func() { _ = g.do(i) })
		waitQueued(t, g, i) // in this order
	}
	close(hold)
	wg.Wait()
	want := [][]int{{0}, {1, 2, 3}, {4, 5}}
	if !slices.EqualFunc(batches, want, slices.Equal) {
		t.Errorf("batches = %v, want %v", batches, want)
	}
}

// batchSeen is one batch as CommitMetrics received it.
type batchSeen struct {
	kind  string
	waits []time.Duration
	took  time.Duration
}

type recordedBatches struct {
	mu   sync.Mutex
	seen []batchSeen
}

func (r *recordedBatches) Batch(kind string, waits []time.Duration, took time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, batchSeen{kind, slices.Clone(waits), took})
}

// TestGroupCommitMetrics: each batch reports its size, each row's wait
// from being queued to its batch being taken, and the write's time, on a
// clock the test moves (no timing): the first caller writes at once and
// holds its write for 10 s; callers queued at 1…5 s are taken at 10 s in
// two batches of up to 3.
func TestGroupCommitMetrics(t *testing.T) {
	var clock atomic.Int64 // seconds
	hold, holding := make(chan struct{}), make(chan struct{})
	var first sync.Once
	g := newGroupCommit("booking", 3, 1, func(items []int) []error {
		first.Do(func() {
			close(holding)
			<-hold
		})
		return make([]error, len(items))
	})
	rec := &recordedBatches{}
	g.metrics = rec
	g.now = func() time.Time { return time.Unix(clock.Load(), 0) }

	var wg sync.WaitGroup
	wg.Go(func() { _ = g.do(0) })
	<-holding
	for i := 1; i <= 5; i++ {
		clock.Store(int64(i))
		wg.Go(func() { _ = g.do(i) })
		waitQueued(t, g, i)
	}
	clock.Store(10)
	close(hold)
	wg.Wait()

	s := time.Second
	want := []batchSeen{
		{"booking", []time.Duration{0}, 10 * s},
		{"booking", []time.Duration{6 * s, 5 * s}, 0},
		{"booking", []time.Duration{9 * s, 8 * s, 7 * s}, 0},
	}
	// The first batch reports after handing its turn on, so the order of
	// the reports is not the batches'; they differ in size.
	slices.SortFunc(rec.seen, func(a, b batchSeen) int { return len(a.waits) - len(b.waits) })
	if !slices.EqualFunc(rec.seen, want, func(a, b batchSeen) bool {
		return a.kind == b.kind && a.took == b.took && slices.Equal(a.waits, b.waits)
	}) {
		t.Errorf("batches reported %v, want %v", rec.seen, want)
	}
}
