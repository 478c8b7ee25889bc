package cockroach_test

// The library trap of PRODUCT.md: cockroach-go's crdb.ExecuteTx ignores the
// error of the final COMMIT, which is right on CockroachDB (RELEASE SAVEPOINT
// cockroach_restart already committed) and wrong on PostgreSQL, which
// reports serialization failures and deferred constraint violations exactly
// at COMMIT. These tests prove DB.Tx checks COMMIT on PostgreSQL.
//
// The tests are in package cockroach_test, not cockroach: testenv imports
// cockroach, so an in-package test importing testenv would be an import
// cycle.

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/cockroach-go/v2/crdb/crdbpgxv5"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/prometheus/client_golang/prometheus"

	"fairslot/internal/booking"
	"fairslot/internal/cockroach"
	"fairslot/internal/testenv"
)

// openDB opens url with its own metrics registry and migrates it.
func openDB(t *testing.T, url string, reg prometheus.Registerer) *cockroach.DB {
	t.Helper()
	db, err := cockroach.Open(t.Context(), url, reg)
	testenv.Must(t, err, "open %s", url)
	t.Cleanup(db.Close)
	_, err = db.Migrate(t.Context())
	testenv.Must(t, err, "migrate")
	return db
}

func execSQL(t *testing.T, db *cockroach.DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		_, err := db.Pool().Exec(t.Context(), s)
		testenv.Must(t, err, "%s", s)
	}
}

func count(t *testing.T, db *cockroach.DB, query string, args ...any) int {
	t.Helper()
	var n int
	testenv.Must(t, db.Pool().QueryRow(t.Context(), query, args...).Scan(&n), "%s", query)
	return n
}

// counterValue reads a counter from a registry by name.
func counterValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	testenv.Must(t, err, "gather metrics")
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("metric %s is not registered", name)
	return 0
}

// writeSkew runs the classic write skew on table oncall: two transactions
// each count the doctors on call and, seeing two, take their own doctor off
// call. The first attempts are coordinated so that both read, and both
// write, before either returns; later attempts run freely. It returns the
// error of each run and how many times each closure ran.
func writeSkew(t *testing.T, run func(ctx context.Context, fn func(pgx.Tx) error) error) (errs [2]error, runs [2]int32, firstAttempt [2]error) {
	t.Helper()
	ctx := t.Context()
	var read, wrote sync.WaitGroup
	read.Add(2)
	wrote.Add(2)
	var n [2]atomic.Int32
	var wg sync.WaitGroup
	for i, doctor := range []string{"alice", "bob"} {
		wg.Go(func() {
			errs[i] = run(ctx, func(tx pgx.Tx) error {
				first := n[i].Add(1) == 1
				var onCall int
				err := tx.QueryRow(ctx, `SELECT count(*) FROM oncall WHERE on_call`).Scan(&onCall)
				if first {
					read.Done()
					read.Wait()
				}
				if err == nil && onCall >= 2 {
					_, err = tx.Exec(ctx, `UPDATE oncall SET on_call = false WHERE doctor = $1`, doctor)
				}
				if first {
					firstAttempt[i] = err
					wrote.Done()
					wrote.Wait()
				}
				return err
			})
		})
	}
	wg.Wait()
	return errs, [2]int32{n[0].Load(), n[1].Load()}, firstAttempt
}

