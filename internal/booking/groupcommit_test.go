package booking

import (
	"runtime"
	"slices"
	"sync"
	"testing"
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
	g := newGroupCommit(maxBatch, 1, func(items []int) []error {
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
