package cockroach

import (
	"context"
	_ "embed"
	"errors"

	"github.com/jackc/pgx/v5"

	"fairslot/internal/booking"
)

//go:embed sources.sql
var sourcesSQL string

var sourceQueries = ParseQueries(sourcesSQL)

// CreateSession stores a new session, its pools and slots, and the audit
// entry, in one serializable transaction that first looks for an
// overlapping session of the doctor: two administrators publishing
// overlapping sessions at once cannot both succeed.
func (s *Store) CreateSession(ctx context.Context, x booking.Session, a booking.AuditEntry) (rerr error) {
	defer func() { rerr = translate(rerr) }()
	err := s.db.Tx(ctx, "create_session", func(tx pgx.Tx) error {
		if err := noOverlap(ctx, tx, x); err != nil {
			return err
		}
		if err := insertLayout(ctx, tx, x, true); err != nil {
			return err
		}
		return insertAudit(ctx, tx, a)
	})
	if _, ok := uniqueViolation(err); ok {
		return booking.ErrSessionOverlap // the doctor, date and period key, or the id of a repeat
	}
	return err
}

// UpdateSession replaces a session's layout while nothing uses it.
func (s *Store) UpdateSession(ctx context.Context, x booking.Session, a booking.AuditEntry) (rerr error) {
	defer func() { rerr = translate(rerr) }()
	err := s.db.Tx(ctx, "update_session", func(tx pgx.Tx) error {
		if err := notInUse(ctx, tx, x.ID); err != nil {
			return err
		}
		if err := noOverlap(ctx, tx, x); err != nil {
			return err
		}
		for _, name := range []string{"delete_session_slots", "delete_session_channels"} {
			if _, err := tx.Exec(ctx, sourceQueries[name], x.ID); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, sourceQueries["update_session"], x.ID, x.DepartmentID, x.VisitDate, x.Period,
			x.StartsAt, x.EndsAt, string(x.Mode)); err != nil {
			return err
		}
		if err := insertLayout(ctx, tx, x, false); err != nil {
			return err
		}
		return insertAudit(ctx, tx, a)
	})
	if _, ok := uniqueViolation(err); ok {
		return booking.ErrSessionOverlap
	}
	return err
}

// DeleteSession removes a session nothing uses (its pools and slots go
// with it).
func (s *Store) DeleteSession(ctx context.Context, id string, a booking.AuditEntry) (rerr error) {
	defer func() { rerr = translate(rerr) }()
	return s.db.Tx(ctx, "delete_session", func(tx pgx.Tx) error {
		if err := notInUse(ctx, tx, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, sourceQueries["delete_session"], id); err != nil {
			return err
		}
		return insertAudit(ctx, tx, a)
	})
}

func noOverlap(ctx context.Context, tx pgx.Tx, x booking.Session) error {
	var other string
	err := tx.QueryRow(ctx, sourceQueries["session_overlap"], x.DoctorID, x.ID, x.StartsAt, x.EndsAt, x.VisitDate, x.Period).Scan(&other)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil
	case err != nil:
		return err
	}
	return booking.Errorf(booking.ErrSessionOverlap, "the doctor already has session %s at this time or in this period", other)
}

func notInUse(ctx context.Context, tx pgx.Tx, id string) error {
	var got string
	var used bool
	err := tx.QueryRow(ctx, sourceQueries["session_in_use"], id).Scan(&got, &used)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return booking.ErrSessionNotFound
	case err != nil:
		return err
	case used:
		return booking.ErrSessionReleased
	}
	return nil
}

// insertLayout queues a session's row (when withSession), pools and slots.
func insertLayout(ctx context.Context, tx pgx.Tx, x booking.Session, withSession bool) error {
	b := &pgx.Batch{}
	if withSession {
		b.Queue(q("insert_session"), x.ID, x.HospitalID, x.DepartmentID, x.DoctorID, x.VisitDate, x.Period, x.StartsAt, x.EndsAt, string(x.Mode))
	}
	queueLayout(b, x)
	return tx.SendBatch(ctx, b).Close()
}
