package cockroach

import (
	"context"
	_ "embed"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"fairslot/internal/booking"
)

// Card readers a hospital registers for its desk and desk login moves that
// wait for their cooling-off (review25 H1, H4; booking/cardread.go,
// booking/moveback.go).

//go:embed cardreaders.sql
var cardReadersSQL string

var cardReaderQueries = ParseQueries(cardReadersSQL)

// SaveCardReader stores a registered reader with its audit entry
// (booking.Store).
func (s *Store) SaveCardReader(ctx context.Context, r booking.CardReader, a booking.AuditEntry) (rerr error) {
	defer func() { rerr = translate(rerr) }()
	return s.db.Tx(ctx, "save_card_reader", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, cardReaderQueries["insert_card_reader"], r.ID, r.HospitalID, r.Name, r.KeySealed, r.CreatedBy, r.CreatedAt); err != nil {
			return err
		}
		return insertAudit(ctx, tx, a)
	})
}

func scanCardReader(row pgx.Row) (booking.CardReader, error) {
	var r booking.CardReader
	var retired *time.Time
	err := row.Scan(&r.ID, &r.HospitalID, &r.Name, &r.KeySealed, &r.CreatedBy, &r.CreatedAt, &retired)
	if retired != nil {
		r.RetiredAt = *retired
	}
	return r, err
}

// CardReader is one reader by id (booking.Store).
func (s *Store) CardReader(ctx context.Context, id string) (_ booking.CardReader, rerr error) {
	defer func() { rerr = translate(rerr) }()
	r, err := scanCardReader(s.db.pool.QueryRow(ctx, cardReaderQueries["card_reader"], id))
	if errors.Is(err, pgx.ErrNoRows) {
		return booking.CardReader{}, booking.ErrNotFound
	}
	return r, err
}

// CardReaders lists a hospital's readers (booking.Store).
func (s *Store) CardReaders(ctx context.Context, hospitalID string) (_ []booking.CardReader, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, err := s.db.pool.Query(ctx, cardReaderQueries["card_readers"], hospitalID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []booking.CardReader
	for rows.Next() {
		r, err := scanCardReader(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// RetireCardReader retires a reader with its audit entry (booking.Store).
func (s *Store) RetireCardReader(ctx context.Context, id string, at time.Time, a booking.AuditEntry) (rerr error) {
	defer func() { rerr = translate(rerr) }()
	return s.db.Tx(ctx, "retire_card_reader", func(tx pgx.Tx) error {
		var got string
		err := tx.QueryRow(ctx, cardReaderQueries["retire_card_reader"], id, at).Scan(&got)
		if errors.Is(err, pgx.ErrNoRows) {
			return booking.ErrNoChange
		}
		if err != nil {
			return err
		}
		return insertAudit(ctx, tx, a)
	})
}

// RequestLoginMove stores a waiting login move with its audit entry and
// notification (booking.Store).
func (s *Store) RequestLoginMove(ctx context.Context, m booking.PendingLoginMove, a booking.AuditEntry, n booking.Notification) (rerr error) {
	defer func() { rerr = translate(rerr) }()
	return s.db.Tx(ctx, "request_login_move", func(tx pgx.Tx) error {
		var got string
		err := tx.QueryRow(ctx, cardReaderQueries["insert_login_move"], m.AccountID, m.To.Hash, m.To.Sealed, m.To.Masked, m.CodeHash,
			m.RequestedBy, m.HospitalID, m.RequestedAt, m.DueAt, m.Card).Scan(&got)
		if errors.Is(err, pgx.ErrNoRows) {
			return booking.ErrLoginMovePending
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, q("insert_account_notification"), n.ID, n.HospitalID, n.Kind, m.AccountID, n.Body, n.CreatedAt); err != nil {
			return err
		}
		return insertAudit(ctx, tx, a)
	})
}

func scanLoginMove(row pgx.Row) (booking.PendingLoginMove, error) {
	var m booking.PendingLoginMove
	err := row.Scan(&m.AccountID, &m.To.Hash, &m.To.Sealed, &m.To.Masked, &m.CodeHash, &m.RequestedBy, &m.HospitalID,
		&m.RequestedAt, &m.DueAt, &m.Card)
	return m, err
}

// PendingLoginMove is the account's waiting move (booking.Store).
func (s *Store) PendingLoginMove(ctx context.Context, accountID string) (_ booking.PendingLoginMove, rerr error) {
	defer func() { rerr = translate(rerr) }()
	m, err := scanLoginMove(s.db.pool.QueryRow(ctx, cardReaderQueries["login_move"], accountID))
	if errors.Is(err, pgx.ErrNoRows) {
		return booking.PendingLoginMove{}, booking.ErrNotFound
	}
	return m, err
}

// LoginMovesDue lists the waiting moves due at now (booking.Store).
func (s *Store) LoginMovesDue(ctx context.Context, now time.Time) (_ []booking.PendingLoginMove, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, err := s.db.pool.Query(ctx, cardReaderQueries["login_moves_due"], now)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []booking.PendingLoginMove
	for rows.Next() {
		m, err := scanLoginMove(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// CancelLoginMove deletes the account's waiting move with the audit entry
// and the notification (none when n.ID is empty) (booking.Store).
func (s *Store) CancelLoginMove(ctx context.Context, accountID string, a booking.AuditEntry, n booking.Notification) (rerr error) {
	defer func() { rerr = translate(rerr) }()
	return s.db.Tx(ctx, "cancel_login_move", func(tx pgx.Tx) error {
		var got string
		err := tx.QueryRow(ctx, cardReaderQueries["delete_login_move"], accountID).Scan(&got)
		if errors.Is(err, pgx.ErrNoRows) {
			return booking.ErrNoChange
		}
		if err != nil {
			return err
		}
		if n.ID != "" {
			if _, err := tx.Exec(ctx, q("insert_account_notification"), n.ID, n.HospitalID, n.Kind, accountID, n.Body, n.CreatedAt); err != nil {
				return err
			}
		}
		return insertAudit(ctx, tx, a)
	})
}

// CompleteLoginMove takes the waiting move m and moves the login, in one
// transaction (booking.Store).
func (s *Store) CompleteLoginMove(ctx context.Context, m booking.PendingLoginMove, rc booking.StoredResetCode, at time.Time, a booking.AuditEntry, n booking.Notification) (_ int, rerr error) {
	defer func() { rerr = translate(rerr) }()
	var gen int
	err := s.db.Tx(ctx, "complete_login_move", func(tx pgx.Tx) error {
		var got string
		err := tx.QueryRow(ctx, cardReaderQueries["take_login_move"], m.AccountID, m.CodeHash).Scan(&got)
		if errors.Is(err, pgx.ErrNoRows) {
			return booking.ErrNoChange
		}
		if err != nil {
			return err
		}
		gen, err = moveLogin(ctx, tx, m.AccountID, m.To, rc, at, a, n)
		if errors.Is(err, pgx.ErrNoRows) {
			return booking.ErrNotFound
		}
		return err
	})
	if _, ok := uniqueViolation(err); ok {
		return 0, booking.ErrPhoneTaken
	}
	return gen, err
}
