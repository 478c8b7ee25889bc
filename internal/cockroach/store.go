package cockroach

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"fairslot/internal/booking"
)

// Store implements booking.Store. Every method translates driver errors at
// this boundary (translate in db.go): domain errors pass, a database that is
// down or too slow becomes booking.ErrUnavailable.
type Store struct {
	db *DB
	// refused, when set, runs after a batch of bookings left rows out and
	// before their reasons are read (a test cancels the booking they met).
	refused func()
}

// Store is every narrow store of the domain; the whole (booking.Store) is
// what cmd/fairslot wires.
var (
	_ booking.Store         = (*Store)(nil)
	_ booking.CatalogStore  = (*Store)(nil)
	_ booking.SourceStore   = (*Store)(nil)
	_ booking.AccountStore  = (*Store)(nil)
	_ booking.EventLog      = (*Store)(nil)
	_ booking.BookingStore  = (*Store)(nil)
	_ booking.DeskStore     = (*Store)(nil)
	_ booking.NoShowStore   = (*Store)(nil)
	_ booking.WaitlistStore = (*Store)(nil)
	_ booking.ReviewStore   = (*Store)(nil)
	_ booking.LotteryStore  = (*Store)(nil)
)

// NewStore returns the booking store over db.
func NewStore(db *DB) *Store { return &Store{db: db} }

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error { return translate(s.db.Ping(ctx)) }

// nullable turns "" into NULL for optional uuid and timestamp columns.
func nullable(v string) any {
	if v == "" {
		return nil
	}
	return v
}

// nullBytes turns "" into NULL for an optional BYTEA column.
func nullBytes(v string) any {
	if v == "" {
		return nil
	}
	return []byte(v)
}

// nullBool turns false into NULL for an optional BOOL mark that only says
// yes (made_by_other_account).
func nullBool(v bool) any {
	if !v {
		return nil
	}
	return true
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// LoadSchedule reads hospitals, departments, doctors and the sessions from
// fromDate on, with their channels and slots.
func (s *Store) LoadSchedule(ctx context.Context, fromDate string) (_ booking.Schedule, rerr error) {
	defer func() { rerr = translate(rerr) }()
	var sch booking.Schedule
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	start := time.Now()
	defer s.db.observe("load_schedule", start)

	rows, _ := s.db.pool.Query(ctx, q("hospitals"))
	hs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.Hospital, error) {
		var h booking.Hospital
		err := r.Scan(&h.ID, &h.Name, &h.TimeZone, &h.Policy.PerDay, &h.Policy.PerWeek, &h.Policy.PerMonth, &h.CancelDeadline)
		return h, err
	})
	if err != nil {
		return sch, fmt.Errorf("load hospitals: %w", err)
	}
	rows, _ = s.db.pool.Query(ctx, sourceQueries["policies"])
	changes, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.PolicyChange, error) {
		var c booking.PolicyChange
		var windowDays int
		var steps string
		err := r.Scan(&c.ID, &c.HospitalID, &c.EffectiveFrom, &c.Policy.PerDay, &c.Policy.PerWeek, &c.Policy.PerMonth,
			&c.CancelDeadline, &c.Reason, &c.SetBy, &c.SetAt, &c.Policy.BookAheadDays, &c.Policy.OnsiteShare, &windowDays, &steps,
			&c.Policy.ExtraSlotsMax, &c.Policy.ReleaseNoticeHours, &c.Policy.StopUndoMinutes)
		if err != nil {
			return c, err
		}
		c.Policy.NoShows.Window = time.Duration(windowDays) * 24 * time.Hour
		c.Policy.NoShows.Steps, err = parseSteps(steps)
		return c, err
	})
	if err != nil {
		return sch, fmt.Errorf("load policies: %w", err)
	}
	for i := range hs {
		for _, c := range changes {
			if c.HospitalID == hs[i].ID {
				hs[i].Changes = append(hs[i].Changes, c)
			}
		}
	}
	rows, _ = s.db.pool.Query(ctx, q("departments"))
	ds, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.Department, error) {
		var d booking.Department
		var retired *time.Time
		err := r.Scan(&d.ID, &d.HospitalID, &d.Name, &retired)
		if retired != nil {
			d.RetiredAt = *retired
		}
		return d, err
	})
	if err != nil {
		return sch, fmt.Errorf("load departments: %w", err)
	}
	rows, _ = s.db.pool.Query(ctx, q("doctors"))
	docs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.Doctor, error) {
		var d booking.Doctor
		var fee string
		var retired *time.Time
		err := r.Scan(&d.ID, &d.HospitalID, &d.DepartmentID, &d.Name, &d.Title, &fee, &retired)
		d.FeeLevel = booking.FeeLevel(fee)
		if retired != nil {
			d.RetiredAt = *retired
		}
		return d, err
	})
	if err != nil {
		return sch, fmt.Errorf("load doctors: %w", err)
	}
	rows, _ = s.db.pool.Query(ctx, q("sessions_from"), fromDate)
	ss, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.Session, error) {
		var x booking.Session
		var mode string
		var stopped, movedFrom, movedAt *time.Time
		err := r.Scan(&x.ID, &x.HospitalID, &x.DepartmentID, &x.DoctorID, &x.VisitDate, &x.Period, &x.StartsAt, &x.EndsAt, &mode,
			&stopped, &x.StopReason, &x.Version, &x.Room, &x.DelayMinutes, &movedFrom, &movedAt)
		x.Mode = booking.ReleaseMode(mode)
		if movedFrom != nil && movedAt != nil {
			x.MovedFrom, x.MovedAt = *movedFrom, *movedAt
		}
		if stopped != nil {
			x.StoppedAt = *stopped
		}
		return x, err
	})
	if err != nil {
		return sch, fmt.Errorf("load sessions: %w", err)
	}
	index := make(map[string]*booking.Session, len(ss))
	for i := range ss {
		index[ss[i].ID] = &ss[i]
	}
	rows, _ = s.db.pool.Query(ctx, q("channels_from"), fromDate)
	var sid, ch, mode string
	var cq booking.ChannelQuota
	var opens, draw, published *time.Time
	var committed bool
	var rec poolRecordScan
	_, err = pgx.ForEachRow(rows, append([]any{&sid, &ch, &cq.Quota, &cq.ReleaseAt, &mode, &opens, &draw, &published, &committed}, rec.dest()...), func() error {
		if x := index[sid]; x != nil {
			c := cq
			c.Channel, c.Mode = booking.Channel(ch), booking.ReleaseMode(mode)
			if opens != nil && draw != nil {
				c.OpensAt, c.DrawAt = *opens, *draw
			}
			if published != nil {
				c.PublishedAt = *published
			}
			if committed {
				r := rec.record()
				c.Draw = &r
			}
			x.Channels = append(x.Channels, c)
		}
		return nil
	})
	if err != nil {
		return sch, fmt.Errorf("load channels: %w", err)
	}
	rows, _ = s.db.pool.Query(ctx, q("slots_from"), fromDate)
	var sl booking.Slot
	_, err = pgx.ForEachRow(rows, []any{&sid, &sl.No, &ch, &sl.StartsAt, &sl.EndsAt}, func() error {
		if x := index[sid]; x != nil {
			sl.Channel = booking.Channel(ch)
			x.Slots = append(x.Slots, sl)
		}
		return nil
	})
	if err != nil {
		return sch, fmt.Errorf("load slots: %w", err)
	}
	return booking.Schedule{Hospitals: hs, Departments: ds, Doctors: docs, Sessions: ss}, nil
}

