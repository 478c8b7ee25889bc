package main

import (
	"os"
	"syscall"
	"testing"
	"time"
)

// TestTargetProcCPU: a process's CPU time read from /proc agrees with what
// the kernel tells the process itself (getrusage), to /proc's tick.
func TestTargetProcCPU(t *testing.T) {
	p := &targetProc{pid: os.Getpid()}
	x := 0
	for i := 0; p.cpu() < 50*time.Millisecond && i < 1e9; i++ {
		x += i % 7 // burn CPU until /proc shows some
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	got := p.cpu()
	want := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	if got < 50*time.Millisecond || got > want+20*time.Millisecond || got < want-20*time.Millisecond {
		t.Errorf("cpu() = %s, getrusage = %s (burnt %d)", got, want, x)
	}
	if (&targetProc{pid: -1}).cpu() != 0 {
		t.Error("cpu() of no process is not 0")
	}
}
