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
	got, err := cockroach.NewStore(service).AuditSince(ctx, a.TS.Add(-1), "", "")
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