// SaveSchedule inserts what is new in a schedule; rows that exist are kept.
func (s *Store) SaveSchedule(ctx context.Context, sch booking.Schedule) (rerr error) {
	defer func() { rerr = translate(rerr) }()
	return s.db.Tx(ctx, "save_schedule", func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for _, h := range sch.Hospitals {
			deadline := h.CancelDeadline
			if deadline == "" {
				deadline = "15:00"
			}
			b.Queue(q("insert_hospital"), h.ID, h.Name, h.TimeZone, h.Policy.PerDay, h.Policy.PerWeek, h.Policy.PerMonth, deadline)
		}
		for _, d := range sch.Departments {
			b.Queue(q("insert_department"), d.ID, d.HospitalID, d.Name)
		}
		for _, d := range sch.Doctors {
			b.Queue(q("insert_doctor"), d.ID, d.HospitalID, d.DepartmentID, d.Name, d.Title, string(d.FeeLevel.OrGeneral()))
		}
		for _, x := range sch.Sessions {
			queueSession(b, x)
			queueLayout(b, x)
		}
		b.Queue(sourceQueries["bump_catalog"])
		return tx.SendBatch(ctx, b).Close()
	})
}

// queueSession queues the insert of a session's row, with its room and
// delay: a clinic restored after a stop is published again as it was, the
// delay its patients were told included (session 23).
func queueSession(b *pgx.Batch, x booking.Session) {
	b.Queue(q("insert_session"), x.ID, x.HospitalID, x.DepartmentID, x.DoctorID, x.VisitDate, x.Period, x.StartsAt, x.EndsAt, string(x.Mode),
		x.Room, x.DelayMinutes)
}

// queueLayout queues the inserts of a session's pools and slots.
func queueLayout(b *pgx.Batch, x booking.Session) {
	for _, c := range x.Channels {
		mode := c.Mode
		if mode == "" {
			mode = booking.FirstCome
		}
		b.Queue(q("insert_channel"), x.ID, string(c.Channel), c.Quota, c.ReleaseAt, string(mode), nullTime(c.OpensAt), nullTime(c.DrawAt), nullTime(c.PublishedAt))
	}
	for _, sl := range x.Slots {
		b.Queue(q("insert_slot"), x.ID, sl.No, string(sl.Channel), sl.StartsAt, sl.EndsAt)
	}
}

// CreateAccount inserts an account and its event.
func (s *Store) CreateAccount(ctx context.Context, a booking.Account, ev booking.Event) (rerr error) {
	defer func() { rerr = translate(rerr) }()
	err := s.db.Tx(ctx, "create_account", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, q("insert_account"), a.ID, string(a.Role), a.PhoneHash, a.PhoneSealed, a.PhoneMasked, a.PasswordHash, a.CreatedAt, nullable(a.HospitalID), a.Name,
			nullable(a.ConsentVersion)); err != nil {
			return err
		}
		if a.Consent != nil {
			if err := insertConsent(ctx, tx, *a.Consent); err != nil {
				return err
			}
		}
		return insertEvent(ctx, tx, ev)
	})
	if _, ok := uniqueViolation(err); ok {
		return booking.ErrPhoneTaken
	}
	return err
}

// AccountByPhone finds an account by its phone's keyed hash.
func (s *Store) AccountByPhone(ctx context.Context, phoneHash []byte) (_ booking.Account, rerr error) {
	defer func() { rerr = translate(rerr) }()
	return scanAccount(s.db.pool.QueryRow(ctx, q("account_rows")+"\n"+q("account_by_phone"), phoneHash))
}

// AccountByID reads an account.
func (s *Store) AccountByID(ctx context.Context, id string) (_ booking.Account, rerr error) {
	defer func() { rerr = translate(rerr) }()
	return scanAccount(s.db.pool.QueryRow(ctx, q("account_rows")+"\n"+q("account_by_id"), id))
}

func scanAccount(row pgx.Row) (booking.Account, error) {
	var a booking.Account
	var role string
	var changed, due *time.Time
	err := row.Scan(&a.ID, &role, &a.PhoneHash, &a.PhoneMasked, &a.PasswordHash, &a.Blocked, &a.CreatedAt, &a.HospitalID, &a.TokenGeneration, &a.Disabled, &a.Closed,
		&changed, &due, &a.ConsentVersion)
	if changed != nil {
		a.CredentialsChangedAt = *changed
	}
	if due != nil {
		a.ClosingDueAt = *due
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return a, booking.ErrNotFound
	}
	a.Role = booking.Role(role)
	return a, err
}

// RevokeTokens raises an account's token generation, with a new password
// hash when one is given, and returns the new generation.
func (s *Store) RevokeTokens(ctx context.Context, accountID, newPasswordHash string, at time.Time) (_ int, rerr error) {
	defer func() { rerr = translate(rerr) }()
	var gen int
	err := s.db.pool.QueryRow(ctx, q("revoke_tokens"), accountID, at, newPasswordHash).Scan(&gen)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, booking.ErrNotFound
	}
	return gen, err
}

// ResetPassword sets a new password hash and raises the token generation,
// with the change's audit entry, in one transaction.
func (s *Store) ResetPassword(ctx context.Context, accountID, hash string, at time.Time, a booking.AuditEntry) (_ int, rerr error) {
	defer func() { rerr = translate(rerr) }()
	gen, err := s.generationWithAudit(ctx, "reset_password", a, func(tx pgx.Tx) pgx.Row {
		return tx.QueryRow(ctx, q("revoke_tokens"), accountID, at, hash)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, booking.ErrNotFound
	}
	return gen, err
}

// CloseAccount is booking.AccountStore's: one transaction.
func (s *Store) CloseAccount(ctx context.Context, accountID string, tombstone []byte, at time.Time, by booking.ClosedBy, a booking.AuditEntry) (_ int, rerr error) {
	defer func() { rerr = translate(rerr) }()
	var gen int
	err := s.db.Tx(ctx, "close_account", func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, q("close_account"), accountID, at, tombstone, nullable(by.ClerkID), by.Taken).Scan(&gen); err != nil {
			if !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
			var blocked bool
			if err := tx.QueryRow(ctx, q("account_closing_state"), accountID).Scan(&blocked); err == nil && blocked {
				return booking.ErrAccountBlocked
			}
			return pgx.ErrNoRows
		}
		if _, err := tx.Exec(ctx, q("release_account_patients"), accountID, at); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, q("drop_reset_code"), accountID); err != nil {
			return err
		}
		a.TS = at
		return insertAudit(ctx, tx, a)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, booking.ErrNoChange
	}
	return gen, err
}

// RequestClosing is booking.AccountStore's: one transaction.
func (s *Store) RequestClosing(ctx context.Context, accountID string, at, due time.Time, a booking.AuditEntry, n booking.Notification) (_ int, rerr error) {
	defer func() { rerr = translate(rerr) }()
	var gen int
	err := s.db.Tx(ctx, "request_closing", func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, q("request_closing"), accountID, at, due).Scan(&gen); err != nil {
			if !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
			var blocked bool
			if err := tx.QueryRow(ctx, q("account_closing_state"), accountID).Scan(&blocked); err == nil && blocked {
				return booking.ErrAccountBlocked
			}
			return pgx.ErrNoRows
		}
		a.TS = at
		if err := insertAccountNote(ctx, tx, accountID, n); err != nil {
			return err
		}
		return insertAudit(ctx, tx, a)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, booking.ErrNoChange
	}
	return gen, err
}

