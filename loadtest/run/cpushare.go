package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
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
		select {
		case <-ctx.Done():
			done <- ctx.Err()
			return
		case <-time.After(time.Until(from)):
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
		out, err := exec.CommandContext(ctx, "perf", "report", "-i", data, "--sort", "cpu,pid", "--stdio", "-q").Output()
		if err != nil {
			return nil, fmt.Errorf("perf report: %w", err)
		}
		shares := cpuShares(out, pids.kind)
		var b strings.Builder
		for _, s := range shares {
			fmt.Fprintf(&b, "CPU %d  %5.1f %%  %s\n", s.cpu, 100*s.share, s.who)
		}
		return shares, os.WriteFile(filepath.Join(dir, "cpu-shares.txt"), []byte(b.String()), 0o644)
	}, nil
}

// cpuShares reads perf report's "--sort cpu,pid" lines ("  26.71%  000
// 16288:detecteval"), names each thread by kind (which reads /proc while
// the processes live) and sums them by CPU and kind, as shares of each
// CPU's samples, largest first within a CPU.
func cpuShares(report []byte, kind func(tid int, comm string) string) []cpuShare {
	byCPU := map[int]map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(report))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 || !strings.HasSuffix(f[0], "%") {
			continue
		}
		pct, err1 := strconv.ParseFloat(strings.TrimSuffix(f[0], "%"), 64)
		cpu, err2 := strconv.Atoi(f[1])
		tid, comm, ok := strings.Cut(strings.Join(f[2:], " "), ":")
		id, err3 := strconv.Atoi(tid)
		if errors.Join(err1, err2, err3) != nil || !ok {
			continue
		}
		if byCPU[cpu] == nil {
			byCPU[cpu] = map[string]float64{}
		}
		byCPU[cpu][kind(id, comm)] += pct
	}
	var out []cpuShare
	for cpu, kinds := range byCPU {
		total := 0.0
		for _, p := range kinds {
			total += p
		}
		for who, p := range kinds {
			out = append(out, cpuShare{cpu: cpu, who: who, share: p / total})
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

// kind names a sampled thread for the table: the run's service,
// generator, Redis and PostgreSQL (by role: a backend, the WAL writer, the
// checkpointer…) as such, the idle task as idle, the rest by command and
// "(other)", or "(ended)" when its process is gone and cannot be told.
func (p runPids) kind(tid int, comm string) string {
	if tid == 0 {
		return "(idle)"
	}
	pid, parent, ok := procOf(tid)
	switch {
	case !ok:
		return comm + " (ended)"
	case pid == p.service:
		return "the service"
	case pid == p.generator || parent == p.generator: // under taskset or sh, the child
		return "the generator"
	case pid == p.redis:
		return "Redis"
	case pid == p.postmaster || parent == p.postmaster:
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		return postgresRole(string(bytes.ReplaceAll(b, []byte{0}, []byte{' '})))
	}
	return comm + " (other)"
}

// procOf is a thread's process (its thread group) and that process's
// parent, from /proc; ok is false once the thread is gone.
func procOf(tid int) (pid, parent int, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", tid))
	if err != nil {
		return 0, 0, false
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, found := strings.CutPrefix(line, "Tgid:"); found {
			pid, _ = strconv.Atoi(strings.TrimSpace(v))
		}
		if v, found := strings.CutPrefix(line, "PPid:"); found {
			parent, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return pid, parent, pid != 0
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
