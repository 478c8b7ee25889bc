package cockroach

import (
	"context"
	_ "embed"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"fairslot/internal/booking"
)

//go:embed cases.sql
var casesSQL string

var caseQueries = ParseQueries(casesSQL)

// caseQuery is the case columns' SELECT with a tail (WHERE, ORDER BY).
func caseQuery(tail string) string {
	return caseQueries["case_columns"] + " " + tail
}

func scanCase(r pgx.CollectableRow) (booking.Case, error) {
	var c booking.Case
	var answeredAt, closedAt *time.Time
	err := r.Scan(&c.ID, &c.Kind, &c.AccountID, &c.HospitalID, &c.Category, &c.BookingID, &c.OfferedPhoneHash,
		&c.OfferedPhoneMasked, &c.OfferedAccount, &c.Text, &c.SeveralDepartments, &c.Status, &c.CreatedAt, &c.DueAt,
		&c.Answer, &c.AnsweredBy, &answeredAt, &c.CloseNote, &c.ClosedBy, &closedAt, &c.FlagID, &c.OfferedAccountMasked, &c.FoldedInto, &c.IdentityID)
	if answeredAt != nil {
		c.AnsweredAt = *answeredAt
	}
	if closedAt != nil {
		c.ClosedAt = *closedAt
	}
	return c, err
}

// InsertCase stores a patient's new report or complaint.
func (s *Store) InsertCase(ctx context.Context, c booking.Case) (rerr error) {
	defer func() { rerr = translate(rerr) }()
	_, err := s.db.pool.Exec(ctx, caseQueries["insert_case"], c.ID, c.Kind, c.AccountID, c.HospitalID, c.Category,
		nullable(c.BookingID), c.OfferedPhoneHash, c.OfferedPhoneMasked, c.OfferedAccount, c.Text, c.SeveralDepartments,
		c.CreatedAt, c.DueAt, c.FlagID, c.OfferedAccountMasked, nullable(c.FoldedInto), nullable(c.IdentityID))
	if name, ok := uniqueViolation(err); ok && name == "patient_cases_pkey" {
		return booking.ErrIdempotencyReuse
	}
	return err
}

// BlockedUntil is when an account's block ends (zero: until lifted).
func (s *Store) BlockedUntil(ctx context.Context, accountID string) (_ time.Time, rerr error) {
	defer func() { rerr = translate(rerr) }()
	var until *time.Time
	err := s.db.pool.QueryRow(ctx, caseQueries["blocked_until"], accountID).Scan(&until)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, booking.ErrNotFound
	}
	if until == nil {
		return time.Time{}, err
	}
	return *until, err
}

// BlockingFlag is the confirmed flag that blocks an account, or
// booking.ErrFlagNotFound.
func (s *Store) BlockingFlag(ctx context.Context, accountID string) (_ string, rerr error) {
	defer func() { rerr = translate(rerr) }()
	var id string
	err := s.db.pool.QueryRow(ctx, caseQueries["blocking_flag"], accountID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", booking.ErrFlagNotFound
	}
	return id, err
}

// LiftBlock ends an account's block and its people's, with the audit
// entry, in one transaction; when flagID names a flag none of whose
// accounts stays blocked, the flag is overturned with every person's block
// of it, audited with overturn; the catalog's version is raised. It returns
// the persons' keys whose blocks ended and whether the flag was overturned.
func (s *Store) LiftBlock(ctx context.Context, accountID, flagID, by string, at time.Time, a, overturn booking.AuditEntry) (_ []string, _ bool, rerr error) {
	defer func() { rerr = translate(rerr) }()
	var keys []string
	var overturned bool
	err := s.db.Tx(ctx, "lift_block", func(tx pgx.Tx) error {
		keys, overturned = keys[:0], false
		if _, err := tx.Exec(ctx, caseQueries["lift_account_block"], accountID); err != nil {
			return err
		}
		// Every instance lets the account in again at its next catalog
		// watch, not at its next full refresh (session 23).
		if err := bumpCatalog(ctx, tx); err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, caseQueries["lift_identity_blocks"], accountID, at)
		lifted, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
		if err != nil {
			return err
		}
		if err := insertAudit(ctx, tx, a); err != nil {
			return err
		}
		if flagID != "" {
			var blocked int
			if err := tx.QueryRow(ctx, caseQueries["flag_accounts_blocked"], flagID).Scan(&blocked); err != nil {
				return err
			}
			if blocked == 0 {
				tag, err := tx.Exec(ctx, caseQueries["overturn_flag"], flagID, by, at)
				if err != nil {
					return err
				}
				if overturned = tag.RowsAffected() == 1; overturned {
					rows, _ := tx.Query(ctx, caseQueries["lift_flag_blocks"], flagID, at)
					more, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
					if err != nil {
						return err
					}
					lifted = append(lifted, more...)
					if err := insertAudit(ctx, tx, overturn); err != nil {
						return err
					}
				}
			}
		}
		for _, h := range lifted {
			keys = append(keys, booking.IdentityKey(h))
		}
		return nil
	})
	return keys, overturned, err
}

