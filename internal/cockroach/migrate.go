package cockroach

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrate applies the embedded migrations not yet recorded in
// schema_migrations, in name order. Files named *.postgres.sql or
// *.cockroach.sql apply only to that flavor. It returns the names applied.
//
// On PostgreSQL a migration is one transaction: its statements and its row
// in schema_migrations commit together. On CockroachDB each statement runs
// on its own (an implicit transaction, which returns once its schema change
// is done) and the row is written after the last: CockroachDB does not let
// a statement see a column or index added earlier in the same transaction,
// refuses a schema change after a write in it, and may commit the writes of
// a transaction whose schema change then fails (XXA00) — which would record
// a migration not applied. So every statement of a migration CockroachDB
// runs must be one that can run again: a migrate stopped part-way runs the
// whole file again (TestMigrationsRunAgain).
func (db *DB) Migrate(ctx context.Context) ([]string, error) {
	if _, err := db.pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	names, err := db.buildMigrations()
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	var applied []string
	for _, name := range names {
		body, err := migrations.ReadFile("migrations/" + name)
		if err != nil {
			return applied, fmt.Errorf("migrate %s: %w", name, err)
		}
		apply := db.applyInOne
		if db.statementsApart {
			apply = db.applyApart
		}
		done, err := apply(ctx, name, statements(string(body)))
		if err != nil {
			return applied, fmt.Errorf("migrate %s: %w", name, err)
		}
		if !done {
			applied = append(applied, name)
		}
	}
	return applied, nil
}

// applyInOne runs a migration's statements and records it in one
// transaction (PostgreSQL). done: it was recorded already.
func (db *DB) applyInOne(ctx context.Context, name string, stmts []string) (done bool, err error) {
	err = db.Tx(ctx, "migrate", func(tx pgx.Tx) error {
		if done, err = recorded(ctx, tx, name); done || err != nil {
			return err
		}
		for _, stmt := range stmts {
			if _, err := tx.Exec(ctx, stmt); err != nil {
				return fmt.Errorf("%.60s…: %w", stmt, err)
			}
		}
		return record(ctx, tx, name)
	})
	return done, err
}

// applyApart runs each statement of a migration on its own, then records it
// (CockroachDB). A failure leaves the statements before it applied and the
// migration unrecorded: the next migrate runs the file again from its start.
func (db *DB) applyApart(ctx context.Context, name string, stmts []string) (done bool, err error) {
	if done, err = recorded(ctx, db.pool, name); done || err != nil {
		return done, err
	}
	for _, stmt := range stmts {
		if _, err := db.pool.Exec(ctx, stmt); err != nil {
			return false, fmt.Errorf("%.60s…: %w", stmt, err)
		}
	}
	err = db.Tx(ctx, "migrate", func(tx pgx.Tx) error {
		// Another migrate may have run the same file at the same time:
		// its statements can run twice, its record only once.
		if done, err = recorded(ctx, tx, name); done || err != nil {
			return err
		}
		return record(ctx, tx, name)
	})
	return done, err
}

func recorded(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, name string) (bool, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT count(*) FROM schema_migrations WHERE name = $1`, name).Scan(&n)
	return n > 0, err
}

func record(ctx context.Context, tx pgx.Tx, name string) error {
	_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (name) VALUES ($1)`, name)
	return err
}

// MigrationsBehind is the error of a database that lacks some of this
// build's migrations: Missing names them.
type MigrationsBehind struct {
	Missing []string
}

func (e *MigrationsBehind) Error() string {
	names := strings.Join(e.Missing, ", ")
	if len(e.Missing) > 4 {
		names = strings.Join(e.Missing[:3], ", ") + fmt.Sprintf(" … %s (%d in all)", e.Missing[len(e.Missing)-1], len(e.Missing))
	}
	return fmt.Sprintf("the database lacks migrations of this build: %s; run `fairslot migrate` "+
		"(with FAIRSLOT_MIGRATE_DATABASE_URL naming the tables' owner) before starting it", names)
}

// CheckMigrations compares schema_migrations with this build's migrations.
// It returns a *MigrationsBehind naming those not applied, and the applied
// ones this build does not know: a newer build migrated the database, which
// an older instance beside it may keep serving (migrations only add, so the
// old build's queries still hold). A login that may not read
// schema_migrations is on a database that predates 0030, which grants it:
// that migration, at least, is missing.
func (db *DB) CheckMigrations(ctx context.Context) (newer []string, err error) {
	names, err := db.buildMigrations()
	if err != nil {
		return nil, err
	}
	applied := map[string]bool{}
	rows, err := db.pool.Query(ctx, `SELECT name FROM schema_migrations`)
	if err == nil {
		var name string
		_, err = pgx.ForEachRow(rows, []any{&name}, func() error { applied[name] = true; return nil })
	}
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr) && pgErr.Code == "42P01": // never migrated: every one is missing
	case errors.As(err, &pgErr) && pgErr.Code == "42501":
		// No SELECT: the grant of 0030 is missing, and so is every later
		// one (Migrate applies them in order and stops at a failure).
		for _, name := range names {
			applied[name] = name < grantMigration
		}
	case err != nil:
		return nil, fmt.Errorf("read the applied migrations: %w", err)
	}
	var missing []string
	for _, name := range names {
		if !applied[name] {
			missing = append(missing, name)
		}
		delete(applied, name)
	}
	for name := range applied {
		newer = append(newer, name)
	}
	slices.Sort(newer)
	if len(missing) > 0 {
		return newer, &MigrationsBehind{Missing: missing}
	}
	return newer, nil
}

// grantMigration lets the service's login read schema_migrations.
const grantMigration = "0030_service_reads_migrations.sql"

// buildMigrations are the names of this build's migrations for the flavor,
// in the order Migrate applies them.
func (db *DB) buildMigrations() ([]string, error) {
	paths, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	slices.Sort(paths)
	var names []string
	for _, path := range paths {
		if name := strings.TrimPrefix(path, "migrations/"); db.appliesTo(name) {
			names = append(names, name)
		}
	}
	return names, nil
}

func (db *DB) appliesTo(name string) bool {
	switch {
	case strings.HasSuffix(name, ".postgres.sql"):
		return db.flavor == Postgres
	case strings.HasSuffix(name, ".cockroach.sql"):
		return db.flavor == Cockroach
	}
	return true
}

// statements splits a migration on semicolons at line ends, dropping
// comments. Migrations hold no semicolons inside literals.
func statements(sql string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(sql, "\n") {
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(strings.TrimSpace(line), ";") {
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}
