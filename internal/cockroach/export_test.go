package cockroach

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"fairslot/internal/booking"
)

// OnRefused makes s call f after a batch of bookings left rows out, before
// it reads why: the moment a conflicting booking may be cancelled.
func OnRefused(s *Store, f func()) { s.refused = f }

// Warmed is the SQL of the statements a connection opened under Warm runs.
func Warmed() []string {
	var sqls []string
	for _, name := range warmed {
		sqls = append(sqls, q(name))
	}
	return sqls
}

// StatementsApart makes db's Migrate run each statement of a migration on
// its own, as it does on CockroachDB, whatever the server.
func StatementsApart(db *DB) { db.statementsApart = true }

// Statements are the statements of an embedded migration, as Migrate runs
// them.
func Statements(name string) ([]string, error) {
	body, err := migrations.ReadFile("migrations/" + name)
	return statements(string(body)), err
}

// BuildMigrations are the names of this build's migrations for db's flavor.
func BuildMigrations(db *DB) ([]string, error) { return db.buildMigrations() }

// ForgetWritable makes db's next Ping ask again whether the database takes
// writes, however recently it asked.
func ForgetWritable(db *DB) {
	db.writable.Lock()
	db.writable.at = time.Time{}
	db.writable.Unlock()
}

// RecordEventsAsBefore is RecordEvents as it was before eventRows: a fresh
// []any of boxed values a row (uuidOrNilBefore, the times and strings as
// they are). TestRecordEventsStoresEveryField holds the two to the same
// rows.
func RecordEventsAsBefore(ctx context.Context, s *Store, evs []booking.Event) error {
	_, err := s.db.pool.CopyFrom(ctx, pgx.Identifier{"booking_events"}, eventColumns[:], pgx.CopyFromSlice(len(evs), func(i int) ([]any, error) {
		return eventRowBefore(&evs[i]), nil
	}))
	return translate(err)
}

func eventRowBefore(ev *booking.Event) []any {
	return []any{uuidOrNilBefore(ev.ID), ev.TS, string(ev.Type), uuidOrNilBefore(ev.AccountID), uuidOrNilBefore(ev.PatientID),
		uuidOrNilBefore(ev.BookingID), uuidOrNilBefore(ev.SessionID), uuidOrNilBefore(ev.HospitalID), uuidOrNilBefore(ev.DepartmentID),
		uuidOrNilBefore(ev.DoctorID), string(ev.Channel), ev.IP, ev.DeviceID, ev.Phone, nullTime(ev.ReleaseAt), ev.Reason,
		uuidOrNilBefore(ev.StaffID), uuidOrNilBefore(ev.IdentityID), nullBool(ev.MadeByOtherAccount),
		uuidOrNilBefore(ev.ByAccountID), nullable(ev.CardSource)}
}

func uuidOrNilBefore(s string) any {
	var u pgtype.UUID
	if s == "" || !booking.IsUUID(s) || u.Scan(s) != nil {
		return nil
	}
	return u
}

// EventRowAllocs are the allocations of one row of values for COPY,
// eventRows' and before it (averaged over runs rows of ev).
func EventRowAllocs(ev booking.Event, runs int) (now, before float64) {
	evs := []booking.Event{ev}
	r := &eventRows{evs: evs}
	now = testing.AllocsPerRun(runs, func() {
		r.i = 0
		r.Next()
		_, _ = r.Values()
	})
	before = testing.AllocsPerRun(runs, func() { _ = eventRowBefore(&evs[0]) })
	return now, before
}
