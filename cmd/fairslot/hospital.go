package main

// `fairslot hospital`: a production hospital created and listed from the
// host, without the demo data of `fairslot seed --demo` (review21b H2).

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"fairslot/internal/booking"
)

// hospitalAdd is `fairslot hospital add`: a hospital with the platform's
// default quotas and no departments; it prints the id, which `staff add
// --hospital` takes.
func hospitalAdd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var req booking.HospitalRequest
	return tool{
		name: "hospital add",
		flags: func(fs *flag.FlagSet, _ env) {
			fs.StringVar(&req.Name, "name", "", "the hospital's name as patients see it (1 to 60 characters)")
			fs.StringVar(&req.TimeZone, "time-zone", "Asia/Shanghai", "its IANA time zone: visits, releases and deadlines are its local times")
			fs.StringVar(&req.CancelDeadline, "cancel-deadline", "15:00", "local time (HH:MM) on the day before a visit after which a cancellation is late")
		},
		check: func() error {
			if req.Name == "" {
				return errors.New("--name is required: the hospital's name as patients see it")
			}
			return nil
		},
		work: func(ctx context.Context, d *deps) error {
			if _, err := d.svc.Refresh(ctx); err != nil {
				return err
			}
			h, err := d.svc.AddHospital(ctx, req)
			if errors.Is(err, booking.ErrHospitalExists) {
				// Exit 3, apart from a failure's 1: a provisioning script
				// run again knows the hospital is there (nothing written).
				return &exitError{code: 3, err: err}
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "created hospital %s %q (%s; cancel deadline %s; quotas %d a day, %d a week, %d a month: its administrator changes them)\n",
				h.ID, h.Name, h.TimeZone, h.CancelDeadline, h.Policy.PerDay, h.Policy.PerWeek, h.Policy.PerMonth)
			fmt.Fprintf(stdout, "next: FAIRSLOT_STAFF_PASSWORD=… fairslot staff add --role admin --hospital %s --phone … --name …\n", h.ID)
			return nil
		},
	}.run(ctx, args, getenv, stderr)
}

// hospitalList is `fairslot hospital list`: every hospital's id, zone
// and name.
func hospitalList(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return tool{
		name: "hospital list",
		work: func(ctx context.Context, d *deps) error {
			if _, err := d.svc.Refresh(ctx); err != nil {
				return err
			}
			hs := d.svc.Catalog().Hospitals()
			w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "HOSPITAL\tTIME ZONE\tNAME")
			for _, h := range hs {
				fmt.Fprintf(w, "%s\t%s\t%s\n", h.ID, h.TimeZone, h.Name)
			}
			if err := w.Flush(); err != nil {
				return err
			}
			if len(hs) == 0 {
				return errors.New("no hospital yet: fairslot hospital add --name …")
			}
			return nil
		},
	}.run(ctx, args, getenv, stderr)
}
