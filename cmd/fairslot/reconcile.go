package main

// `fairslot reconcile`: Redis rebuilt from SQL, or with --check compared
// with it.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
)

// errDrift is reconcile --check's finding: Redis and SQL differ (exit 1).
// Any other failure of --check is one to compare them at all (exit 2), so a
// script tells "repair" from "look at the connections".
var errDrift = errors.New("redis and SQL differ")

func reconcile(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var checkOnly, handOver bool
	err := tool{
		name: "reconcile",
		flags: func(fs *flag.FlagSet, _ env) {
			fs.BoolVar(&checkOnly, "check", false, "only compare Redis with SQL and list each difference; change nothing (exit 1 on any; 2 when it cannot compare: Redis or SQL unreachable)")
			fs.BoolVar(&handOver, "hand-over", false, "after a real restore, with every instance of the old database stopped: make the Redis state under the prefix this database's, then reconcile it (instances refuse a state built from another database)")
		},
		check: func() error {
			if checkOnly && handOver {
				return errors.New("--check changes nothing; --hand-over changes whose the Redis state is: one or the other")
			}
			return nil
		},
		handOver: &handOver,
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
	if checkOnly && err != nil && !errors.Is(err, errDrift) && !errors.Is(err, errHelp) {
		return &exitError{code: 2, err: fmt.Errorf("cannot compare: %w", err)}
	}
	return err
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
		return fmt.Errorf("%w in %d places (a pending_hold or entry_pending may be a commit in flight); `fairslot reconcile` repairs them", errDrift, len(drift))
	}
	fmt.Fprintf(stdout, "redis and SQL agree on %d sessions\n", n)
	return nil
}
