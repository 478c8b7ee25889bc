// Command sqlbaseline is the SQL-only booking baseline of the benchmark: the
// classic design in which every booking attempt is one SQL transaction that
// takes a row lock, over fairslot's schema and behind fairslot's HTTP layer
// (the same fasthttp.Server settings, the same bearer tokens, the same
// request and answer shapes for POST /v1/bookings). No Redis at all.
//
//	go run ./loadtest/sqlbaseline --http-addr 127.0.0.1:8092 \
//	    --database-url "$FAIRSLOT_DATABASE_URL" --secret-key "$FAIRSLOT_SECRET_KEY"
//
// Per attempt (book.go, queries.sql): one lock-free read of the session,
// the caller's patient and whether the pool has a free slot left; then one
// READ COMMITTED transaction: SELECT ... FOR UPDATE on the pool's
// session_channels row, the release time, the already-booked and
// one-per-day-and-department rules, the lowest free slot, INSERT the
// booking and its booked event, COMMIT. bookTx says why READ COMMITTED and
// not the project's SERIALIZABLE runner (--isolation serializable keeps it
// for comparison).
//
// The database must already be migrated (`fairslot migrate`) and hold the
// sessions and patients of the run; tokens minted by fairslot with the same
// --secret-key are accepted.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"
	_ "time/tzdata" // hospitals name their zone; do not depend on the host's tz database

	"fairslot/internal/auth"
	"fairslot/internal/cockroach"
	"fairslot/internal/identity"
)

// shutdownTimeout is the grace period for in-flight requests, as fairslot's
// default --shutdown-timeout.
const shutdownTimeout = 15 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "sqlbaseline:", err)
		os.Exit(1)
	}
}

type config struct {
	httpAddr    string
	databaseURL string
	secretKey   string
	isolation   string
	precheck    bool
	timeout     time.Duration
}

// run serves until ctx ends, then stops gracefully.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c config
	fs := flag.NewFlagSet("sqlbaseline", flag.ContinueOnError)
	fs.SetOutput(stderr)
	// No FAIRSLOT_HTTP_ADDR fallback: that is fairslot's own address, and
	// both run side by side in the benchmark.
	fs.StringVar(&c.httpAddr, "http-addr", "127.0.0.1:8092", "address to serve on")
	fs.StringVar(&c.databaseURL, "database-url", cmp.Or(getenv("FAIRSLOT_DATABASE_URL"), "postgres://fairslot@127.0.0.1:15432/fairslot?sslmode=disable"),
		"PostgreSQL or CockroachDB URL (FAIRSLOT_DATABASE_URL); pool_max_conns sizes the pool as for fairslot")
	fs.StringVar(&c.secretKey, "secret-key", getenv("FAIRSLOT_SECRET_KEY"), "fairslot's 32-byte master key (FAIRSLOT_SECRET_KEY), to verify its bearer tokens")
	fs.StringVar(&c.isolation, "isolation", string(readCommitted), "read-committed (the classic form) or serializable (cockroach.DB.Tx, for comparison)")
	fs.BoolVar(&c.precheck, "sold-out-precheck", true, "answer sold_out from the lock-free read when the pool has no free slot, without queueing for the lock")
	fs.DurationVar(&c.timeout, "request-timeout", defaultRequestTimeout, "how long a request may take before it is answered 503 unavailable (fairslot's default)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	signer, err := c.validate()
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil)).With("component", "sqlbaseline")
	db := c.databaseURL
	if u, err := url.Parse(db); err == nil {
		db = u.Redacted()
	}
	log.Info("starting", "http_addr", c.httpAddr, "database_url", db, "secret_key", "[set]",
		"isolation", c.isolation, "sold_out_precheck", c.precheck, "request_timeout", c.timeout)

	// cockroach.Open builds fairslot's pool from the same URL: the same size.
	octx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	sql, err := cockroach.Open(octx, c.databaseURL, nil)
	if err != nil {
		return err
	}
	defer sql.Close()
	if _, err := sql.Pool().Exec(octx, "SELECT 1 FROM bookings LIMIT 0"); err != nil {
		return fmt.Errorf("database not migrated? %w", err)
	}
	srv, err := newServer(sql, signer, isolation(c.isolation), c.precheck, c.timeout, log)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", c.httpAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.httpAddr, err)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "sqlbaseline: http://%s\n", ln.Addr())

	select {
	case <-ctx.Done():
		log.Info("shutting down", "grace", shutdownTimeout)
	case err = <-errc:
		log.Error("server failed; shutting down", "err", err)
	}
	sctx, scancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer scancel()
	serr := srv.Shutdown(sctx)
	log.Info("stopped")
	return errors.Join(err, serr)
}

// validate checks the configuration and builds fairslot's token signer from
// the master key, as booking.NewService does.
func (c *config) validate() (*auth.Signer, error) {
	var errs []error
	var signer *auth.Signer
	if c.secretKey == "" {
		errs = append(errs, errors.New("--secret-key (FAIRSLOT_SECRET_KEY) is required: fairslot's master key"))
	} else if master, err := identity.ParseKey(c.secretKey); err != nil {
		errs = append(errs, fmt.Errorf("--secret-key: %w", err))
	} else if keys, err := identity.NewKeyring(master); err != nil {
		errs = append(errs, fmt.Errorf("--secret-key: %w", err))
	} else {
		// Verify ignores the lifetime; it only matters to Mint.
		signer = auth.NewSigner(keys.TokenKey(), 12*time.Hour)
	}
	if _, err := url.Parse(c.databaseURL); err != nil {
		errs = append(errs, fmt.Errorf("--database-url: %w", err))
	}
	switch isolation(c.isolation) {
	case readCommitted, serializable:
	default:
		errs = append(errs, fmt.Errorf("--isolation must be %s or %s, not %q", readCommitted, serializable, c.isolation))
	}
	if c.timeout <= 0 {
		errs = append(errs, fmt.Errorf("--request-timeout must be positive, not %s", c.timeout))
	}
	return signer, errors.Join(errs...)
}
