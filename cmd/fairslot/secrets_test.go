package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"fairslot/internal/testenv"
)

// TestSecretKeyNeverOnTheCommandLine: the master key is read from a file or
// the environment; a --secret-key flag (which showed in process listings and
// at /debug/pprof/cmdline) is refused with a pointer to both; a key file
// other users may read is refused.
func TestSecretKeyNeverOnTheCommandLine(t *testing.T) {
	sch := schedule(t, time.Now().Add(-time.Minute), 1)
	svc := startService(t, sch, nil)
	key := svc.env["FAIRSLOT_SECRET_KEY"]
	noKey := func(k string) string {
		if k == "FAIRSLOT_SECRET_KEY" {
			return ""
		}
		return svc.env[k]
	}
	dir := t.TempDir()
	private, public := filepath.Join(dir, "private.key"), filepath.Join(dir, "public.key")
	testenv.Must(t, os.WriteFile(private, []byte(key+"\n"), 0o600), "write key")
	testenv.Must(t, os.WriteFile(public, []byte(key+"\n"), 0o644), "write key")

	tests := []struct {
		name    string
		args    []string
		wantErr string // "" for success
	}{
		{"flag", []string{"reconcile", "--check", "--secret-key", key}, "--secret-key-file"},
		{"file", []string{"reconcile", "--check", "--secret-key-file", private}, ""},
		{"file others can read", []string{"reconcile", "--check", "--secret-key-file", public}, "chmod o-rwx"},
		{"no key at all", []string{"reconcile", "--check"}, "FAIRSLOT_SECRET_KEY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errs bytes.Buffer
			err := run(context.Background(), tt.args, noKey, &out, &errs)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("fairslot %s = %v, want success\n%s", strings.Join(tt.args, " "), err, errs.String())
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("fairslot %s = %v, want an error naming %q", strings.Join(tt.args, " "), err, tt.wantErr)
			}
		})
	}
	t.Run("environment", func(t *testing.T) {
		var out bytes.Buffer
		if err := run(context.Background(), []string{"reconcile", "--check"}, svc.getenv, &out, &out); err != nil {
			t.Errorf("reconcile with FAIRSLOT_SECRET_KEY = %v, want success\n%s", err, out.String())
		}
	})
}

// TestAdminAddressIsPrivate: serve refuses an admin address that is not
// loopback unless told otherwise, and serves no profiles unless asked, and
// never pprof's cmdline page.
func TestAdminAddressIsPrivate(t *testing.T) {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	env := map[string]string{"FAIRSLOT_SECRET_KEY": base64.StdEncoding.EncodeToString(key), "FAIRSLOT_ADMIN_ADDR": "0.0.0.0:0",
		"FAIRSLOT_HTTP_ADDR": "127.0.0.1:0", "FAIRSLOT_DATABASE_URL": testenv.DatabaseURL(t),
		"FAIRSLOT_REDIS_ADDR": os.Getenv(testenv.RedisAddrEnv)}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // were it to start, serve stops at once
	var out bytes.Buffer
	err := run(ctx, []string{"serve"}, func(k string) string { return env[k] }, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "--admin-public") {
		t.Errorf("serve on admin address 0.0.0.0 = %v, want it refused naming --admin-public", err)
	}

	sch := schedule(t, time.Now().Add(-time.Minute), 1)
	for _, tt := range []struct {
		name     string
		pprof    string
		profiles int
	}{
		{"by default", "", 404},
		{"with --pprof", "true", 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			svc := startService(t, sch, map[string]string{"FAIRSLOT_ADMIN_ADDR": "127.0.0.1:0", "FAIRSLOT_PPROF": tt.pprof})
			admin := svc.adminAddr()
			for _, c := range []struct {
				path string
				want int
			}{
				{"/metrics", 200},
				{"/debug/pprof/", tt.profiles},
				{"/debug/pprof/cmdline", 404},
			} {
				resp, err := http.Get(admin + c.path)
				if err != nil {
					t.Fatalf("GET %s: %v", c.path, err)
				}
				resp.Body.Close()
				if resp.StatusCode != c.want {
					t.Errorf("GET %s = %d, want %d", c.path, resp.StatusCode, c.want)
				}
			}
		})
	}
}

