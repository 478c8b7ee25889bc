package cockroach

import (
	"context"
	_ "embed"
	"time"

	"github.com/jackc/pgx/v5"

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

// EraseRemovedMembers erases one batch of removed family members' numbers
// and names past their need.
func (s *Store) EraseRemovedMembers(ctx context.Context, before time.Time, limit int) (int, error) {
	return s.change(ctx, "erase_removed_members", before, limit)
}

// EraseEventPhones empties one batch of events' phone references past
// their need.
func (s *Store) EraseEventPhones(ctx context.Context, cut booking.CallBackCutoff, limit int) (int, error) {
	return s.change(ctx, "erase_event_phones", cut.Day, cut.Before, limit)
}

// PurgeEvents deletes one batch of booking events past their retention.
func (s *Store) PurgeEvents(ctx context.Context, refused, all booking.CallBackCutoff, limit int) (int, error) {
	return s.change(ctx, "purge_events", refused.Before, all.Before, refused.Day, all.Day, limit)
}

// EraseReportPhones erases one batch of reports' offered numbers past
// their need.
func (s *Store) EraseReportPhones(ctx context.Context, filedBefore, closedBefore time.Time, limit int) (int, error) {
	return s.change(ctx, "erase_report_phones", filedBefore, closedBefore, limit)
}

// change runs one retention statement of its own (implicit) transaction:
// its locks last one batch.
func (s *Store) change(ctx context.Context, name string, args ...any) (_ int, rerr error) {
	defer func() { rerr = translate(rerr) }()
	start := time.Now()
	defer s.db.observe(name, start)
	tag, err := s.db.pool.Exec(ctx, retentionQueries[name], args...)
	return int(tag.RowsAffected()), err
}

// PurgeNotifications deletes one batch of notifications past their
// retention (closed accounts', read ones').
func (s *Store) PurgeNotifications(ctx context.Context, closedBefore, readBefore time.Time, limit int) (int, error) {
	return s.change(ctx, "purge_notifications", closedBefore, readBefore, limit)
}

// EraseIdentities erases one batch of persons' sealed numbers and names
// past their need, and their former names (erase_former_names), in one
// transaction: a person is never left erased with a former name kept.
func (s *Store) EraseIdentities(ctx context.Context, cut booking.CallBackCutoff, limit int) (_ int, rerr error) {
	defer func() { rerr = translate(rerr) }()
	var n int
	// Read committed, as each statement was on its own: the batch's locks
	// and reads are the statements', never a serialization failure.
	err := s.db.TxAt(ctx, "erase_identities", pgx.ReadCommitted, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, retentionQueries["erase_identities"], cut.Before, cut.Day, limit)
		if err != nil {
			return err
		}
		n = int(tag.RowsAffected())
		// The former names of the persons just erased, and of any erased
		// before: a person has few, so one statement of limit rows per
		// batch keeps up with the persons.
		_, err = tx.Exec(ctx, retentionQueries["erase_former_names"], limit)
		return err
	})
	return n, err
}

// EraseCaseTexts empties one batch of closed cases' free texts past the
// complaint-record period.
func (s *Store) EraseCaseTexts(ctx context.Context, closedBefore time.Time, limit int) (int, error) {
	return s.change(ctx, "erase_case_texts", closedBefore, limit)
}
