// Package procstat reads what the kernel says of a process's scheduling,
// for the load tools: how long its threads waited, runnable, for a CPU.
package procstat

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// RunQueueWait is how long process pid's threads ("self" for the caller)
// have waited, runnable, for a CPU, summed over the threads alive now; 0
// where the kernel does not say.
func RunQueueWait(pid string) time.Duration {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%s/task/*/schedstat", pid))
	return SumRunQueue(tasks)
}

// SumRunQueue sums the run-queue wait of schedstat files: their second
// field, in ns; a file that does not parse counts 0.
func SumRunQueue(paths []string) time.Duration {
	var sum time.Duration
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		var onCPU, waited int64
		if _, err := fmt.Sscan(string(b), &onCPU, &waited); err == nil {
			sum += time.Duration(waited)
		}
	}
	return sum
}
