package procstat

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestRunQueueWait: the run-queue wait is the second field of each
// thread's schedstat (ns), summed; a file that does not parse counts 0.
func TestRunQueueWait(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"1": "900 1500000000 12\n", "2": "5 250000000 3\n", "3": "garbage\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "*"))
	if got := SumRunQueue(paths); got != 1750*time.Millisecond {
		t.Errorf("SumRunQueue = %s, want 1.75s", got)
	}
	if RunQueueWait(strconv.Itoa(os.Getpid())) < 0 || RunQueueWait("self") < 0 {
		t.Error("this process's run-queue wait is negative")
	}
}
