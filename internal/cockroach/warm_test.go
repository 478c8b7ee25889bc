package cockroach_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"fairslot/internal/cockroach"
	"fairslot/internal/testenv"
)

// withPoolSize is u with pool_max_conns=n.
func withPoolSize(t *testing.T, u string, n string) string {
	t.Helper()
	p, err := url.Parse(u)
	testenv.Must(t, err, "parse url")
	v := p.Query()
	v.Set("pool_max_conns", n)
	p.RawQuery = v.Encode()
	return p.String()
}

// preparedOnEach counts, on each connection of the pool (all held at once),
// the statements of sqls it has prepared.
func preparedOnEach(t *testing.T, db *cockroach.DB, sqls []string) []int {
	t.Helper()
	ctx := t.Context()
	n := int(db.Pool().Config().MaxConns)
	var conns []*pgxpool.Conn
	defer func() {
		for _, c := range conns {
			c.Release()
		}
	}()
	var counts []int
	for range n {
		c, err := db.Pool().Acquire(ctx)
		testenv.Must(t, err, "acquire")
		conns = append(conns, c)
		var k int
		testenv.Must(t, c.QueryRow(ctx, `SELECT count(*) FROM pg_prepared_statements WHERE statement = ANY($1)`, sqls).Scan(&k), "prepared")
		counts = append(counts, k)
	}
	return counts
}

// A pool opened with Warm keeps all its connections and readies each for
// the release second's commits as it opens: Fill opens every one, and each
// has prepared both statements, having written nothing. A pool opened
// without it neither keeps its connections nor readies them.
func TestWarmPool(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	u := testenv.DatabaseURL(t)
	owner, err := cockroach.Open(ctx, u, nil)
	testenv.Must(t, err, "open")
	_, err = owner.Migrate(ctx)
	testenv.Must(t, err, "migrate")
	owner.Close()
	sqls := cockroach.Warmed()
	if len(sqls) != 2 {
		t.Fatalf("warmed statements: %d, want the bookings' and the entries'", len(sqls))
	}

	cold, err := cockroach.Open(ctx, withPoolSize(t, u, "3"), nil)
	testenv.Must(t, err, "open cold")
	defer cold.Close()
	testenv.Must(t, cold.Fill(ctx), "fill cold")
	if got := cold.Pool().Config().MinConns; got != 0 {
		t.Errorf("a pool without Warm keeps %d connections, want 0", got)
	}
	for i, k := range preparedOnEach(t, cold, sqls) {
		if k != 0 {
			t.Errorf("without Warm, connection %d has prepared %d of the commit statements, want 0", i, k)
		}
	}

	warm, err := cockroach.Open(ctx, withPoolSize(t, u, "4"), nil, cockroach.Warm())
	testenv.Must(t, err, "open warm")
	defer warm.Close()
	testenv.Must(t, warm.Fill(ctx), "fill")
	if got := warm.Pool().Stat().TotalConns(); got != 4 {
		t.Errorf("after Fill the pool holds %d connections, want 4", got)
	}
	if got := warm.Pool().Config().MinConns; got != 4 {
		t.Errorf("a warm pool keeps %d connections, want all 4", got)
	}
	for i, k := range preparedOnEach(t, warm, sqls) {
		if k != len(sqls) {
			t.Errorf("connection %d has prepared %d of the %d commit statements", i, k, len(sqls))
		}
	}
	for _, table := range []string{"bookings", "booking_events", "lottery_entries", "audit_log"} {
		var n int
		testenv.Must(t, warm.Pool().QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n), "count %s", table)
		if n != 0 {
			t.Errorf("warming wrote %d rows into %s", n, table)
		}
	}

	// The URL's pool_min_conns wins.
	some, err := cockroach.Open(ctx, withPoolSize(t, u, "4")+"&pool_min_conns=1", nil, cockroach.Warm())
	testenv.Must(t, err, "open with pool_min_conns")
	defer some.Close()
	if got := some.Pool().Config().MinConns; got != 1 {
		t.Errorf("with pool_min_conns=1 a warm pool keeps %d connections, want 1", got)
	}
}

// Warming is best effort: on a database not yet migrated, a warm pool's
// connections open and answer.
func TestWarmPoolUnmigrated(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	db, err := cockroach.Open(ctx, withPoolSize(t, testenv.DatabaseURL(t), "2"), nil, cockroach.Warm())
	testenv.Must(t, err, "open")
	defer db.Close()
	testenv.Must(t, db.Fill(ctx), "fill")
	var one int
	testenv.Must(t, db.Pool().QueryRow(ctx, `SELECT 1`).Scan(&one), "query")
	if one != 1 {
		t.Fatalf("SELECT 1 = %d", one)
	}
}
