package main

import (
	"fmt"
	"syscall"
	"time"

	"fairslot/loadtest/procstat"
)

// ownCost is what the generator itself has cost so far: its CPU time (user
// and system, the kernel's share of its sockets included) and how long its
// threads waited, runnable, for a CPU. Read before and after the load, it
// says whether the generator kept up with its own schedule on the CPU it
// was given, or was itself the bottleneck.
type ownCost struct {
	cpu, runQueue time.Duration
}

func readOwnCost() ownCost {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return ownCost{cpu: cpu, runQueue: procstat.RunQueueWait("self")}
}

// since is the cost from before to c over a load of elapsed seconds, as
// the line spike prints.
func (c ownCost) since(before ownCost, elapsed float64) string {
	cpu, rq := c.cpu-before.cpu, c.runQueue-before.runQueue
	return fmt.Sprintf("spike: the generator's own cost over the load's %.1f s: %.1f CPU-s (%.0f %% of one CPU), its threads waited %.1f s runnable for a CPU",
		elapsed, cpu.Seconds(), 100*cpu.Seconds()/max(elapsed, 1e-9), rq.Seconds())
}
