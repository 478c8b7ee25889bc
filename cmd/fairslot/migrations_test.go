package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestCommandsRefuseMissingMigrations: serve, and every command that works
// as the service's login, refuse a database that lacks a migration of their
// build, naming it and saying to run `fairslot migrate`; a missing column
// was found before only by the request that needed it (a 500, review10b). A
// database migrated by a newer build is served on (a rolling upgrade), with
// a warning naming the migrations this build does not know. A database older
// than 0030 (whose grant lets the service's login read schema_migrations)
// names 0030. After `fairslot migrate` the commands run again.
func TestCommandsRefuseMissingMigrations(t *testing.T) {
	svc := startService(t, schedule(t, time.Now().Add(time.Hour), 1), nil)
	ctx := context.Background()
	exec := func(sql string) {
		t.Helper()
		if _, err := svc.pool.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}

	// A newer build migrated the database: this one serves beside it.
	exec(`INSERT INTO schema_migrations (name) VALUES ('0099_from_a_newer_build.sql')`)
	old := svc.another()
	if r := old.do("GET", "/v1/hospitals", "", nil); r.status != 200 {
		t.Errorf("GET /v1/hospitals of the instance older than its database: %d %s", r.status, r.body)
	}
	if logs := old.logs.String(); !strings.Contains(logs, "does not know") || !strings.Contains(logs, "0099_from_a_newer_build.sql") {
		t.Errorf("the older instance's log does not name the newer migration:\n%s", logs)
	}

	refused := func(what string, want ...string) {
		t.Helper()
		for _, cmd := range [][]string{{"serve"}, {"reconcile", "--check"}, {"events", "--out", t.TempDir() + "/e.jsonl"}} {
			// Without the check serve would start and serve until this
			// context ends, and return nil.
			cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			var out, errs bytes.Buffer
			err := run(cctx, cmd, svc.getenv, &out, &errs)
			cancel()
			if err == nil {
				t.Errorf("%s: fairslot %s = nil, want it to refuse", what, strings.Join(cmd, " "))
				continue
			}
			msg := err.Error()
			for _, w := range append(want, "run `fairslot migrate`") {
				if !strings.Contains(msg, w) {
					t.Errorf("%s: fairslot %s = %q, want it to name %q", what, strings.Join(cmd, " "), msg, w)
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("%s: fairslot %s = %q, want one line", what, strings.Join(cmd, " "), msg)
			}
		}
	}
	// A migration of this build not applied: its column is missing.
	exec(`DELETE FROM schema_migrations WHERE name = '0029_extra_slots_max.sql'`)
	exec(`ALTER TABLE hospital_policies DROP COLUMN extra_slots_max`)
	refused("0029 not applied", "0029_extra_slots_max.sql")

	// A database from before 0030: the service's login cannot read
	// schema_migrations, so it names 0030, the first it knows is missing.
	exec(`REVOKE SELECT ON schema_migrations FROM fairslot_service`)
	exec(`DELETE FROM schema_migrations WHERE name = '0030_service_reads_migrations.sql'`)
	refused("before 0030", "0030_service_reads_migrations.sql")

	out := svc.run("migrate")
	if !strings.Contains(out, "0029_extra_slots_max.sql") || !strings.Contains(out, "0030_service_reads_migrations.sql") {
		t.Errorf("fairslot migrate printed %q, want 0029 and 0030 applied", out)
	}
	if out := svc.run("reconcile", "--check"); !strings.Contains(out, "agree") {
		t.Errorf("fairslot reconcile --check after migrate printed %q", out)
	}
}
