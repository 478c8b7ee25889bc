package main

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"fairslot/internal/testenv"
)

// TestRestoredCopyLeavesProductionsRedis (review21b H3): a restored copy of
// production's database, run with production's Redis and prefix as the
// restore recipe once let an operator do, must not rewrite production's
// state: its reconcile and serve refuse it, naming both databases, until
// `reconcile --hand-over` makes the state the copy's — after which the old
// database's tools are the ones refused.
func TestRestoredCopyLeavesProductionsRedis(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := testenv.Redis(t)
	prod := toolEnv(t, prefix)
	logs := &testenv.LogBuffer{}
	tool := func(env map[string]string, args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, args, func(k string) string { return env[k] }, &out, logs)
		return out.String(), err
	}
	for _, args := range [][]string{{"migrate"}, {"seed", "--demo", "--days", "1"}} {
		if out, err := tool(prod, args...); err != nil {
			t.Fatalf("%s: %v\n%s%s", args[0], err, out, logs)
		}
	}
	owner, err := rdb.Get(ctx, prefix+":owner").Result()
	testenv.Must(t, err, "the state's owner after seed")
	if !strings.HasPrefix(owner, "postgres ") && !strings.HasPrefix(owner, "cockroach ") {
		t.Fatalf("owner = %q, want a database's origin", owner)
	}

	restored := copyDatabase(t, prod["FAIRSLOT_MIGRATE_DATABASE_URL"])
	copyEnv := toolEnv(t, prefix)
	copyEnv["FAIRSLOT_MIGRATE_DATABASE_URL"] = restored
	copyEnv["FAIRSLOT_DATABASE_URL"] = testenv.ServiceURL(t, restored)
	copyEnv["FAIRSLOT_SECRET_KEY"] = prod["FAIRSLOT_SECRET_KEY"] // a restore keeps its key

	for _, args := range [][]string{{"reconcile"}, {"serve", "--http-addr", "127.0.0.1:0", "--admin-addr", "off"}} {
		out, err := tool(copyEnv, args...)
		if !errors.Is(err, errOtherDatabase) {
			t.Fatalf("%s on the restored copy with production's prefix: err = %v, want %v\n%s%s", args[0], err, errOtherDatabase, out, logs)
		}
		if msg := err.Error(); !strings.Contains(msg, owner) || !strings.Contains(msg, "--hand-over") {
			t.Errorf("%s's refusal %q names neither production's database nor the way to hand over", args[0], msg)
		}
	}
	if out, err := tool(prod, "reconcile", "--check"); err != nil {
		t.Fatalf("production's state after the copy was refused: %v\n%s", err, out)
	}
	if got, _ := rdb.Get(ctx, prefix+":owner").Result(); got != owner {
		t.Fatalf("owner after the refusals = %q, want production's %q", got, owner)
	}

	if _, err := tool(copyEnv, "reconcile", "--check", "--hand-over"); err == nil {
		t.Error("reconcile --check --hand-over: want a refusal (--check changes nothing)")
	}
	if out, err := tool(copyEnv, "reconcile", "--hand-over"); err != nil {
		t.Fatalf("reconcile --hand-over on the restored copy: %v\n%s%s", err, out, logs)
	}
	handed, _ := rdb.Get(ctx, prefix+":owner").Result()
	if handed == owner || handed == "" {
		t.Fatalf("owner after the hand-over = %q, want the copy's", handed)
	}
	if !strings.Contains(logs.String(), "handed over") {
		t.Error("the hand-over logged no warning")
	}
	if out, err := tool(copyEnv, "reconcile", "--check"); err != nil {
		t.Errorf("the copy's state after its hand-over: %v\n%s", err, out)
	}
	if _, err := tool(prod, "reconcile"); !errors.Is(err, errOtherDatabase) {
		t.Errorf("production's reconcile after the hand-over: err = %v, want %v", err, errOtherDatabase)
	}
}

// copyDatabase makes a copy of the database at ownerURL under another name
// on the same server, as pg_restore into a new database does, and returns
// the copy's owner URL. PostgreSQL only (TEMPLATE).
func copyDatabase(t *testing.T, ownerURL string) string {
	t.Helper()
	u, err := url.Parse(ownerURL)
	testenv.Must(t, err, "parse database url")
	from := strings.TrimPrefix(u.Path, "/")
	to := from + "_restored"
	ctx := context.Background()
	server := *u
	server.Path = "/postgres" // not the database copied: it must have no connection
	admin, err := pgx.Connect(ctx, server.String())
	testenv.Must(t, err, "connect")
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+to+" TEMPLATE "+from); err != nil {
		t.Skipf("copy the database (PostgreSQL's TEMPLATE): %v", err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), server.String())
		if err != nil {
			return
		}
		defer conn.Close(context.Background())
		_, _ = conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+to+" WITH (FORCE)")
	})
	u.Path = "/" + to
	return u.String()
}
