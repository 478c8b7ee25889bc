// Command loadseed bulk-loads a load-test population straight into SQL: a
// hospital with release sessions (and with --steady, sessions of today and
// their clerks and operators), patients on genuine and scalper accounts, and
// a bearer token minted for each account. It loads the sessions into Redis
// and writes the files the load tests read (sessions.json, patients.csv,
// staff.json, identities.csv) into --out.
//
//	go run ./loadtest/loadseed --out DIR [--patients N] [--steady] ...
//
// It is a tool of the load tests, not of the service (`make loadtest` and
// `make bench` build it as bin/loadseed): it reads the service's
// configuration from the same FAIRSLOT_* variables as `fairslot`, and writes
// through the store (cockroach.Store.BulkLoad, SaveSchedule) and the
// Service's catalog refresh, so its rows are the service's own.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // --time-zone names a zone; do not depend on the host's tz database

	"github.com/redis/go-redis/v9"

	"fairslot/internal/admission"
	"fairslot/internal/booking"
	"fairslot/internal/cockroach"
	"fairslot/internal/envflag"
	"fairslot/internal/identity"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, time.Now, os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case err != nil:
		fmt.Fprintf(os.Stderr, "loadseed: %v\n", err)
		os.Exit(1)
	}
}

// env reads FAIRSLOT_* variables as flag defaults, as `fairslot` does.
type env = envflag.Env

// conn is where the service's data lives: the subset of `fairslot`'s common
// flags loadseed needs, with the same names, variables and defaults.
type conn struct {
	databaseURL   string
	ownerURL      string // the tables' owner, who may ANALYZE them
	redisAddr     string
	redisPassword string // FAIRSLOT_REDIS_PASSWORD only
	redisPrefix   string
	secretKey     string // FAIRSLOT_SECRET_KEY only
	secretKeyFile string
	iterations    int
}

func (c *conn) register(fs *flag.FlagSet, e env) {
	fs.StringVar(&c.databaseURL, "database-url", e.Str("DATABASE_URL", "postgres://fairslot_app@127.0.0.1:15432/fairslot?sslmode=disable"), "PostgreSQL or CockroachDB URL of the service's own login")
	fs.StringVar(&c.ownerURL, "owner-database-url", e.Str("MIGRATE_DATABASE_URL", ""), "URL of the tables' owner, to refresh the planner's statistics after the bulk load (empty: skipped)")
	fs.StringVar(&c.redisAddr, "redis-addr", e.Str("REDIS_ADDR", "127.0.0.1:16379"), "Redis address, or comma-separated Redis Cluster nodes")
	c.redisPassword = e.Get("REDIS_PASSWORD")
	fs.StringVar(&c.redisPrefix, "redis-prefix", e.Str("REDIS_PREFIX", "fs"), "prefix of every Redis key")
	c.secretKey = e.Get("SECRET_KEY")
	fs.StringVar(&c.secretKeyFile, "secret-key-file", e.Str("SECRET_KEY_FILE", ""), "file holding the service's master key; or set FAIRSLOT_SECRET_KEY")
	fs.IntVar(&c.iterations, "password-iterations", e.Int("PASSWORD_ITERATIONS", 600_000), "PBKDF2 iterations of the seeded accounts' (one, shared) password hash")
}

// keyring reads the service's master key: the tokens loadseed mints and the
// hashes it writes must be the service's.
func (c *conn) keyring() (*identity.Keyring, error) {
	text := c.secretKey
	if c.secretKeyFile != "" {
		b, err := os.ReadFile(c.secretKeyFile)
		if err != nil {
			return nil, fmt.Errorf("--secret-key-file: %w", err)
		}
		text = strings.TrimSpace(string(b))
	}
	if text == "" {
		return nil, errors.New("the service's master key is required: --secret-key-file FILE or FAIRSLOT_SECRET_KEY")
	}
	master, err := identity.ParseKey(text)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	return identity.NewKeyring(master)
}

// deps are what a run writes through.
type deps struct {
	keys  *identity.Keyring
	db    *cockroach.DB
	owner *cockroach.DB // nil without --owner-database-url
	rdb   redis.UniversalClient
	store *cockroach.Store
	svc   *booking.Service // its catalog refresh loads the sessions into Redis
}

func (d *deps) Close() {
	if d.svc != nil {
		d.svc.Close()
	}
	if d.rdb != nil {
		d.rdb.Close()
	}
	if d.owner != nil {
		d.owner.Close()
	}
	if d.db != nil {
		d.db.Close()
	}
}

// open connects as `fairslot` does, with a Service on the given clock.
func (c *conn) open(ctx context.Context, now func() time.Time, log *slog.Logger) (_ *deps, err error) {
	keys, err := c.keyring()
	if err != nil {
		return nil, err
	}
	d := &deps{keys: keys}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if d.db, err = cockroach.Open(cctx, c.databaseURL, nil); err != nil {
		return nil, err
	}
	if c.ownerURL != "" {
		if d.owner, err = cockroach.Open(cctx, c.ownerURL, nil); err != nil {
			return nil, fmt.Errorf("--owner-database-url: %w", err)
		}
	}
	d.rdb = redis.NewUniversalClient(&redis.UniversalOptions{Addrs: strings.Split(c.redisAddr, ","), Password: c.redisPassword})
	if err := d.rdb.Ping(cctx).Err(); err != nil {
		return nil, fmt.Errorf("connect to redis at %s: %w", c.redisAddr, err)
	}
	gate := admission.New(d.rdb, c.redisPrefix, nil)
	if err := gate.Preload(cctx); err != nil {
		return nil, err
	}
	d.store = cockroach.NewStore(d.db)
	d.svc, err = booking.NewService(booking.Config{Now: now, PasswordIterations: c.iterations}, d.store, gate, keys, log)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// run is the command: flags, then the seeding on the given clock.
func run(ctx context.Context, args []string, getenv func(string) string, now func() time.Time, stdout, stderr io.Writer) error {
	e := envflag.New(getenv)
	var cn conn
	c := config{now: now}
	fs := flag.NewFlagSet("loadseed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cn.register(fs, e)
	c.register(fs, e)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := e.Err(); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if err := c.check(); err != nil {
		return err
	}
	d, err := cn.open(ctx, now, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return err
	}
	defer d.Close()
	return c.run(ctx, d, cn.iterations, stdout, stderr)
}
