package main

import (
	"bufio"
	"bytes"
	"context"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"fairslot/internal/testenv"
)

// The systemd kit (deploy/systemd) is what a hospital's IT installs on each
// host. Every variable its environment file sets must be one fairslot
// reads (a misspelt one is silently ignored, and the default runs), serve
// must start with the file's values (a rate or a duration serve refuses
// would stop every host at once), and systemd must load the units.
func TestSystemdKit(t *testing.T) {
	const dir = "../../deploy/systemd"
	vars := envFile(t, filepath.Join(dir, "fairslot.env"))
	known := map[string]bool{"FAIRSLOT_REDIS_PASSWORD": true, "GOGC": true, "GOMEMLIMIT": true}
	for _, cmd := range []string{"serve", "migrate"} {
		for _, f := range flagsOf(t, cmd) {
			known["FAIRSLOT_"+strings.ToUpper(strings.ReplaceAll(f, "-", "_"))] = true
		}
	}
	for k := range vars {
		if !known[k] {
			t.Errorf("fairslot.env sets %s, which no flag of serve or migrate reads", k)
		}
	}
	if _, ok := vars["FAIRSLOT_SECRET_KEY"]; ok {
		t.Errorf("fairslot.env holds the master key; it belongs in the credential secret.key")
	}
	if len(vars) < 20 {
		t.Fatalf("fairslot.env sets %d variables, want the twenty and more it has", len(vars))
	}
	// The owner's URL is migrate's alone (review21b M3): in serve's
	// environment it handed whoever runs code as serve the credential
	// that rewrites the audit log.
	if _, ok := vars["FAIRSLOT_MIGRATE_DATABASE_URL"]; ok {
		t.Errorf("fairslot.env, which serve loads, holds the tables' owner's URL; it belongs in migrate.env")
	}
	if owner := envFile(t, filepath.Join(dir, "migrate.env")); len(owner) != 1 || owner["FAIRSLOT_MIGRATE_DATABASE_URL"] == "" {
		t.Errorf("migrate.env sets %v, want the owner's URL alone", owner)
	}
	for unit, want := range map[string]bool{"fairslot.service": false, "fairslot-migrate.service": true} {
		b, err := os.ReadFile(filepath.Join(dir, unit))
		testenv.Must(t, err, "read %s", unit)
		if got := strings.Contains(string(b), "EnvironmentFile=/etc/fairslot/migrate.env"); got != want {
			t.Errorf("%s loads migrate.env: %v, want %v", unit, got, want)
		}
	}

	// serve with the file's settings, where they name this deployment's
	// hosts and passwords the test's own.
	extra := map[string]string{}
	for k, v := range vars {
		switch k {
		case "FAIRSLOT_HTTP_ADDR", "FAIRSLOT_ADMIN_ADDR", "FAIRSLOT_DATABASE_URL", "FAIRSLOT_MIGRATE_DATABASE_URL",
			"FAIRSLOT_REDIS_ADDR", "FAIRSLOT_REDIS_PASSWORD", "FAIRSLOT_REDIS_PREFIX", "GOGC", "GOMEMLIMIT":
		default:
			extra[k] = v
		}
	}
	svc := startService(t, schedule(t, time.Now().Add(-time.Minute), 1), extra)
	resp, err := http.Get(svc.base + "/readyz")
	testenv.Must(t, err, "readyz")
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("serve with fairslot.env's settings: /readyz %d, want 200", resp.StatusCode)
	}

	// systemd's own check of the units, with the paths they name made real
	// here: the binary, the environment file, the key.
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Fatalf("systemd-analyze is missing (apt-get install systemd; make test installs it): %v", err)
	}
	exe, err := os.Executable()
	testenv.Must(t, err, "the test binary's path")
	absEnv, err := filepath.Abs(filepath.Join(dir, "fairslot.env"))
	testenv.Must(t, err, "the environment file's path")
	absMigrateEnv, err := filepath.Abs(filepath.Join(dir, "migrate.env"))
	testenv.Must(t, err, "the owner's environment file's path")
	tmp := t.TempDir()
	key := filepath.Join(tmp, "secret.key")
	testenv.Must(t, os.WriteFile(key, bytes.Repeat([]byte("k"), 32), 0o400), "write a key")
	var units []string
	for _, u := range []string{"fairslot.service", "fairslot-migrate.service"} {
		b, err := os.ReadFile(filepath.Join(dir, u))
		testenv.Must(t, err, "read %s", u)
		s := strings.NewReplacer("/usr/local/bin/fairslot", exe, "/etc/fairslot/fairslot.env", absEnv, "/etc/fairslot/migrate.env", absMigrateEnv,
			"/etc/fairslot/secret.key", key).Replace(string(b))
		if s == string(b) {
			t.Fatalf("%s names none of the paths it is installed with", u)
		}
		units = append(units, filepath.Join(tmp, u))
		testenv.Must(t, os.WriteFile(units[len(units)-1], []byte(s), 0o644), "write %s", u)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, analyze, append([]string{"verify", "--man=no"}, units...)...).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// envFile reads a systemd environment file's assignments.
func envFile(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	testenv.Must(t, err, "open %s", path)
	defer f.Close()
	vars := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: %q is not NAME=value", path, line)
		}
		if _, dup := vars[k]; dup {
			t.Errorf("%s sets %s twice", path, k)
		}
		vars[k] = v
	}
	testenv.Must(t, sc.Err(), "read %s", path)
	return vars
}

// flagsOf lists a command's flags from its -h.
func flagsOf(t *testing.T, cmd string) []string {
	t.Helper()
	var out bytes.Buffer
	_ = run(context.Background(), []string{cmd, "-h"}, func(string) string { return "" }, &out, &out)
	var flags []string
	for _, m := range regexp.MustCompile(`(?m)^\s+-([a-z][a-z-]*)`).FindAllStringSubmatch(out.String(), -1) {
		flags = append(flags, m[1])
	}
	if len(flags) < 10 {
		t.Fatalf("fairslot %s -h listed %d flags:\n%s", cmd, len(flags), out.String())
	}
	return flags
}

// TestServeWarnsOfTheOwnersURL (review21b M3): serve started with the
// tables' owner's URL in its environment says so at start, once; without
// it, nothing.
func TestServeWarnsOfTheOwnersURL(t *testing.T) {
	const warning = "FAIRSLOT_MIGRATE_DATABASE_URL is set in serve's environment"
	svc := startService(t, schedule(t, time.Now().Add(-time.Minute), 1), nil)
	if n := strings.Count(svc.logs.String(), warning); n != 1 {
		t.Errorf("serve with the owner's URL in its environment logged %q %d times, want once:\n%s", warning, n, svc.logs)
	}
	o := &service{t: t, logs: &testenv.LogBuffer{}, stdout: &testenv.LogBuffer{}, env: maps.Clone(svc.env), pool: svc.pool}
	delete(o.env, "FAIRSLOT_MIGRATE_DATABASE_URL")
	o.serve()
	if strings.Contains(o.logs.String(), warning) {
		t.Errorf("serve without the owner's URL warned of it:\n%s", o.logs)
	}
}
