package booking

import (
	"context"
	"errors"
	"testing"
)

// TestPurgeInBatchesIsBounded: a run deletes batch after batch while they
// come back full, and stops at a short one, at an error, when its context
// ends, and after purgeBatches full ones whatever is left (the next run
// goes on), so a first run over a long-kept table ends.
func TestPurgeInBatchesIsBounded(t *testing.T) {
	boom := errors.New("SQL down")
	for _, tt := range []struct {
		name      string
		sizes     []int // what each batch deletes; the last repeats
		fail      int   // the batch (1-based) that fails; 0 none
		cancel    int   // the batch after which the context ends; 0 never
		wantCalls int
		wantTotal int
		wantErr   error
	}{
		{"nothing to delete", []int{0}, 0, 0, 1, 0, nil},
		{"one short batch", []int{7}, 0, 0, 1, 7, nil},
		{"full batches then a short one", []int{purgeBatch, purgeBatch, 3}, 0, 0, 3, 2*purgeBatch + 3, nil},
		{"full batches without end", []int{purgeBatch}, 0, 0, purgeBatches, purgeBatches * purgeBatch, nil},
		{"a batch fails", []int{purgeBatch}, 2, 0, 2, purgeBatch, boom},
		{"the context ends", []int{purgeBatch}, 0, 3, 3, 3 * purgeBatch, context.Canceled},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			calls := 0
			total, err := purgeInBatches(ctx, func(context.Context) (int, error) {
				calls++
				if calls == tt.fail {
					return 0, boom
				}
				if calls == tt.cancel {
					cancel()
				}
				return tt.sizes[min(calls, len(tt.sizes))-1], nil
			})
			if calls != tt.wantCalls || total != tt.wantTotal || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Errorf("got %d batches, %d rows, %v; want %d, %d, %v", calls, total, err, tt.wantCalls, tt.wantTotal, tt.wantErr)
			}
		})
	}
}
