package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"fairslot/internal/booking"
	"fairslot/internal/cockroach"
)

//go:embed queries.sql
var queriesSQL string

// queries are the named statements of queries.sql.
type queries struct {
	context, lockChannel, rules, freeSlot, insertBooking, insertEvent string
}

// loadQueries splits queries.sql into its named blocks; a missing name is a
// bug in this package, so the program refuses to start.
func loadQueries() (queries, error) {
	m := cockroach.ParseQueries(queriesSQL)
	q := queries{context: m["context"], lockChannel: m["lock_channel"], rules: m["rules"],
		freeSlot: m["free_slot"], insertBooking: m["insert_booking"], insertEvent: m["insert_event"]}
	for _, s := range []string{q.context, q.lockChannel, q.rules, q.freeSlot, q.insertBooking, q.insertEvent} {
		if s == "" {
			return queries{}, errors.New("queries.sql lacks a statement")
		}
	}
	return q, nil
}

// isolation is how the booking transaction runs.
type isolation string

const (
	// readCommitted is the classic form and the default: READ COMMITTED,
	// SELECT ... FOR UPDATE on the pool's session_channels row, then fresh
	// reads under the lock.
	readCommitted isolation = "read-committed"
	// serializable runs the same statements through the project's runner,
	// cockroach.(*DB).Tx: SERIALIZABLE with retries. On PostgreSQL that
	// defeats the row lock (see bookTx), so it is only for comparison.
	serializable isolation = "serializable"
)

// attempt is one booking attempt, as the HTTP layer read it.
type attempt struct {
	accountID string
	sessionID string
	patientID string
	channel   booking.Channel
	origin    booking.Origin
}

// committed is a booking that is in SQL, and its hospital's zone for the
// answer.
type committed struct {
	booking.Booking
	loc *time.Location
}

// book runs one attempt. It answers a booking only after its COMMIT
// succeeded.
//
// First, one read without a lock and outside the transaction: the session,
// the patient, and a sold-out pre-check. These rows do not change under a
// booking (a patient never changes account; a session's doctor, day and
// department are fixed), so they need neither the lock nor the transaction,
// and an attempt on a pool that is already empty costs one statement
// instead of queueing for the lock. (With --sold-out-precheck=false every
// attempt queues for the lock.) Then the booking transaction, bookTx.
func (s *server) book(ctx context.Context, a attempt) (committed, error) {
	var (
		c                committed
		started, anyFree bool
		mode, tz         string
		identityID       *string
		releaseAt        *time.Time
	)
	err := s.db.Pool().QueryRow(ctx, s.q.context, a.sessionID, a.patientID, a.accountID, string(a.channel)).
		Scan(&c.HospitalID, &c.DepartmentID, &c.DoctorID, &c.VisitDate, &started, &mode, &tz, &identityID, &releaseAt, &anyFree)
	c.loc = s.zone(tz)
	// The order of fairslot's checks (docs/api/openapi.yaml, createBooking).
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return committed{}, booking.ErrSessionNotFound
	case err != nil:
		return committed{}, translate(err)
	case started:
		return committed{}, booking.Errorf(booking.ErrSessionClosed, "remote booking closes when the session starts; the desk books walk-ins")
	case mode == string(booking.Lottery):
		return committed{}, booking.ErrLotteryOnly
	case identityID == nil:
		return committed{}, booking.ErrPatientNotFound
	case releaseAt == nil:
		return committed{}, booking.ErrChannelClosed
	case time.Now().Before(*releaseAt): // this process's clock; the lock query asks SQL's
		return committed{}, notReleased(*releaseAt, c.loc)
	case s.precheck && !anyFree:
		return committed{}, booking.ErrSoldOut
	}
	c.ID, c.SessionID, c.PatientID, c.Channel, c.Status = booking.NewID(), a.sessionID, a.patientID, a.channel, booking.StatusConfirmed
	c.CreatedAt = time.Now().Truncate(time.Microsecond) // SQL keeps microseconds
	err = s.tx(ctx, func(tx pgx.Tx) error { return s.bookTx(ctx, tx, a, *identityID, &c) })
	return c, translate(err)
}

