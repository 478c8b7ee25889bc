package booking

import (
	"sync/atomic"
	"testing"
	"time"
)

// TestThinRefusalsBatchByBatch: the writer keeps its thinning map from
// flush to flush, and each batch is still thinned alone, as when the map
// was made anew for it: alike refusals of one second that were thinned in
// one batch do not make the next batch's thinned too.
func TestThinRefusalsBatchByBatch(t *testing.T) {
	sec := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC).UnixNano()
	alike := func(n int) []refused {
		rs := make([]refused, n)
		for i := range rs {
			rs[i] = refused{ts: sec + int64(i), typ: EventRejected, account: "a", patient: "p", reason: "sold_out"}
		}
		return rs
	}
	var thinned atomic.Uint64
	seen := map[thinKey]int{}
	if got := thinRefusals(alike(6), 4, &thinned, seen); len(got) != 4 || thinned.Load() != 2 {
		t.Fatalf("first batch of 6 alike, 4 a second: kept %d, thinned %d; want 4 and 2", len(got), thinned.Load())
	}
	if got := thinRefusals(alike(3), 4, &thinned, seen); len(got) != 3 || thinned.Load() != 2 {
		t.Errorf("second batch of 3 alike, same second: kept %d, thinned %d in all; want 3 kept and still 2 thinned", len(got), thinned.Load())
	}
	other := alike(5)
	other[4].account = "b"
	if got := thinRefusals(other, 4, &thinned, seen); len(got) != 5 || thinned.Load() != 2 {
		t.Errorf("4 alike and one of another account: kept %d, thinned %d in all; want 5 and 2", len(got), thinned.Load())
	}
}