func TestTxRetriesSerializationFailureAtCommit(t *testing.T) {
	reg := prometheus.NewRegistry()
	db := openDB(t, testenv.DatabaseURL(t), reg)
	setup := func(t *testing.T) {
		execSQL(t, db, `DROP TABLE IF EXISTS oncall`,
			`CREATE TABLE oncall (doctor TEXT PRIMARY KEY, on_call BOOL NOT NULL)`,
			`INSERT INTO oncall VALUES ('alice', true), ('bob', true)`)
	}

	t.Run("DB.Tx", func(t *testing.T) {
		setup(t)
		before := counterValue(t, reg, "fairslot_sql_tx_retries_total")
		errs, runs, first := writeSkew(t, func(ctx context.Context, fn func(pgx.Tx) error) error {
			return db.Tx(ctx, "oncall", fn)
		})
		for i, err := range errs {
			if err != nil {
				t.Errorf("transaction %d: DB.Tx = %v, want nil", i, err)
			}
			// Both first attempts ran every statement without error, so
			// the serialization failure that forced a retry came from
			// COMMIT: the place crdb.ExecuteTx does not look.
			if first[i] != nil {
				t.Errorf("transaction %d: first attempt failed before COMMIT: %v", i, first[i])
			}
		}
		if runs[0]+runs[1] < 3 {
			t.Errorf("closure runs = %v, want a retry (at least 3 in all)", runs)
		}
		if got, want := count(t, db, `SELECT count(*) FROM oncall WHERE on_call`), 1; got != want {
			t.Errorf("doctors on call = %d, want %d", got, want)
		}
		if got := counterValue(t, reg, "fairslot_sql_tx_retries_total") - before; got < 1 {
			t.Errorf("fairslot_sql_tx_retries_total increased by %v, want at least 1", got)
		}
	})

	// The contrast: the same interleaving without SERIALIZABLE loses the
	// invariant, so the test above really exercises a conflict.
	t.Run("READ COMMITTED loses the invariant", func(t *testing.T) {
		setup(t)
		errs, runs, _ := writeSkew(t, func(ctx context.Context, fn func(pgx.Tx) error) error {
			return pgx.BeginTxFunc(ctx, db.Pool(), pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, fn)
		})
		if errs[0] != nil || errs[1] != nil {
			t.Fatalf("read committed transactions = %v, want nil", errs)
		}
		if runs != [2]int32{1, 1} {
			t.Errorf("closure runs = %v, want [1 1]", runs)
		}
		if got, want := count(t, db, `SELECT count(*) FROM oncall WHERE on_call`), 0; got != want {
			t.Errorf("doctors on call = %d, want %d (both went off call)", got, want)
		}
	})
}

func TestTxReportsDeferredConstraintViolationAtCommit(t *testing.T) {
	ctx := t.Context()
	db := openDB(t, testenv.DatabaseURL(t), nil)
	execSQL(t, db,
		`CREATE TABLE deferred_unique (k INT NOT NULL, note TEXT NOT NULL,
			CONSTRAINT deferred_unique_k UNIQUE (k) DEFERRABLE INITIALLY DEFERRED)`,
		`INSERT INTO deferred_unique VALUES (1, 'seed')`)
	insertDuplicate := func(note string, runs *int, closureErr *error) func(pgx.Tx) error {
		return func(tx pgx.Tx) error {
			*runs++
			_, err := tx.Exec(ctx, `INSERT INTO deferred_unique VALUES (1, $1)`, note)
			*closureErr = err
			return err
		}
	}

	t.Run("DB.Tx returns the COMMIT error", func(t *testing.T) {
		var runs int
		var closureErr error
		err := db.Tx(ctx, "deferred", insertDuplicate("ours", &runs, &closureErr))
		if closureErr != nil {
			t.Fatalf("the closure's insert failed: %v; the constraint should only be checked at COMMIT", closureErr)
		}
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "23505" || pgErr.ConstraintName != "deferred_unique_k" {
			t.Fatalf("DB.Tx = %v, want unique violation 23505 on deferred_unique_k", err)
		}
		if errors.Is(err, booking.ErrOutcomeUnknown) {
			t.Errorf("DB.Tx = %v: the server answered, so the outcome is known", err)
		}
		if runs != 1 {
			t.Errorf("closure runs = %d, want 1 (a unique violation is not retried)", runs)
		}
		if n := count(t, db, `SELECT count(*) FROM deferred_unique WHERE note = 'ours'`); n != 0 {
			t.Errorf("rows committed = %d, want 0", n)
		}
	})

	// The trap, as documentation. crdb.ExecuteInTx (crdb/tx.go, v2.4.2)
	// runs SAVEPOINT cockroach_restart, the closure, RELEASE SAVEPOINT
	// cockroach_restart, and then, in a deferred func, `_ = tx.Commit(ctx)`
	// with the comment "Ignore commit errors. The tx has already been
	// committed by RELEASE." That holds on CockroachDB. On PostgreSQL
	// RELEASE only merges the savepoint into the transaction; deferred
	// constraints are checked by COMMIT, which fails and rolls back, and
	// ExecuteTx still returns nil: a lost write reported as success.
	t.Run("crdbpgx.ExecuteTx loses the COMMIT error on PostgreSQL", func(t *testing.T) {
		var runs int
		var closureErr error
		err := crdbpgx.ExecuteTx(ctx, db.Pool(), pgx.TxOptions{IsoLevel: pgx.Serializable},
			insertDuplicate("crdb", &runs, &closureErr))
		if closureErr != nil {
			t.Fatalf("the closure's insert failed: %v", closureErr)
		}
		if err != nil {
			t.Errorf("crdbpgx.ExecuteTx = %v; the trap is that it returns nil here", err)
		}
		if n := count(t, db, `SELECT count(*) FROM deferred_unique WHERE note = 'crdb'`); n != 0 {
			t.Errorf("rows committed = %d, want 0 (COMMIT failed)", n)
		}
	})
}