// adminAddr is the admin address serve printed.
func (s *service) adminAddr() string {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(s.stdout.String(), "\n") {
			if _, rest, ok := strings.Cut(line, "fairslot metrics: "); ok {
				return strings.TrimSuffix(strings.TrimSpace(rest), "/metrics")
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.t.Fatalf("serve printed no metrics address:\n%s", s.stdout)
	return ""
}

// TestHelpMasksPasswords: `fairslot <command> -h` shows each flag's default,
// read from the environment; the database URLs' passwords and
// FAIRSLOT_STAFF_PASSWORD (staff add's --password) are shown masked,
// as in the start-up line (a reviewer found them in clear in every command's
// help, which operators paste into tickets). A URL without a password and
// other defaults are shown as they are.
func TestHelpMasksPasswords(t *testing.T) {
	const pw = "pw-Review9-s3cret"
	getenv := func(k string) string {
		return map[string]string{
			"FAIRSLOT_DATABASE_URL":         "postgres://fairslot_app:" + pw + "@127.0.0.1:5432/fairslot?sslmode=disable",
			"FAIRSLOT_MIGRATE_DATABASE_URL": "postgres://fairslot:" + pw + "@127.0.0.1:5432/fairslot",
			"FAIRSLOT_REDIS_ADDR":           "127.0.0.1:6390",
			"FAIRSLOT_STAFF_PASSWORD":       pw,
		}[k]
	}
	for _, cmd := range [][]string{{"serve"}, {"reconcile"}, {"migrate"}, {"seed"}, {"events"}, {"staff", "add"}} {
		t.Run(strings.Join(cmd, " "), func(t *testing.T) {
			var out, errs bytes.Buffer
			err := run(context.Background(), append(cmd, "-h"), getenv, &out, &errs)
			if !errors.Is(err, errHelp) {
				t.Fatalf("fairslot %s -h = %v, want the help", strings.Join(cmd, " "), err)
			}
			help := out.String() + errs.String()
			if strings.Contains(help, pw) {
				t.Errorf("fairslot %s -h shows the database password in clear", strings.Join(cmd, " "))
			}
			if !strings.Contains(help, "fairslot_app:xxxxx@127.0.0.1:5432") || !strings.Contains(help, "127.0.0.1:6390") {
				t.Errorf("fairslot %s -h does not show the masked URL and the Redis address:\n%s", strings.Join(cmd, " "), help)
			}
		})
	}
	if got := redactURL("postgres://fairslot_app@127.0.0.1:15432/fairslot"); got != "postgres://fairslot_app@127.0.0.1:15432/fairslot" {
		t.Errorf("redactURL of a URL without a password = %q, want it unchanged", got)
	}
}

// TestBadDatabaseURLKeepsItsPassword: a database URL that does not parse (a
// password with an unescaped % or a typo in the port) is refused naming the
// flag and the fault; the error used to repeat the whole URL, password in
// clear (url.Parse's error quotes its input), on the terminal and in the
// service's log. A key=value connection string's password and an
// unparseable URL's are masked in -h as a URL's is; the defaults of
// --password-iterations and --password-hashers (not secrets) are shown.
func TestBadDatabaseURLKeepsItsPassword(t *testing.T) {
	const pw = "pw-Review10b-s3cret"
	key := base64.StdEncoding.EncodeToString(make([]byte, 32))
	bad := []struct{ name, url string }{
		{"unescaped percent", "postgres://fairslot_app:" + pw + "%zz@127.0.0.1:5432/fairslot"},
		{"port not a number", "postgres://fairslot_app:" + pw + "@127.0.0.1:port/fairslot"},
		{"no scheme", "fairslot_app:" + pw + "@127.0.0.1:5432/fairslot"},
	}
	for _, b := range bad {
		for _, cmd := range [][]string{{"serve"}, {"reconcile", "--check"}, {"events"}, {"staff", "add", "--role", "admin", "--phone", "13900000001"}, {"migrate"}} {
			for _, variable := range []string{"FAIRSLOT_DATABASE_URL", "FAIRSLOT_MIGRATE_DATABASE_URL"} {
				if variable == "FAIRSLOT_MIGRATE_DATABASE_URL" && cmd[0] != "migrate" {
					continue
				}
				t.Run(b.name+"/"+strings.Join(cmd, " ")+"/"+variable, func(t *testing.T) {
					env := map[string]string{
						"FAIRSLOT_DATABASE_URL":         "postgres://fairslot_app@127.0.0.1:1/fairslot",
						"FAIRSLOT_MIGRATE_DATABASE_URL": "postgres://fairslot@127.0.0.1:1/fairslot",
						"FAIRSLOT_SECRET_KEY":           key,
						"FAIRSLOT_STAFF_PASSWORD":       "staff-pass-123",
					}
					env[variable] = b.url
					var out, errs bytes.Buffer
					err := run(context.Background(), cmd, func(k string) string { return env[k] }, &out, &errs)
					flagName := "--database-url"
					if variable == "FAIRSLOT_MIGRATE_DATABASE_URL" {
						flagName = "--migrate-database-url"
					}
					if err == nil || !strings.Contains(err.Error(), flagName+" is not a valid URL") {
						t.Fatalf("fairslot %s = %v, want an error naming %s", strings.Join(cmd, " "), err, flagName)
					}
					if all := err.Error() + out.String() + errs.String(); strings.Contains(all, pw) {
						t.Errorf("fairslot %s printed the password in clear:\n%s", strings.Join(cmd, " "), all)
					}
				})
			}
		}
	}
	for _, u := range []string{
		"host=127.0.0.1 port=5432 user=fairslot_app password=" + pw + " dbname=fairslot",
		"host=127.0.0.1 user=fairslot_app password='" + pw + " x' dbname=fairslot",
		bad[0].url, bad[1].url,
	} {
		t.Run("help/"+u[:20], func(t *testing.T) {
			var out, errs bytes.Buffer
			err := run(context.Background(), []string{"reconcile", "-h"}, func(k string) string {
				return map[string]string{"FAIRSLOT_DATABASE_URL": u}[k]
			}, &out, &errs)
			if !errors.Is(err, errHelp) {
				t.Fatalf("fairslot reconcile -h = %v, want the help", err)
			}
			if help := out.String() + errs.String(); strings.Contains(help, pw) {
				t.Errorf("fairslot reconcile -h shows the password of %q in clear", u)
			}
		})
	}
	var out, errs bytes.Buffer
	if err := run(context.Background(), []string{"reconcile", "-h"}, func(string) string { return "" }, &out, &errs); !errors.Is(err, errHelp) {
		t.Fatalf("fairslot reconcile -h = %v, want the help", err)
	}
	for _, want := range []string{"(default 600000)"} {
		if !strings.Contains(errs.String(), want) {
			t.Errorf("fairslot reconcile -h lacks %q (the default of --password-iterations is no secret)", want)
		}
	}
}

// TestToolHelpPutsItsOwnFlagsFirst: a tool's -h names its own flags first
// and apart, then how it reaches the data, then serve's settings; `fairslot
// lottery verify -h` listed --session and --entries among thirty of serve's
// flags in one alphabetical list, and `fairslot lottery -h` was an unknown
// command (review15's L9). `fairslot migrate -h` still listed its one flag
// and the database's URL among serve's thirty (review21b); it and rekey's
// are grouped as a tool's.
func TestToolHelpPutsItsOwnFlagsFirst(t *testing.T) {
	var out, errs bytes.Buffer
	for _, cmd := range [][]string{{"lottery", "verify"}, {"migrate"}, {"rekey"}} {
		errs.Reset()
		name := strings.Join(cmd, " ")
		if err := run(context.Background(), append(cmd, "-h"), func(string) string { return "" }, &out, &errs); !errors.Is(err, errHelp) {
			t.Fatalf("fairslot %s -h = %v, want the help", name, err)
		}
		help := errs.String()
		own, reach, settings := strings.Index(help, "its own flags:"), strings.Index(help, "reaching the service's data"), strings.Index(help, "the service's settings")
		if own < 0 || reach < own || settings < reach {
			t.Fatalf("fairslot %s -h is not in its three groups, own first:\n%s", name, help)
		}
		ownFlags := map[string][]string{"lottery verify": {"-session", "-entries"}, "migrate": {"-migrate-database-url"}, "rekey": {"-new-key-file", "-max-batches"}}[name]
		groups := map[string][2]int{"-database-url": {reach, settings}, "-redis-addr": {reach, settings},
			"-booking-batch": {settings, len(help)}, "-hold-for": {settings, len(help)}}
		for _, f := range ownFlags {
			groups[f] = [2]int{own, reach}
		}
		for flagName, group := range groups {
			if at := strings.Index(help, "  "+flagName+" "); at < group[0] || at > group[1] {
				t.Errorf("fairslot %s -h lists %s outside its group (at %d, want %d–%d)", name, flagName, at, group[0], group[1])
			}
		}
	}
	out.Reset()
	errs.Reset()
	if err := run(context.Background(), []string{"lottery", "--help"}, func(string) string { return "" }, &out, &errs); !errors.Is(err, errHelp) || !strings.Contains(out.String(), "verify") {
		t.Errorf("fairslot lottery --help = %v, printed %q, want the lottery commands", err, out.String()+errs.String())
	}
}

// TestAnotherKeyIsRefused: a command started with a master key the
// database's data was not made with is refused before it does anything. A
// second serve with a new key answered ready, found no returning patient,
// and made them a second account and a second person (review16's H1). A
// database from before the key's fingerprint was recorded is proved by a
// value sealed in it; an empty one takes the first key it is opened with.
func TestAnotherKeyIsRefused(t *testing.T) {
	_, prefix := testenv.Redis(t)
	env := toolEnv(t, prefix)
	env["FAIRSLOT_STAFF_PASSWORD"] = "staff-pass-123"
	withKey := func(key string) func(string) string {
		return func(k string) string {
			if k == "FAIRSLOT_SECRET_KEY" {
				return key
			}
			return env[k]
		}
	}
	newKey := func() string {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		return base64.StdEncoding.EncodeToString(b)
	}
	own, other := env["FAIRSLOT_SECRET_KEY"], newKey()
	do := func(key string, args ...string) error {
		var out, errs bytes.Buffer
		return run(context.Background(), args, withKey(key), &out, &errs)
	}
	testenv.Must(t, do(own, "migrate"), "migrate")
	testenv.Must(t, do(own, "staff", "add", "--role", "admin", "--phone", "13900000078"), "staff add with the database's key")
	if err := do(other, "staff", "list"); !errors.Is(err, errWrongKey) {
		t.Fatalf("fairslot staff list with another key = %v, want %v", err, errWrongKey)
	}
	if err := do(other, "staff", "add", "--role", "admin", "--phone", "13900000078"); !errors.Is(err, errWrongKey) {
		t.Fatalf("fairslot staff add with another key = %v, want %v (a second account for the same phone)", err, errWrongKey)
	}
	testenv.Must(t, do(own, "staff", "list"), "staff list with the database's key")

	// A database from before 0038 has data but no fingerprint: the sealed
	// phone of its account decides, and the key that opens it is recorded.
	owner, err := pgx.Connect(context.Background(), env["FAIRSLOT_MIGRATE_DATABASE_URL"])
	testenv.Must(t, err, "connect as the owner")
	defer owner.Close(context.Background())
	_, err = owner.Exec(context.Background(), "DELETE FROM key_check")
	testenv.Must(t, err, "forget the fingerprint")
	if err := do(other, "staff", "list"); !errors.Is(err, errWrongKey) {
		t.Fatalf("fairslot staff list with another key on data from before the fingerprint = %v, want %v", err, errWrongKey)
	}
	testenv.Must(t, do(own, "staff", "list"), "staff list with the key that opens the data")
	var n int
	testenv.Must(t, owner.QueryRow(context.Background(), "SELECT count(*) FROM key_check").Scan(&n), "count fingerprints")
	if n != 1 {
		t.Errorf("%d fingerprints recorded after the right key proved itself, want 1", n)
	}
	if err := do(other, "staff", "list"); !errors.Is(err, errWrongKey) {
		t.Errorf("fairslot staff list with another key after the fingerprint = %v, want %v", err, errWrongKey)
	}
}

// TestRedactURL (review18a M3): every password a database URL or a
// key=value connection string can hold is masked — the user's, and each
// parameter whose name ends in "password" (password, sslpassword), in
// either form — and nothing else is changed.
func TestRedactURL(t *testing.T) {
	const pw, other, keypass = "Pw-Review18a-1", "Other-2", "KEYPASS123"
	tests := []struct {
		name, in, want string
	}{
		{"user password and a password parameter",
			"postgres://fairslot_app:" + pw + "@127.0.0.1:5432/fairslot?sslmode=disable&password=" + other,
			"postgres://fairslot_app:xxxxx@127.0.0.1:5432/fairslot?sslmode=disable&password=xxxxx"},
		{"sslpassword without a user password",
			"postgres://fairslot_app@127.0.0.1:5432/fairslot?sslmode=verify-full&sslpassword=" + keypass,
			"postgres://fairslot_app@127.0.0.1:5432/fairslot?sslmode=verify-full&sslpassword=xxxxx"},
		{"password parameter first, any case",
			"postgres://h/db?PASSWORD=" + other + "&sslPassword=" + keypass + "&sslmode=disable",
			"postgres://h/db?PASSWORD=xxxxx&sslPassword=xxxxx&sslmode=disable"},
		{"key=value: password and sslpassword",
			"host=127.0.0.1 user=fairslot_app password=" + pw + " sslpassword=" + keypass + " dbname=fairslot",
			"host=127.0.0.1 user=fairslot_app password=xxxxx sslpassword=xxxxx dbname=fairslot"},
		{"key=value: quoted, spaced",
			"host=h password = '" + pw + " x' sslpassword='" + keypass + "'",
			"host=h password = xxxxx sslpassword=xxxxx"},
		{"near miss: no password at all", "postgres://fairslot_app@127.0.0.1:15432/fairslot?sslmode=disable",
			"postgres://fairslot_app@127.0.0.1:15432/fairslot?sslmode=disable"},
		{"near miss: a parameter named like one but not a password", "postgres://h/db?password_hint=abc&passfile=/etc/pgpass",
			"postgres://h/db?password_hint=abc&passfile=/etc/pgpass"},
		{"near miss: key=value without a password", "host=h user=u passfile=/etc/pgpass dbname=fairslot",
			"host=h user=u passfile=/etc/pgpass dbname=fairslot"},
		{"near miss: a value that says password", "postgres://h/db?application_name=password",
			"postgres://h/db?application_name=password"},
		{"not a URL, with a user and password", "fairslot_app:" + pw + "@127.0.0.1:5432/fairslot",
			"[not a valid URL: hidden, it may hold a password]"},
		{"a URL that does not parse", "postgres://fairslot_app:" + pw + "%zz@127.0.0.1:5432/fairslot",
			"[not a valid URL: hidden, it may hold a password]"},
		{"not a URL, nothing secret", "127.0.0.1:6379", "127.0.0.1:6379"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := redactURL(tt.in)
			if got != tt.want {
				t.Errorf("redactURL(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			for _, secret := range []string{pw, other, keypass} {
				if strings.Contains(got, secret) {
					t.Errorf("redactURL shows %q in clear: %q", secret, got)
				}
			}
		})
	}
}
