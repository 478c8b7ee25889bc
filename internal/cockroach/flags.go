package cockroach

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"fairslot/internal/booking"
)

// This file holds the SQL of scalper detection: the event stream read back,
// the review queue of flags, and what confirming a flag does.

func scanEvent(r pgx.CollectableRow) (booking.Event, error) {
	var e booking.Event
	var typ, ch string
	var rel *time.Time
	err := r.Scan(&e.ID, &e.TS, &typ, &e.AccountID, &e.PatientID, &e.IdentityID, &e.BookingID, &e.SessionID,
		&e.HospitalID, &e.DepartmentID, &e.DoctorID, &ch, &e.IP, &e.DeviceID, &e.Phone, &rel, &e.Reason, &e.StaffID,
		&e.PresentedIdentityID, &e.PresentedOnAccount, &e.ByAccountID, &e.MadeByOtherAccount, &e.CardSource)
	e.Type, e.Channel = booking.EventType(typ), booking.Channel(ch)
	if rel != nil {
		e.ReleaseAt = *rel
	}
	return e, err
}

// eventQuery is event_rows (the columns scanEvent reads) completed by a
// query's clause, as bookingQuery completes booking_rows.
func eventQuery(clause string) string { return q("event_rows") + "\n" + clause }

// EventsSince reads the event stream from a time on, oldest first.
func (s *Store) EventsSince(ctx context.Context, since time.Time) (_ []booking.Event, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, eventQuery(q("events_since")), since)
	return pgx.CollectRows(rows, scanEvent)
}

// EventsOfGroup reads the events of some accounts and identities: the
// timeline an administrator reviews.
func (s *Store) EventsOfGroup(ctx context.Context, since time.Time, accountIDs, identityIDs []string) (_ []booking.Event, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, eventQuery(q("events_of_group")), since, uuids(accountIDs), uuids(identityIDs))
	return pgx.CollectRows(rows, scanEvent)
}

// uuids keeps the strings that are UUIDs: person keys from an offline trace
// may be anything, and a cast must not fail the whole query.
func uuids(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if booking.IsUUID(id) {
			out = append(out, id)
		}
	}
	return out
}

func scanFlag(r pgx.CollectableRow) (booking.Flag, error) {
	var f booking.Flag
	var reasons, accounts, patients []byte
	var decided *time.Time
	var decidedScore *float64
	var explanation []byte
	var overturned *time.Time
	var dismissal []byte
	err := r.Scan(&f.ID, &f.Score, &f.Status, &reasons, &accounts, &patients, &f.CreatedAt, &f.UpdatedAt,
		&decided, &f.DecidedBy, &f.Note, &decidedScore, &explanation, &f.OpenedAt, &f.OverturnedBy, &overturned, &dismissal)
	if err != nil {
		return f, err
	}
	if len(dismissal) > 0 {
		f.Dismissal = new(booking.Dismissal)
		if err := json.Unmarshal(dismissal, f.Dismissal); err != nil {
			return f, err
		}
	}
	f.OverturnedAt = overturned
	if len(explanation) > 0 {
		var x flagExplanation
		if err := json.Unmarshal(explanation, &x); err != nil {
			return f, err
		}
		f.Threshold, f.Explanation, f.ExplanationZH, f.CaseIDs = x.Threshold, x.EN, x.ZH, x.Cases
	}
	if decided != nil {
		f.DecidedAt = *decided
	}
	if decidedScore != nil {
		f.DecidedScore = *decidedScore
	}
	return f, errors.Join(json.Unmarshal(reasons, &f.Reasons), json.Unmarshal(accounts, &f.AccountIDs), json.Unmarshal(patients, &f.PatientIDs))
}

func flagQuery(clause string) string { return q("flag_rows") + "\n" + q(clause) }

// flagExplanation is the explanation column: the threshold a flag's score
// is held against and how the score was made up, in both languages.
type flagExplanation struct {
	Threshold float64 `json:"threshold"`
	EN        string  `json:"en"`
	ZH        string  `json:"zh"`
	// Cases are the reports the detector attached to the flag.
	Cases []string `json:"case_ids,omitempty"`
}

// Flags lists flags in a status, highest score first.
func (s *Store) Flags(ctx context.Context, status string, p booking.Page) (_ []booking.Flag, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, flagQuery("flags_by_status"), status, p.After, p.Size(booking.FlagPageSize))
	return pgx.CollectRows(rows, scanFlag)
}

