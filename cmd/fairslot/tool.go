package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/redis/go-redis/v9"

	"fairslot/internal/booking"
	"fairslot/internal/envflag"
	"fairslot/internal/lockout"
)

// tool is a subcommand that works over the wired components: the common
// flags plus its own, validated, then work.
type tool struct {
	name  string
	flags func(fs *flag.FlagSet, e env) // its own flags
	check func() error                  // validates them after parsing
	work  func(ctx context.Context, d *deps) error
	// forgetsLogins is a command that forgets a phone's failed logins:
	// it takes serve's --login-failures, to know the tiers in Redis.
	forgetsLogins bool
	// handOver, when set and true after parsing, makes open give the
	// Redis state under the prefix to this database (reconcile --hand-over).
	handOver *bool
}

func (t tool) run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	var c common
	e := envflag.New(getenv)
	fs := flag.NewFlagSet(t.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.register(fs, e)
	service := flagNames(fs)
	if t.flags != nil {
		t.flags(fs, e)
	}
	var loginFailures, phoneFailures string
	if t.forgetsLogins {
		fs.StringVar(&loginFailures, "login-failures", e.Str("LOGIN_FAILURES", defaultLoginFailures), "serve's --login-failures: the tiers of failed logins in Redis")
		fs.StringVar(&phoneFailures, "login-phone-failures", e.Str("LOGIN_PHONE_FAILURES", defaultPhoneFailures), "serve's --login-phone-failures: the tiers of a phone's failed logins whose counts in Redis it clears")
	}
	fs.Usage = func() { toolUsage(fs, t.name, service) }
	if err := parse(fs, e, args); err != nil {
		return err
	}
	if t.forgetsLogins {
		tiers, err := lockout.ParseTiers(loginFailures)
		if err != nil {
			return fmt.Errorf("--login-failures: %w", err)
		}
		phoneTiers, err := lockout.ParseTiers(phoneFailures)
		if err != nil {
			return fmt.Errorf("--login-phone-failures: %w", err)
		}
		c.loginGuard = func(rdb redis.UniversalClient) (booking.LoginGuard, booking.LoginGuard, error) {
			return redisLoginGuard(rdb, c.redisPrefix, tiers, phoneTiers)
		}
	}
	if t.check != nil {
		if err := t.check(); err != nil {
			return err
		}
	}
	if err := c.validate(); err != nil {
		return err
	}
	c.handOver = t.handOver != nil && *t.handOver
	// Every tool writes, or may: keyed hashes and sealed values (a staff
	// account's phone, a retention's erasures, a reconcile's hashes in
	// Redis). It holds a presence lease while it works, as serve does, so a
	// rekey refuses to begin under it and it refuses to begin under a
	// rekey (open's check, in the lease's transaction).
	c.holder = fmt.Sprintf("%s (fairslot %s)", booking.NewHolderID(), t.name)
	log := newLogger(stderr, c.logLevel)
	d, err := c.open(ctx, log, nil)
	if err != nil {
		return err
	}
	defer d.Close()
	wctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := stayPresent(ctx, d.db, c.holder, log.With("component", "presence"), cancel)
	err = t.work(wctx, d)
	stop()
	if cause := context.Cause(wctx); errors.Is(cause, errRotationBegun) {
		return cause
	}
	return err
}

// connectionFlags are the common flags every tool needs to reach the
// service's data; the rest of the common ones are serve's settings.
var connectionFlags = map[string]bool{
	"database-url": true, "redis-addr": true, "redis-prefix": true,
	"secret-key-file": true, "secret-key": true, "log-level": true,
}

// flagNames is the set of flags defined on fs so far.
func flagNames(fs *flag.FlagSet) map[string]bool {
	names := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) { names[f.Name] = true })
	return names
}

// toolUsage prints a tool's -h in three groups: its own flags first, then
// how it reaches the data, then serve's settings, which it accepts because
// it wires the same service (a tool's own flags used to drown among
// thirty of serve's, review15's L9).
func toolUsage(fs *flag.FlagSet, name string, service map[string]bool) {
	out := fs.Output()
	fmt.Fprintf(out, "usage: fairslot %s [flags]\n", name)
	groups := []struct {
		title string
		in    func(string) bool
	}{
		{"its own flags", func(n string) bool { return !service[n] }},
		{"reaching the service's data (every command)", func(n string) bool { return service[n] && connectionFlags[n] }},
		{"the service's settings, as fairslot serve takes them (they matter here only where this command does what serve does)", func(n string) bool { return service[n] && !connectionFlags[n] }},
	}
	for _, g := range groups {
		sub := flag.NewFlagSet(name, flag.ContinueOnError)
		sub.SetOutput(out)
		fs.VisitAll(func(f *flag.Flag) {
			if g.in(f.Name) {
				sub.Var(f.Value, f.Name, f.Usage)
				sub.Lookup(f.Name).DefValue = f.DefValue // parse's masked default, never the value's own
			}
		})
		if len(flagNames(sub)) == 0 {
			continue
		}
		fmt.Fprintf(out, "\n%s:\n", g.title)
		sub.PrintDefaults()
	}
}
