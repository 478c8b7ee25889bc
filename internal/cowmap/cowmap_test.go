package cowmap_test

import (
	"sync"
	"sync/atomic"
	"testing"

	"fairslot/internal/cowmap"
)

// TestMakesOncePerKey: every Get of a key returns the value its first made,
// and a key is made once however many callers ask for it at the same time.
func TestMakesOncePerKey(t *testing.T) {
	var made atomic.Int64
	m := cowmap.New(func(k string) *int {
		made.Add(1)
		v := len(k)
		return &v
	})
	keys := []string{"a", "bb", "ccc"}
	first := map[string]*int{}
	for _, k := range keys {
		first[k] = m.Get(k)
	}
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for _, k := range keys {
				if got := m.Get(k); got != first[k] {
					t.Errorf("Get(%q) = %p, want the value made first (%p)", k, got, first[k])
				}
			}
			m.Get("dddd")
		})
	}
	wg.Wait()
	if n := made.Load(); n != 4 {
		t.Errorf("made %d values, want 4 (one a key)", n)
	}
	if v := *m.Get("dddd"); v != 4 {
		t.Errorf("Get(dddd) = %d, want 4", v)
	}
}

// TestHitAllocatesNothing: a key made before costs no allocation.
func TestHitAllocatesNothing(t *testing.T) {
	m := cowmap.New(func(k int) int { return k * 2 })
	m.Get(7)
	if n := testing.AllocsPerRun(100, func() { _ = m.Get(7) }); n != 0 {
		t.Errorf("a hit allocates %v times, want 0", n)
	}
}
