package cockroach

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"fairslot/internal/booking"
)

//go:embed leases.sql
var leasesSQL string

var leaseQueries = ParseQueries(leasesSQL)

// Leases implements booking.Leases with the job_leases table: one
// INSERT … ON CONFLICT DO UPDATE … WHERE per claim, atomic on both
// databases (PostgreSQL locks the conflicting row and re-checks the WHERE on
// its latest version; CockroachDB runs it as one serializable statement).
type Leases struct{ db *DB }

var _ booking.Leases = (*Leases)(nil)

// NewLeases returns the job leases over db.
func NewLeases(db *DB) *Leases { return &Leases{db: db} }

// Claim takes or renews job's lease for holder until ttl from the
// database's now.
func (l *Leases) Claim(ctx context.Context, job, holder string, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		return false, fmt.Errorf("claim lease %s: ttl %s must be positive", job, ttl)
	}
	start := time.Now()
	defer l.db.observe("claim_lease", start)
	var got string
	err := l.db.pool.QueryRow(ctx, leaseQueries["claim_lease"], job, holder, ttl.Milliseconds()).Scan(&got)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("claim lease %s: %w", job, translate(err))
	}
	return got == holder, nil
}

// Release deletes holder's lease of job, if it is holder's.
func (l *Leases) Release(ctx context.Context, job, holder string) error {
	if _, err := l.db.pool.Exec(ctx, leaseQueries["release_lease"], job, holder); err != nil {
		return fmt.Errorf("release lease %s: %w", job, translate(err))
	}
	return nil
}
