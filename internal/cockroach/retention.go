package cockroach

import (
	"context"
	_ "embed"
	"time"

	"fairslot/internal/booking"
)

//go:embed retention.sql
var retentionSQL string

var retentionQueries = ParseQueries(retentionSQL)

// PurgeCallBacks deletes one batch of call-back rows past their need.
func (s *Store) PurgeCallBacks(ctx context.Context, cut booking.CallBackCutoff, limit int) (int, error) {
	return s.purge(ctx, "purge_call_backs", cut, limit)
}

// PurgeCallerPhones deletes one batch of numbers kept to call back past
// their need.
func (s *Store) PurgeCallerPhones(ctx context.Context, cut booking.CallBackCutoff, limit int) (int, error) {
	return s.purge(ctx, "purge_caller_phones", cut, limit)
}

// purge runs one retention statement: a single DELETE of at most limit
// rows, its own implicit transaction, so its locks last one batch.
func (s *Store) purge(ctx context.Context, name string, cut booking.CallBackCutoff, limit int) (_ int, rerr error) {
	defer func() { rerr = translate(rerr) }()
	start := time.Now()
	defer s.db.observe(name, start)
	tag, err := s.db.pool.Exec(ctx, retentionQueries[name], cut.Day, cut.Before, limit)
	return int(tag.RowsAffected()), err
}
