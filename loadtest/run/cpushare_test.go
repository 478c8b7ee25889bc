package main

import (
	"math"
	"os"
	"testing"
)

// TestCPUShares: perf's "--sort cpu,pid" lines are summed by CPU and by
// kind of process, as shares of each CPU's samples, largest first.
func TestCPUShares(t *testing.T) {
	report := []byte(`
    30.00%  000    4242:fairslot
    10.00%  000    4243:fairslot
    10.00%  000       0:swapper
    25.00%  001    5000:spike
    15.00%  001    6000:postgres
    10.00%  001    6001:postgres
# a comment
garbage line
`)
	kind := func(tid int, comm string) string {
		switch {
		case tid == 0:
			return "(idle)"
		case comm == "postgres":
			return "PostgreSQL: backend"
		}
		return comm
	}
	got := cpuShares(report, kind)
	want := []cpuShare{
		{0, "fairslot", 0.8}, {0, "(idle)", 0.2},
		{1, "PostgreSQL: backend", 0.5}, {1, "spike", 0.5},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].cpu != want[i].cpu || math.Abs(got[i].share-want[i].share) > 1e-9 || got[i].who != want[i].who {
			t.Errorf("share %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestRunPidsKind: the run's own processes are named as such, PostgreSQL's
// by their role, anything else as other work.
func TestRunPidsKind(t *testing.T) {
	self := os.Getpid()
	if got := (runPids{service: self}).kind(self, "run.test"); got != "the service" {
		t.Errorf("the service's thread: %q", got)
	}
	if got := (runPids{generator: os.Getppid()}).kind(self, "run.test"); got != "the generator" {
		t.Errorf("the generator's child: %q", got)
	}
	if got := (runPids{}).kind(self, "run.test"); got != "run.test (other)" {
		t.Errorf("another process: %q", got)
	}
	if got := (runPids{}).kind(0, "swapper"); got != "(idle)" {
		t.Errorf("idle: %q", got)
	}
	for title, want := range map[string]string{
		"postgres: walwriter ": "PostgreSQL: walwriter",
		"postgres: fairslot_app fairslot_load 127.0.0.1(5432) idle": "PostgreSQL: backend",
		"/usr/lib/postgresql/15/bin/postgres -D /x":                 "PostgreSQL: postmaster",
	} {
		if got := postgresRole(title); got != want {
			t.Errorf("postgresRole(%q) = %q, want %q", title, got, want)
		}
	}
}