// CancelClosing is booking.AccountStore's: one transaction.
func (s *Store) CancelClosing(ctx context.Context, accountID string, a booking.AuditEntry, n booking.Notification) (rerr error) {
	defer func() { rerr = translate(rerr) }()
	err := s.db.Tx(ctx, "cancel_closing", func(tx pgx.Tx) error {
		var id string
		if err := tx.QueryRow(ctx, q("cancel_closing"), accountID).Scan(&id); err != nil {
			return err
		}
		if err := insertAccountNote(ctx, tx, accountID, n); err != nil {
			return err
		}
		return insertAudit(ctx, tx, a)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return booking.ErrNoChange
	}
	return err
}

// insertAccountNote writes a notification to an account (no hospital's).
func insertAccountNote(ctx context.Context, tx pgx.Tx, accountID string, n booking.Notification) error {
	_, err := tx.Exec(ctx, q("insert_account_notification"), n.ID, n.HospitalID, n.Kind, accountID, n.Body, n.CreatedAt)
	return err
}

// ClosingsDue is booking.AccountStore's.
func (s *Store) ClosingsDue(ctx context.Context, now time.Time) (_ []string, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, q("closings_due"), now)
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// PendingClosings is booking.AccountStore's.
func (s *Store) PendingClosings(ctx context.Context) (_ []string, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, q("pending_closings"))
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// AccountOfSelf is booking.AccountStore's.
func (s *Store) AccountOfSelf(ctx context.Context, identityID string) (_ string, rerr error) {
	defer func() { rerr = translate(rerr) }()
	var id string
	err := s.db.pool.QueryRow(ctx, q("account_of_self"), identityID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", booking.ErrNotFound
	}
	return id, err
}

// AccountUnderReview is booking.AccountStore's.
func (s *Store) AccountUnderReview(ctx context.Context, accountID string) (_ bool, rerr error) {
	defer func() { rerr = translate(rerr) }()
	var open bool
	err := s.db.pool.QueryRow(ctx, q("account_under_review"), accountID).Scan(&open)
	return open, err
}

// SaveResetCode stores an account's reset code, replacing an earlier one,
// with the clerk's audit entry, in one transaction.
func (s *Store) SaveResetCode(ctx context.Context, c booking.StoredResetCode, a booking.AuditEntry) (rerr error) {
	defer func() { rerr = translate(rerr) }()
	return s.db.Tx(ctx, "save_reset_code", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, q("save_reset_code"), c.AccountID, c.CodeHash, c.IssuedBy, nullable(c.HospitalID), c.IssuedAt, c.ExpiresAt); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, q("insert_audit"), auditArgs(a)...)
		return err
	})
}

// RedeemResetCode uses up an account's reset code, sets the new password
// and raises the token generation, with the audit entry (in the issuing
// clerk's hospital), in one transaction. No such code, or one expired:
// booking.ErrInvalidResetCode.
func (s *Store) RedeemResetCode(ctx context.Context, accountID string, codeHash []byte, at time.Time, passwordHash string, a booking.AuditEntry) (_ int, rerr error) {
	defer func() { rerr = translate(rerr) }()
	var gen int
	err := s.db.Tx(ctx, "redeem_reset_code", func(tx pgx.Tx) error {
		var clerk, hospital string
		if err := tx.QueryRow(ctx, q("take_reset_code"), accountID, codeHash, at).Scan(&clerk, &hospital); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, q("revoke_tokens"), accountID, at, passwordHash).Scan(&gen); err != nil {
			return err
		}
		a.HospitalID = hospital
		a.Reason += "; the code issued by clerk " + clerk
		_, err := tx.Exec(ctx, q("insert_audit"), auditArgs(a)...)
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, booking.ErrInvalidResetCode
	}
	return gen, err
}

// generationWithAudit runs one statement that changes an account and
// returns its token generation, and writes its audit entry, in one
// transaction: the change is not made without its audit row.
func (s *Store) generationWithAudit(ctx context.Context, name string, a booking.AuditEntry, change func(pgx.Tx) pgx.Row) (int, error) {
	var gen int
	err := s.db.Tx(ctx, name, func(tx pgx.Tx) error {
		if err := change(tx).Scan(&gen); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, q("insert_audit"), auditArgs(a)...)
		return err
	})
	return gen, err
}

// SetDisabled disables an account (ending its tokens: the generation
// rises) or enables it, with the audit entry, in one transaction; an account
// already so is booking.ErrNoChange, and nothing is written.
func (s *Store) SetDisabled(ctx context.Context, accountID string, disabled bool, at time.Time, a booking.AuditEntry) (_ int, rerr error) {
	defer func() { rerr = translate(rerr) }()
	gen, err := s.generationWithAudit(ctx, "set_disabled", a, func(tx pgx.Tx) pgx.Row {
		if disabled {
			return tx.QueryRow(ctx, q("disable_account"), accountID, at)
		}
		return tx.QueryRow(ctx, q("enable_account"), accountID)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, booking.ErrNoChange
	}
	return gen, err
}

// StaffAccounts lists the staff accounts of a hospital (every one's with
// hospitalID empty), or the one of phoneHash when it is not nil.
func (s *Store) StaffAccounts(ctx context.Context, hospitalID string, phoneHash []byte) (_ []booking.StaffAccount, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, q("staff_accounts"), hospitalID, phoneHash)
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.StaffAccount, error) {
		var a booking.StaffAccount
		var role string
		var disabled, last, creds *time.Time
		err := r.Scan(&a.ID, &role, &a.HospitalID, &a.Name, &a.PhoneMasked, &a.CreatedAt, &disabled, &last, &a.TimeZone, &creds)
		a.Role = booking.Role(role)
		if creds != nil {
			a.PasswordSetAt = *creds
		}
		if disabled != nil {
			a.DisabledAt = *disabled
		}
		if last != nil {
			a.LastLogin = *last
		}
		return a, err
	})
}

// Revocations lists accounts whose tokens were revoked at or after since.
func (s *Store) Revocations(ctx context.Context, since time.Time) (_ []booking.Revocation, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, q("revocations_since"), since)
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.Revocation, error) {
		var v booking.Revocation
		err := r.Scan(&v.AccountID, &v.Generation, &v.At)
		return v, err
	})
}

// RecordEvent stores one event outside any other write.
func (s *Store) RecordEvent(ctx context.Context, ev booking.Event) (rerr error) {
	defer func() { rerr = translate(rerr) }()
	_, err := s.db.pool.Exec(ctx, q("insert_event"), eventArgs(ev)...)
	return err
}

// RecordEvents stores a batch of events in one COPY (refused attempts,
// written by the service in the background). An id that is not a UUID —
// only what a client sent can be — is stored as NULL rather than failing
// the batch.
func (s *Store) RecordEvents(ctx context.Context, evs []booking.Event) (rerr error) {
	defer func() { rerr = translate(rerr) }()
	_, err := s.db.pool.CopyFrom(ctx, pgx.Identifier{"booking_events"}, eventColumns[:], &eventRows{evs: evs})
	return err
}

func insertEvent(ctx context.Context, tx pgx.Tx, ev booking.Event) error {
	_, err := tx.Exec(ctx, q("insert_event"), eventArgs(ev)...)
	return err
}

func eventArgs(ev booking.Event) []any {
	return []any{ev.ID, ev.TS, string(ev.Type), nullable(ev.AccountID), nullable(ev.PatientID),
		nullable(ev.BookingID), nullable(ev.SessionID), nullable(ev.HospitalID), nullable(ev.DepartmentID),
		nullable(ev.DoctorID), string(ev.Channel), ev.IP, ev.DeviceID, ev.Phone, nullTime(ev.ReleaseAt), ev.Reason,
		nullable(ev.StaffID), nullable(ev.IdentityID), nullable(ev.PresentedIdentityID), ev.PresentedOnAccount,
		nullable(ev.ByAccountID), nullBool(ev.MadeByOtherAccount), ev.CardSource}
}

// RecordAudit stores one staff action.
func (s *Store) RecordAudit(ctx context.Context, a booking.AuditEntry) (rerr error) {
	defer func() { rerr = translate(rerr) }()
	_, err := s.db.pool.Exec(ctx, q("insert_audit"), auditArgs(a)...)
	return err
}

// RecordAuditOfPerson stores a staff action on a person, and its copies for
// the other hospitals where the person is booked, entered or waitlisted
// (insert_audit_of_person), in one transaction.
func (s *Store) RecordAuditOfPerson(ctx context.Context, identityID string, a booking.AuditEntry) (rerr error) {
	defer func() { rerr = translate(rerr) }()
	return s.db.Tx(ctx, "audit_of_person", func(tx pgx.Tx) error {
		if err := insertAudit(ctx, tx, a); err != nil {
			return err
		}
		return insertAuditOfPerson(ctx, tx, identityID, a)
	})
}

// insertAuditOfPerson copies a's entry of a change to or a read of a person
// for every other hospital where the person holds something.
func insertAuditOfPerson(ctx context.Context, tx pgx.Tx, identityID string, a booking.AuditEntry) error {
	copied := auditArgs(a)
	copied[0], copied[6] = identityID, a.Reason+"; "+booking.AuditOfPersonHere
	_, err := tx.Exec(ctx, q("insert_audit_of_person"), copied...)
	return err
}