// LiftPersonBlock ends a person's block by a flag, naming the appeal, with
// the audit entry, in one transaction; booking.ErrNotBarredByReview when
// none was in force.
func (s *Store) LiftPersonBlock(ctx context.Context, flagID, identityID, caseID string, at time.Time, a booking.AuditEntry) (_ string, rerr error) {
	defer func() { rerr = translate(rerr) }()
	var key string
	err := s.db.Tx(ctx, "lift_person_block", func(tx pgx.Tx) error {
		var h []byte
		err := tx.QueryRow(ctx, caseQueries["lift_person_block"], flagID, identityID, at, caseID).Scan(&h)
		if errors.Is(err, pgx.ErrNoRows) {
			return booking.ErrNotBarredByReview
		}
		if err != nil {
			return err
		}
		key = booking.IdentityKey(h)
		return insertAudit(ctx, tx, a)
	})
	return key, err
}

// ReviewBlock is the confirmed flag whose block of a person is in force at
// now (the latest ending) and its end, or booking.ErrFlagNotFound.
func (s *Store) ReviewBlock(ctx context.Context, identityID string, now time.Time) (_ string, _ time.Time, rerr error) {
	defer func() { rerr = translate(rerr) }()
	var id string
	var until time.Time
	err := s.db.pool.QueryRow(ctx, caseQueries["review_block"], identityID, now).Scan(&id, &until)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", time.Time{}, booking.ErrFlagNotFound
	}
	return id, until, err
}

// PersonAppealPending is whether an appeal for the person waits for its
// first answer.
func (s *Store) PersonAppealPending(ctx context.Context, identityID string) (_ bool, rerr error) {
	defer func() { rerr = translate(rerr) }()
	var pending bool
	err := s.db.pool.QueryRow(ctx, caseQueries["person_appeal_pending"], identityID).Scan(&pending)
	return pending, err
}

// PersonAppeals lists the appeals filed for a person, newest first.
func (s *Store) PersonAppeals(ctx context.Context, identityID string) ([]booking.Case, error) {
	return s.cases(ctx, "WHERE kind = 'appeal' AND identity_id = $1 ORDER BY created_at DESC, id LIMIT 20", identityID)
}

// OverdueFlags counts the open flags opened before a time.
func (s *Store) OverdueFlags(ctx context.Context, openedBefore time.Time) (_ int, rerr error) {
	defer func() { rerr = translate(rerr) }()
	var n int
	err := s.db.pool.QueryRow(ctx, q("overdue_flags"), openedBefore).Scan(&n)
	return n, err
}

// OpenCases counts an account's cases waiting for a first answer.
func (s *Store) OpenCases(ctx context.Context, accountID string) (_ int, rerr error) {
	defer func() { rerr = translate(rerr) }()
	var n int
	err := s.db.pool.QueryRow(ctx, caseQueries["open_cases"], accountID).Scan(&n)
	return n, err
}

func (s *Store) cases(ctx context.Context, tail string, args ...any) (_ []booking.Case, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, caseQuery(tail), args...)
	return pgx.CollectRows(rows, scanCase)
}

// CasesOfAccount lists an account's cases, newest first.
func (s *Store) CasesOfAccount(ctx context.Context, accountID string) ([]booking.Case, error) {
	return s.cases(ctx, "WHERE account_id = $1 ORDER BY created_at DESC, id LIMIT 200", accountID)
}

// CasesOfHospital lists the cases of a hospital ("" every hospital) in the
// given states, soonest deadline first.
func (s *Store) CasesOfHospital(ctx context.Context, hospitalID string, states []string) ([]booking.Case, error) {
	if hospitalID == "" {
		return s.cases(ctx, "WHERE status = ANY($1::TEXT[]) ORDER BY due_at, id LIMIT 500", states)
	}
	return s.cases(ctx, "WHERE hospital_id = $1 AND status = ANY($2::TEXT[]) ORDER BY due_at, id LIMIT 500", hospitalID, states)
}

// CasesOfFlag lists the reports linked to a flag.
func (s *Store) CasesOfFlag(ctx context.Context, flagID string) ([]booking.Case, error) {
	return s.cases(ctx, "WHERE flag_id = $1 ORDER BY created_at, id", flagID)
}

