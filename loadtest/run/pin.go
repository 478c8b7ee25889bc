package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// CPU pinning (-pin): the load generator and the service each on CPUs of
// their own, so that a latency the generator measures is not its own wait
// for a core the service holds, and the service's CPU is not the
// generator's. Redis and PostgreSQL are left to the scheduler, on all CPUs,
// unless -pin-stores puts them with the generator or the service: which
// split serves the service best is a measurement (docs/performance.md).
//
// -pin-split shared splits otherwise: the generator alone on the last CPU,
// ahead of everything else there (generatorLead steps of nice), and the
// service on every CPU, so that it also has the time the generator leaves
// idle on its CPU (on two cores, about half of one) while the generator's
// schedule and measurement stay its own.

// pinning says which CPUs each side runs on; zero when not pinned.
type pinning struct {
	service, generator string // taskset CPU lists, e.g. "0" and "1"
	// stores is the side whose CPUs Redis and PostgreSQL are put on for
	// the run (-pin-stores: "generator" or "service"); "" leaves them on
	// all CPUs.
	stores string
	// nice, when not 0, is the scheduling priority (nice(1)) the run
	// gives everything it measures: the service, the generator, Redis and
	// PostgreSQL (-nice). Below 0 they win their CPUs from other work on a
	// shared machine, as on a machine of their own.
	nice int
	// shared: -pin-split shared. The service runs on every CPU and the
	// generator on the last, generatorLead steps of nice ahead of the rest.
	shared bool
}

// The CPU splits -pin-split names.
const (
	splitHalves = "halves" // the generator on the last half of the CPUs, the service on the rest (the default)
	splitShared = "shared" // the generator on the last CPU, ahead; the service on every CPU
)

// generatorLead is how many steps of nice the generator runs ahead of the
// rest with -pin-split shared: ~9× the service's weight on the CPU they
// share, so the service has what the generator leaves and no more.
const generatorLead = 10

// pinned is the run's pinning, set once from -pin before anything starts.
var pinned pinning

// newPinning splits the machine's CPUs. By halves (split "" or "halves"):
// the generator gets the last half (at least one), the service the rest.
// Shared: the generator gets the last CPU, the service every CPU.
func newPinning(on bool, ncpu int, split, stores string) (pinning, error) {
	if !on {
		if stores != "" {
			return pinning{}, errors.New("-pin-stores needs -pin")
		}
		if split != "" {
			return pinning{}, errors.New("-pin-split needs -pin")
		}
		return pinning{}, nil
	}
	if split != "" && split != splitHalves && split != splitShared {
		return pinning{}, fmt.Errorf("-pin-split %s: %s or %s", split, splitHalves, splitShared)
	}
	if stores != "" && stores != "generator" && stores != "service" {
		return pinning{}, fmt.Errorf("-pin-stores %s: generator or service", stores)
	}
	if stores != "" && split == splitShared {
		return pinning{}, fmt.Errorf("-pin-stores with -pin-split %s: the service's CPUs are all of them", splitShared)
	}
	if ncpu < 2 {
		return pinning{}, fmt.Errorf("-pin needs 2 or more CPUs, this machine has %d", ncpu)
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		return pinning{}, fmt.Errorf("-pin needs taskset (util-linux): %w", err)
	}
	if split == splitShared {
		return pinning{service: cpuRange(0, ncpu), generator: cpuRange(ncpu-1, ncpu), shared: true}, nil
	}
	gen := max(1, ncpu/2)
	return pinning{service: cpuRange(0, ncpu-gen), generator: cpuRange(ncpu-gen, ncpu), stores: stores}, nil
}

// niceOf is side's priority: the run's (-nice), and with the shared split
// the generator's generatorLead steps ahead of it (at most -20, nice's
// highest).
func (p pinning) niceOf(side string) int {
	if p.shared && side == "generator" {
		return max(-20, p.nice-generatorLead)
	}
	return p.nice
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
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = p.sysProcAttr(side)
	return cmd
}

// commandContext is exec.CommandContext for one side, as command.
func (p pinning) commandContext(ctx context.Context, side, name string, args ...string) *exec.Cmd {
	name, args = p.wrap(side, name, args)
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = p.sysProcAttr(side)
	return cmd
}

// wrap returns the command line to run name with args on side's CPUs.
func (p pinning) wrap(side, name string, args []string) (string, []string) {
	cpus := p.service
	if side == "generator" {
		cpus = p.generator
	}
	if cpus != "" {
		name, args = "taskset", append([]string{"-c", cpus, name}, args...)
	}
	if nice := p.niceOf(side); nice != 0 {
		// In a session of its own (setsid, see command), so that the
		// kernel's autogroup — what CFS weighs one session against another
		// by, where sched_autogroup_enabled is 1, and within which nice
		// alone counts — holds this side alone and takes its priority.
		n := strconv.Itoa(nice)
		name, args = "sh", append([]string{"-c", `echo "$0" > /proc/self/autogroup 2>/dev/null; exec nice -n "$0" "$@"`, n, name}, args...)
	}
	return name, args
}

// sysProcAttr starts a side in a session of its own when it is given a
// priority (wrap).
func (p pinning) sysProcAttr(side string) *syscall.SysProcAttr {
	if p.niceOf(side) == 0 {
		return nil
	}
	return &syscall.SysProcAttr{Setsid: true}
}

