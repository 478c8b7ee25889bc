package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"fairslot/internal/identity"
	"fairslot/internal/testenv"
)

// TestOldNameHashesAreAnnounced (review24 M1's upgrade path): a database
// whose persons were recorded before names were hashed by their key
// (identity.NameKey, migration 0083_a) may hold names in their old form,
// which match no claim until `fairslot rekey` moves them. An operator
// learns it without reading code: migrate records the form (0086_a, from
// whether any person is older than 0083_a), and it and serve say so,
// naming the command and the docs; serve reads one row for it. A fresh
// database says nothing; after a rekey neither does serve.
func TestOldNameHashesAreAnnounced(t *testing.T) {
	ctx := context.Background()
	s := startService(t, schedule(t, time.Now().Add(time.Hour), 1), nil)
	exec := func(sql string) {
		t.Helper()
		if _, err := s.pool.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	version := func() int {
		t.Helper()
		var v int
		testenv.Must(t, s.pool.QueryRow(ctx, `SELECT version FROM name_key WHERE id = 1`).Scan(&v), "the recorded name key")
		return v
	}
	if v := version(); v != identity.NameKeyVersion {
		t.Errorf("a fresh database records name key %d, want %d", v, identity.NameKeyVersion)
	}
	if logs := s.logs.String(); strings.Contains(logs, "fairslot rekey") {
		t.Errorf("serve on a fresh database warns of old name hashes:\n%s", logs)
	}
	s.newPatient(8601)

	// The same database as if its persons predated 0083_a, and 0086_a
	// not yet applied: migrate records the old form and says what to do.
	exec(`UPDATE schema_migrations SET applied_at = now() + INTERVAL '1 hour' WHERE name = '0083_a_names_and_deaths.sql'`)
	exec(`DELETE FROM name_key WHERE true`)
	exec(`DELETE FROM schema_migrations WHERE name = '0086_a_name_key.sql'`)
	mark := len(s.logs.String())
	s.run("migrate")
	if v := version(); v != 1 {
		t.Errorf("a database with persons from before 0083_a records name key %d, want 1", v)
	}
	for _, want := range []string{"fairslot rekey", "Names hashed before their key"} {
		if logs := s.logs.String()[mark:]; !strings.Contains(logs, want) {
			t.Errorf("migrate on a database with old name hashes does not say %q:\n%s", want, logs)
		}
	}
	old := s.another()
	for _, want := range []string{"level=WARN", "fairslot rekey", "Names hashed before their key"} {
		if logs := old.logs.String(); !strings.Contains(logs, want) {
			t.Errorf("serve on a database with old name hashes does not say %q:\n%s", want, logs)
		}
	}
	old.stopServe()
	s.stopServe()

	// A rekey moves every name to its key's hash, and records so.
	newFile, _ := newKeyFile(t)
	if got := s.run("rekey", "--new-key-file", newFile); !strings.Contains(got, "now the new key's") {
		t.Fatalf("rekey printed %q", got)
	}
	if v := version(); v != identity.NameKeyVersion {
		t.Errorf("after a rekey the database records name key %d, want %d", v, identity.NameKeyVersion)
	}
	s.env["FAIRSLOT_SECRET_KEY"], s.env["FAIRSLOT_SECRET_KEY_FILE"] = "", newFile
	after := s.another()
	if logs := after.logs.String(); strings.Contains(logs, "fairslot rekey") {
		t.Errorf("serve after the rekey still warns of old name hashes:\n%s", logs)
	}
}
