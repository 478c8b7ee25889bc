package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Who holds each CPU over the load (-perf): the kernel's sampling profiler
// (perf, cpu-clock at 250 Hz on every CPU) from a second before the
// release to the load's end, summed by CPU and by process. It answers
// what the service's run-queue wait does not: who had its CPU while its
// requests waited (Redis, which PostgreSQL processes, the generator, the
// kernel's softirq threads, other work on the machine).

// cpuShare is one process's (or one kind of process's) time on one CPU.
type cpuShare struct {
	cpu   int
	who   string
	share float64 // of that CPU's samples
}

// runPids are the processes of the run, to tell them from other work
// (another engineer's service, Redis or PostgreSQL has the same command).
type runPids struct {
	service, generator, redis, postmaster int
}

// runPids finds the run's processes; a zero is one not found.
func (e *env) runPids(ctx context.Context, srv *server) runPids {
	p := runPids{service: srv.cmd.Process.Pid, generator: e.generatorPid}
	p.redis, p.postmaster, _ = storePids(ctx, e.db, e.rdb)
	return p
}

// startCPUShares starts perf at from for d and returns a function that
// waits for it and reads the shares, naming the run's own processes:
// perf.data and cpu-shares.txt go into dir.
func startCPUShares(ctx context.Context, dir string, from time.Time, d time.Duration) (func(runPids) ([]cpuShare, error), error) {
	if _, err := exec.LookPath("perf"); err != nil {
		return nil, fmt.Errorf("-perf needs perf (apt-get install linux-perf): %w", err)
	}
	data := filepath.Join(dir, "perf.data")
	done := make(chan error, 1)
	go func() {
		if err := waitUntil(ctx, from); err != nil {
			done <- err
			return
		}
		out, err := exec.CommandContext(ctx, "perf", "record", "-a", "-e", "cpu-clock", "-F", "250", "-o", data,
			"--", "sleep", fmt.Sprintf("%.1f", d.Seconds())).CombinedOutput()
		if err != nil {
			err = fmt.Errorf("perf record: %w: %s", err, out)
		}
		done <- err
	}()
	return func(pids runPids) ([]cpuShare, error) {
		if err := <-done; err != nil {
			return nil, err
		}
		out, err := exec.CommandContext(ctx, "perf", "script", "-i", data, "-F", "comm,pid,cpu").Output()
		if err != nil {
			return nil, fmt.Errorf("perf script: %w", err)
		}
		shares := cpuShares(out, pids.kind)
		var b strings.Builder
		for _, s := range shares {
			fmt.Fprintf(&b, "CPU %d  %5.1f %%  %s\n", s.cpu, 100*s.share, s.who)
		}
		return shares, os.WriteFile(filepath.Join(dir, "cpu-shares.txt"), []byte(b.String()), 0o644)
	}, nil
}

// cpuShares reads perf script's "-F comm,pid,cpu" lines, one a sample
// ("      spike  5000 [001]"; pid is the process, not the thread), names
// each process by kind and sums them by CPU and kind, as shares of each
// CPU's samples, largest first within a CPU.
func cpuShares(samples []byte, kind func(pid int, comm string) string) []cpuShare {
	type key struct {
		cpu, pid int
		comm     string
	}
	counts := map[key]int{}
	sc := bufio.NewScanner(bytes.NewReader(samples))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 || !strings.HasPrefix(f[len(f)-1], "[") {
			continue
		}
		cpu, err1 := strconv.Atoi(strings.Trim(f[len(f)-1], "[]"))
		pid, err2 := strconv.Atoi(f[len(f)-2])
		if err1 != nil || err2 != nil {
			continue
		}
		counts[key{cpu, pid, strings.Join(f[:len(f)-2], " ")}]++
	}
	byCPU, totals := map[int]map[string]int{}, map[int]int{}
	for k, n := range counts {
		if byCPU[k.cpu] == nil {
			byCPU[k.cpu] = map[string]int{}
		}
		byCPU[k.cpu][kind(k.pid, k.comm)] += n
		totals[k.cpu] += n
	}
	var out []cpuShare
	for cpu, kinds := range byCPU {
		for who, n := range kinds {
			out = append(out, cpuShare{cpu: cpu, who: who, share: float64(n) / float64(totals[cpu])})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].cpu != out[j].cpu {
			return out[i].cpu < out[j].cpu
		}
		if out[i].share != out[j].share {
			return out[i].share > out[j].share
		}
		return out[i].who < out[j].who
	})
	return out
}

// kind names a sampled process for the table: the run's service,
// generator, Redis and PostgreSQL (by role: a backend, the WAL writer, the
// checkpointer…) as such, the idle task as idle, the rest by command and
// "(other)", or "(ended)" when it is gone and cannot be told.
func (p runPids) kind(pid int, comm string) string {
	switch {
	case pid == 0:
		return "(idle)"
	case pid == p.service:
		return "the service"
	case pid == p.generator:
		return "the generator"
	case pid == p.redis:
		return "Redis"
	}
	parent, ok := parentOf(pid)
	switch {
	case ok != nil:
		return comm + " (ended)"
	case pid == p.postmaster || parent == p.postmaster:
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		return postgresRole(string(bytes.ReplaceAll(b, []byte{0}, []byte{' '})))
	}
	return comm + " (other)"
}

// postgresRole is the role in a PostgreSQL process's title ("postgres:
// walwriter", "postgres: fairslot_app fairslot_load 127.0.0.1(5432) idle"):
// a client connection's is "backend".
func postgresRole(title string) string {
	rest, ok := strings.CutPrefix(strings.TrimSpace(title), "postgres: ")
	if !ok {
		return "PostgreSQL: postmaster"
	}
	for _, role := range []string{"checkpointer", "background writer", "walwriter", "autovacuum", "logical replication", "stats collector", "archiver"} {
		if strings.HasPrefix(rest, role) {
			return "PostgreSQL: " + role
		}
	}
	return "PostgreSQL: backend"
}

// printCPUShares prints the shares of at least 0.5 % of a CPU.
func printCPUShares(shares []cpuShare) {
	fmt.Println("Who held each CPU over the load (perf, cpu-clock samples):")
	for _, s := range shares {
		if s.share >= 0.005 {
			fmt.Printf("  CPU %d  %5.1f %%  %s\n", s.cpu, 100*s.share, s.who)
		}
	}
}
