// Package cockroach is fairslot's system of record: the pgx pool, the
// transaction runner for CockroachDB and PostgreSQL, the embedded migrations
// and the SQL behind booking.Store.
//
// The SQL is the subset both databases speak. Where CockroachDB-only
// features are used (hash-sharded indexes), they sit in migration files
// named *.cockroach.sql, applied only when the server is CockroachDB.
package cockroach

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/cockroach-go/v2/crdb"
	"github.com/cockroachdb/cockroach-go/v2/crdb/crdbpgxv5"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"fairslot/internal/booking"
)

// Flavor is the SQL server behind the pool.
type Flavor string

// The flavors.
const (
	Postgres  Flavor = "postgres"
	Cockroach Flavor = "cockroach"
)

// DB is a connection pool with a transaction runner fit for its flavor.
type DB struct {
	pool    *pgxpool.Pool
	flavor  Flavor
	latency *prometheus.HistogramVec
	retries prometheus.Counter
	// statementsApart: Migrate runs each statement of a migration on its
	// own, as CockroachDB needs (migrate.go).
	statementsApart bool
	guard           *readOnlyGuard
	// writable is Ping's cached answer to whether the database takes
	// writes (writableFor).
	writable struct {
		sync.Mutex
		at  time.Time
		err error
	}
}

// maxAttempts bounds the runs of one transaction that keeps meeting
// serialization failures, as cockroach-go's default of 50 retries does on
// CockroachDB, so both flavors give up alike; the caller's deadline usually
// ends it first. PostgreSQL's serializable isolation locks index pages, not
// keys, so on small tables unrelated transactions conflict often: sixteen
// concurrent patient adds on a fresh database outlasted ten attempts.
const maxAttempts = 50

// defaultMaxConns is the pool size when the URL does not set pool_max_conns.
const defaultMaxConns = 32

// PoolSize is the number of connections Open's pool holds for url: its
// pool_max_conns, or defaultMaxConns (also for a URL that does not parse,
// which Open refuses).
func PoolSize(url string) int {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil || !strings.Contains(url, "pool_max_conns") {
		return defaultMaxConns
	}
	return int(cfg.MaxConns)
}

// Open connects to url and detects whether the server is CockroachDB.
func Open(ctx context.Context, url string, reg prometheus.Registerer, opts ...Option) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		// pgx's default, max(4, cores), lets four commits wait on the disk
		// at a time; the release second commits a thousand bookings at once
		// and wants the server's group commit. The URL's own setting wins.
		cfg.MaxConns = defaultMaxConns
	}
	for _, o := range opts {
		o(cfg)
	}
	guard := &readOnlyGuard{}
	guard.install(cfg)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open pool: %w", err)
	}
	guard.pool.Store(pool)
	var version string
	if err := pool.QueryRow(ctx, "SELECT version()").Scan(&version); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	db := &DB{
		pool:   pool,
		guard:  guard,
		flavor: Postgres,
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "fairslot_sql_duration_seconds",
			Help:    "Latency of SQL transactions and queries, by operation.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 5},
		}, []string{"op"}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fairslot_sql_tx_retries_total",
			Help: "Transactions retried after a serialization failure.",
		}),
	}
	if strings.Contains(version, "CockroachDB") {
		db.flavor = Cockroach
		db.statementsApart = true
	}
	if reg != nil {
		reg.MustRegister(db.latency, db.retries)
	}
	return db, nil
}

// Close closes the pool.
func (db *DB) Close() { db.pool.Close() }

// Flavor says which server this is.
func (db *DB) Flavor() Flavor { return db.flavor }

// Pool exposes the pool to the benchmark peers and tests.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Ping checks the database answers and takes writes: an error wrapping
// booking.ErrReadOnly says it answers but is read-only.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return db.checkWritable(ctx)
}

// writableFor is how long Ping trusts its last answer to whether the
// database takes writes: readyz may be asked many times a second (by each
// load balancer and probe) and stays one cheap ping.
const writableFor = time.Second

