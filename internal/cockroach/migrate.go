package cockroach

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
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
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	slices.Sort(names)
	var applied []string
	for _, path := range names {
		name := strings.TrimPrefix(path, "migrations/")
		if !db.appliesTo(name) {
			continue
		}
		body, err := migrations.ReadFile(path)
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