// CasesFoldedInto lists the reports folded into a case, oldest first.
func (s *Store) CasesFoldedInto(ctx context.Context, id string) ([]booking.Case, error) {
	return s.cases(ctx, "WHERE folded_into = $1 ORDER BY created_at, id", id)
}

// CasesByID returns the cases of the ids that exist.
func (s *Store) CasesByID(ctx context.Context, ids []string) ([]booking.Case, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return s.cases(ctx, "WHERE id = ANY($1::UUID[]) ORDER BY created_at, id", ids)
}

// ReportsSince lists the scalper reports filed since a time, oldest first.
func (s *Store) ReportsSince(ctx context.Context, since time.Time) ([]booking.Case, error) {
	return s.cases(ctx, "WHERE kind = 'report' AND created_at >= $1 ORDER BY created_at, id", since)
}

// Case returns one case, or ErrCaseNotFound.
func (s *Store) Case(ctx context.Context, id string) (_ booking.Case, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, caseQuery("WHERE id = $1"), id)
	c, err := pgx.CollectExactlyOneRow(rows, scanCase)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, booking.ErrCaseNotFound
	}
	return c, err
}

// changeCase runs a case's update with its notification (n nil: none) and audit entry in
// one transaction, and reads the case back; ErrCaseClosed when the update
// found it closed.
func (s *Store) changeCase(ctx context.Context, op, id, query string, args []any, n *booking.Notification, a booking.AuditEntry) (_ booking.Case, rerr error) {
	defer func() { rerr = translate(rerr) }()
	var out booking.Case
	err := s.db.Tx(ctx, op, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, caseQueries[query], args...)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return booking.ErrCaseClosed
		}
		if n != nil && n.AccountID != "" { // none: nobody's account to tell
			if _, err := tx.Exec(ctx, caseQueries["insert_notification"], n.ID, n.HospitalID, n.Kind, n.AccountID, n.CaseID,
				n.Body, n.CreatedAt); err != nil {
				return err
			}
		}
		if err := insertAudit(ctx, tx, a); err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, caseQuery("WHERE id = $1"), id)
		out, err = pgx.CollectExactlyOneRow(rows, scanCase)
		return err
	})
	return out, err
}

// SetCaseDepartments records an administrator's say on several departments
// and the deadline that follows, with its audit entry, in one transaction;
// ErrCaseClosed when the case is closed.
func (s *Store) SetCaseDepartments(ctx context.Context, id string, several bool, dueAt time.Time, a booking.AuditEntry) (booking.Case, error) {
	return s.changeCase(ctx, "set_case_departments", id, "set_case_departments", []any{id, several, dueAt}, nil, a)
}

// AnswerCase records an answer, its notification and its audit entry.
func (s *Store) AnswerCase(ctx context.Context, id, answer, flagID string, close bool, by string, at time.Time, n booking.Notification, a booking.AuditEntry) (booking.Case, error) {
	return s.changeCase(ctx, "answer_case", id, "answer_case", []any{id, answer, flagID, close, by, at}, &n, a)
}

// CloseCase closes a case with its notification and audit entry.
func (s *Store) CloseCase(ctx context.Context, id, note, by string, at time.Time, n booking.Notification, a booking.AuditEntry) (booking.Case, error) {
	return s.changeCase(ctx, "close_case", id, "close_case", []any{id, note, by, at}, &n, a)
}

// AccountNotifications lists an account's notifications, newest first.
func (s *Store) AccountNotifications(ctx context.Context, accountID string, limit int) (_ []booking.Notification, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, caseQueries["account_notifications"], accountID, limit)
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.Notification, error) {
		n := booking.Notification{AccountID: accountID}
		var read *time.Time
		err := r.Scan(&n.ID, &n.Kind, &n.HospitalID, &n.BookingID, &n.WaitlistID, &n.EntryID, &n.CaseID, &n.Body, &n.CreatedAt, &read)
		if read != nil {
			n.ReadAt = *read
		}
		return n, err
	})
}

// MarkNotificationRead marks one of an account's notifications read.
func (s *Store) MarkNotificationRead(ctx context.Context, accountID, id string, at time.Time) (rerr error) {
	defer func() { rerr = translate(rerr) }()
	tag, err := s.db.pool.Exec(ctx, caseQueries["mark_notification_read"], id, accountID, at)
	if err == nil && tag.RowsAffected() == 0 {
		return booking.ErrNotificationNotFound
	}
	return err
}

// MarkNotificationsRead marks an account's unread notifications read.
func (s *Store) MarkNotificationsRead(ctx context.Context, accountID string, at time.Time) (_ int, rerr error) {
	defer func() { rerr = translate(rerr) }()
	tag, err := s.db.pool.Exec(ctx, caseQueries["mark_notifications_read"], accountID, at)
	return int(tag.RowsAffected()), err
}

