package main

import (
	"math"
	"os"
	"strings"
	"testing"
)

// TestCPUShares: perf script's samples are counted by CPU and by kind of
// process, as shares of each CPU's samples, largest first.
func TestCPUShares(t *testing.T) {
	var b strings.Builder
	for line, n := range map[string]int{
		"        fairslot  4242 [000]": 6,
		"        fairslot  4243 [000]": 2,
		"         swapper     0 [000]": 2,
		"           spike  5000 [001]": 5,
		"        postgres  6000 [001]": 3,
		"  postgres: wal  6001 [001]":  2,
		"# a comment":                  1,
		"garbage [line]":               1,
	} {
		for range n {
			b.WriteString(line + "\n")
		}
	}
	report := []byte(b.String())
	kind := func(pid int, comm string) string {
		switch {
		case pid == 0:
			return "(idle)"
		case strings.HasPrefix(comm, "postgres"):
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

// TestRunPidsKind: the run's own processes are named as such, even once
// they have ended, PostgreSQL's by their role, anything else as other work.
func TestRunPidsKind(t *testing.T) {
	self := os.Getpid()
	run := runPids{service: 1 << 30, generator: 1<<30 + 1}
	if got := run.kind(1<<30, "fairslot"); got != "the service" {
		t.Errorf("the service: %q", got)
	}
	if got := run.kind(1<<30+1, "spike"); got != "the generator" {
		t.Errorf("the generator, ended: %q", got)
	}
	if got := run.kind(1<<30+2, "compile"); got != "compile (ended)" {
		t.Errorf("another process, ended: %q", got)
	}
	if got := run.kind(self, "run.test"); got != "run.test (other)" {
		t.Errorf("another process: %q", got)
	}
	if got := run.kind(0, "swapper"); got != "(idle)" {
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
