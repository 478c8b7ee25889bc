package booking

import (
	"fmt"
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
	until(t, fmt.Sprintf("%d items queued", n), func() bool { return g.queued() >= n })
}

// heldBatches is a group commit's write that records each batch and holds
// the first inside its write until hold is closed (holding says it is
// there), so the batches that follow are known exactly.
type heldBatches struct {
	mu            sync.Mutex
	batches       [][]int
	hold, holding chan struct{}
}

func newHeldBatches() *heldBatches {
	return &heldBatches{hold: make(chan struct{}), holding: make(chan struct{})}
}

func (h *heldBatches) write(items []int) []error {
	h.mu.Lock()
	h.batches = append(h.batches, slices.Clone(items))
	first := len(h.batches) == 1
	h.mu.Unlock()
	if first {
		close(h.holding)
		<-h.hold
	}
	return make([]error, len(items))
}

// written is how many batches were written.
func (h *heldBatches) written() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.batches)
}

// TestGroupCommitBatches: what arrives while the batches in flight are
// written goes together in the next batch, up to maxBatch; the rest waits
// for the one after. The first caller is held inside its write (the explicit
// flush), so the batches' composition is known exactly.
func TestGroupCommitBatches(t *testing.T) {
	const maxBatch = 3
	w := newHeldBatches()
	g := newGroupCommit("test", maxBatch, 1, w.write)
	var wg sync.WaitGroup
	wg.Go(func() { _ = g.do(0) })
	<-w.holding
	for i := 1; i <= 5; i++ {
		wg.Go(func() { _ = g.do(i) })
		waitQueued(t, g, i) // in this order
	}
	close(w.hold)
	wg.Wait()
	want := [][]int{{0}, {1, 2, 3}, {4, 5}}
	if !slices.EqualFunc(w.batches, want, slices.Equal) {
		t.Errorf("batches = %v, want %v", w.batches, want)
	}
}

// batchSeen is one batch as CommitMetrics received it.
type batchSeen struct {
	kind  string
	waits []time.Duration
	took  time.Duration
}

type recordedBatches struct {
	mu       sync.Mutex
	seen     []batchSeen
	answered []time.Duration
}

func (r *recordedBatches) Answered(kind string, took time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answered = append(r.answered, took)
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

// TestGroupCommitAfter: a batch's callers are answered before its follow-up
// work (after) runs; with afterKeepsTurn every one of them, the writer too,
// and the next batch is not written until after has run (the turn is held
// meanwhile); without it the writer runs after itself and the next batch
// goes at once. Each step waits for a condition, never for a time.
func TestGroupCommitAfter(t *testing.T) {
	for _, keepsTurn := range []bool{true, false} {
		t.Run(map[bool]string{true: "keeps the turn", false: "hands the turn on first"}[keepsTurn], func(t *testing.T) {
			w := newHeldBatches()
			afterHold, afterIn := make(chan struct{}), make(chan struct{})
			g := newGroupCommit("test", 2, 1, w.write)
			g.afterKeepsTurn = keepsTurn
			g.after = func(items []int, errs []error) {
				if len(items) == 2 { // the second batch: {1, 2}
					close(afterIn)
					<-afterHold
				}
			}
			var wg sync.WaitGroup
			var answered [4]atomic.Bool
			do := func(i int) {
				wg.Go(func() {
					_ = g.do(i)
					answered[i].Store(true)
				})
			}
			do(0)
			<-w.holding
			do(1)
			waitQueued(t, g, 1)
			do(2)
			waitQueued(t, g, 2)
			close(w.hold)
			<-afterIn
			if keepsTurn {
				// One of 1 and 2 wrote the batch; neither waits for after.
				until(t, "both callers of the batch, its writer too, are answered while after runs", func() bool {
					return answered[1].Load() && answered[2].Load()
				})
			} else {
				// The writer runs after; the other is answered meanwhile.
				until(t, "the batch's other caller is answered while after runs", func() bool {
					return answered[1].Load() != answered[2].Load()
				})
			}
			do(3)
			if keepsTurn {
				waitQueued(t, g, 1)
				if n := w.written(); n != 2 {
					t.Errorf("%d batches written while after runs, want 2: the writer keeps its turn", n)
				}
			} else {
				until(t, "the next batch is written while after runs", func() bool { return w.written() == 3 })
			}
			close(afterHold)
			wg.Wait()
			want := [][]int{{0}, {1, 2}, {3}}
			if !slices.EqualFunc(w.batches, want, slices.Equal) {
				t.Errorf("batches = %v, want %v", w.batches, want)
			}
		})
	}
}

// TestGroupCommitAnswered: each row reports how long after its batch's
// write its caller had the answer back. On a clock the test moves: the
// second batch's follow-up (after, keeping its turn) runs from 0 s to 3 s,
// and every row comes back at 0 s, its writer's too: no caller waits for
// after (until 2026-12-04 the writer's own row came back at 3 s).
func TestGroupCommitAnswered(t *testing.T) {
	var clock atomic.Int64 // seconds
	var returned atomic.Int32
	w := newHeldBatches()
	g := newGroupCommit("booking", 2, 1, w.write)
	rec := &recordedBatches{}
	g.metrics = rec
	g.now = func() time.Time { return time.Unix(clock.Load(), 0) }
	g.afterKeepsTurn = true
	g.after = func(items []int, errs []error) {
		if len(items) == 2 { // the second batch, {1, 2}: its follow-up
			until(t, "every caller has its answer while after runs", func() bool { return returned.Load() == 3 })
			clock.Add(3)
		}
	}
	var wg sync.WaitGroup
	do := func(i int) {
		wg.Go(func() {
			_ = g.do(i)
			returned.Add(1)
		})
	}
	do(0)
	<-w.holding
	do(1)
	waitQueued(t, g, 1)
	do(2)
	waitQueued(t, g, 2)
	close(w.hold)
	wg.Wait()
	slices.Sort(rec.answered)
	if want := []time.Duration{0, 0, 0}; !slices.Equal(rec.answered, want) {
		t.Errorf("answered after %v, want %v", rec.answered, want)
	}
}

// until yields until cond holds: a condition, not a time.
func until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for i := 0; !cond(); i++ {
		if i > 10_000_000 {
			t.Fatalf("%s: not reached", what)
		}
		runtime.Gosched()
	}
}

// TestGroupCommitWaitsForFollowUps: wait (Service.Close) returns only once
// the follow-up of a batch answered already (after, keeping its turn, in a
// goroutine of its own) is done; the follow-up is let go only once its
// caller has its answer.
func TestGroupCommitWaitsForFollowUps(t *testing.T) {
	afterHold := make(chan struct{})
	var finished atomic.Bool
	g := newGroupCommit("test", 2, 1, func(items []int) []error { return make([]error, len(items)) })
	g.afterKeepsTurn = true
	g.after = func([]int, []error) {
		<-afterHold
		finished.Store(true)
	}
	_ = g.do(0) // answered while its follow-up waits for afterHold
	go close(afterHold)
	g.wait()
	if !finished.Load() {
		t.Error("wait returned before the batch's follow-up was done")
	}
}