// checkWritable asks, at most once per writableFor, whether a connection
// of the pool is in a read-only session (SHOW transaction_read_only, which
// PostgreSQL and CockroachDB both answer): the database's
// default_transaction_read_only, a standby, or a connection opened while
// either held. A read-only answer also drops the pool's connections
// (readOnlyGuard), so an instance that readyz took out of the load
// balancer, and so gets no bookings to fail, still sees the database take
// writes again.
func (db *DB) checkWritable(ctx context.Context) error {
	db.writable.Lock()
	defer db.writable.Unlock()
	if !db.writable.at.IsZero() && time.Since(db.writable.at) < writableFor {
		return db.writable.err
	}
	c, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("ask whether the database takes writes: %w", err)
	}
	defer c.Release()
	var v string
	if err := c.QueryRow(ctx, "SHOW transaction_read_only").Scan(&v); err != nil {
		return fmt.Errorf("ask whether the database takes writes: %w", err)
	}
	db.writable.at, db.writable.err = time.Now(), nil
	if v == "on" {
		db.guard.checkedReadOnly(c.Conn())
		db.writable.err = fmt.Errorf("%w: %w: transaction_read_only is on", booking.ErrUnavailable, booking.ErrReadOnly)
	}
	return db.writable.err
}

// readOnlyGuard keeps a pool from reusing connections in a read-only
// session (review18a H1). A session takes default_transaction_read_only
// when it opens and keeps it for its life, and Warm keeps connections for
// an hour: connections opened while an operator had the database read-only
// (on a full disk) kept refusing every booking long after the database was
// writable again, until the instance restarted. So a connection that
// answers SQLSTATE 25006 (read_only_sql_transaction), on any path (a
// transaction, an implicit one, a batch, a COPY, a pooled statement: the
// tracer sees them all), is closed when it is released instead of being
// pooled again, and the whole pool is reset, at most once per second, so
// the connections opened meanwhile go too. Once the database takes writes,
// a write fails at most once per stale connection, and usually once per
// instance (the first 25006 resets the pool; readyz's check does too). The
// price, while the database stays read-only: each failed write costs a
// reconnection (as does each readyz check that finds it read-only) — a few
// milliseconds of the server's, bounded by the pool's size at a time, for
// writes that fail anyway.
type readOnlyGuard struct {
	// pool is set once the pool exists (its connections' tracer and
	// AfterRelease are this guard, set before).
	pool      atomic.Pointer[pgxpool.Pool]
	lastReset atomic.Int64 // unix nanoseconds, of a reset after a statement's 25006
}

// The guard sees the outcome of every kind of statement pgx sends.
var (
	_ pgx.QueryTracer    = (*readOnlyGuard)(nil)
	_ pgx.BatchTracer    = (*readOnlyGuard)(nil)
	_ pgx.CopyFromTracer = (*readOnlyGuard)(nil)
)

// readOnlyMark is the key, in a connection's CustomData, of a connection
// that answered read-only.
const readOnlyMark = "fairslot_read_only"

func (g *readOnlyGuard) install(cfg *pgxpool.Config) {
	cfg.ConnConfig.Tracer = g
	after := cfg.AfterRelease
	cfg.AfterRelease = func(c *pgx.Conn) bool {
		if _, marked := c.PgConn().CustomData()[readOnlyMark]; marked {
			return false // destroy it
		}
		return after == nil || after(c)
	}
}

// readOnly marks c to be closed on its release and resets the pool, unless
// it was reset in the last second.
func (g *readOnlyGuard) readOnly(c *pgx.Conn) {
	c.PgConn().CustomData()[readOnlyMark] = true
	now := time.Now().UnixNano()
	last := g.lastReset.Load()
	if now-last < int64(time.Second) || !g.lastReset.CompareAndSwap(last, now) {
		return
	}
	if p := g.pool.Load(); p != nil {
		p.Reset()
	}
}

// checkedReadOnly is readOnly for checkWritable's answer: the pool is reset
// on each (at most one per writableFor, its cache), without using up the
// statements' once-a-second reset. The check runs every second on every
// instance (booking's "sql writes" job) and readyz's too: had its resets
// counted, one made just before the database took writes again would stop
// the first failed booking's reset, and the connections opened meanwhile,
// still read-only, would fail bookings for up to a second more.
func (g *readOnlyGuard) checkedReadOnly(c *pgx.Conn) {
	c.PgConn().CustomData()[readOnlyMark] = true
	if p := g.pool.Load(); p != nil {
		p.Reset()
	}
}

func (g *readOnlyGuard) see(c *pgx.Conn, err error) {
	if err != nil && isReadOnly(err) {
		g.readOnly(c)
	}
}

// isReadOnly reports SQLSTATE 25006: a write in a read-only transaction.
func isReadOnly(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "25006"
}

// TraceQueryStart is part of pgx.QueryTracer.
func (g *readOnlyGuard) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return ctx
}

// TraceQueryEnd is part of pgx.QueryTracer.
func (g *readOnlyGuard) TraceQueryEnd(_ context.Context, c *pgx.Conn, d pgx.TraceQueryEndData) {
	g.see(c, d.Err)
}