// HospitalsOfPerson lists the hospitals where the person holds a confirmed
// booking, a lottery entry taking part or a waiting waitlist place
// (booking.EventLog).
func (s *Store) HospitalsOfPerson(ctx context.Context, identityID string) (_ []string, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, err := s.db.pool.Query(ctx, q("hospitals_of_person"), identityID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// KeyedAudit is the audit entry id, its target and reason read
// (booking.ErrNotFound when there is none).
func (s *Store) KeyedAudit(ctx context.Context, id string) (_ booking.AuditEntry, rerr error) {
	defer func() { rerr = translate(rerr) }()
	a := booking.AuditEntry{ID: id}
	err := s.db.pool.QueryRow(ctx, q("keyed_audit"), id).Scan(&a.Target, &a.Reason, &a.HospitalID)
	if errors.Is(err, pgx.ErrNoRows) {
		return booking.AuditEntry{}, booking.ErrNotFound
	}
	return a, err
}

func auditArgs(a booking.AuditEntry) []any {
	return []any{a.ID, a.TS, nullable(a.ActorID), string(a.ActorRole), a.Action, a.Target, a.Reason, nullable(a.HospitalID)}
}

// AddPatient adds an identity to an account under the account rules and
// the account's claim of the person's name. The counts run in a
// SERIALIZABLE transaction, so two concurrent adds cannot both squeeze
// under a limit.
//
// A claim never conflicts with another account's claim. It is refused only
// when the identity's name is verified and is another (the answer a
// real-name provider would give for any ID number, known or not). A claim a
// provider confirmed (np.Identity.NameVerified) becomes the identity's
// verified name, and may take the self of an identity from an account whose
// claim is not verified.
func (s *Store) AddPatient(ctx context.Context, np booking.NewPatient, lim booking.AccountLimits, ev booking.Event) (_ booking.Patient, rerr error) {
	defer func() { rerr = translate(rerr) }()
	claim := np.Identity
	if np.Relationship == "" { // tools and tests that give none: the Service's default
		np.Relationship = booking.RelOther
		if np.IsSelf {
			np.Relationship = booking.RelSelf
		}
	}
	var id string // the row's id: np.ID, or a removed row's that came back
	err := s.db.Tx(ctx, "add_patient", func(tx pgx.Tx) error {
		id = np.ID
		identityID, err := ensureIdentity(ctx, tx, claim, ev.TS, false)
		if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, q("count_patients"), np.AccountID).Scan(&n); err != nil {
			return err
		}
		if n >= lim.MaxPatients {
			return booking.Errorf(booking.ErrTooManyPatients, "an account may have at most %d patients", lim.MaxPatients)
		}
		if np.PhoneHash != nil {
			if err := tx.QueryRow(ctx, q("count_phone_accounts"), np.PhoneHash, np.AccountID).Scan(&n); err != nil {
				return err
			}
			if n >= lim.MaxAccountsOnPhone {
				return booking.Errorf(booking.ErrPhoneLimit, "a phone number may be used on at most %d accounts", lim.MaxAccountsOnPhone)
			}
		}
		if np.IsSelf && claim.NameVerified {
			// A verified claim takes the self from an unverified one.
			var other string
			var otherVerified bool
			err := tx.QueryRow(ctx, q("self_elsewhere"), identityID, np.AccountID).Scan(&other, &otherVerified)
			switch {
			case errors.Is(err, pgx.ErrNoRows):
			case err != nil:
				return err
			case !otherVerified:
				if _, err := tx.Exec(ctx, q("drop_self"), identityID, np.AccountID); err != nil {
					return err
				}
			}
		}
		// The account removed this identity before: the same row comes back.
		var restored string
		err = tx.QueryRow(ctx, q("restore_patient"), np.AccountID, identityID, np.IsSelf, np.PhoneHash, np.PhoneSealed, np.PhoneMasked,
			claim.NameHash, claim.NameSealed, claim.NameMasked, string(np.Relationship), np.BirthYear, np.ConsentDue).Scan(&restored)
		switch {
		case err == nil:
			id = restored
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		default:
			if _, err := tx.Exec(ctx, q("insert_patient"), np.ID, np.AccountID, identityID, np.IsSelf, np.PhoneHash, np.PhoneSealed, np.PhoneMasked,
				claim.NameHash, claim.NameSealed, claim.NameMasked, string(np.Relationship), np.BirthYear, np.ConsentDue); err != nil {
				return err
			}
		}
		ev.PatientID = id
		ev.IdentityID = identityID
		if np.Consent != nil {
			c := *np.Consent
			c.PatientID, c.IdentityID = id, identityID
			if err := insertConsent(ctx, tx, c); err != nil {
				return err
			}
		}
		return insertEvent(ctx, tx, ev)
	})
	if name, ok := uniqueViolation(err); ok {
		switch name {
		case "patients_account_id_identity_id_key":
			return booking.Patient{}, booking.ErrPatientExists
		case "patients_pkey":
			return booking.Patient{}, booking.ErrIdempotencyReuse
		case "patients_self_identity":
			return booking.Patient{}, booking.ErrIdentityTaken
		case "patients_self_account":
			return booking.Patient{}, booking.ErrSelfExists
		case "identities_id_hash_key":
			// A concurrent add created the identity first; the caller may retry.
			return booking.Patient{}, booking.ErrUnavailable
		}
	}
	if err != nil {
		return booking.Patient{}, err
	}
	return s.Patient(ctx, id)
}

// RemovePatient is booking.AccountStore's: at READ COMMITTED, so that the
// pending check after the row lock reads what committed while it waited (a
// serializable snapshot, taken before the wait, would not see a booking
// that held the row FOR SHARE and committed).
func (s *Store) RemovePatient(ctx context.Context, accountID, patientID string, at time.Time, a booking.AuditEntry) (rerr error) {
	defer func() { rerr = translate(rerr) }()
	return s.db.TxAt(ctx, "remove_patient", pgx.ReadCommitted, func(tx pgx.Tx) error {
		return removePatient(ctx, tx, accountID, patientID, at, a)
	})
}

// RemoveListing is booking.AccountStore's: RemovePatient's transaction,
// the account's notification in it.
func (s *Store) RemoveListing(ctx context.Context, accountID, patientID string, at time.Time, a booking.AuditEntry, n booking.Notification) (rerr error) {
	defer func() { rerr = translate(rerr) }()
	return s.db.TxAt(ctx, "remove_listing", pgx.ReadCommitted, func(tx pgx.Tx) error {
		if err := removePatient(ctx, tx, accountID, patientID, at, a); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, q("insert_account_notification"), n.ID, n.HospitalID, n.Kind, n.AccountID, n.Body, n.CreatedAt)
		return err
	})
}

// ListingsOf is booking.AccountStore's.
func (s *Store) ListingsOf(ctx context.Context, personID, except string) (_ []booking.Listing, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, q("listings_of_person"), personID, nullable(except))
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.Listing, error) {
		var l booking.Listing
		err := r.Scan(&l.ID, &l.AccountID, &l.PhoneMasked, &l.Relationship, &l.Since, &l.MaskedName)
		return l, err
	})
}

// removePatient is RemovePatient's work in tx: the row locked and
// removed, refused if anything of the member is pending, audited.
func removePatient(ctx context.Context, tx pgx.Tx, accountID, patientID string, at time.Time, a booking.AuditEntry) error {
	var self bool
	err := tx.QueryRow(ctx, q("lock_patient_for_removal"), patientID, accountID, at).Scan(&self)
	if errors.Is(err, pgx.ErrNoRows) {
		return booking.ErrPatientNotFound
	}
	if err != nil {
		return err
	}
	if self {
		return booking.ErrPatientIsSelf
	}
	var bookings, entries, waiting int
	if err := tx.QueryRow(ctx, q("patient_pending"), patientID).Scan(&bookings, &entries, &waiting); err != nil {
		return err
	}
	if bookings+entries+waiting > 0 {
		var what []string
		for _, c := range []struct {
			n    int
			what string
		}{{bookings, "booking"}, {entries, "lottery request"}, {waiting, "waitlist place"}} {
			if c.n > 0 {
				what = append(what, fmt.Sprintf("%d %s", c.n, c.what))
			}
		}
		return booking.Errorf(booking.ErrPatientPending, "this family member still has %s pending: cancel or withdraw it first",
			strings.Join(what, ", "))
	}
	return insertAudit(ctx, tx, a)
}