// describe says how the CPUs were split, for reports.
func (p pinning) describe() string {
	if p.service == "" {
		return fmt.Sprintf("not pinned: generator, service, Redis and PostgreSQL share all %d CPUs%s", runtime.NumCPU(), p.niceNote())
	}
	stores := fmt.Sprintf("Redis and PostgreSQL unpinned (all %d CPUs)", runtime.NumCPU())
	if p.stores != "" {
		stores = fmt.Sprintf("Redis and PostgreSQL (server and backends) with the %s on CPU %s", p.stores, p.cpus(p.stores))
	}
	if p.shared {
		return fmt.Sprintf("pinned with taskset, split shared: service on every CPU (%s, GOMAXPROCS %d), load generator on CPU %s at nice %d, "+
			"%d steps ahead of the rest there, %s%s", p.service, runtime.NumCPU(), p.generator, p.niceOf("generator"), generatorLead, stores, p.niceNote())
	}
	return fmt.Sprintf("pinned with taskset: service on CPU %s, load generator on CPU %s, %s%s", p.service, p.generator, stores, p.niceNote())
}

// niceNote says the run's priority, for describe.
func (p pinning) niceNote() string {
	if p.nice == 0 {
		return ""
	}
	return fmt.Sprintf("; the service, the generator, Redis and PostgreSQL at nice %d (other work on the machine at its own)", p.nice)
}

// cpus is side's CPU list.
func (p pinning) cpus(side string) string {
	if side == "generator" {
		return p.generator
	}
	return p.service
}

// pinStores puts Redis and PostgreSQL (the postmaster and every process
// it has forked; backends forked later inherit its CPUs and its priority)
// on the CPUs of p.stores and at p.nice for the run, and returns what
// gives them all CPUs and priority 0 back. Both are this run's own
// servers (the ones the service is given), found by asking them for their
// process ids.
func (p pinning) pinStores(ctx context.Context, db *pgx.Conn, rdb *redis.Client) (restore func(), err error) {
	if p.stores == "" && p.nice == 0 {
		return func() {}, nil
	}
	redisPid, postmaster, err := storePids(ctx, db, rdb)
	if err != nil {
		return nil, fmt.Errorf("-pin-stores: %w", err)
	}
	rpid := strconv.Itoa(redisPid)
	// each runs one command (taskset or renice) on every store process.
	each := func(cmd string, args ...string) error {
		pids := append([]string{rpid, strconv.Itoa(postmaster)}, childrenOf(postmaster)...)
		for _, pid := range pids {
			if out, err := exec.CommandContext(ctx, cmd, append(args, pid)...).CombinedOutput(); err != nil {
				// A backend may end between the listing and the command.
				if _, gone := os.Stat("/proc/" + pid); gone != nil {
					continue
				}
				return fmt.Errorf("%s %s: %w: %s", cmd, pid, err, out)
			}
		}
		return nil
	}
	set := func(cpus string, nice int) error {
		var errs []error
		if p.stores != "" {
			errs = append(errs, each("taskset", "-a", "-p", "-c", cpus))
		}
		if p.nice != 0 {
			errs = append(errs, each("renice", "-n", strconv.Itoa(nice), "-p"))
			// Redis (daemonized) and the postmaster each lead a session of
			// their own: their autogroups hold them (and the backends) alone.
			for _, pid := range []string{rpid, strconv.Itoa(postmaster)} {
				errs = append(errs, os.WriteFile("/proc/"+pid+"/autogroup", []byte(strconv.Itoa(nice)), 0))
			}
		}
		return errors.Join(errs...)
	}
	all := cpuRange(0, runtime.NumCPU())
	if err := set(p.cpus(p.stores), p.nice); err != nil {
		_ = set(all, 0)
		return nil, fmt.Errorf("-pin-stores/-nice: %w", err)
	}
	return func() {
		if err := set(all, 0); err != nil {
			fmt.Fprintf(os.Stderr, "loadtest: giving Redis and PostgreSQL all CPUs and priority 0 back: %v\n", err)
		}
	}, nil
}

// storePids are the process ids of this run's Redis and of its
// PostgreSQL's postmaster, found by asking them.
func storePids(ctx context.Context, db *pgx.Conn, rdb *redis.Client) (redisPid, postmaster int, err error) {
	info, err := rdb.Info(ctx, "server").Result()
	if err != nil {
		return 0, 0, fmt.Errorf("redis info: %w", err)
	}
	rpid, ok := infoField(info, "process_id")
	if !ok {
		return 0, 0, errors.New("redis info has no process_id")
	}
	if redisPid, err = strconv.Atoi(strings.TrimSpace(rpid)); err != nil {
		return 0, 0, fmt.Errorf("redis process_id: %w", err)
	}
	var backend int
	if err := db.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&backend); err != nil {
		return 0, 0, err
	}
	postmaster, err = parentOf(backend)
	return redisPid, postmaster, err
}

// infoField is a field of Redis's INFO answer.
func infoField(info, name string) (string, bool) {
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+":"); ok {
			return v, true
		}
	}
	return "", false
}

// parentOf is a process's parent, from /proc.
func parentOf(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return statParent(string(b))
}

// statParent is the parent pid in a /proc/PID/stat line: the field after
// the state, after the command's closing parenthesis (a command may hold
// spaces and parentheses).
func statParent(stat string) (int, error) {
	i := strings.LastIndexByte(stat, ')')
	f := strings.Fields(stat[i+1:])
	if i < 0 || len(f) < 2 {
		return 0, fmt.Errorf("unexpected stat line %q", stat)
	}
	return strconv.Atoi(f[1])
}

// childrenOf lists the processes whose parent is pid.
func childrenOf(pid int) []string {
	ents, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if pp, err := parentOf(n); err == nil && pp == pid {
			out = append(out, e.Name())
		}
	}
	return out
}
