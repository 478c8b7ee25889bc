package main

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"fairslot/internal/testenv"
)

// runMain runs the fairslot process (main, re-run from this test binary)
// with args and the extra environment vars, and returns its exit status
// and standard error.
func runMain(t *testing.T, args []string, vars ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestMainProcess$")
	cmd.Env = []string{"FAIRSLOT_TEST_MAIN_ARGS=" + strings.Join(args, "\x1f"), "PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	cmd.Env = append(cmd.Env, vars...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("run fairslot %v: %v", args, err)
	}
	code := 0
	if ee != nil {
		code = ee.ExitCode()
	}
	return code, stderr.String()
}

// TestMainProcess is the fairslot process of runMain.
func TestMainProcess(t *testing.T) {
	args := os.Getenv("FAIRSLOT_TEST_MAIN_ARGS")
	if args == "" {
		t.Skip("run by runMain only")
	}
	os.Unsetenv("FAIRSLOT_TEST_MAIN_ARGS")
	os.Args = append([]string{"fairslot"}, strings.Split(args, "\x1f")...)
	main()
	os.Exit(0)
}

// TestBadEnvironmentValueExits (review18a M2): a FAIRSLOT_* variable that
// does not parse stops the command with an error naming it, exit 1, as the
// same value given to its flag does; each used to be replaced by its
// default without a word, and serve served.
func TestBadEnvironmentValueExits(t *testing.T) {
	tests := []struct{ name, value string }{
		{"FAIRSLOT_HOLD_FOR", "45"},
		{"FAIRSLOT_HOLD_FOR", "banana"},
		{"FAIRSLOT_LOTTERY_HOLD_SCORE", "0,8"},
		{"FAIRSLOT_RETURN_ROUND", "off"},
		{"FAIRSLOT_PASSWORD_ITERATIONS", "1e6"},
		{"FAIRSLOT_PPROF", "yes"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			// Nothing listens on port 1: had the value been taken, serve
			// would fail on the database instead.
			code, stderr := runMain(t, []string{"serve"}, tt.name+"="+tt.value,
				"FAIRSLOT_DATABASE_URL=postgres://fairslot_app@127.0.0.1:1/fairslot", "FAIRSLOT_REDIS_ADDR=127.0.0.1:1",
				"FAIRSLOT_SECRET_KEY=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
			if code != 1 || !strings.Contains(stderr, tt.name) {
				t.Errorf("fairslot serve with %s=%s: exit %d, want 1 and an error naming the variable\n%s", tt.name, tt.value, code, stderr)
			}
		})
	}
}

// TestUnknownEnvironmentVariableWarned (review18a M2): a set FAIRSLOT_*
// variable that no command reads (a misspelt name) is named at start, with
// the nearest one fairslot reads; the command goes on. The variables the
// test suite reads (FAIRSLOT_TEST_*) are not warned about.
func TestUnknownEnvironmentVariableWarned(t *testing.T) {
	code, stderr := runMain(t, []string{"detect"}, "FAIRSLOT_HOLD_FORR=60s", "FAIRSLOT_TEST_DATABASE_URL=x", "FAIRSLOT_STAFF_PASSWORD=staff-pass-123")
	if code != 1 || !strings.Contains(stderr, "--events is required") {
		t.Errorf("fairslot detect without --events: exit %d, want 1 and its own error\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "FAIRSLOT_HOLD_FORR") || !strings.Contains(stderr, "FAIRSLOT_HOLD_FOR?") {
		t.Errorf("no warning naming FAIRSLOT_HOLD_FORR and FAIRSLOT_HOLD_FOR:\n%s", stderr)
	}
	for _, known := range []string{"FAIRSLOT_TEST_DATABASE_URL", "FAIRSLOT_STAFF_PASSWORD", "staff-pass-123"} {
		if strings.Contains(stderr, known) {
			t.Errorf("the warnings name %s, which is read (or a value):\n%s", known, stderr)
		}
	}
}

// TestScriptEnvIsTheScripts: scriptEnv is exactly the FAIRSLOT_* variables
// the scripts of deploy/ and the Makefile name that no fairslot command
// reads (nor the test suite's FAIRSLOT_TEST_*), so a script's new variable
// is not warned about at `make run`, and a variable no script reads any
// more is warned about again. And a newcomer's FAIRSLOT_PG_PORT, set as the
// README says, is not called ignored (review24 L3).
func TestScriptEnvIsTheScripts(t *testing.T) {
	named := map[string]bool{}
	re := regexp.MustCompile(`FAIRSLOT_[A-Z0-9_]+`)
	files := []string{"../../Makefile"}
	err := filepath.WalkDir("../../deploy", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, path)
		}
		return err
	})
	testenv.Must(t, err, "walk deploy/")
	for _, f := range files {
		b, err := os.ReadFile(f)
		testenv.Must(t, err, "read %s", f)
		for _, name := range re.FindAllString(string(b), -1) {
			named[name] = true
		}
	}
	known := knownEnv()
	var want []string
	for name := range named {
		if !slices.Contains(known, name) && !strings.HasPrefix(name, "FAIRSLOT_TEST_") {
			want = append(want, name)
		}
	}
	slices.Sort(want)
	if got := slices.Sorted(slices.Values(scriptEnv)); !slices.Equal(got, want) {
		t.Errorf("scriptEnv is %v,\nthe scripts name, and fairslot does not read, %v", got, want)
	}

	_, stderr := runMain(t, []string{"detect"}, "FAIRSLOT_PG_PORT=25432", "FAIRSLOT_REDIS_PORT=26379")
	if strings.Contains(stderr, "FAIRSLOT_PG_PORT") || strings.Contains(stderr, "FAIRSLOT_REDIS_PORT") {
		t.Errorf("the README's port variables are warned about:\n%s", stderr)
	}
}
