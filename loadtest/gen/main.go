// Command gen writes a labelled synthetic booking-event trace for measuring
// the scalper detector:
//
//	go run ./loadtest/gen --seed 1 --out trace.jsonl --labels labels.json
//
// The events are in the format of ../shared/API.md; the labels name the
// scalper accounts (and insiders' staff ids) with their kind, the genuine
// families and the genuine staff. `fairslot detect-eval --events trace.jsonl
// --labels labels.json` measures the detector on them.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"fairslot/internal/detect"
	"fairslot/internal/detect/synth"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(args []string, stderr io.Writer) error {
	var p synth.Params
	var out, labels string
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Uint64Var(&p.Seed, "seed", 1, "random seed: the same seed gives the same trace")
	fs.IntVar(&p.Families, "families", 3500, "genuine family accounts (3500 make about 65,000 events)")
	fs.Float64Var(&p.ScalperShare, "scalper-share", 0.08, "share of all accounts that are scalpers")
	fs.IntVar(&p.Days, "days", 28, "visit days to simulate")
	fs.StringVar(&out, "out", "trace.jsonl", "where to write the events")
	fs.StringVar(&labels, "labels", "labels.json", "where to write the labels")
	if err := fs.Parse(args); err != nil {
		return err
	}
	tr := synth.Generate(p)
	if err := writeFile(out, func(w io.Writer) error { return detect.WriteEvents(w, tr.Events) }); err != nil {
		return err
	}
	if err := writeFile(labels, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(tr.Labels)
	}); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "gen: seed %d: %d events, %d family accounts, %d scalper accounts → %s, %s\n",
		p.Seed, len(tr.Events), len(tr.Labels.Families), len(tr.Labels.Scalpers), out, labels)
	return nil
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