// FlagsOfAccounts lists the flags in a status scoring at least minScore
// that name one of the accounts, highest score first.
func (s *Store) FlagsOfAccounts(ctx context.Context, status string, accountIDs []string, minScore float64) (_ []booking.Flag, rerr error) {
	defer func() { rerr = translate(rerr) }()
	if len(accountIDs) == 0 {
		return nil, nil
	}
	rows, _ := s.db.pool.Query(ctx, flagQuery("flags_of_accounts"), status, minScore, accountIDs)
	return pgx.CollectRows(rows, scanFlag)
}

// Flag reads one flag.
func (s *Store) Flag(ctx context.Context, id string) (_ booking.Flag, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, flagQuery("flag_by_id"), id)
	f, err := pgx.CollectExactlyOneRow(rows, scanFlag)
	if errors.Is(err, pgx.ErrNoRows) {
		return f, booking.ErrFlagNotFound
	}
	return f, err
}

// SaveFlags records what a detection run found. A new flag opens; an open
// one takes the new evidence; a dismissed one reopens only when its score
// reached reopenAt times the score it was dismissed at; a confirmed one is
// left as decided. It returns how many flags are new or reopened.
func (s *Store) SaveFlags(ctx context.Context, flags []booking.Flag, now time.Time, reopenAt float64) (_ int, rerr error) {
	defer func() { rerr = translate(rerr) }()
	opened := 0
	err := s.db.Tx(ctx, "save_flags", func(tx pgx.Tx) error {
		opened = 0
		for _, f := range flags {
			reasons, _ := json.Marshal(f.Reasons)
			accounts, _ := json.Marshal(f.AccountIDs)
			patients, _ := json.Marshal(f.PatientIDs)
			explanation, _ := json.Marshal(flagExplanation{f.Threshold, f.Explanation, f.ExplanationZH, f.CaseIDs})
			rows, _ := tx.Query(ctx, flagQuery("flag_by_id"), f.ID)
			prev, err := pgx.CollectExactlyOneRow(rows, scanFlag)
			switch {
			case errors.Is(err, pgx.ErrNoRows):
				// Another run may insert the same flag at once: it is the
				// same flag, so the first one stands.
				tag, err := tx.Exec(ctx, q("insert_flag"), f.ID, f.Score, reasons, accounts, patients, now, explanation)
				if err != nil {
					return err
				}
				opened += int(tag.RowsAffected())
				continue
			case err != nil:
				return err
			}
			status := prev.Status
			switch prev.Status {
			case booking.FlagConfirmed, booking.FlagOverturned:
				continue
			case booking.FlagDismissed:
				if f.Score < prev.DecidedScore*reopenAt {
					continue // allow-listed against this evidence
				}
				status = booking.FlagOpen
				opened++
			}
			if _, err := tx.Exec(ctx, q("update_flag_evidence"), f.ID, f.Score, reasons, accounts, patients, now, status, explanation); err != nil {
				return err
			}
		}
		return nil
	})
	return opened, err
}

// flagNotOpen is why a flag's update touched no row: it does not exist
// (ErrFlagNotFound) or is no longer open (ErrFlagDecided).
func flagNotOpen(ctx context.Context, tx pgx.Tx, id string) error {
	var n int
	if err := tx.QueryRow(ctx, q("flag_exists"), id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return booking.ErrFlagNotFound
	}
	return booking.ErrFlagDecided
}

// RequestDismissal records the first administrator's dismissal of an open
// flag that wants a second one's (review25 M1), with its audit entry; the
// flag stays open. A flag with a dismissal already pending is
// ErrFlagDecided.
func (s *Store) RequestDismissal(ctx context.Context, id string, d booking.Dismissal, now time.Time, a booking.AuditEntry) (rerr error) {
	defer func() { rerr = translate(rerr) }()
	doc, _ := json.Marshal(d)
	return s.db.Tx(ctx, "request_dismissal", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, q("request_dismissal"), id, doc, now)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return flagNotOpen(ctx, tx, id)
		}
		return insertAudit(ctx, tx, a)
	})
}

