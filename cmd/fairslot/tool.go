package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/redis/go-redis/v9"

	"fairslot/internal/booking"
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
}

func (t tool) run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	var c common
	e := env(getenv)
	fs := flag.NewFlagSet(t.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.register(fs, e)
	if t.flags != nil {
		t.flags(fs, e)
	}
	var loginFailures string
	if t.forgetsLogins {
		fs.StringVar(&loginFailures, "login-failures", e.Str("LOGIN_FAILURES", "5/15m,20/24h"), "serve's --login-failures: the tiers of failed logins whose counts in Redis it clears")
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if t.forgetsLogins {
		tiers, err := lockout.ParseTiers(loginFailures)
		if err != nil {
			return fmt.Errorf("--login-failures: %w", err)
		}
		c.loginGuard = func(rdb redis.UniversalClient) (booking.LoginGuard, error) {
			return redisLoginGuard(rdb, c.redisPrefix, tiers)
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
	d, err := c.open(ctx, newLogger(stderr, c.logLevel), nil)
	if err != nil {
		return err
	}
	defer d.Close()
	return t.work(ctx, d)
}
