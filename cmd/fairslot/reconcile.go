package main

// `fairslot reconcile`: Redis rebuilt from SQL, or with --check compared
// with it.

import (
	"context"
	"flag"
	"fmt"
	"io"
)

func reconcile(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var checkOnly bool
	return tool{
		name: "reconcile",
		flags: func(fs *flag.FlagSet, _ env) {
			fs.BoolVar(&checkOnly, "check", false, "only compare Redis with SQL and list each difference; change nothing (exit 1 on any)")
		},
		work: func(ctx context.Context, d *deps) error {
			if checkOnly {
				return reconcileCheck(ctx, d, stdout)
			}
			n, err := d.svc.Refresh(ctx)
			if err != nil {
				return err
			}
			if err := d.svc.Reconcile(ctx); err != nil {
				return err
			}
			released, err := d.svc.Sweep(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "reconciled %d sessions with SQL; released %d abandoned holds\n", n, released)
			return nil
		},
	}.run(ctx, args, getenv, stderr)
}

// reconcileCheck is `reconcile --check`: it reads SQL and Redis, writes
// nothing, prints one line per difference (session, slot, kind) and fails
// if there is any.
func reconcileCheck(ctx context.Context, d *deps, stdout io.Writer) error {
	n, err := d.svc.LoadCatalog(ctx)
	if err != nil {
		return err
	}
	drift, err := d.svc.Check(ctx)
	if err != nil {
		return err
	}
	for _, dr := range drift {
		fmt.Fprintln(stdout, dr)
	}
	if len(drift) > 0 {
		return fmt.Errorf("redis and SQL differ in %d places (a pending_hold or entry_pending may be a commit in flight); `fairslot reconcile` repairs them", len(drift))
	}
	fmt.Fprintf(stdout, "redis and SQL agree on %d sessions\n", n)
	return nil
}
