package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/detect"
	"fairslot/internal/envflag"
)

// detectCmd runs the scalper detector over a file of booking events:
//
//	fairslot detect --events events.jsonl [--reports reports.jsonl] --out flags.json [--config detect.json]
//	                [--cpuprofile cpu.pprof] [--memprofile mem.pprof]
//
// It needs no database: the same detector runs inside the service over the
// event table and the window's scalper reports; given the reports `fairslot
// events --reports` wrote, it finds what the service finds.
func detectCmd(_ context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var events, reports, out, config, cpuProfile, memProfile string
	e := envflag.New(getenv)
	fs := flag.NewFlagSet("detect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&events, "events", e.Str("DETECT_EVENTS", ""), "booking events, one JSON object a line (- for standard input)")
	fs.StringVar(&reports, "reports", e.Str("DETECT_REPORTS", ""), "scalper reports (举报), one JSON object a line, as fairslot events --reports writes them: testimony that adds to what the events show, never flags alone")
	fs.StringVar(&out, "out", e.Str("DETECT_OUT", "-"), "where to write the flags as JSON (- for standard output)")
	fs.StringVar(&config, "config", e.Str("DETECT_CONFIG", ""), "detector configuration (JSON; names only what differs from the defaults)")
	fs.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of reading and detecting to this file (go tool pprof)")
	fs.StringVar(&memProfile, "memprofile", "", "write an allocation profile (every allocation of the run, and the heap live at its end) to this file (go tool pprof -sample_index=alloc_space)")
	if err := parse(fs, e, args); err != nil {
		return err
	}
	if events == "" {
		return errors.New("detect: --events is required")
	}
	stopProfiles, err := startProfiles(cpuProfile, memProfile)
	if err != nil {
		return err
	}
	defer stopProfiles() // on an error; a second call does nothing
	cfg, err := loadDetectConfig(config)
	if err != nil {
		return err
	}
	// The detector's heap is mostly its copy of the events, live to the
	// end: collecting at 75% growth instead of Go's 100% keeps the peak
	// about 15% lower (530,000 events: 241 MB against 287 MB resident) for
	// the same CPU. GOGC in the environment still decides when set.
	if getenv("GOGC") == "" {
		debug.SetGCPercent(75)
	}
	start := time.Now()
	in, err := readInput(events)
	if err != nil {
		return err
	}
	if reports != "" {
		rs, err := readReports(reports)
		if err != nil {
			return err
		}
		for i := range rs {
			in.AddReport(&rs[i])
		}
	}
	read := time.Since(start)
	n := in.Len()
	flags := in.Detect(cfg)
	took := time.Since(start)
	// In the zone GET /v1/admin/flags tells a platform-wide administrator:
	// a flag spans hospitals (the tools print times in a zone, with its
	// offset, never the machine's).
	for i := range flags {
		flags[i].CreatedAt = flags[i].CreatedAt.In(booking.StandInLocation())
	}
	if err := writeTo(out, stdout, func(w io.Writer) error { return detect.WriteFlags(w, flags) }); err != nil {
		return err
	}
	wrote := time.Since(start) - took
	if err := stopProfiles(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "detect: %d events, %d flags in %s (reading %s; then writing the flags %s)\n",
		n, len(flags), took.Round(time.Millisecond), read.Round(time.Millisecond), wrote.Round(time.Millisecond))
	return nil
}

// startProfiles starts a CPU profile into cpu, when named; the function it
// returns stops it and, when mem is named, writes the allocation profile of
// the whole run there (Go's sampling: alloc_space for what was allocated,
// inuse_space for the heap live at the end). Only its first call does
// anything.
func startProfiles(cpu, mem string) (stop func() error, err error) {
	var cf *os.File
	if cpu != "" {
		if cf, err = os.Create(cpu); err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(cf); err != nil {
			cf.Close()
			return nil, err
		}
	}
	stopped := false
	return func() error {
		if stopped {
			return nil
		}
		stopped = true
		if cf != nil {
			pprof.StopCPUProfile()
			if err := cf.Close(); err != nil {
				return err
			}
		}
		if mem == "" {
			return nil
		}
		f, err := os.Create(mem)
		if err != nil {
			return err
		}
		runtime.GC() // the live heap as of now
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}, nil
}

func loadDetectConfig(path string) (detect.Config, error) {
	if path == "" {
		return detect.DefaultConfig(), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return detect.Config{}, err
	}
	defer f.Close()
	return detect.LoadConfig(f)
}

// readInput reads a file of events (- for standard input) a line at a
// time, into the detector's compact form.
func readInput(path string) (*detect.Input, error) {
	if path == "-" {
		return detect.ReadInput(os.Stdin)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return detect.ReadInput(f)
}

func readReports(path string) ([]booking.Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return detect.ReadReports(f)
}

// writeTo writes to the named file (atomically: a temporary file renamed)
// or to stdout for "-". A path that is not a regular file (/dev/null, a
// pipe) is written in place: renaming over it would replace the device for
// the whole machine.
func writeTo(path string, stdout io.Writer, write func(io.Writer) error) error {
	if path == "-" || path == "" {
		return write(stdout)
	}
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		if err := write(f); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	// The temporary file is named for the one asked for, and a failure
	// names that one: "open …/.flags-NNN" said neither (review of session
	// 17, `fairslot events --out` into a missing folder).
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, errors.Unwrap(err))
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
