package main

import (
	"context"
	"fmt"
	"os/exec"
	"runtime"
	"strconv"
)

// CPU pinning (-pin): the load generator and the service each on CPUs of
// their own, so that a latency the generator measures is not its own wait
// for a core the service holds, and the service's CPU is not the
// generator's. Redis and PostgreSQL are left to the scheduler, on all CPUs:
// they serve the service, and pinning them with it would measure a machine
// with fewer cores than it has.

// pinning says which CPUs each side runs on; zero when not pinned.
type pinning struct {
	service, generator string // taskset CPU lists, e.g. "0" and "1"
}

// pinned is the run's pinning, set once from -pin before anything starts.
var pinned pinning

// newPinning splits the machine's CPUs: the generator gets the last
// half (at least one), the service the rest.
func newPinning(on bool, ncpu int) (pinning, error) {
	if !on {
		return pinning{}, nil
	}
	if ncpu < 2 {
		return pinning{}, fmt.Errorf("-pin needs 2 or more CPUs, this machine has %d", ncpu)
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		return pinning{}, fmt.Errorf("-pin needs taskset (util-linux): %w", err)
	}
	gen := max(1, ncpu/2)
	return pinning{service: cpuRange(0, ncpu-gen), generator: cpuRange(ncpu-gen, ncpu)}, nil
}

// cpuRange is taskset's list of the CPUs from lo to hi-1.
func cpuRange(lo, hi int) string {
	if hi-lo == 1 {
		return strconv.Itoa(lo)
	}
	return fmt.Sprintf("%d-%d", lo, hi-1)
}

// command is exec.Command for one side ("service" or "generator"), under
// taskset when pinned.
func (p pinning) command(side, name string, args ...string) *exec.Cmd {
	name, args = p.wrap(side, name, args)
	return exec.Command(name, args...)
}

// commandContext is exec.CommandContext for one side, as command.
func (p pinning) commandContext(ctx context.Context, side, name string, args ...string) *exec.Cmd {
	name, args = p.wrap(side, name, args)
	return exec.CommandContext(ctx, name, args...)
}

// wrap returns the command line to run name with args on side's CPUs.
func (p pinning) wrap(side, name string, args []string) (string, []string) {
	cpus := p.service
	if side == "generator" {
		cpus = p.generator
	}
	if cpus == "" {
		return name, args
	}
	return "taskset", append([]string{"-c", cpus, name}, args...)
}

// describe says how the CPUs were split, for reports.
func (p pinning) describe() string {
	if p.service == "" {
		return fmt.Sprintf("not pinned: generator, service, Redis and PostgreSQL share all %d CPUs", runtime.NumCPU())
	}
	return fmt.Sprintf("pinned with taskset: service on CPU %s, load generator on CPU %s, Redis and PostgreSQL unpinned (all %d CPUs)",
		p.service, p.generator, runtime.NumCPU())
}
