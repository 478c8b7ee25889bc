package detect

import (
	"os"
	"testing"
)

// BenchmarkDetectFile reads a file of events and runs the detector over it,
// as `fairslot detect` does. Name the file in DETECT_BENCH_EVENTS (for
// instance one that `go run ./loadtest/detecteval gen --families 21000`
// writes: about 530,000 events); without it the benchmark is skipped.
//
//	DETECT_BENCH_EVENTS=/tmp/t530.jsonl go test -run '^$' -bench DetectFile -benchmem ./internal/detect/
func BenchmarkDetectFile(b *testing.B) {
	path := os.Getenv("DETECT_BENCH_EVENTS")
	if path == "" {
		b.Skip("DETECT_BENCH_EVENTS names no file of events")
	}
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		in, err := ReadInput(f)
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(in.Len()), "events")
		if flags := in.Detect(DefaultConfig()); len(flags) == 0 {
			b.Fatal("no flags")
		}
	}
}