// DecideFlag records an administrator's decision on an open flag with its
// audit entry, and a dismissal's record (nil: keep the flag's). Confirming
// also blocks the flag's accounts, and bars the identities of bar, until
// blockUntil, and raises the catalog's version. It returns the bars' keys.
func (s *Store) DecideFlag(ctx context.Context, id, status, note string, by booking.Actor, now, blockUntil time.Time, bar []string, dismissal *booking.Dismissal, a booking.AuditEntry) (_ []booking.Bar, rerr error) {
	defer func() { rerr = translate(rerr) }()
	var doc []byte
	if dismissal != nil {
		doc, _ = json.Marshal(dismissal)
	}
	var bars []booking.Bar
	err := s.db.Tx(ctx, "decide_flag", func(tx pgx.Tx) error {
		bars = bars[:0]
		tag, err := tx.Exec(ctx, q("decide_flag"), id, status, now, by.AccountID, note, doc)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return flagNotOpen(ctx, tx, id)
		}
		if err := insertAudit(ctx, tx, a); err != nil {
			return err
		}
		if status != booking.FlagConfirmed {
			return nil
		}
		// The blocks change who may sign in and book: every instance
		// reloads its blocked accounts at its next catalog watch, not at
		// its next full refresh (session 23).
		if err := bumpCatalog(ctx, tx); err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, flagQuery("flag_by_id"), id)
		f, err := pgx.CollectExactlyOneRow(rows, scanFlag)
		if err != nil {
			return err
		}
		for _, acct := range uuids(f.AccountIDs) {
			if _, err := tx.Exec(ctx, q("block_account"), acct, blockUntil); err != nil {
				return err
			}
		}
		for _, ident := range uuids(bar) {
			tag, err := tx.Exec(ctx, q("block_identity"), id, ident, blockUntil)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				continue
			}
			var idHash []byte
			if err := tx.QueryRow(ctx, q("identity_hash"), ident).Scan(&idHash); err != nil {
				if errors.Is(err, pgx.ErrNoRows) {
					continue
				}
				return err
			}
			bars = append(bars, booking.Bar{IdentityID: ident, IdentityKey: booking.IdentityKey(idHash), Until: blockUntil})
		}
		return nil
	})
	return bars, err
}

// FutureBookingsOfGroup lists confirmed bookings, not yet started, that
// some accounts made themselves (no staff member made them for the account).
func (s *Store) FutureBookingsOfGroup(ctx context.Context, now time.Time, accountIDs []string) (_ []booking.Booking, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, bookingQuery("future_bookings_of_group"), now, uuids(accountIDs))
	return pgx.CollectRows(rows, scanBooking)
}

// PersonsElsewhere says which of some identities an account outside
// accountIDs lists, on how many, and whether as its verified self.
func (s *Store) PersonsElsewhere(ctx context.Context, accountIDs, identityIDs []string) (_ map[string]booking.Elsewhere, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, q("persons_elsewhere"), uuids(accountIDs), uuids(identityIDs))
	out := map[string]booking.Elsewhere{}
	var id string
	var e booking.Elsewhere
	_, err := pgx.ForEachRow(rows, []any{&id, &e.Accounts, &e.VerifiedSelf}, func() error {
		out[id] = e
		return nil
	})
	return out, err
}

// AuditSince reads staff actions from a time on, newest first by (ts, id),
// after the entry before when it is not empty.
func (s *Store) AuditSince(ctx context.Context, since time.Time, hospitalID, before string, f booking.AuditFilter) (_ []booking.AuditEntry, rerr error) {
	defer func() { rerr = translate(rerr) }()
	var at time.Time
	var cursor *string
	if before != "" {
		err := s.db.pool.QueryRow(ctx, q("audit_entry_time"), before, hospitalID).Scan(&at)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, booking.ErrNotFound
		}
		if err != nil {
			return nil, err
		}
		cursor = &before
	}
	orNil := func(id string) *string {
		if id == "" {
			return nil
		}
		return &id
	}
	rows, _ := s.db.pool.Query(ctx, q("audit_since"), since, hospitalID, at, cursor, orNil(f.ActorID), f.Action, orNil(f.SessionID))
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.AuditEntry, error) {
		var a booking.AuditEntry
		var role string
		err := r.Scan(&a.ID, &a.TS, &a.ActorID, &role, &a.Action, &a.Target, &a.Reason, &a.HospitalID, &a.ActorName, &a.ActorHospitalElsewhere)
		a.ActorRole = booking.Role(role)
		return a, err
	})
}

// BlockedAccounts is booking.Store's: the accounts blocked at now, each
// with the end of its block (zero: until lifted).
func (s *Store) BlockedAccounts(ctx context.Context, now time.Time) (_ map[string]time.Time, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, q("blocked_accounts"), now)
	out := map[string]time.Time{}
	var id string
	var until *time.Time
	_, err := pgx.ForEachRow(rows, []any{&id, &until}, func() error {
		out[id] = time.Time{}
		if until != nil {
			out[id] = *until
		}
		return nil
	})
	return out, err
}
