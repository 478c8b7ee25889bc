package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"

	"fairslot/internal/testenv"
)

// TestRedisDownAtStartSaysOneLine: the fairslot process (main, re-run from
// this test binary) with Redis unreachable at start writes one line to
// standard error, fairslot's own, and exits 2 from `reconcile --check`;
// go-redis's pool printed ~50 unstructured `redis: … failed to dial` lines
// before it (review10b). With FAIRSLOT_LOG_LEVEL=debug they are in the
// structured log, component go-redis.
func TestRedisDownAtStartSaysOneLine(t *testing.T) {
	if os.Getenv("FAIRSLOT_TEST_MAIN") == "1" {
		os.Args = []string{"fairslot", "reconcile", "--check"}
		main()
		return
	}
	_, prefix := testenv.Redis(t)
	env := toolEnv(t, prefix)
	var out, errs bytes.Buffer
	testenv.Must(t, run(context.Background(), []string{"migrate"}, func(k string) string { return env[k] }, &out, &errs), "migrate")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	testenv.Must(t, err, "listen")
	env["FAIRSLOT_REDIS_ADDR"] = l.Addr().String() // nothing listens there now
	l.Close()

	for _, level := range []string{"info", "debug"} {
		t.Run(level, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestRedisDownAtStartSaysOneLine$")
			// Of the environment, only what is not fairslot's: a FAIRSLOT_*
			// variable of the developer's (the local services' ports) would
			// be warned about, a line besides fairslot's error.
			for _, kv := range os.Environ() {
				if !strings.HasPrefix(kv, "FAIRSLOT_") {
					cmd.Env = append(cmd.Env, kv)
				}
			}
			cmd.Env = append(cmd.Env, "FAIRSLOT_TEST_MAIN=1", "FAIRSLOT_LOG_LEVEL="+level)
			for k, v := range env {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 2 {
				t.Fatalf("fairslot reconcile --check with redis down: %v, want exit 2\n%s", err, stderr.String())
			}
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			last := lines[len(lines)-1]
			if !strings.HasPrefix(last, "fairslot: cannot compare: connect to redis at") {
				t.Errorf("the last line = %q, want fairslot's own error", last)
			}
			for _, line := range lines[:len(lines)-1] {
				if level == "info" || !strings.Contains(line, "component=go-redis") {
					t.Errorf("at %s, a line besides fairslot's error: %q", level, line)
					break
				}
			}
			if level == "debug" && len(lines) < 2 {
				t.Errorf("at debug, go-redis's lines are missing from the structured log:\n%s", stderr.String())
			}
		})
	}
}
