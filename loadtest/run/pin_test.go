package main

import (
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestPinning: -pin gives the generator the last half of the CPUs and the
// service the rest, and runs each side under taskset; unpinned, commands
// are left alone; one CPU cannot be split.
func TestPinning(t *testing.T) {
	if p, err := newPinning(false, 2, "", ""); err != nil || p != (pinning{}) {
		t.Errorf("unpinned: %+v, %v", p, err)
	}
	if _, err := newPinning(true, 1, "", ""); err == nil {
		t.Error("one CPU pinned: no error")
	}
	for _, c := range []struct {
		ncpu               int
		service, generator string
	}{{2, "0", "1"}, {4, "0-1", "2-3"}, {3, "0-1", "2"}} {
		p, err := newPinning(true, c.ncpu, "", "")
		if err != nil {
			t.Skipf("taskset: %v", err)
		}
		if p.service != c.service || p.generator != c.generator {
			t.Errorf("%d CPUs: service %q, generator %q; want %q, %q", c.ncpu, p.service, p.generator, c.service, c.generator)
		}
	}
	p := pinning{service: "0", generator: "1"}
	if name, args := p.wrap("generator", "wrk", []string{"-t2"}); name != "taskset" || !slices.Equal(args, []string{"-c", "1", "wrk", "-t2"}) {
		t.Errorf("generator: %s %v", name, args)
	}
	if name, args := p.wrap("service", "bin/fairslot", []string{"serve"}); name != "taskset" || !slices.Equal(args, []string{"-c", "0", "bin/fairslot", "serve"}) {
		t.Errorf("service: %s %v", name, args)
	}
	if name, args := (pinning{}).wrap("service", "bin/fairslot", []string{"serve"}); name != "bin/fairslot" || !slices.Equal(args, []string{"serve"}) {
		t.Errorf("unpinned: %s %v", name, args)
	}
	if p := (pinning{}); p.sysProcAttr("service") != nil {
		t.Error("no priority: a session of its own")
	}
}

// TestPriority: -nice runs each side in a session of its own whose
// autogroup takes the priority, under nice, pinned or not; a real child
// started so finds both.
func TestPriority(t *testing.T) {
	p := pinning{service: "0", generator: "1", nice: 5}
	name, args := p.wrap("service", "bin/fairslot", []string{"serve"})
	if name != "sh" || len(args) < 4 || args[2] != "5" || !slices.Equal(args[3:], []string{"taskset", "-c", "0", "bin/fairslot", "serve"}) {
		t.Errorf("service: %s %q", name, args)
	}
	if a := p.sysProcAttr("service"); a == nil || !a.Setsid {
		t.Errorf("no session of its own: %+v", a)
	}
	// A positive nice needs no privilege: the child reports what it got,
	// 5 above the test's own (a test run under nice starts higher).
	own, err := exec.Command("nice").Output()
	if err != nil {
		t.Fatal(err)
	}
	base, err := strconv.Atoi(strings.TrimSpace(string(own)))
	if err != nil {
		t.Fatalf("nice said %q", own)
	}
	want := strconv.Itoa(min(base+5, 19))
	cmd := pinning{nice: 5}.command("service", "sh", "-c", `cat /proc/self/autogroup 2>/dev/null; nice; ps -o sid= -p $$; echo $$`)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(out))
	if len(f) < 2 {
		t.Fatalf("child said %q", out)
	}
	n := len(f)
	if f[n-2] != f[n-1] {
		t.Errorf("child's session %s, pid %s: not its own session", f[n-2], f[n-1])
	}
	if f[n-3] != want {
		t.Errorf("child's nice %s, want %s (%q)", f[n-3], want, out)
	}
	if strings.Contains(string(out), "autogroup") && !strings.Contains(string(out), "nice 5") {
		t.Errorf("child's autogroup: %q, want nice 5", out)
	}
}

// TestPinStoresOptions: -pin-stores names a side and needs -pin.
func TestPinStoresOptions(t *testing.T) {
	if _, err := newPinning(false, 2, "", "service"); err == nil {
		t.Error("-pin-stores without -pin: no error")
	}
	if _, err := newPinning(true, 2, "", "redis"); err == nil {
		t.Error("-pin-stores redis: no error")
	}
	p, err := newPinning(true, 2, "", "generator")
	if err != nil {
		t.Skipf("taskset: %v", err)
	}
	if p.cpus(p.stores) != "1" {
		t.Errorf("stores with the generator on CPU %q, want 1", p.cpus(p.stores))
	}
}

