package cockroach_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"fairslot/internal/booking"
	"fairslot/internal/cockroach"
	"fairslot/internal/testenv"
)

// TestServiceRoleCannotRewriteTheAudit (M5): the service's login, a member
// of fairslot_service, adds to and reads the audit log but cannot change or
// delete an entry, and reads which migrations are applied (0030, for serve's
// check at start) but cannot record or remove one; it reads and writes
// the other tables. serve's check accepts it and refuses the owner (a
// superuser here, as initdb makes it).
func TestServiceRoleCannotRewriteTheAudit(t *testing.T) {
	ctx := t.Context()
	owner, service := testenv.ServiceDBs(t)
	a := booking.AuditEntry{ID: booking.NewID(), TS: now(), ActorRole: "cli", Action: "staff_added", Target: "account:x"}
	testenv.Must(t, cockroach.NewStore(service).RecordAudit(ctx, a), "the service adds an audit entry")
	got, err := cockroach.NewStore(service).AuditSince(ctx, a.TS.Add(-1), "", "", booking.AuditFilter{})
	if err != nil || len(got) != 1 {
		t.Fatalf("the service reads the audit log: %v, %d entries; want 1", err, len(got))
	}
	for _, q := range []string{
		`UPDATE audit_log SET reason = 'rewritten'`,
		`DELETE FROM audit_log`,
		`TRUNCATE audit_log`,
		`INSERT INTO schema_migrations (name) VALUES ('9999_sneaky.sql')`,
		`DELETE FROM schema_migrations`,
		`DROP TABLE bookings`,
		`CREATE TABLE sneaky (id INT)`,
		`ALTER ROLE current_user SUPERUSER`,
	} {
		_, err := service.Pool().Exec(ctx, q)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42501" && pgErr.Code != "42P01" {
			t.Errorf("the service runs %q: %v, want permission denied", q, err)
		}
	}
	var reason string
	testenv.Must(t, owner.Pool().QueryRow(ctx, `SELECT reason FROM audit_log WHERE id = $1`, a.ID).Scan(&reason), "read back")
	if reason != "" {
		t.Errorf("the audit entry's reason = %q after the service's attempts, want it unchanged", reason)
	}
	if _, err := service.CheckMigrations(ctx); err != nil {
		t.Errorf("the service reads the applied migrations: %v", err)
	}
	if _, err := service.Pool().Exec(ctx, `UPDATE bookings SET status = status WHERE false`); err != nil {
		t.Errorf("the service updates bookings: %v", err)
	}
	if err := service.CheckServiceRole(ctx); err != nil {
		t.Errorf("serve's check refuses the service login: %v", err)
	}
	if err := owner.CheckServiceRole(ctx); err == nil {
		t.Errorf("serve's check accepts the owner, which can rewrite the audit log")
	}
	// A superuser is never made the service's login.
	var super string
	testenv.Must(t, owner.Pool().QueryRow(ctx, `SELECT current_user`).Scan(&super), "owner")
	if err := owner.GrantServiceLogin(context.Background(), super, ""); err == nil {
		t.Errorf("GrantServiceLogin(%s, a superuser) = nil, want refused", super)
	}
}

// TestServiceRoleCannotRewriteASeed (review20 H1, fix 4): the service
// inserts a lottery pool's seal and commitment (and the recipe and sealing
// they were made by) and an entry's commitment, and never changes them; its
// role may not. It still writes what the draw and a session's correction
// write. PostgreSQL only: CockroachDB has no column privileges.
func TestServiceRoleCannotRewriteASeed(t *testing.T) {
	owner, service := testenv.ServiceDBs(t)
	if owner.Flavor() != cockroach.Postgres {
		t.Skip("CockroachDB has no column privileges (docs/design.md \"Who can still bias it\")")
	}
	w := newWorldOn(t, owner)
	st := cockroach.NewStore(service)
	q, _ := w.s2.Channel(booking.ChannelOnline)
	c, err := booking.Commitment(booking.CommitV2, w.s2.ID, booking.ChannelOnline, []byte("seed"))
	testenv.Must(t, err, "commitment")
	seed := booking.LotterySeed{PoolKey: booking.PoolKey{SessionID: w.s2.ID, Channel: booking.ChannelOnline},
		HospitalID: w.hosp.ID, OpensAt: q.OpensAt, DrawAt: q.DrawAt, Sealed: []byte("sealed"), Sealing: booking.SealedForPool,
		Commitment: c, Recipe: booking.CommitV2, CreatedAt: now()}
	testenv.Must(t, st.CommitSeeds(w.ctx, []booking.LotterySeed{seed}), "the service commits a seed")
	_, alice := w.patientOf()
	e, ev := entryOf(w.s2, alice)
	e.Commitment = c
	answers, err := st.InsertEntries(w.ctx, []booking.Entry{e}, []booking.Event{ev})
	if err != nil || answers[0] != nil {
		t.Fatalf("the service inserts an entry: %v, %v", answers, err)
	}
	for _, q := range []string{
		`UPDATE lottery_pools SET commitment = '\x00'`,
		`UPDATE lottery_pools SET seed_sealed = '\x00'`,
		`UPDATE lottery_pools SET seed_sealing = 1`,
		`UPDATE lottery_pools SET commitment_recipe = 1`,
		`UPDATE lottery_pools SET seed_sealed = seed_sealed, status = status`,
		`UPDATE lottery_entries SET commitment = NULL`,
	} {
		_, err := service.Pool().Exec(w.ctx, q)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
			t.Errorf("the service runs %q: %v, want permission denied", q, err)
		}
	}
	// What the draw and a correction write, it still may.
	for _, q := range []string{
		`UPDATE lottery_pools SET opens_at = opens_at, draw_at = draw_at, status = status, stage = stage,
		        lease_owner = lease_owner, lease_until = lease_until, draw_started_at = draw_started_at,
		        entries_digest = entries_digest, slots = slots, entries = entries, eligible = eligible,
		        held_out = held_out, excluded = excluded, unverified = unverified, seed = seed, winners = winners, drawn_at = drawn_at`,
		`UPDATE lottery_entries SET status = status, reason = reason, flag_id = flag_id, draw_rank = draw_rank,
		        identity_id = identity_id, updated_at = updated_at`,
	} {
		if _, err := service.Pool().Exec(w.ctx, q); err != nil {
			t.Errorf("the service runs %q: %v", q, err)
		}
	}
	var got []byte
	testenv.Must(t, owner.Pool().QueryRow(w.ctx, `SELECT commitment FROM lottery_pools WHERE session_id = $1`, w.s2.ID).Scan(&got), "read back")
	if string(got) != string(c) {
		t.Errorf("the pool's commitment is %x after the service's attempts, want %x", got, c)
	}
}