// UpdatePatient is booking.AccountStore's: every change of e with its
// audit entry in one transaction, the phone's limit counted first.
func (s *Store) UpdatePatient(ctx context.Context, accountID, patientID string, e booking.PatientEdit, lim booking.AccountLimits, audits []booking.AuditEntry) (_ booking.Patient, rerr error) {
	defer func() { rerr = translate(rerr) }()
	err := s.db.Tx(ctx, "update_patient", func(tx pgx.Tx) error {
		if to := e.Phone; to != nil {
			if to.Hash != nil {
				var n int
				if err := tx.QueryRow(ctx, q("count_phone_accounts"), to.Hash, accountID).Scan(&n); err != nil {
					return err
				}
				if n >= lim.MaxAccountsOnPhone {
					return booking.Errorf(booking.ErrPhoneLimit, "a phone number may be used on at most %d accounts", lim.MaxAccountsOnPhone)
				}
			}
			tag, err := tx.Exec(ctx, q("set_patient_phone"), patientID, accountID, to.Hash, to.Sealed, to.Masked)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				return booking.ErrPatientNotFound
			}
		}
		if e.Relationship != "" {
			tag, err := tx.Exec(ctx, q("set_relationship"), patientID, accountID, string(e.Relationship))
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				return booking.ErrPatientNotFound
			}
		}
		for _, a := range audits {
			if err := insertAudit(ctx, tx, a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return booking.Patient{}, err
	}
	return s.Patient(ctx, patientID)
}

// ChangeAccountPhone moves an account to a new login number and ends its
// tokens, with its audit entry, in one transaction; the family members it
// gave its old number follow it. Another account's login is ErrPhoneTaken.
func (s *Store) ChangeAccountPhone(ctx context.Context, accountID string, to booking.AccountPhone, at time.Time, a booking.AuditEntry) (int, error) {
	return s.changeAccountPhone(ctx, accountID, to, at, a, false)
}

// changeAccountPhone is ChangeAccountPhone; onlyReleased writes only while
// the account's number is the release placeholder, else
// ErrAccountNotReleased (RestoreAccountPhone).
func (s *Store) changeAccountPhone(ctx context.Context, accountID string, to booking.AccountPhone, at time.Time, a booking.AuditEntry, onlyReleased bool) (_ int, rerr error) {
	defer func() { rerr = translate(rerr) }()
	var gen int
	err := s.db.Tx(ctx, "change_account_phone", func(tx pgx.Tx) error {
		var old []byte
		if err := tx.QueryRow(ctx, `SELECT phone_hash FROM accounts WHERE id = $1 AND closed_at IS NULL`, accountID).Scan(&old); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return booking.ErrNotFound
			}
			return err
		}
		query, args := q("set_account_phone"), []any{accountID, to.Hash, to.Sealed, to.Masked, at}
		if onlyReleased {
			query, args = q("restore_account_phone"), append(args, booking.ReleasedPhoneMasked)
		}
		if err := tx.QueryRow(ctx, query, args...).Scan(&gen); err != nil {
			if onlyReleased && errors.Is(err, pgx.ErrNoRows) {
				return booking.ErrAccountNotReleased // another clerk's restore won
			}
			if errors.Is(err, pgx.ErrNoRows) { // closed meanwhile: nothing is written onto it
				return booking.ErrNotFound
			}
			return err
		}
		if _, err := tx.Exec(ctx, q("move_members_phone"), accountID, old, to.Hash, to.Sealed, to.Masked); err != nil {
			return err
		}
		a.TS = at
		return insertAudit(ctx, tx, a)
	})
	if _, ok := uniqueViolation(err); ok {
		return 0, booking.ErrPhoneTaken
	}
	return gen, err
}

// RestoreAccountPhone gives a released account a new login number
// (booking.Service.RestorePhone).
func (s *Store) RestoreAccountPhone(ctx context.Context, accountID string, to booking.AccountPhone, at time.Time, a booking.AuditEntry) (int, error) {
	return s.changeAccountPhone(ctx, accountID, to, at, a, true)
}

// MoveLogin is booking.AccountStore's (booking.Service.MoveLoginBack): one
// transaction.
func (s *Store) MoveLogin(ctx context.Context, accountID string, to booking.AccountPhone, rc booking.StoredResetCode, at time.Time, a booking.AuditEntry, n booking.Notification) (_ int, rerr error) {
	defer func() { rerr = translate(rerr) }()
	var gen int
	err := s.db.Tx(ctx, "move_login", func(tx pgx.Tx) (err error) {
		gen, err = moveLogin(ctx, tx, accountID, to, rc, at, a, n)
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, booking.ErrNotFound
	}
	if _, ok := uniqueViolation(err); ok {
		return 0, booking.ErrPhoneTaken
	}
	return gen, err
}

// moveLogin is MoveLogin's writes in tx (CompleteLoginMove's too).
func moveLogin(ctx context.Context, tx pgx.Tx, accountID string, to booking.AccountPhone, rc booking.StoredResetCode, at time.Time, a booking.AuditEntry, n booking.Notification) (int, error) {
	var gen int
	var old []byte
	if err := tx.QueryRow(ctx, `SELECT phone_hash FROM accounts WHERE id = $1 AND closed_at IS NULL`, accountID).Scan(&old); err != nil {
		return 0, err
	}
	if err := tx.QueryRow(ctx, q("move_login"), accountID, to.Hash, to.Sealed, to.Masked, at).Scan(&gen); err != nil {
		return 0, err
	}
	if _, err := tx.Exec(ctx, q("move_members_phone"), accountID, old, to.Hash, to.Sealed, to.Masked); err != nil {
		return 0, err
	}
	if _, err := tx.Exec(ctx, q("save_reset_code"), rc.AccountID, rc.CodeHash, rc.IssuedBy, nullable(rc.HospitalID), rc.IssuedAt, rc.ExpiresAt); err != nil {
		return 0, err
	}
	if _, err := tx.Exec(ctx, q("insert_account_notification"), n.ID, n.HospitalID, n.Kind, accountID, n.Body, n.CreatedAt); err != nil {
		return 0, err
	}
	a.TS = at
	return gen, insertAudit(ctx, tx, a)
}

// ReleaseAccountPhone takes a recycled number off the account that still
// logs in with it (booking.Service.ReleasePhone): the placeholder number,
// its tokens ended, its members' copies of the number cleared, the audit
// entry and the account's notification, in one transaction.
func (s *Store) ReleaseAccountPhone(ctx context.Context, accountID string, oldHash []byte, to booking.AccountPhone, at time.Time, a booking.AuditEntry, n booking.Notification) (_ int, rerr error) {
	defer func() { rerr = translate(rerr) }()
	var gen int
	err := s.db.Tx(ctx, "release_account_phone", func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, q("release_account_phone"), accountID, oldHash, to.Hash, to.Sealed, to.Masked, at).Scan(&gen)
		if errors.Is(err, pgx.ErrNoRows) {
			return booking.ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, q("clear_members_phone"), accountID, oldHash); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, q("insert_account_notification"), n.ID, n.HospitalID, n.Kind, accountID, n.Body, n.CreatedAt); err != nil {
			return err
		}
		a.TS = at
		return insertAudit(ctx, tx, a)
	})
	return gen, err
}

// AccountLastUsed is when the account was last used (booking.Store).
func (s *Store) AccountLastUsed(ctx context.Context, accountID string) (_ time.Time, rerr error) {
	defer func() { rerr = translate(rerr) }()
	var at time.Time
	err := s.db.pool.QueryRow(ctx, q("account_last_used"), accountID).Scan(&at)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, booking.ErrNotFound
	}
	return at, err
}