// TestStatParent: the parent pid is read after the command's last
// parenthesis, whatever the command holds.
func TestStatParent(t *testing.T) {
	for stat, want := range map[string]int{
		"4242 (postgres) S 4200 4242 4242 0 -1":            4200,
		"77 (postgres: fairslot (x) idle) S 12 77 77 0 -1": 12,
	} {
		if got, err := statParent(stat); err != nil || got != want {
			t.Errorf("statParent(%q) = %d, %v; want %d", stat, got, err, want)
		}
	}
	if _, err := statParent("garbage"); err == nil {
		t.Error("statParent(garbage): no error")
	}
	if v, ok := infoField("# Server\r\nredis_version:7.0.15\r\nprocess_id:4711\r\n", "process_id"); !ok || v != "4711" {
		t.Errorf("infoField = %q, %v; want 4711", v, ok)
	}
}

// TestSharedSplit: -pin-split shared puts the service on every CPU and the
// generator on the last, generatorLead steps of nice ahead of the run's
// priority (in a session of its own, as -nice), the service at the run's;
// "halves" is the default split; the option needs -pin and a known name,
// and takes no -pin-stores.
func TestSharedSplit(t *testing.T) {
	for _, c := range []struct {
		split  string
		stores string
	}{{"shared", ""}, {"thirds", ""}, {"", ""}} {
		if _, err := newPinning(false, 2, c.split, c.stores); (err == nil) != (c.split == "") {
			t.Errorf("-pin-split %q without -pin: error %v", c.split, err)
		}
	}
	if _, err := newPinning(true, 2, "thirds", ""); err == nil {
		t.Error("-pin-split thirds: no error")
	}
	if _, err := newPinning(true, 2, "shared", "service"); err == nil {
		t.Error("-pin-split shared with -pin-stores: no error")
	}
	halves, err := newPinning(true, 2, "halves", "")
	if err != nil {
		t.Skipf("taskset: %v", err)
	}
	if def, _ := newPinning(true, 2, "", ""); def != halves {
		t.Errorf("default split %+v, want halves %+v", def, halves)
	}
	for _, c := range []struct {
		ncpu               int
		service, generator string
	}{{2, "0-1", "1"}, {4, "0-3", "3"}} {
		p, err := newPinning(true, c.ncpu, "shared", "")
		if err != nil {
			t.Fatal(err)
		}
		if !p.shared || p.service != c.service || p.generator != c.generator {
			t.Errorf("%d CPUs shared: %+v; want service %q, generator %q", c.ncpu, p, c.service, c.generator)
		}
	}
	for _, c := range []struct {
		nice, service, generator int
	}{{0, 0, -10}, {-10, -10, -20}, {-15, -15, -20}, {5, 5, -5}} {
		p, _ := newPinning(true, 2, "shared", "")
		p.nice = c.nice
		if got := p.niceOf("service"); got != c.service {
			t.Errorf("-nice %d: service at %d, want %d", c.nice, got, c.service)
		}
		if got := p.niceOf("generator"); got != c.generator {
			t.Errorf("-nice %d: generator at %d, want %d", c.nice, got, c.generator)
		}
	}
	if halves.niceOf("generator") != 0 {
		t.Errorf("halves: generator at %d, want the run's 0", halves.niceOf("generator"))
	}
	p, _ := newPinning(true, 2, "shared", "")
	if name, args := p.wrap("service", "bin/fairslot", []string{"serve"}); name != "taskset" || !slices.Equal(args, []string{"-c", "0-1", "bin/fairslot", "serve"}) {
		t.Errorf("service: %s %q", name, args)
	}
	if p.sysProcAttr("service") != nil {
		t.Error("service at the run's priority 0: a session of its own")
	}
	name, args := p.wrap("generator", "bin/spike", []string{"-rate", "20000"})
	if name != "sh" || len(args) < 4 || args[2] != "-10" || !slices.Equal(args[3:], []string{"taskset", "-c", "1", "bin/spike", "-rate", "20000"}) {
		t.Errorf("generator: %s %q", name, args)
	}
	if a := p.sysProcAttr("generator"); a == nil || !a.Setsid {
		t.Errorf("generator ahead: no session of its own (%+v)", a)
	}
	if d := p.describe(); !strings.Contains(d, "service on every CPU (0-1") || !strings.Contains(d, "CPU 1 at nice -10") {
		t.Errorf("describe: %q", d)
	}
}
