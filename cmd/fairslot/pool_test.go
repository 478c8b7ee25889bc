package main

import (
	"context"
	"testing"
	"time"

	"fairslot/internal/cockroach"
	"fairslot/internal/testenv"
)

// serve opens every connection of its SQL pool before it listens
// (cockroach.Warm, DB.Fill): the release second must not open them.
// Without it the pool holds the few its startup used.
func TestServeFillsItsPool(t *testing.T) {
	svc := startService(t, schedule(t, time.Now().Add(time.Hour), 1), nil)
	want := cockroach.PoolSize(svc.env["FAIRSLOT_DATABASE_URL"])
	var got int
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	testenv.Must(t, svc.pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND usename <> current_user`).Scan(&got), "count the service's connections")
	if got < want {
		t.Fatalf("serve holds %d SQL connections once it listens, want its pool's %d", got, want)
	}
}