// StaffActionsSince counts a staff account's audit entries of some actions
// since a time (booking.Store).
func (s *Store) StaffActionsSince(ctx context.Context, actorID string, since time.Time, actions ...string) (_ int, rerr error) {
	defer func() { rerr = translate(rerr) }()
	var n int
	err := s.db.pool.QueryRow(ctx, q("staff_actions_since"), actorID, actions, since).Scan(&n)
	return n, err
}

// StaffFreedSince is the latest time a staff account freed a booked slot
// of a session since a time (booking.Store).
func (s *Store) StaffFreedSince(ctx context.Context, staffID, sessionID string, since time.Time) (_ time.Time, rerr error) {
	defer func() { rerr = translate(rerr) }()
	var last *time.Time
	if err := s.db.pool.QueryRow(ctx, q("staff_freed_since"), staffID, sessionID, since).Scan(&last); err != nil {
		return time.Time{}, err
	}
	if last == nil {
		return time.Time{}, nil
	}
	return *last, nil
}

// CallerPersonsSince lists the persons staff acted for on calls from a
// number since a time (booking.Store).
func (s *Store) CallerPersonsSince(ctx context.Context, phoneRef string, since time.Time) (_ []string, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, err := s.db.pool.Query(ctx, q("caller_persons_since"), phoneRef, since)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// StaffLookupsSince counts the persons a staff account looked up since a
// time, other than target: all, and those whose audit reason is like
// noCard, with the first of these' time (booking.Store).
func (s *Store) StaffLookupsSince(ctx context.Context, actorID string, since time.Time, target, noCard string) (_ booking.StaffLookups, rerr error) {
	defer func() { rerr = translate(rerr) }()
	var n booking.StaffLookups
	var first *time.Time
	err := s.db.pool.QueryRow(ctx, q("staff_lookups_since"), actorID, since, target, noCard).Scan(&n.Persons, &n.NoCard, &first)
	if first != nil {
		n.FirstNoCard = *first
	}
	return n, err
}

// SelfAccount is the account that holds the identity as its self.
func (s *Store) SelfAccount(ctx context.Context, identityID string) (_ booking.Account, rerr error) {
	defer func() { rerr = translate(rerr) }()
	return scanAccount(s.db.pool.QueryRow(ctx, q("account_rows")+"\n"+q("self_account"), identityID))
}

// ensureIdentity returns the id of the identity with i's ID hash, inserting
// i when there is none, within tx. A verified i (a provider or the desk
// confirmed its name) makes its name the identity's verified name, but the
// desk never silently replaces another verified name: without replace (a
// clerk's correction, with its reason in the audit) that is
// ErrVerifiedNameDiffers. An unverified i whose identity has another
// verified name is ErrIdentityUnverified; an unverified one is otherwise
// only a claim and changes nothing. A real-name provider's answer never
// replaces the name the desk read from the card: such an i counts as a
// claim (booking.CardOutranks).
func ensureIdentity(ctx context.Context, tx pgx.Tx, i booking.Identity, now time.Time, replace bool) (string, error) {
	var id, by string
	var nameHash []byte
	var verified, erased bool
	err := tx.QueryRow(ctx, q("identity_by_hash"), i.IDHash).Scan(&id, &nameHash, &verified, &by, &erased)
	differs := string(nameHash) != string(i.NameHash)
	if err == nil && erased && len(i.NumberSealed) > 0 {
		// The retention job erased the person's sealed number and name
		// when nothing named them for a year; they are back.
		if _, err := tx.Exec(ctx, q("restore_identity_seals"), id, i.NumberSealed, i.NameHash, i.NameSealed); err != nil {
			return "", err
		}
	}
	if err == nil && verified && booking.CardOutranks(booking.Identity{NameVerified: verified, VerifiedBy: by}, i) {
		i.NameVerified = false
	}
	if err == nil {
		var dead bool
		if err := tx.QueryRow(ctx, q("identity_is_deceased"), id).Scan(&dead); err != nil {
			return "", err
		}
		if dead {
			return "", booking.ErrIdentityDeceased
		}
	}
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		by := ""
		if i.NameVerified {
			by = verifiedBy(i)
		}
		_, err := tx.Exec(ctx, q("insert_identity"), i.ID, i.IDType, i.IDHash, i.NumberSealed, i.NumberMasked, i.NameHash, i.NameSealed, i.NameMasked, by, now)
		return i.ID, err
	case err != nil:
		return "", err
	case !i.NameVerified:
		if verified && differs {
			return "", booking.ErrIdentityUnverified
		}
	case verified && !differs: // already so
	case verified && verifiedBy(i) == "desk" && !replace:
		return "", booking.ErrVerifiedNameDiffers
	default:
		i.ID = id
		return id, setVerifiedName(ctx, tx, i, now)
	}
	return id, nil
}

// verifiedBy records who verified a name: the desk, when a clerk's card
// read it; otherwise a real-name provider.
func verifiedBy(i booking.Identity) string {
	if i.VerifiedBy != "" {
		return i.VerifiedBy
	}
	return "provider"
}

func setVerifiedName(ctx context.Context, tx pgx.Tx, i booking.Identity, now time.Time) error {
	_, err := tx.Exec(ctx, q("verify_identity_name"), i.ID, i.NameHash, i.NameSealed, i.NameMasked, now, verifiedBy(i))
	return err
}

// Patient reads one patient with its identity's masked forms.
func (s *Store) Patient(ctx context.Context, id string) (_ booking.Patient, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, q("patient_rows")+"\n"+q("patient"), id)
	p, err := pgx.CollectExactlyOneRow(rows, scanPatient)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, booking.ErrNotFound
	}
	return p, err
}

// Patients lists an account's patients in the order they were added.
func (s *Store) Patients(ctx context.Context, accountID string) (_ []booking.Patient, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, q("patient_rows")+"\n"+q("patients_of_account"), accountID)
	return pgx.CollectRows(rows, scanPatient)
}

// PatientsByID reads the patients of ids that exist, removed ones too.
func (s *Store) PatientsByID(ctx context.Context, ids []string) (_ []booking.Patient, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, q("patient_rows")+"\n"+q("patients_by_id"), ids)
	return pgx.CollectRows(rows, scanPatient)
}

func scanPatient(r pgx.CollectableRow) (booking.Patient, error) {
	var p booking.Patient
	var idHash, nameHash []byte
	err := r.Scan(&p.ID, &p.AccountID, &p.IdentityID, &idHash, &p.IDType, &p.MaskedID, &p.MaskedName, &nameHash, &p.Verified,
		&p.SelfVerified, &p.PhoneMasked, &p.IsSelf, &p.Relationship, &p.BirthYear, &p.CreatedAt, &p.Removed, &p.Namesake, &p.ConsentDue)
	p.NameHash = string(nameHash)
	p.IdentityKey = booking.IdentityKey(idHash)
	return p, err
}

// InsertBooking commits one booking with its event (InsertBookings of
// one), for tools and tests; the service commits through InsertBookings.
func (s *Store) InsertBooking(ctx context.Context, b booking.Booking, ev booking.Event) error {
	errs, err := s.InsertBookings(ctx, []booking.Booking{b}, []booking.Event{ev})
	if err != nil {
		return err
	}
	return errs[0]
}

// refusedRounds bounds how often InsertBookings writes again the rows that
// were refused by a booking cancelled before it could read why.
const refusedRounds = 3