// TraceBatchStart is part of pgx.BatchTracer.
func (g *readOnlyGuard) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

// TraceBatchQuery is part of pgx.BatchTracer.
func (g *readOnlyGuard) TraceBatchQuery(_ context.Context, c *pgx.Conn, d pgx.TraceBatchQueryData) {
	g.see(c, d.Err)
}

// TraceCopyFromStart is part of pgx.CopyFromTracer.
func (g *readOnlyGuard) TraceCopyFromStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceCopyFromStartData) context.Context {
	return ctx
}

// TraceCopyFromEnd is part of pgx.CopyFromTracer.
func (g *readOnlyGuard) TraceCopyFromEnd(_ context.Context, c *pgx.Conn, d pgx.TraceCopyFromEndData) {
	g.see(c, d.Err)
}

// TraceBatchEnd is part of pgx.BatchTracer.
func (g *readOnlyGuard) TraceBatchEnd(_ context.Context, c *pgx.Conn, d pgx.TraceBatchEndData) {
	g.see(c, d.Err)
}

func (db *DB) observe(op string, start time.Time) {
	db.latency.WithLabelValues(op).Observe(time.Since(start).Seconds())
}

// Tx runs fn in a SERIALIZABLE transaction and retries the whole
// transaction on serialization failures. fn may run several times, so it
// must not have effects outside the transaction.
//
// On CockroachDB this is cockroach-go's crdb.ExecuteTx (savepoint retries;
// RELEASE SAVEPOINT commits, so its final COMMIT error does not matter). On
// PostgreSQL crdb would be wrong: it ignores the error of the final COMMIT,
// where PostgreSQL reports serialization failures and deferred constraint
// violations. So there we run our own loop that checks COMMIT.
//
// An error from a COMMIT that never answered (broken connection, timeout)
// is returned wrapping booking.ErrOutcomeUnknown: the transaction may or
// may not have committed.
func (db *DB) Tx(ctx context.Context, op string, fn func(pgx.Tx) error) error {
	return db.TxAt(ctx, op, pgx.Serializable, fn)
}

// TxAt is Tx at another isolation level; fn may also return Retry(err) to
// have the whole transaction run again.
func (db *DB) TxAt(ctx context.Context, op string, iso pgx.TxIsoLevel, fn func(pgx.Tx) error) error {
	start := time.Now()
	defer db.observe(op, start)
	opts := pgx.TxOptions{IsoLevel: iso}
	var last error // the last failure retried
	for attempt := 1; ; attempt++ {
		var err error
		if db.flavor == Cockroach {
			err = crdbpgx.ExecuteTx(ctx, db.pool, opts, fn)
			var amb *crdb.AmbiguousCommitError
			if errors.As(err, &amb) {
				return fmt.Errorf("%s: %w: %w", op, booking.ErrOutcomeUnknown, err)
			}
		} else {
			err = db.try(ctx, opts, fn)
		}
		if err == nil || !retryable(err) || attempt >= maxAttempts ||
			db.flavor == Cockroach && !marked(err) { // crdb has retried its own
			return cutShort(ctx, op, err, last)
		}
		last = err
		db.retries.Inc()
		// Jittered exponential backoff: conflicting transactions should not
		// meet again at the same instant.
		d := time.Duration(1<<min(attempt, 7)) * time.Millisecond
		d = d/2 + rand.N(d)
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: retry: %w (last: %w)", op, ctx.Err(), err)
		case <-time.After(d):
		}
	}
}

func (db *DB) try(ctx context.Context, opts pgx.TxOptions, fn func(pgx.Tx) error) error {
	tx, err := db.pool.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		rctx, cancel := booking.Detach(ctx, 5*time.Second)
		_ = tx.Rollback(rctx)
		cancel()
		return err
	}
	err = tx.Commit(ctx)
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) || errors.Is(err, pgx.ErrTxCommitRollback) {
		return err // the server answered: not committed
	}
	return fmt.Errorf("commit: %w: %w", booking.ErrOutcomeUnknown, err)
}

// Exec1 runs one statement as its own implicit transaction: one round trip
// where Tx takes four (BEGIN, the statement, COMMIT, and the statement's own
// answer). A statement that writes several tables at once (a data-modifying
// WITH) is still atomic. CockroachDB retries such a transaction itself; on
// PostgreSQL a serialization failure or deadlock is retried here as in Tx.
//
// An error after the statement was sent without the server's answer (a
// broken connection, a timeout) wraps booking.ErrOutcomeUnknown, as a lost
// COMMIT does in Tx: the statement may have committed.
func (db *DB) Exec1(ctx context.Context, op, sql string, args ...any) error {
	_, err := db.Exec1Rows(ctx, op, sql, args...)
	return err
}

