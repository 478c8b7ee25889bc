package main

import (
	"slices"
	"testing"
)

// TestPinning: -pin gives the generator the last half of the CPUs and the
// service the rest, and runs each side under taskset; unpinned, commands
// are left alone; one CPU cannot be split.
func TestPinning(t *testing.T) {
	if p, err := newPinning(false, 2); err != nil || p != (pinning{}) {
		t.Errorf("unpinned: %+v, %v", p, err)
	}
	if _, err := newPinning(true, 1); err == nil {
		t.Error("one CPU pinned: no error")
	}
	for _, c := range []struct {
		ncpu               int
		service, generator string
	}{{2, "0", "1"}, {4, "0-1", "2-3"}, {3, "0-1", "2"}} {
		p, err := newPinning(true, c.ncpu)
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
}