// InsertBookings commits a batch of bookings with their events (and the
// audit entries of staff bookings) in one statement: one round trip and
// one implicit transaction however many rows (the release second commits a
// thousand at once). A row a rule refuses is answered alone and the others
// go in: the partial unique indexes turn a double booking into
// ErrSlotTaken or ErrQuotaDayDept, a repeated id into ErrInProgress, and a
// name that is not the identity's verified one into ErrIdentityUnverified.
// The reasons are read only when some row was refused. An error of the
// whole batch (nothing committed, or ErrOutcomeUnknown) is the second
// result.
func (s *Store) InsertBookings(ctx context.Context, bs []booking.Booking, evs []booking.Event) (_ []error, rerr error) {
	defer func() { rerr = translate(rerr) }()
	answers := make([]error, len(bs))
	todo := make([]int, len(bs)) // indexes of the rows still to write
	for i := range todo {
		todo[i] = i
	}
	for round := 1; len(todo) > 0; round++ {
		if round > refusedRounds {
			for _, i := range todo {
				answers[i] = fmt.Errorf("insert booking: refused by a booking cancelled meanwhile, %d times: %w", refusedRounds, booking.ErrUnavailable)
			}
			break
		}
		inserted, err := s.insertBookings(ctx, bs, evs, todo)
		if err != nil {
			if round == 1 {
				return nil, err
			}
			// Earlier rounds committed: the batch's answer is theirs, and
			// this round's rows share its error.
			for _, i := range todo {
				answers[i] = translate(err)
			}
			break
		}
		var refused []int
		for _, i := range todo {
			if !inserted[bs[i].ID] {
				refused = append(refused, i)
			}
		}
		if len(refused) > 0 && s.refused != nil {
			s.refused()
		}
		if todo, err = s.whyRefused(ctx, bs, refused, answers); err != nil {
			for _, i := range refused {
				answers[i] = translate(err)
			}
			break
		}
	}
	return answers, nil
}

// insertBookings writes the rows at idx and returns the ids that went in.
func (s *Store) insertBookings(ctx context.Context, bs []booking.Booking, evs []booking.Event, idx []int) (map[string]bool, error) {
	var cols bookingColumns
	var ev eventArrays
	var au auditArrays
	for _, i := range idx {
		cols.add(bs[i])
		ev.add(evs[i])
		if a, staff := booking.StaffBookingAudit(bs[i]); staff {
			au.add(bs[i].ID, a)
		}
	}
	if err := ev.err(); err != nil {
		return nil, err
	}
	args := append(append(append(cols.args(), ev.args()...), au.args()...), ev.card)
	inserted := make(map[string]bool, len(idx))
	// The op keeps its name, which the alerts and the dashboard read: it is
	// now the time of a batch (what each of its bookings waited for).
	err := s.db.Batch1(ctx, "insert_booking", func(b *pgx.Batch) {
		b.Queue(q("insert_bookings_with_events"), args...)
	}, func(br pgx.BatchResults) error {
		clear(inserted)
		rows, _ := br.Query()
		var id string
		_, err := pgx.ForEachRow(rows, []any{&id}, func() error {
			inserted[id] = true
			return nil
		})
		return err
	})
	return inserted, err
}

// whyRefused answers the rows at idx that did not go in with their reason,
// and returns those with none left (the booking they met was cancelled
// since): they are written again.
func (s *Store) whyRefused(ctx context.Context, bs []booking.Booking, idx []int, answers []error) ([]int, error) {
	if len(idx) == 0 {
		return nil, nil
	}
	var id, session, identity, date, dept []string
	var patient, account []*string
	var created []time.Time
	var slot []int32
	var name [][]byte
	for _, i := range idx {
		b := bs[i]
		id, session, identity = append(id, b.ID), append(session, b.SessionID), append(identity, b.IdentityID)
		date, dept, slot = append(date, b.VisitDate), append(dept, b.DepartmentID), append(slot, int32(b.SlotNo))
		patient = append(patient, nullableIDs([]string{b.PatientID})[0])
		account, created = append(account, nullableIDs([]string{b.AccountID})[0]), append(created, b.CreatedAt)
		var h []byte
		if b.NameHash != "" {
			h = []byte(b.NameHash)
		}
		name = append(name, h)
	}
	type why struct{ name, id, slot, day, stopped, removed, moved, blocked, dead bool }
	reasons := make(map[string]why, len(idx))
	rows, _ := s.db.pool.Query(ctx, q("bookings_refused"), id, session, slot, identity, date, dept, name, patient, account, created)
	var rid string
	var w why
	if _, err := pgx.ForEachRow(rows, []any{&rid, &w.name, &w.id, &w.slot, &w.day, &w.stopped, &w.removed, &w.moved, &w.blocked, &w.dead}, func() error {
		reasons[rid] = w
		return nil
	}); err != nil {
		return nil, err
	}
	var again []int
	for _, i := range idx {
		switch w := reasons[bs[i].ID]; {
		case w.dead:
			answers[i] = booking.ErrIdentityDeceased // the desk recorded the person's death after admission
		case w.stopped:
			answers[i] = booking.ErrSessionStopped // the clinic was stopped (停诊) after admission
		case w.removed:
			answers[i] = booking.ErrPatientRemoved // the member was removed after admission
		case w.moved:
			answers[i] = booking.ErrSessionMoved // admitted on the day the clinic had before its move
		case w.blocked:
			answers[i] = booking.ErrAccountBlocked // blocked (a confirmed flag) after the admitting instance last read the blocks
		case w.name:
			answers[i] = booking.ErrIdentityUnverified // the name is not the identity's verified one
		case w.id:
			answers[i] = booking.ErrInProgress // a booking with this id exists: the caller replays it
		case w.slot:
			answers[i] = fmt.Errorf("insert booking: %w", booking.ErrSlotTaken)
		case w.day:
			answers[i] = booking.ErrQuotaDayDept
		default:
			again = append(again, i)
		}
	}
	return again, nil
}

// bookingColumns are bookings as the parallel arrays of insert_bookings.
type bookingColumns struct {
	id, session, hospital, dept, doctor, date, identity []string
	patient, account, bookedBy                          []*string
	slot                                                []int32
	channel, status, idemKey                            []string
	created                                             []time.Time
	name                                                [][]byte
	allotted                                            []bool
}

func (c *bookingColumns) add(b booking.Booking) {
	opt := optionalID
	c.id = append(c.id, b.ID)
	c.session = append(c.session, b.SessionID)
	c.slot = append(c.slot, int32(b.SlotNo))
	c.hospital = append(c.hospital, b.HospitalID)
	c.dept = append(c.dept, b.DepartmentID)
	c.doctor = append(c.doctor, b.DoctorID)
	c.date = append(c.date, b.VisitDate)
	c.patient = append(c.patient, opt(b.PatientID))
	c.identity = append(c.identity, b.IdentityID)
	c.account = append(c.account, opt(b.AccountID))
	c.channel = append(c.channel, string(b.Channel))
	c.status = append(c.status, string(b.Status))
	c.idemKey = append(c.idemKey, b.IdempotencyKey)
	c.created = append(c.created, b.CreatedAt)
	c.bookedBy = append(c.bookedBy, opt(b.BookedBy))
	var h []byte
	if b.NameHash != "" {
		h = []byte(b.NameHash)
	}
	c.name = append(c.name, h)
	c.allotted = append(c.allotted, b.Allotted)
}

func (c *bookingColumns) args() []any {
	return []any{c.id, c.session, c.slot, c.hospital, c.dept, c.doctor, c.date, c.patient, c.identity, c.account,
		c.channel, c.status, c.idemKey, c.created, c.bookedBy, c.name, c.allotted}
}

// auditArrays are staff bookings' audit entries as parallel arrays, each
// with the booking it belongs to.
type auditArrays struct {
	booking, id, target, action, reason, role []string
	actor, hospital                           []*string
	ts                                        []time.Time
}

func (c *auditArrays) add(bookingID string, a booking.AuditEntry) {
	opt := optionalID
	c.booking = append(c.booking, bookingID)
	c.id = append(c.id, a.ID)
	c.ts = append(c.ts, a.TS)
	c.actor = append(c.actor, opt(a.ActorID))
	c.role = append(c.role, string(a.ActorRole))
	c.action = append(c.action, a.Action)
	c.target = append(c.target, a.Target)
	c.reason = append(c.reason, a.Reason)
	c.hospital = append(c.hospital, opt(a.HospitalID))
}

func (c *auditArrays) args() []any {
	return []any{c.booking, c.id, c.ts, c.actor, c.role, c.action, c.target, c.reason, c.hospital}
}