// Exec1Rows is Exec1, and the number of rows the statement reported.
func (db *DB) Exec1Rows(ctx context.Context, op, sql string, args ...any) (int64, error) {
	var n int64
	err := db.implicit(ctx, op, func(c *pgxpool.Conn) error {
		tag, err := c.Exec(ctx, sql, args...)
		n = tag.RowsAffected()
		return err
	})
	return n, err
}

// Batch1 sends the statements of a batch together, followed by one Sync:
// the server runs them as one implicit transaction, in one round trip (the
// statements are prepared once per connection beforehand). read takes the
// results, in order; it may run several times, so it must start afresh each
// time. Retries and an unknown outcome are as in Exec1.
func (db *DB) Batch1(ctx context.Context, op string, queue func(*pgx.Batch), read func(pgx.BatchResults) error) error {
	return db.implicit(ctx, op, func(c *pgxpool.Conn) error {
		b := &pgx.Batch{}
		queue(b)
		br := c.SendBatch(ctx, b)
		err := read(br)
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		return err
	})
}

// implicit runs send, one implicit transaction's round trip on a connection
// of the pool, until it succeeds or fails for good: serialization failures
// and deadlocks are retried with backoff; an error from a round trip that
// was sent but never answered wraps booking.ErrOutcomeUnknown. Failing to
// get a connection (the database refuses connections, is unreachable, or
// the deadline came while waiting for one) is a known failure: nothing was
// sent, so nothing can have committed (review15 L4: pgx's connect error
// does not say it is safe to retry, and was taken for a lost answer).
func (db *DB) implicit(ctx context.Context, op string, send func(*pgxpool.Conn) error) error {
	start := time.Now()
	defer db.observe(op, start)
	var last error // the last failure retried
	for attempt := 1; ; attempt++ {
		c, err := db.pool.Acquire(ctx)
		if err != nil {
			return cutShort(ctx, op, fmt.Errorf("%s: acquire connection: %w", op, err), last)
		}
		err = send(c)
		c.Release()
		if err == nil {
			return nil
		}
		var pgErr *pgconn.PgError
		switch {
		case retryable(err) && attempt < maxAttempts:
			last = err
			db.retries.Inc()
			d := time.Duration(1<<min(attempt, 7)) * time.Millisecond
			select {
			case <-ctx.Done():
				return fmt.Errorf("%s: retry: %w (last: %w)", op, ctx.Err(), err)
			case <-time.After(d/2 + rand.N(d)):
			}
			continue
		case errors.As(err, &pgErr), pgconn.SafeToRetry(err):
			return cutShort(ctx, op, err, last) // the server answered, or nothing was sent
		}
		return fmt.Errorf("%s: %w: %w", op, booking.ErrOutcomeUnknown, err)
	}
}

// cutShort is the error of a retry loop that ended on err, known not to
// have committed, after it had retried last: when the context ended
// meanwhile (the deadline came while a retry was beginning, before it
// could run), the caller learns both the deadline and what was being
// retried, as when the deadline comes during the backoff.
func cutShort(ctx context.Context, op string, err, last error) error {
	if last == nil || ctx.Err() == nil || errors.Is(err, booking.ErrOutcomeUnknown) {
		return err
	}
	return fmt.Errorf("%s: retry: %w (last: %w)", op, ctx.Err(), last)
}

// retryable reports a serialization failure, a deadlock or an error fn
// marked with Retry: the whole transaction may simply run again.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	return marked(err) || errors.As(err, &pgErr) && (pgErr.Code == "40001" || pgErr.Code == "40P01")
}

// marked reports an error fn marked with Retry.
func marked(err error) bool {
	var r *retryError
	return errors.As(err, &r)
}

// Retry marks an error that another run of the whole transaction need not
// meet: a row a concurrent writer took first, outside any lock the
// transaction holds. TxAt runs the transaction again, as after a
// serialization failure, and translate treats one that outlasted the
// retries as one.
func Retry(err error) error { return &retryError{err} }

type retryError struct{ err error }

func (e *retryError) Error() string { return e.err.Error() }
func (e *retryError) Unwrap() error { return e.err }

// Translate is the adapter's error translation (see translate), for peers
// that run their own statements over a DB.
func Translate(err error) error { return translate(err) }

// uniqueViolation returns the name of the unique constraint err violated.
func uniqueViolation(err error) (string, bool) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return pgErr.ConstraintName, true
	}
	return "", false
}

