package main

// `fairslot retention`: one run of the retention job by hand (the call-back
// rows and the numbers kept to call back that are past their need and
// grace; removed family members', events' and reports' numbers and names
// past theirs; notifications, persons nobody lists and closed cases' texts
// past theirs, booking/retention.go), as serve's job runs it every hour.

import (
	"context"
	"fmt"
	"io"
)

func retention(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return tool{
		name: "retention",
		work: func(ctx context.Context, d *deps) error {
			// The hospitals' zones decide when a session's day has passed.
			if _, err := d.svc.LoadCatalog(ctx); err != nil {
				return err
			}
			p, err := d.svc.Retain(ctx)
			fmt.Fprintf(stdout, "purged %d call-back rows and %d kept numbers past retention\n", p.CallBacks, p.CallerPhones)
			fmt.Fprintf(stdout, "erased the numbers and names of %d removed family members, the phone, IP address and device id of %d events and the offered number of %d reports past retention\n",
				p.RemovedMembers, p.EventPhones, p.ReportPhones)
			fmt.Fprintf(stdout, "deleted %d events past retention (refused attempts after 90 days, the others after 400)\n", p.Events)
			fmt.Fprintf(stdout, "deleted %d notifications, erased the sealed ID number and name of %d persons nobody lists and the texts of %d closed cases past retention\n",
				p.Notifications, p.Identities, p.CaseTexts)
			return err
		},
	}.run(ctx, args, getenv, stderr)
}
