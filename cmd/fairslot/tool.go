package main

import (
	"context"
	"flag"
	"io"
)

// tool is a subcommand that works over the wired components: the common
// flags plus its own, validated, then work.
type tool struct {
	name  string
	flags func(fs *flag.FlagSet, e env) // its own flags
	check func() error                  // validates them after parsing
	work  func(ctx context.Context, d *deps) error
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
	if err := parse(fs, args); err != nil {
		return err
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