// translate turns a driver error into the domain's language at the adapter
// boundary: domain errors pass through; a database that is down, overloaded,
// restarting or too slow becomes booking.ErrUnavailable (503: nothing was
// done, retry); anything else (a bug: bad SQL, a broken constraint we did not
// expect) stays as it is and becomes a 500.
func translate(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := booking.AsError(err); ok {
		return err
	}
	if errors.Is(err, booking.ErrOutcomeUnknown) || errors.Is(err, booking.ErrSlotTaken) {
		return err
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		if pgErr.Code == "25006" { // read_only_sql_transaction: nothing was written
			return fmt.Errorf("%w: %w: %w", booking.ErrUnavailable, booking.ErrReadOnly, err)
		}
		switch pgErr.Code[:2] {
		case "08", "53", "57", "58": // connection, resources, operator intervention, system
			return fmt.Errorf("%w: %w", booking.ErrUnavailable, err)
		case "22": // data exception: a value the database cannot take (a NUL, bad UTF-8, out of range)
			// The last guard: the domain and the HTTP layer refuse such
			// bytes first, before anything changes.
			return fmt.Errorf("%w: %w", booking.Errorf(booking.ErrInvalidField, "a value is not acceptable (%s)", pgErr.Code), err)
		}
		if retryable(err) { // serialization failures outlasted the retries
			return fmt.Errorf("%w: %w", booking.ErrUnavailable, err)
		}
		return err
	}
	// Not a server answer: the connection or the deadline failed.
	return fmt.Errorf("%w: %w", booking.ErrUnavailable, err)
}

// Option adjusts the pool Open makes.
type Option func(*pgxpool.Config)

// Warm keeps every connection of the pool open (MinConns is MaxConns,
// unless the URL sets pool_min_conns) and readies each as it opens
// (warmConn), so the release second's commits run on open connections that
// have run their statements. Without it the pool closes connections idle
// for 30 minutes — all of them, in the quiet before a morning's release —
// and opens them again as they are needed, in the release second itself;
// and a connection's first run of insert_bookings_with_events costs the
// server several times its later ones (the backend's start, the
// statement's plan, the catalog entries of its tables and indexes). The
// release-shaped commit benchmark wrote its burst 1.75–1.9× as fast through
// a warm pool as through one that opened its connections in the burst, and
// ~1.2× as fast as through a full pool whose connections had read the
// tables but not booked (medians of the per-round ratios:
// BenchmarkReleaseCommit, docs/performance.md).
// serve opens its pool with it and fills it (Fill) before it listens.
func Warm() Option {
	return func(cfg *pgxpool.Config) {
		if cfg.MinConns == 0 { // the URL's pool_min_conns wins
			cfg.MinConns = cfg.MaxConns
		}
		// Connections that all opened together would all reach their
		// lifetime together, and be replaced as they are released, perhaps
		// in a burst of bookings: spread their ends over half an hour.
		cfg.MaxConnLifetimeJitter = 30 * time.Minute
		cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
			warmConn(ctx, c)
			return nil
		}
	}
}

// warmed are the statements of the release second's commits, which a
// connection opened under Warm runs once with no rows.
var warmed = []string{"insert_bookings_with_events", "insert_entries_with_events"}

// warmConn runs each warmed statement on c with every parameter NULL (no
// rows): pgx prepares and keeps the statement, and the server plans it and
// reads the catalog entries of the tables and indexes it writes. Best
// effort: a database not yet migrated, or a failure, leaves the connection
// as it was, only colder.
func warmConn(ctx context.Context, c *pgx.Conn) {
	for _, name := range warmed {
		sql := q(name)
		sd, err := c.Prepare(ctx, "", sql) // unnamed: only to count the parameters
		if err != nil {
			return
		}
		if _, err := c.Exec(ctx, sql, make([]any, len(sd.ParamOIDs))...); err != nil {
			return
		}
	}
}

// Fill opens every connection the pool may hold, at once, and returns
// them: under Warm each is readied as it opens. serve calls it before it
// listens, so the pool is full before its first release second.
func (db *DB) Fill(ctx context.Context) error {
	n := int(db.pool.Config().MaxConns)
	conns := make([]*pgxpool.Conn, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { conns[i], errs[i] = db.pool.Acquire(ctx) })
	}
	wg.Wait()
	for _, c := range conns {
		if c != nil {
			c.Release()
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("fill the pool: %w", err)
	}
	return nil
}

// SchemaBehind reports whether err is the database lacking a table or a
// column (SQLSTATE 42P01, 42703): a database never migrated, or one older
// than this build's migrations.
func SchemaBehind(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "42P01" || pgErr.Code == "42703")
}