// UndeliveredNotifications lists the outbox's undelivered notifications,
// oldest first.
func (s *Store) UndeliveredNotifications(ctx context.Context, limit int) (_ []booking.Notification, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, caseQueries["undelivered_notifications"], limit)
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.Notification, error) {
		var n booking.Notification
		err := r.Scan(&n.ID, &n.Kind, &n.HospitalID, &n.AccountID, &n.IdentityID, &n.BookingID, &n.WaitlistID, &n.EntryID,
			&n.CaseID, &n.Body, &n.CreatedAt)
		return n, err
	})
}

// MarkDelivered stamps notifications delivered.
func (s *Store) MarkDelivered(ctx context.Context, ids []string, at time.Time) (rerr error) {
	defer func() { rerr = translate(rerr) }()
	_, err := s.db.pool.Exec(ctx, caseQueries["mark_delivered"], ids, at)
	return err
}

// LastEventNotification is the time of the newest event already told.
func (s *Store) LastEventNotification(ctx context.Context) (_ time.Time, rerr error) {
	defer func() { rerr = translate(rerr) }()
	var at time.Time
	err := s.db.pool.QueryRow(ctx, caseQueries["last_event_notification"]).Scan(&at)
	if at.Year() <= 1 {
		at = time.Time{}
	}
	return at, err
}

// nilUUID is the least UUID: a keyset page's "after" when nothing came before.
const nilUUID = "00000000-0000-0000-0000-000000000000"

// EventsToNotify reads the events the notify job tells of from since on,
// those at since after afterID.
func (s *Store) EventsToNotify(ctx context.Context, since time.Time, afterID string, limit int) (_ []booking.Event, rerr error) {
	defer func() { rerr = translate(rerr) }()
	if afterID == "" {
		afterID = nilUUID
	}
	rows, _ := s.db.pool.Query(ctx, eventQuery(caseQueries["events_to_notify"]), since, limit, afterID)
	return pgx.CollectRows(rows, scanEvent)
}

// AddEventNotifications stores notifications derived from events, once per
// event.
func (s *Store) AddEventNotifications(ctx context.Context, ns []booking.Notification) (_ int, rerr error) {
	defer func() { rerr = translate(rerr) }()
	if len(ns) == 0 {
		return 0, nil
	}
	var ids, events, hospitals, sessions, kinds, accounts, identities, bookings, entries, places, bodies []string
	var at []time.Time
	var calls []bool
	for _, n := range ns {
		ids, events, hospitals, sessions = append(ids, n.ID), append(events, n.EventID), append(hospitals, n.HospitalID), append(sessions, n.SessionID)
		kinds, accounts, identities = append(kinds, n.Kind), append(accounts, n.AccountID), append(identities, n.IdentityID)
		bookings, entries, places = append(bookings, n.BookingID), append(entries, n.EntryID), append(places, n.WaitlistID)
		bodies, at, calls = append(bodies, n.Body), append(at, n.CreatedAt), append(calls, n.CallBack)
	}
	tag, err := s.db.pool.Exec(ctx, caseQueries["insert_event_notifications"], ids, events, hospitals, nullableIDs(sessions),
		kinds, nullableIDs(accounts), nullableIDs(identities), nullableIDs(bookings), nullableIDs(entries), bodies, at, calls,
		nullableIDs(places))
	return int(tag.RowsAffected()), err
}

// VerifiedSelfAccounts maps each of identityIDs that an account holds as
// its verified self to that account.
func (s *Store) VerifiedSelfAccounts(ctx context.Context, identityIDs []string) (_ map[string]string, rerr error) {
	defer func() { rerr = translate(rerr) }()
	return s.pairs(ctx, caseQueries["verified_self_accounts"], identityIDs)
}

// MaskedPhones maps each of accountIDs to its phone, masked.
func (s *Store) MaskedPhones(ctx context.Context, accountIDs []string) (_ map[string]string, rerr error) {
	defer func() { rerr = translate(rerr) }()
	return s.pairs(ctx, q("masked_phones_of_accounts"), accountIDs)
}

// pairs runs a query of ids that answers (key, value) rows, as a map.
func (s *Store) pairs(ctx context.Context, query string, ids []string) (map[string]string, error) {
	out := map[string]string{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, _ := s.db.pool.Query(ctx, query, ids)
	var k, v string
	_, err := pgx.ForEachRow(rows, []any{&k, &v}, func() error {
		out[k] = v
		return nil
	})
	return out, err
}
