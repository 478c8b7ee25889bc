package cockroach

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"fairslot/internal/booking"
)

// ErrAlreadyLoaded is BulkLoad's answer when a phone or ID number of the
// population is in the database already: nothing was written.
var ErrAlreadyLoaded = errors.New("a phone or ID number of the population is in the database already")

// BulkLoad writes a load-test population in one transaction by COPY:
// accounts as CreateAccount writes them, then each patient's identity (new:
// identities are not shared between the patients given) and the patient as
// AddPatient writes them, claim, relationship and birth year included. No
// events: nothing happened to them yet. It checks no limit (patients per
// account, accounts per phone): the tool that makes the population keeps to
// them. For loadtest/loadseed, never the service.
func (s *Store) BulkLoad(ctx context.Context, accounts []booking.Account, patients []booking.NewPatient) (rerr error) {
	defer func() { rerr = translate(rerr) }()
	tx, err := s.db.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() {
		rctx, cancel := booking.Detach(ctx, 30*time.Second)
		defer cancel()
		_ = tx.Rollback(rctx)
	}()
	copies := []struct {
		table string
		cols  []string
		n     int
		row   func(i int) []any
	}{
		{"accounts", []string{"id", "role", "phone_hash", "phone_sealed", "phone_masked", "password_hash", "created_at", "hospital_id", "staff_name"},
			len(accounts), func(i int) []any {
				a := accounts[i]
				var hospital pgtype.UUID // NULL for patients
				if a.HospitalID != "" {
					hospital = copyUUID(a.HospitalID)
				}
				return []any{copyUUID(a.ID), string(a.Role), a.PhoneHash, a.PhoneSealed, a.PhoneMasked, a.PasswordHash, a.CreatedAt, hospital, a.Name}
			}},
		{"identities", []string{"id", "id_type", "id_hash", "number_sealed", "number_masked", "name_hash", "name_sealed", "name_masked"},
			len(patients), func(i int) []any {
				x := patients[i].Identity
				return []any{copyUUID(x.ID), x.IDType, x.IDHash, x.NumberSealed, x.NumberMasked, x.NameHash, x.NameSealed, x.NameMasked}
			}},
		{"patients", []string{"id", "account_id", "identity_id", "is_self", "phone_hash", "phone_sealed", "phone_masked",
			"name_hash", "name_sealed", "name_masked", "relationship", "birth_year"},
			len(patients), func(i int) []any {
				x := patients[i]
				rel := x.Relationship
				if rel == "" { // as AddPatient defaults it
					rel = booking.RelOther
					if x.IsSelf {
						rel = booking.RelSelf
					}
				}
				var birth pgtype.Int4 // NULL: the document carries none
				if x.BirthYear != 0 {
					birth = pgtype.Int4{Int32: int32(x.BirthYear), Valid: true}
				}
				c := x.Identity
				return []any{copyUUID(x.ID), copyUUID(x.AccountID), copyUUID(c.ID), x.IsSelf, x.PhoneHash, x.PhoneSealed, x.PhoneMasked,
					c.NameHash, c.NameSealed, c.NameMasked, string(rel), birth}
			}},
	}
	for _, cp := range copies {
		_, err := tx.CopyFrom(ctx, pgx.Identifier{cp.table}, cp.cols, pgx.CopyFromSlice(cp.n, func(i int) ([]any, error) {
			return cp.row(i), nil
		}))
		if name, ok := uniqueViolation(err); ok {
			return fmt.Errorf("copy %s: %w (%s)", cp.table, ErrAlreadyLoaded, name)
		}
		if err != nil {
			return fmt.Errorf("copy %s: %w", cp.table, err)
		}
	}
	return tx.Commit(ctx)
}

// copyUUID is a uuid column's value for COPY, which takes no text for one.
func copyUUID(s string) pgtype.UUID {
	u, ok := scanUUID(s)
	if !ok {
		panic("cockroach: bad uuid " + s) // booking.NewID's, or a caller's bug
	}
	return u
}

// Analyze refreshes the planner's statistics after a bulk load, which the
// planner would otherwise take for empty tables until autovacuum's analyze.
// Only the tables' owner may analyze them: run it on a DB opened with the
// owner's URL (the service's login skips every table with a warning).
func (db *DB) Analyze(ctx context.Context) error {
	_, err := db.pool.Exec(ctx, "ANALYZE")
	return translate(err)
}