func insertBooking(ctx context.Context, tx pgx.Tx, b booking.Booking) error {
	_, err := tx.Exec(ctx, q("insert_booking"), bookingArgs(b)...)
	return err
}

func bookingArgs(b booking.Booking) []any {
	return []any{b.ID, b.SessionID, b.SlotNo, b.HospitalID, b.DepartmentID,
		b.DoctorID, b.VisitDate, nullable(b.PatientID), b.IdentityID, nullable(b.AccountID), string(b.Channel),
		string(b.Status), b.IdempotencyKey, b.CreatedAt, nullable(b.BookedBy), nullBytes(b.NameHash), b.Allotted}
}

// Booking reads one booking.
func (s *Store) Booking(ctx context.Context, id string) (_ booking.Booking, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, bookingQuery("booking"), id)
	b, err := pgx.CollectExactlyOneRow(rows, scanBooking)
	if errors.Is(err, pgx.ErrNoRows) {
		return b, booking.ErrBookingNotFound
	}
	return b, err
}

// Bookings lists an account's bookings, newest first.
func (s *Store) Bookings(ctx context.Context, accountID string, p booking.Page) (_ []booking.Booking, rerr error) {
	defer func() { rerr = translate(rerr) }()
	n := p.Size(booking.BookingPageSize)
	if p.After != "" {
		n++ // the cursor's own row, first when it is the account's
	}
	rows, _ := s.db.pool.Query(ctx, bookingQuery("bookings_of_account"), accountID, nullUUID(p.After), n)
	bs, err := pgx.CollectRows(rows, scanBooking)
	if err != nil || p.After == "" {
		return bs, err
	}
	if len(bs) == 0 || !strings.EqualFold(bs[0].ID, p.After) {
		return nil, booking.ErrNotFound
	}
	return bs[1:], nil
}

// ClosedAccountsLeft is booking.AccountStore's.
func (s *Store) ClosedAccountsLeft(ctx context.Context, now, since time.Time) (_ []booking.ClosedBy, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, q("closed_accounts_left"), now, since)
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (booking.ClosedBy, error) {
		var c booking.ClosedBy
		err := row.Scan(&c.AccountID, &c.ClerkID, &c.Taken, &c.Pending)
		return c, err
	})
}

// FutureBookingsMadeBy is booking.BookingStore's.
func (s *Store) FutureBookingsMadeBy(ctx context.Context, accountID string, now time.Time) (_ []booking.Booking, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, bookingQuery("future_bookings_made_by"), accountID, now)
	return pgx.CollectRows(rows, scanBooking)
}

// ActiveBookings lists a hospital's active bookings from a visit date on.
func (s *Store) ActiveBookings(ctx context.Context, hospitalID, fromDate string) (_ []booking.Booking, rerr error) {
	defer func() { rerr = translate(rerr) }()
	start := time.Now()
	defer s.db.observe("active_bookings", start)
	rows, _ := s.db.pool.Query(ctx, bookingQuery("active_bookings"), hospitalID, fromDate)
	return pgx.CollectRows(rows, scanBooking)
}

// BookedCounts counts, for each session given, what a stop would end: its
// active bookings per pool, its waiting places and its live lottery
// entries.
func (s *Store) BookedCounts(ctx context.Context, sessionIDs []string) (_ map[string]booking.BookedCounts, rerr error) {
	defer func() { rerr = translate(rerr) }()
	out := map[string]booking.BookedCounts{}
	if len(sessionIDs) == 0 {
		return out, nil
	}
	rows, _ := s.db.pool.Query(ctx, q("booked_counts"), sessionIDs)
	var sid, kind, ch string
	var n int
	_, err := pgx.ForEachRow(rows, []any{&sid, &kind, &ch, &n}, func() error {
		c := out[sid]
		switch kind {
		case "booked":
			if c.Bookings == nil {
				c.Bookings = map[booking.Channel]int{}
			}
			c.Bookings[booking.Channel(ch)] = n
		case "waiting":
			c.Waiting = n
		case "entries":
			c.Entries = n
		}
		out[sid] = c
		return nil
	})
	return out, err
}

// ReturnedSlots lists the slots a booking gave back that no active booking
// holds, by session.
func (s *Store) ReturnedSlots(ctx context.Context, hospitalID, fromDate string) (_ map[string][]int, rerr error) {
	defer func() { rerr = translate(rerr) }()
	out := map[string][]int{}
	rows, _ := s.db.pool.Query(ctx, q("returned_slots"), hospitalID, fromDate)
	var sid string
	var slot int
	_, err := pgx.ForEachRow(rows, []any{&sid, &slot}, func() error {
		out[sid] = append(out[sid], slot)
		return nil
	})
	return out, err
}

// nullUUID is id, or NULL for "": a page's cursor in a query that casts it.
func nullUUID(id string) any {
	if id == "" {
		return nil
	}
	return id
}

// bookingQuery is booking_rows completed by the named clause.
func bookingQuery(clause string) string { return q("booking_rows") + "\n" + q(clause) }

func scanBooking(r pgx.CollectableRow) (booking.Booking, error) {
	var b booking.Booking
	var idHash, nameHash, bookedName []byte
	var ch, st string
	var cancelled, checkedIn *time.Time
	err := r.Scan(&b.ID, &b.SessionID, &b.HospitalID, &b.DepartmentID, &b.DoctorID, &b.VisitDate, &b.SlotNo,
		&b.SlotStart, &b.SlotEnd, &b.PatientID, &b.IdentityID, &idHash, &b.AccountID, &ch, &st,
		&b.IdempotencyKey, &b.CreatedAt, &cancelled, &b.BookedBy, &checkedIn, &b.LateCancel, &nameHash, &bookedName,
		&b.Allotted)
	b.NameHash, b.BookedNameHash = string(nameHash), string(bookedName)
	b.IdentityKey = booking.IdentityKey(idHash)
	b.Channel, b.Status = booking.Channel(ch), booking.Status(st)
	if cancelled != nil {
		b.CancelledAt = *cancelled
	}
	if checkedIn != nil {
		b.CheckedInAt = *checkedIn
	}
	return b, err
}

// CancelBooking moves a confirmed booking to cancelled with its event. A
// late cancellation counts as a no-show and may earn a bar, in the same
// transaction, which also ends a held booking's open substitute offer
// (booking.OfferEnd).
func (s *Store) CancelBooking(ctx context.Context, id string, late bool, rules booking.NoShowRules, ev booking.Event, audit *booking.AuditEntry) (_ booking.Booking, _ []booking.Bar, rerr error) {
	defer func() { rerr = translate(rerr) }()
	var bars []booking.Bar
	err := s.db.Tx(ctx, "cancel_booking", func(tx pgx.Tx) error {
		c := closing{id: id, noShow: late, now: ev.TS, rules: rules, ev: ev, audit: audit}
		bar, err := closeBooking(ctx, tx, c, q("cancel_booking"), id, ev.TS, late)
		bars = appendBar(bars[:0], bar)
		if err != nil {
			return err
		}
		// A held booking's open substitute offer ends with it (declined,
		// or lapsed by the lapse job); the decline or the lapse itself
		// needs it open.
		status, by, answer := booking.OfferEnd(ev)
		tag, err := tx.Exec(ctx, sourceQueries["settle_held_offer"], id, status, ev.TS, nullable(by))
		if err == nil && answer && tag.RowsAffected() == 0 {
			return booking.ErrOfferClosed
		}
		return err
	})
	if err != nil {
		return booking.Booking{}, nil, err
	}
	b, err := s.Booking(ctx, id)
	return b, bars, err
}

// BookingStatuses reads the status of each booking id that exists.
func (s *Store) BookingStatuses(ctx context.Context, ids []string) (_ map[string]booking.Status, rerr error) {
	defer func() { rerr = translate(rerr) }()
	out := make(map[string]booking.Status, len(ids))
	rows, _ := s.db.pool.Query(ctx, q("booking_statuses"), ids)
	var id, st string
	_, err := pgx.ForEachRow(rows, []any{&id, &st}, func() error {
		out[id] = booking.Status(st)
		return nil
	})
	return out, err
}
