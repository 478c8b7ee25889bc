package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/detect"
	"fairslot/internal/detect/synth"
)

// detectCmd runs the scalper detector over a file of booking events:
//
//	fairslot detect --events events.jsonl --out flags.json [--config detect.json]
//
// It needs no database: the same detector runs inside the service over the
// event table.
func detectCmd(_ context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var events, out, config string
	e := env(getenv)
	fs := flag.NewFlagSet("detect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&events, "events", e.str("DETECT_EVENTS", ""), "booking events, one JSON object a line (- for standard input)")
	fs.StringVar(&out, "out", e.str("DETECT_OUT", "-"), "where to write the flags as JSON (- for standard output)")
	fs.StringVar(&config, "config", e.str("DETECT_CONFIG", ""), "detector configuration (JSON; names only what differs from the defaults)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if events == "" {
		return errors.New("detect: --events is required")
	}
	cfg, err := loadDetectConfig(config)
	if err != nil {
		return err
	}
	evs, err := readEvents(events)
	if err != nil {
		return err
	}
	start := time.Now()
	flags := detect.Detect(evs, cfg)
	took := time.Since(start)
	if err := writeTo(out, stdout, func(w io.Writer) error { return detect.WriteFlags(w, flags) }); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "detect: %d events, %d flags in %s\n", len(evs), len(flags), took.Round(time.Millisecond))
	return nil
}

// detectEval measures the detector: on generated traces, one per seed, or
// on a labelled trace from elsewhere (--events with --labels).
//
//	fairslot detect-eval --seeds 1,2,3,4,5 [--families 3500] [--scalper-share 0.08]
//	fairslot detect-eval --events trace.jsonl --labels labels.json
func detectEval(_ context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var seeds, events, labels, config string
	var families int
	var share float64
	var verbose bool
	e := env(getenv)
	fs := flag.NewFlagSet("detect-eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&seeds, "seeds", "1,2,3,4,5", "generator seeds, comma-separated (ignored with --events)")
	fs.IntVar(&families, "families", 3500, "genuine family accounts per generated trace")
	fs.Float64Var(&share, "scalper-share", 0.08, "share of accounts that are scalpers in a generated trace")
	fs.StringVar(&events, "events", "", "a labelled trace to evaluate instead of generating one")
	fs.StringVar(&labels, "labels", "", "the labels of --events (the format loadtest/gen writes)")
	fs.StringVar(&config, "config", e.str("DETECT_CONFIG", ""), "detector configuration (JSON)")
	fs.BoolVar(&verbose, "v", false, "list the accounts missed and wrongly flagged")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := loadDetectConfig(config)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "trace\tevents\taccounts\tscalpers\tflags\tflagged\tprecision\trecall\tfamilies flagged\tdetect time\t")
	row := func(name string, n, accounts int, l detect.Labels, flags []detect.Flag, took time.Duration) detect.Evaluation {
		ev := detect.Evaluate(flags, l)
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%.3f\t%.3f\t%d\t%s\t\n", name, n, accounts, ev.Scalpers, ev.Flags,
			ev.Flagged, ev.Precision, ev.Recall, ev.FamiliesFlagged, took.Round(time.Millisecond))
		return ev
	}
	var evals []detect.Evaluation
	if events != "" {
		if labels == "" {
			return errors.New("detect-eval: --events needs --labels")
		}
		evs, err := readEvents(events)
		if err != nil {
			return err
		}
		f, err := os.Open(labels)
		if err != nil {
			return err
		}
		l, err := detect.ReadLabels(f)
		f.Close()
		if err != nil {
			return err
		}
		start := time.Now()
		flags := detect.Detect(evs, cfg)
		evals = append(evals, row(events, len(evs), len(l.Families)+len(l.Scalpers), l, flags, time.Since(start)))
	} else {
		for _, s := range strings.Split(seeds, ",") {
			seed, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
			if err != nil {
				return fmt.Errorf("detect-eval: seed %q: %w", s, err)
			}
			tr := synth.Generate(synth.Params{Seed: seed, Families: families, ScalperShare: share})
			start := time.Now()
			flags := detect.Detect(tr.Events, cfg)
			evals = append(evals, row(fmt.Sprintf("seed %d", seed), len(tr.Events), len(tr.Labels.Families)+len(tr.Labels.Scalpers),
				tr.Labels, flags, time.Since(start)))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for i, ev := range evals {
		if len(ev.Missed) > 0 || len(ev.FalseFlagged) > 0 {
			fmt.Fprintf(stdout, "trace %d: missed by kind %v; genuine flagged %d %v\n", i+1, ev.Missed, len(ev.FalseFlagged), ev.FlaggedFamilies)
			if verbose {
				fmt.Fprintf(stdout, "  missed: %v\n  genuine flagged: %v\n", ev.MissedAccounts, ev.FalseFlagged)
			}
		}
	}
	return nil
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

func readEvents(path string) ([]booking.Event, error) {
	if path == "-" {
		return detect.ReadEvents(os.Stdin)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return detect.ReadEvents(f)
}

// writeTo writes to the named file (atomically: a temporary file renamed)
// or to stdout for "-".
func writeTo(path string, stdout io.Writer, write func(io.Writer) error) error {
	if path == "-" || path == "" {
		return write(stdout)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".flags-*")
	if err != nil {
		return err
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
