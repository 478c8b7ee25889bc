package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/detect"
)

// exportEvents writes the booking-event stream from SQL as JSON lines, the
// input of `fairslot detect`: the detector then sees what the service sees,
// IP addresses and device ids as keyed pseudonyms (it only compares them).
func exportEvents(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var since time.Duration
	var out, reports string
	return tool{
		name: "events",
		flags: func(fs *flag.FlagSet, e env) {
			fs.DurationVar(&since, "since", 30*24*time.Hour, "how far back (the service's detection window is 720h)")
			fs.StringVar(&out, "out", "-", "where to write the events (- for standard output)")
			fs.StringVar(&reports, "reports", "", "also write the scalper reports (举报) of the same window to this file, as the detection job reads them (the input of fairslot detect --reports)")
		},
		work: func(ctx context.Context, d *deps) error {
			from := time.Now().Add(-since)
			events, err := d.store.EventsSince(ctx, from)
			if err != nil {
				return err
			}
			// The file goes elsewhere: IP addresses and device ids as keyed
			// pseudonyms, equal where the values are (review21 M5).
			booking.NetworkPseudonyms(d.keys, events)
			if err := writeTo(out, stdout, func(w io.Writer) error { return detect.WriteEventsIn(w, events, booking.StandInLocation()) }); err != nil {
				return err
			}
			if out != "-" {
				fmt.Fprintf(stderr, "wrote %d events to %s\n", len(events), out)
			}
			if reports == "" {
				return nil
			}
			cases, err := d.store.ReportsSince(ctx, from)
			if err != nil {
				return err
			}
			rs := make([]booking.Report, len(cases))
			for i, c := range cases {
				rs[i] = booking.ReportOf(c)
			}
			if err := writeTo(reports, stdout, func(w io.Writer) error { return detect.WriteReports(w, rs) }); err != nil {
				return err
			}
			if reports != "-" {
				fmt.Fprintf(stderr, "wrote %d reports to %s\n", len(rs), reports)
			}
			return nil
		},
	}.run(ctx, args, getenv, stderr)
}
