package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"fairslot/internal/detect"
)

// exportEvents writes the booking-event stream from SQL as JSON lines, the
// input of `fairslot detect`: the detector then sees what the service sees.
func exportEvents(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var since time.Duration
	var out string
	return tool{
		name: "events",
		flags: func(fs *flag.FlagSet, e env) {
			fs.DurationVar(&since, "since", 30*24*time.Hour, "how far back (the service's detection window is 720h)")
			fs.StringVar(&out, "out", "-", "where to write the events (- for standard output)")
		},
		work: func(ctx context.Context, d *deps) error {
			events, err := d.store.EventsSince(ctx, time.Now().Add(-since))
			if err != nil {
				return err
			}
			w := stdout
			if out != "-" {
				f, err := os.Create(out)
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			if err := detect.WriteEvents(w, events); err != nil {
				return err
			}
			if out != "-" {
				fmt.Fprintf(stderr, "wrote %d events to %s\n", len(events), out)
			}
			return nil
		},
	}.run(ctx, args, getenv, stderr)
}
