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
// schema_migrations, in name order, each in its own transaction. Files named
// *.postgres.sql or *.cockroach.sql apply only to that flavor. It returns the
// names applied.
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
		done := false
		err = db.Tx(ctx, "migrate", func(tx pgx.Tx) error {
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM schema_migrations WHERE name = $1`, name).Scan(&n); err != nil {
				return err
			}
			if done = n > 0; done {
				return nil
			}
			for _, stmt := range statements(string(body)) {
				if _, err := tx.Exec(ctx, stmt); err != nil {
					return fmt.Errorf("%.60s…: %w", stmt, err)
				}
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (name) VALUES ($1)`, name)
			return err
		})
		if err != nil {
			return applied, fmt.Errorf("migrate %s: %w", name, err)
		}
		if !done {
			applied = append(applied, name)
		}
	}
	return applied, nil
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