// bookTx is the booking transaction: lock the pool, check the rules under
// the lock, take the lowest free slot, insert the booking and its event.
// It may run more than once (retries), so it only writes into c.
//
// Three round trips run under the lock besides the lock itself: the rules
// and the free slot (one batch), the two inserts (one batch), and COMMIT.
//
// Why READ COMMITTED and not the project's SERIALIZABLE runner: on
// PostgreSQL a SERIALIZABLE (or REPEATABLE READ) transaction reads from the
// snapshot taken at its first statement, which is the FOR UPDATE itself, so
// the snapshot is older than the lock grant. A waiter that gets the lock
// then cannot see the booking its predecessor just committed: it picks the
// same slot and fails with a serialization error (40001) at the insert, and
// the whole transaction is retried with backoff. With k attempts queued on
// one pool, each commit dooms the others already waiting: the lock
// serialises the work and SSI then throws most of it away. Measured on the
// 2-core machine (wrk, 64 connections, one pool of 3000 free slots):
// READ COMMITTED 330 bookings/s, no errors; SERIALIZABLE 90/s, and 15% of
// the attempts 503 after exhausting their retries. READ COMMITTED takes a
// new snapshot per statement, so the reads after the lock see every
// committed booking and the lock alone makes the pick correct; the partial
// unique indexes remain the final guard. That is the textbook form of this
// design. (--isolation serializable runs it through cockroach.DB.Tx for
// comparison; on CockroachDB that runner is the native form, since its
// SERIALIZABLE transactions refresh their reads after waiting on a lock.)
func (s *server) bookTx(ctx context.Context, tx pgx.Tx, a attempt, identityID string, c *committed) error {
	var releaseAt time.Time
	var released bool
	err := tx.QueryRow(ctx, s.q.lockChannel, a.sessionID, string(a.channel)).Scan(&releaseAt, &released)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return booking.ErrChannelClosed
	case err != nil:
		return err
	case !released:
		return notReleased(releaseAt, c.loc)
	}

	var inSession, dayDept, free bool
	b := &pgx.Batch{}
	b.Queue(s.q.rules, a.sessionID, identityID, c.VisitDate, c.DepartmentID).QueryRow(func(row pgx.Row) error {
		return row.Scan(&inSession, &dayDept)
	})
	// No free slot is an answer, not an error: pgx forgets a batch's
	// prepared statements when any of its callbacks fails.
	b.Queue(s.q.freeSlot, a.sessionID, string(a.channel)).Query(func(rows pgx.Rows) error {
		if free = rows.Next(); free {
			return rows.Scan(&c.SlotNo, &c.SlotStart, &c.SlotEnd)
		}
		return rows.Err()
	})
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return err
	}
	switch {
	case inSession:
		return booking.ErrAlreadyBooked
	case dayDept:
		return booking.ErrQuotaDayDept
	case !free:
		return booking.ErrSoldOut
	}

	b = &pgx.Batch{}
	b.Queue(s.q.insertBooking, c.ID, a.sessionID, c.SlotNo, c.HospitalID, c.DepartmentID, c.DoctorID,
		c.VisitDate, a.patientID, identityID, a.accountID, string(a.channel), c.CreatedAt)
	b.Queue(s.q.insertEvent, booking.NewID(), c.CreatedAt, a.accountID, a.patientID, c.ID, a.sessionID,
		c.HospitalID, c.DepartmentID, c.DoctorID, string(a.channel), a.origin.IP, a.origin.DeviceID,
		releaseAt, identityID)
	err = tx.SendBatch(ctx, b).Close()
	// A slot taken by a writer that does not take the pool's lock (fairslot
	// itself, on the same database): the next run sees its row.
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "bookings_active_slot" {
		return cockroach.Retry(err)
	}
	return err
}

func notReleased(at time.Time, loc *time.Location) error {
	return booking.Errorf(booking.ErrNotReleased, "this channel opens at %s", at.In(loc).Format(time.RFC3339))
}

// tx runs fn in one transaction at the configured isolation, through the
// project's runner (retries with backoff, COMMIT checked).
func (s *server) tx(ctx context.Context, fn func(pgx.Tx) error) error {
	iso := pgx.ReadCommitted
	if s.iso == serializable {
		iso = pgx.Serializable
	}
	return s.db.TxAt(ctx, "baseline_book", iso, fn)
}

// translate turns driver errors into the domain's as the cockroach adapter
// does, and besides: a concurrent booking of the same person on the same
// day and department (another session, so another lock) is the rule it
// breaks, and an unknown commit outcome is a 503 (the baseline does not
// read back).
func translate(err error) error {
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "bookings_active_identity_day_department":
		return booking.ErrQuotaDayDept
	case errors.Is(err, booking.ErrOutcomeUnknown):
		return fmt.Errorf("%w: %w", booking.ErrUnavailable, err)
	}
	return cockroach.Translate(err)
}
