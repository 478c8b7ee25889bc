package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"fairslot/internal/testenv"
)

// TestFirstStartInProduction (review21b H2) runs operations.md's "First
// start in production" on an empty database: `hospital add` creates a
// hospital (audited, its id printed), `staff add` takes that id for the
// hospital's administrator and clerk, a second add of the same name and a
// zone that does not exist are refused, and `seed` without --demo
// refuses and writes nothing: no demo hospital, no admin whose password
// README prints.
func TestFirstStartInProduction(t *testing.T) {
	ctx := context.Background()
	_, prefix := testenv.Redis(t)
	env := toolEnv(t, prefix)
	logs := &testenv.LogBuffer{}
	cmd := func(extra map[string]string, args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, args, func(k string) string {
			if v, ok := extra[k]; ok {
				return v
			}
			return env[k]
		}, &out, logs)
		return out.String(), err
	}
	must := func(extra map[string]string, args ...string) string {
		t.Helper()
		out, err := cmd(extra, args...)
		if err != nil {
			t.Fatalf("%s: %v\n%s%s", strings.Join(args, " "), err, out, logs)
		}
		return out
	}
	must(nil, "migrate")

	if out, err := cmd(nil, "seed", "--days", "1", "--draw-in", "0"); err == nil || !strings.Contains(err.Error(), "--demo") {
		t.Errorf("seed without --demo = %v (%s), want a refusal naming --demo", err, out)
	}
	db, err := pgx.Connect(ctx, env["FAIRSLOT_MIGRATE_DATABASE_URL"])
	testenv.Must(t, err, "connect")
	defer db.Close(ctx)
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		testenv.Must(t, db.QueryRow(ctx, q, args...).Scan(&n), "%s", q)
		return n
	}
	if n := count("SELECT count(*) FROM hospitals") + count("SELECT count(*) FROM accounts"); n != 0 {
		t.Fatalf("a refused seed wrote %d hospitals and accounts", n)
	}

	out := must(nil, "hospital", "add", "--name", "市第一人民医院", "--time-zone", "Asia/Urumqi", "--cancel-deadline", "16:30")
	id := regexp.MustCompile(`created hospital ([0-9a-f-]{36}) `).FindStringSubmatch(out)
	if id == nil {
		t.Fatalf("hospital add printed no id:\n%s", out)
	}
	hospital := id[1]
	var zone, deadline string
	testenv.Must(t, db.QueryRow(ctx, "SELECT time_zone, cancel_deadline FROM hospitals WHERE id = $1 AND name = '市第一人民医院'", hospital).Scan(&zone, &deadline), "the hospital")
	if zone != "Asia/Urumqi" || deadline != "16:30" {
		t.Errorf("hospital stored with zone %q, deadline %q", zone, deadline)
	}
	if n := count("SELECT count(*) FROM audit_log WHERE action = 'hospital_added' AND target = $1 AND hospital_id = $2", "hospital:"+hospital, hospital); n != 1 {
		t.Errorf("%d hospital_added audit rows, want 1", n)
	}
	if list := must(nil, "hospital", "list"); !strings.Contains(list, hospital) || !strings.Contains(list, "市第一人民医院") {
		t.Errorf("hospital list lacks the new hospital:\n%s", list)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"hospital", "add", "--name", "市第一人民医院"}, "hospital_exists"},
		{[]string{"hospital", "add", "--name", " 市第一人民医院 "}, "hospital_exists"},
		{[]string{"hospital", "add", "--name", "二院", "--time-zone", "Mars/Olympus"}, "unknown time zone"},
		{[]string{"hospital", "add", "--name", "二院", "--cancel-deadline", "3pm"}, "HH:MM"},
		{[]string{"hospital", "add"}, "--name is required"},
	} {
		out, err := cmd(nil, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s = %v (%s), want an error with %q", strings.Join(c.args, " "), err, out, c.want)
		}
		// A name taken exits 3 (a script run again: it is there), any other refusal 1.
		if want := map[bool]int{true: 3, false: 1}[c.want == "hospital_exists"]; exitCode(err) != want {
			t.Errorf("%s exits %d, want %d", strings.Join(c.args, " "), exitCode(err), want)
		}
	}
	if n := count("SELECT count(*) FROM hospitals"); n != 1 {
		t.Errorf("%d hospitals after the refused adds, want 1", n)
	}

	pw := map[string]string{"FAIRSLOT_STAFF_PASSWORD": "first-admin-Pass1"}
	for _, args := range [][]string{
		{"staff", "add", "--role", "admin", "--hospital", hospital, "--phone", "13822220001", "--name", "信息科 管理员"},
		{"staff", "add", "--role", "clerk", "--hospital", hospital, "--phone", "13822220002"},
	} {
		if out := must(pw, args...); !strings.Contains(out, "of hospital "+hospital) {
			t.Errorf("%s: %s", strings.Join(args, " "), out)
		}
	}
	if n := count("SELECT count(*) FROM accounts WHERE hospital_id IS NULL"); n != 0 {
		t.Errorf("%d platform-wide accounts, want none", n)
	}
}