func TestTxOutcomeUnknown(t *testing.T) {
	direct := testenv.DatabaseURL(t)
	check := openDB(t, direct, nil) // a connection that bypasses the proxy
	execSQL(t, check, `CREATE TABLE outcome (note TEXT PRIMARY KEY)`)
	proxy := newCommitCutter(t, hostOf(t, direct))
	db := openDB(t, withHost(t, direct, proxy.addr()), nil)
	insert := func(note string) func(pgx.Tx) error {
		return func(tx pgx.Tx) error {
			_, err := tx.Exec(t.Context(), `INSERT INTO outcome VALUES ($1)`, note)
			return err
		}
	}

	tests := []struct {
		name          string
		mode          int32
		wantCommitted bool
	}{
		// COMMIT reaches the server and commits; the answer is lost.
		{"answer lost after the commit", cutAfterAnswer, true},
		// The connection breaks while COMMIT is being sent; the server
		// never runs it and rolls back.
		{"connection lost before the commit", cutBeforeSend, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			note := testenv.Token()
			runs := 0
			cutsBefore := proxy.cuts.Load()
			proxy.arm(tt.mode)
			err := db.Tx(t.Context(), "outcome", func(tx pgx.Tx) error {
				runs++
				return insert(note)(tx)
			})
			proxy.arm(cutNone)
			t.Logf("DB.Tx = %v", err)
			if proxy.cuts.Load() != cutsBefore+1 {
				t.Fatalf("the proxy did not cut the COMMIT (DB.Tx = %v)", err)
			}
			if !errors.Is(err, booking.ErrOutcomeUnknown) {
				t.Errorf("DB.Tx = %v, want it to wrap ErrOutcomeUnknown", err)
			}
			if runs != 1 {
				t.Errorf("closure runs = %d, want 1 (an unknown outcome must not be retried)", runs)
			}
			got := count(t, check, `SELECT count(*) FROM outcome WHERE note = $1`, note) == 1
			if got != tt.wantCommitted {
				t.Errorf("committed = %v, want %v", got, tt.wantCommitted)
			}
		})
	}

	// pg_terminate_backend does not make COMMIT ambiguous: the backend
	// sends FATAL 57P01 and exits before it reads the COMMIT, so pgx gets
	// a server error and the transaction certainly did not commit. DB.Tx
	// rightly reports that as a known failure.
	t.Run("backend terminated before COMMIT", func(t *testing.T) {
		note := testenv.Token()
		runs := 0
		err := db.Tx(t.Context(), "outcome", func(tx pgx.Tx) error {
			runs++
			var pid int
			if err := tx.QueryRow(t.Context(), `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
				return err
			}
			if err := insert(note)(tx); err != nil {
				return err
			}
			var ok bool
			if err := check.Pool().QueryRow(t.Context(), `SELECT pg_terminate_backend($1)`, pid).Scan(&ok); err != nil || !ok {
				t.Errorf("pg_terminate_backend(%d) = %v, %v", pid, ok, err)
			}
			return nil
		})
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "57P01" {
			t.Errorf("DB.Tx = %v, want FATAL 57P01 from the server", err)
		}
		if errors.Is(err, booking.ErrOutcomeUnknown) {
			t.Errorf("DB.Tx = %v, want a known failure", err)
		}
		if runs != 1 {
			t.Errorf("closure runs = %d, want 1", runs)
		}
		if n := count(t, check, `SELECT count(*) FROM outcome WHERE note = $1`, note); n != 0 {
			t.Errorf("rows committed = %d, want 0", n)
		}
	})
}

func hostOf(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	testenv.Must(t, err, "parse %s", raw)
	return u.Host
}

func withHost(t *testing.T, raw, host string) string {
	t.Helper()
	u, err := url.Parse(raw)
	testenv.Must(t, err, "parse %s", raw)
	u.Host = host
	return u.String()
}

// How the commitCutter treats the next COMMIT, or (the Statement modes) the
// Sync that ends the next extended-protocol statement: the point where an
// implicit transaction commits.
const (
	cutNone                 int32 = iota // pass everything through
	cutAfterAnswer                       // forward COMMIT, swallow the server's answer, then cut
	cutBeforeSend                        // cut instead of forwarding COMMIT
	cutStatementAfterAnswer              // forward the statement's Sync, swallow the answer, then cut
	cutStatementBeforeSend               // cut instead of forwarding the statement's Sync
)

// commitCutter is a TCP proxy in front of PostgreSQL that, when armed,
// breaks the client's connection at the next COMMIT, making its outcome
// truly unknown to the client. It speaks just enough of the wire protocol
// to find a simple-query COMMIT (which is how pgx sends it).
type commitCutter struct {
	target string
	ln     net.Listener
	mode   atomic.Int32
	cuts   atomic.Int32
	mu     sync.Mutex
	conns  []net.Conn
}

func newCommitCutter(t *testing.T, target string) *commitCutter {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	testenv.Must(t, err, "listen")
	p := &commitCutter{target: target, ln: ln}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { p.serve(c) })
		}
	})
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		wg.Wait()
	})
	return p
}

func (p *commitCutter) addr() string { return p.ln.Addr().String() }

func (p *commitCutter) arm(mode int32) { p.mode.Store(mode) }

func (p *commitCutter) track(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.conns = append(p.conns, c)
}

func (p *commitCutter) serve(client net.Conn) {
	p.track(client)
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		client.Close()
		return
	}
	p.track(server)
	closeBoth := func() {
		client.Close()
		server.Close()
	}
	var swallow atomic.Bool
	var wg sync.WaitGroup
	defer wg.Wait()

	// Client → server: the startup packet (untyped), then typed messages.
	cr := bufio.NewReader(client)
	for {
		msg, err := readUntyped(cr)
		if err != nil {
			closeBoth()
			return
		}
		if code := binary.BigEndian.Uint32(msg[4:8]); code == 80877103 || code == 80877104 {
			// SSLRequest or GSSENCRequest: refuse, as a plain server does.
			if _, err := client.Write([]byte{'N'}); err != nil {
				closeBoth()
				return
			}
			continue
		}
		if _, err := server.Write(msg); err != nil {
			closeBoth()
			return
		}
		break
	}

	// Server → client: typed messages only, since no SSLRequest reached
	// the server. While swallowing, drop everything up to ReadyForQuery,
	// then cut.
	wg.Go(func() {
		sr := bufio.NewReader(server)
		for {
			typ, msg, err := readTyped(sr)
			if err != nil {
				closeBoth()
				return
			}
			if swallow.Load() {
				if typ == 'Z' {
					p.cuts.Add(1)
					closeBoth()
					return
				}
				continue
			}
			if _, err := client.Write(msg); err != nil {
				closeBoth()
				return
			}
		}
	})

	executed := false // an Execute since the last Sync
	for {
		typ, msg, err := readTyped(cr)
		if err != nil {
			closeBoth()
			return
		}
		cut := func(before, after int32) bool {
			switch m := p.mode.Load(); m {
			case before:
				p.mode.Store(cutNone)
				p.cuts.Add(1)
				closeBoth()
				return true
			case after:
				p.mode.Store(cutNone)
				swallow.Store(true)
			}
			return false
		}
		switch {
		case typ == 'Q' && isCommit(msg[5:]):
			if cut(cutBeforeSend, cutAfterAnswer) {
				return
			}
		case typ == 'E':
			executed = true
		case typ == 'S':
			if executed && cut(cutStatementBeforeSend, cutStatementAfterAnswer) {
				return
			}
			executed = false
		}
		if _, err := server.Write(msg); err != nil {
			closeBoth()
			return
		}
	}
}

func isCommit(query []byte) bool {
	q := strings.TrimRight(string(query), "\x00; \n")
	return strings.EqualFold(strings.TrimSpace(q), "commit")
}

// readUntyped reads a length-prefixed startup-phase packet.
func readUntyped(r *bufio.Reader) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n < 8 || n > 1<<20 {
		return nil, errors.New("bad startup packet length")
	}
	msg := make([]byte, n)
	copy(msg, hdr[:])
	_, err := io.ReadFull(r, msg[4:])
	return msg, err
}

// readTyped reads one message: type byte, length (counting itself), body.
// It returns the whole message as read.
func readTyped(r *bufio.Reader) (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n < 4 || n > 1<<30 {
		return 0, nil, errors.New("bad message length")
	}
	msg := make([]byte, 1+n)
	copy(msg, hdr[:])
	_, err := io.ReadFull(r, msg[5:])
	return hdr[0], msg, err
}

// TestExec1OutcomeUnknown: a one-statement transaction whose answer never
// arrives is reported as an unknown outcome, whether it committed (the
// answer was lost) or not (the connection broke before the Sync that
// commits it), and is not run twice.
func TestExec1OutcomeUnknown(t *testing.T) {
	direct := testenv.DatabaseURL(t)
	check := openDB(t, direct, nil)
	execSQL(t, check, `CREATE TABLE outcome1 (note TEXT PRIMARY KEY)`)
	proxy := newCommitCutter(t, hostOf(t, direct))
	db := openDB(t, withHost(t, direct, proxy.addr()), nil)
	// A first statement through the proxy, so the next one is a plain
	// Bind/Execute/Sync of the prepared statement.
	testenv.Must(t, db.Exec1(t.Context(), "outcome", `INSERT INTO outcome1 VALUES ($1)`, testenv.Token()), "first insert")

	for _, tt := range []struct {
		name          string
		mode          int32
		wantCommitted bool
	}{
		{"answer lost after the commit", cutStatementAfterAnswer, true},
		{"connection lost before the commit", cutStatementBeforeSend, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			note := testenv.Token()
			cutsBefore := proxy.cuts.Load()
			proxy.arm(tt.mode)
			err := db.Exec1(t.Context(), "outcome", `INSERT INTO outcome1 VALUES ($1)`, note)
			proxy.arm(cutNone)
			if proxy.cuts.Load() != cutsBefore+1 {
				t.Fatalf("the proxy did not cut the statement (Exec1 = %v)", err)
			}
			if !errors.Is(err, booking.ErrOutcomeUnknown) {
				t.Errorf("Exec1 = %v, want it to wrap ErrOutcomeUnknown", err)
			}
			got := count(t, check, `SELECT count(*) FROM outcome1 WHERE note = $1`, note) == 1
			if got != tt.wantCommitted {
				t.Errorf("committed = %v, want %v", got, tt.wantCommitted)
			}
		})
	}

	// A server's refusal is a known failure, not an unknown outcome.
	note := testenv.Token()
	testenv.Must(t, db.Exec1(t.Context(), "outcome", `INSERT INTO outcome1 VALUES ($1)`, note), "insert")
	err := db.Exec1(t.Context(), "outcome", `INSERT INTO outcome1 VALUES ($1)`, note)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23505" || errors.Is(err, booking.ErrOutcomeUnknown) {
		t.Errorf("duplicate insert: Exec1 = %v, want the server's 23505", err)
	}
}

// TestRefusedConnectionIsNotAnUnknownOutcome: when the database refuses
// connections (down, unreachable), nothing was sent, so nothing can have
// committed: every way of writing (Exec1, Batch1, Tx) answers a known
// failure that the adapter calls unavailable, never an unknown outcome,
// which would tell a patient to retry a booking that certainly was not made
// (review15 L4).
func TestRefusedConnectionIsNotAnUnknownOutcome(t *testing.T) {
	db := testenv.GoneDB(t)
	insert := `INSERT INTO job_leases (job, holder, expires_at, acquired_at) VALUES ($1, 'test', now(), now())`
	for _, tt := range []struct {
		name  string
		write func(ctx context.Context) error
	}{
		{"Exec1", func(ctx context.Context) error { return db.Exec1(ctx, "refused", insert, testenv.Token()) }},
		{"Batch1", func(ctx context.Context) error {
			return db.Batch1(ctx, "refused", func(b *pgx.Batch) { b.Queue(insert, testenv.Token()) },
				func(br pgx.BatchResults) error { _, err := br.Exec(); return err })
		}},
		{"Tx", func(ctx context.Context) error {
			return db.Tx(ctx, "refused", func(tx pgx.Tx) error { _, err := tx.Exec(ctx, insert, testenv.Token()); return err })
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.write(t.Context())
			if err == nil {
				t.Fatalf("%s through a refusing address succeeded", tt.name)
			}
			if errors.Is(err, booking.ErrOutcomeUnknown) {
				t.Errorf("%s = %v; want a known failure (nothing was sent), not an unknown outcome", tt.name, err)
			}
			if got := cockroach.Translate(err); !errors.Is(got, booking.ErrUnavailable) {
				t.Errorf("Translate(%s's error) = %v; want it to wrap ErrUnavailable", tt.name, got)
			}
		})
	}
}

// TestPoolSize: 32 connections unless the URL says otherwise; pgx's own
// default (four on this machine) queued the release second's commits.
func TestPoolSize(t *testing.T) {
	url := testenv.DatabaseURL(t)
	if got := openDB(t, url, nil).Pool().Config().MaxConns; got != 32 {
		t.Errorf("MaxConns = %d, want 32", got)
	}
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	if got := openDB(t, url+sep+"pool_max_conns=7", nil).Pool().Config().MaxConns; got != 7 {
		t.Errorf("MaxConns with pool_max_conns=7 = %d, want 7", got)
	}
}

// serializationFailure is what PostgreSQL answers when serializable
// isolation refuses a transaction; fn may return it as the server would.
var serializationFailure = &pgconn.PgError{Code: "40001", Message: "could not serialize access"}

// TestTxRetryBudget: a transaction that keeps conflicting is run again well
// past ten attempts (PostgreSQL's page-level predicate locks make that
// ordinary on small tables), and a caller's deadline still ends the retries.
func TestTxRetryBudget(t *testing.T) {
	db := openDB(t, testenv.DatabaseURL(t), nil)

	t.Run("outlasts twelve conflicts", func(t *testing.T) {
		runs := 0
		err := db.Tx(t.Context(), "conflicts", func(tx pgx.Tx) error {
			runs++
			if runs <= 12 {
				return serializationFailure
			}
			_, err := tx.Exec(t.Context(), `SELECT 1`)
			return err
		})
		if err != nil || runs != 13 {
			t.Errorf("Tx = %v after %d runs, want nil after 13", err, runs)
		}
	})

	t.Run("the deadline ends it", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		defer cancel()
		runs := 0
		err := db.Tx(ctx, "conflicts", func(pgx.Tx) error {
			runs++
			return serializationFailure
		})
		if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, serializationFailure) {
			t.Errorf("Tx = %v, want the deadline and the last serialization failure", err)
		}
		// At least one run (a loaded machine may spend the 200 ms before the
		// second), and not the fifty that no deadline would stop.
		if runs < 1 || runs >= 50 {
			t.Errorf("runs = %d, want retries cut short by the deadline", runs)
		}
	})

	// The deadline may also come after the backoff, while the retry's
	// BEGIN waits (CI met it on a loaded machine): the caller still learns
	// what was being retried.
	t.Run("the deadline comes while the retry begins", func(t *testing.T) {
		ctx := &endsAfterBackoff{Context: t.Context()}
		runs := 0
		err := db.Tx(ctx, "conflicts", func(pgx.Tx) error {
			runs++
			ctx.armed.Store(true)
			return serializationFailure
		})
		if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, serializationFailure) || runs != 1 {
			t.Errorf("Tx = %v after %d runs, want the deadline and the serialization failure after 1", err, runs)
		}
	})
}

// endsAfterBackoff is a context whose deadline comes just after the first
// retry's backoff: once armed, the first look at Done (the backoff's) sees
// it open, and every later one (the retry's BEGIN) sees it ended.
type endsAfterBackoff struct {
	context.Context
	armed, ended atomic.Bool
	looked       atomic.Int32
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func (c *endsAfterBackoff) Done() <-chan struct{} {
	if c.armed.Load() && c.looked.Add(1) > 1 {
		c.ended.Store(true)
		return closedChan
	}
	return c.Context.Done()
}

func (c *endsAfterBackoff) Err() error {
	if c.ended.Load() {
		return context.DeadlineExceeded
	}
	return c.Context.Err()
}

// TestTxAtIsolationAndRetry: TxAt runs at the level asked, and a run that
// fn marks with Retry is run again like a serialization failure; the mark
// is retried no more than the budget allows and still translates to 503.
func TestTxAtIsolationAndRetry(t *testing.T) {
	db := openDB(t, testenv.DatabaseURL(t), nil)
	taken := errors.New("slot taken by a writer outside the lock")

	runs := 0
	var level string
	err := db.TxAt(t.Context(), "marked", pgx.ReadCommitted, func(tx pgx.Tx) error {
		runs++
		if err := tx.QueryRow(t.Context(), `SHOW transaction_isolation`).Scan(&level); err != nil {
			return err
		}
		if runs < 3 {
			return cockroach.Retry(taken)
		}
		return nil
	})
	if err != nil || runs != 3 || level != "read committed" {
		t.Errorf("TxAt = %v after %d runs at %q, want nil after 3 at read committed", err, runs, level)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	err = db.TxAt(ctx, "marked", pgx.ReadCommitted, func(pgx.Tx) error { return cockroach.Retry(taken) })
	if !errors.Is(err, taken) || !errors.Is(cockroach.Translate(err), booking.ErrUnavailable) {
		t.Errorf("TxAt = %v (translated %v), want the marked error, translated to unavailable", err, cockroach.Translate(err))
	}

	// Unmarked, the same error is not retried.
	runs = 0
	err = db.TxAt(t.Context(), "unmarked", pgx.ReadCommitted, func(pgx.Tx) error { runs++; return taken })
	if !errors.Is(err, taken) || runs != 1 {
		t.Errorf("TxAt = %v after %d runs, want the error after 1", err, runs)
	}
}
