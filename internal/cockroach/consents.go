package cockroach

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"fairslot/internal/booking"
)

// insertConsent writes a consent to the privacy notice in tx. A person's
// own (not a guardian's) ends the ask of a child listed before 14 once
// they are 14 (clear_consent_due).
func insertConsent(ctx context.Context, tx pgx.Tx, c booking.Consent) error {
	_, err := tx.Exec(ctx, q("insert_consent"), c.ID, nullable(c.AccountID), nullable(c.PatientID), nullable(c.IdentityID),
		c.NoticeVersion, string(c.By), string(c.Channel), nullable(c.StaffID), c.At)
	if err != nil || c.By == booking.ConsentByGuardian || c.IdentityID == "" {
		return err
	}
	_, err = tx.Exec(ctx, q("clear_consent_due"), c.IdentityID, c.At.In(booking.StandInLocation()).Format(time.DateOnly), nullable(c.PatientID))
	return err
}

// RecordConsent is booking.AccountStore's: an account's own consent also
// sets the version the account agreed to, in the same transaction.
func (s *Store) RecordConsent(ctx context.Context, c booking.Consent) (rerr error) {
	defer func() { rerr = translate(rerr) }()
	return s.db.Tx(ctx, "record_consent", func(tx pgx.Tx) error {
		if err := insertConsent(ctx, tx, c); err != nil {
			return err
		}
		if c.PatientID != "" || c.AccountID == "" {
			return nil
		}
		_, err := tx.Exec(ctx, q("account_consented"), c.AccountID, c.NoticeVersion)
		return err
	})
}

// Consents is booking.AccountStore's.
func (s *Store) Consents(ctx context.Context, accountID string) (_ []booking.Consent, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, q("consents_of_account"), accountID)
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.Consent, error) {
		var c booking.Consent
		var by, channel string
		err := r.Scan(&c.ID, &c.AccountID, &c.PatientID, &c.IdentityID, &c.NoticeVersion, &by, &channel, &c.StaffID, &c.At)
		c.By, c.Channel = booking.ConsentBy(by), booking.ConsentChannel(channel)
		return c, err
	})
}

// UnreadListings is booking.AccountStore's.
func (s *Store) UnreadListings(ctx context.Context, limit int) (_ []booking.UnreadListing, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, q("unread_listings"), limit)
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.UnreadListing, error) {
		var l booking.UnreadListing
		err := r.Scan(&l.PatientID, &l.ListedAt, &l.IDType, &l.NumberSealed)
		return l, err
	})
}

// SetConsentDue is booking.AccountStore's.
func (s *Store) SetConsentDue(ctx context.Context, patientID, day string, from time.Time) error {
	_, err := s.db.pool.Exec(ctx, q("set_consent_due"), patientID, day, from)
	return translate(err)
}

// FlagsConcerning is booking.AccountStore's.
func (s *Store) FlagsConcerning(ctx context.Context, accountID string, identityIDs []string) (_ []booking.Flag, rerr error) {
	defer func() { rerr = translate(rerr) }()
	ids := uuids(identityIDs)
	rows, _ := s.db.pool.Query(ctx, flagQuery("flags_concerning"), accountID, ids)
	return pgx.CollectRows(rows, scanFlag)
}

// EventsOfAccount is booking.AccountStore's.
func (s *Store) EventsOfAccount(ctx context.Context, accountID string, limit int) (_ []booking.Event, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, eventQuery(q("events_of_account")), accountID, limit)
	return pgx.CollectRows(rows, scanEvent)
}

// BindingsToReview is booking.AccountStore's.
func (s *Store) BindingsToReview(ctx context.Context, minorFrom int) (_ []booking.BindingToReview, rerr error) {
	defer func() { rerr = translate(rerr) }()
	rows, _ := s.db.pool.Query(ctx, q("bindings_to_review"), minorFrom)
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.BindingToReview, error) {
		var b booking.BindingToReview
		var bound *time.Time
		err := r.Scan(&b.AccountID, &b.PhoneMasked, &b.PatientID, &b.NameMasked, &b.IDMasked, &b.BirthYear, &bound,
			&b.NoRing, &b.FamilyToo, &b.Minor)
		if bound != nil {
			b.BoundAt = *bound
		}
		return b, err
	})
}
