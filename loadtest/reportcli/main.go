// Command reportcli turns a load-test run directory into PNG plots and the
// Markdown section that shows them (see package fairslot/loadtest/report):
//
//	go run ./loadtest/reportcli -run DIR -out docs/performance -prefix release_hour -md DIR/report.md
//
// The Markdown is meant for docs/performance.md, so its image links are
// relative to docs/ ("performance/release_hour-throughput.png"); -links
// changes that.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"fairslot/loadtest/report"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "reportcli:", err)
		os.Exit(1)
	}
}

func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("reportcli", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("run", "", "the run directory (samples.jsonl, k6-summary.json, checks.json, meta.json)")
	out := fs.String("out", "docs/performance", "where to write the PNGs")
	prefix := fs.String("prefix", "", "PNG name prefix: <prefix>-throughput.png, ... (default: the scenario)")
	md := fs.String("md", "", "where to write the Markdown (default: <run>/report.md)")
	links := fs.String("links", "performance", "the PNG directory as seen from where the Markdown will live")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("-run is required")
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	r, err := report.Load(*dir)
	if err != nil {
		return err
	}
	if *prefix == "" {
		*prefix = r.Meta.Scenario
	}
	if *md == "" {
		*md = filepath.Join(*dir, "report.md")
	}
	text, err := report.Render(r, *out, *prefix, *links)
	if err != nil {
		return err
	}
	if err := os.WriteFile(*md, []byte(text), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "reportcli: %d samples from %s → %s, %s/%s-*.png\n", len(r.Samples), *dir, *md, *out, *prefix)
	return nil
}
