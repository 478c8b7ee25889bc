package cockroach_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"fairslot/internal/cockroach"
	"fairslot/internal/testenv"
)

// schemaOf lists a PostgreSQL database's columns, indexes and constraints,
// one line each, sorted.
func schemaOf(t *testing.T, ctx context.Context, db *cockroach.DB) []string {
	t.Helper()
	rows, err := db.Pool().Query(ctx, `
SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' null=' || is_nullable
       || ' default=' || COALESCE(column_default, '')
  FROM information_schema.columns WHERE table_schema = 'public'
UNION ALL
SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
UNION ALL
SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
  FROM pg_constraint WHERE connamespace = 'public'::regnamespace`)
	testenv.Must(t, err, "read the schema")
	var lines []string
	for rows.Next() {
		var l string
		testenv.Must(t, rows.Scan(&l), "scan")
		lines = append(lines, l)
	}
	testenv.Must(t, rows.Err(), "read the schema")
	slices.Sort(lines)
	return lines
}

// TestMigrateStatementsApart runs the migrations as Migrate does on
// CockroachDB — each statement on its own, the record after the last — and
// finds the same schema as one transaction per migration makes.
func TestMigrateStatementsApart(t *testing.T) {
	ctx := t.Context()
	if expectedFlavor() == cockroach.Cockroach {
		t.Skip("the schema is read from PostgreSQL's catalog; on CockroachDB TestMigrate runs this way already")
	}
	apart, err := cockroach.Open(ctx, testenv.DatabaseURL(t), nil)
	testenv.Must(t, err, "open")
	t.Cleanup(apart.Close)
	cockroach.StatementsApart(apart)
	applied, err := apart.Migrate(ctx)
	testenv.Must(t, err, "migrate statement by statement")
	want, err := cockroach.BuildMigrations(apart)
	testenv.Must(t, err, "the build's migrations")
	if !slices.Equal(applied, want) {
		t.Errorf("applied %v, want %v", applied, want)
	}
	if again, err := apart.Migrate(ctx); err != nil || len(again) != 0 {
		t.Errorf("second migrate applied %v (%v), want nothing", again, err)
	}

	inOne := testenv.DB(t)
	got, wantSchema := schemaOf(t, ctx, apart), schemaOf(t, ctx, inOne)
	if !slices.Equal(got, wantSchema) {
		for _, l := range got {
			if !slices.Contains(wantSchema, l) {
				t.Errorf("statement by statement only: %s", l)
			}
		}
		for _, l := range wantSchema {
			if !slices.Contains(got, l) {
				t.Errorf("one transaction only: %s", l)
			}
		}
	}
}

// TestMigrationsRunAgain runs every statement of every migration both
// flavors share a second time, on a migrated database. On CockroachDB a
// migrate stopped part-way (a lost connection, a statement that failed)
// leaves the statements before it applied and the migration unrecorded,
// and the next migrate runs the whole file again: each statement must be
// one that can. (The *.cockroach.sql files cannot run here; they are held
// to the same rule by reading: docs/design.md, "SQL schema".)
func TestMigrationsRunAgain(t *testing.T) {
	ctx := t.Context()
	db := testenv.DB(t)
	names, err := cockroach.BuildMigrations(db)
	testenv.Must(t, err, "the build's migrations")
	for _, name := range names {
		if strings.HasSuffix(name, ".postgres.sql") || strings.HasSuffix(name, ".cockroach.sql") {
			continue // PostgreSQL's run in one transaction; CockroachDB's not here
		}
		stmts, err := cockroach.Statements(name)
		testenv.Must(t, err, "read %s", name)
		for _, stmt := range stmts {
			if _, err := db.Pool().Exec(ctx, stmt); err != nil {
				t.Errorf("%s cannot run again: %.70s…: %v", name, strings.Join(strings.Fields(stmt), " "), err)
			}
		}
	}
}
