package main

import (
	"context"
	"fmt"
	"io"
	"time"
)

// faultTable is the table of docs/reliability.md: each fault the issue
// names, injected once at 30% of the load.
func faultTable() []Fault {
	sleep := func(ctx context.Context, d time.Duration) {
		select {
		case <-ctx.Done():
		case <-time.After(d):
		}
	}
	return []Fault{
		{Name: "service kill -9, restarted at once", Instances: 1, Inject: func(ctx context.Context, r *Run) error {
			r.Instances[0].Kill()
			r.Ended() // a supervisor starts it again at once
			return r.Instances[0].Start(ctx)
		}},
		{Name: "one of two instances kill -9", Instances: 2, Inject: func(ctx context.Context, r *Run) error {
			r.Instances[1].Kill() // and stays dead: the client retries on the other
			return nil
		}},
		{Name: "Redis kill -9, restarted from its AOF after 2 s", Instances: 1, Inject: func(ctx context.Context, r *Run) error {
			r.Redis().Kill()
			sleep(ctx, 2*time.Second)
			r.Ended()
			return r.Redis().Restart(ctx, false)
		}},
		{Name: "Redis restarted empty", Instances: 1, Inject: func(ctx context.Context, r *Run) error {
			r.Redis().Kill()
			r.Ended()
			return r.Redis().Restart(ctx, true)
		}},
		{Name: "Redis SCRIPT FLUSH", Instances: 1, Inject: func(ctx context.Context, r *Run) error {
			return scriptFlush(ctx, r.Redis().Addr())
		}},
		{Name: "PostgreSQL stop -m immediate for 10 s", Instances: 1, Postgres: true, Inject: func(ctx context.Context, r *Run) error {
			if err := r.Postgres().StopImmediate(ctx); err != nil {
				return err
			}
			sleep(ctx, 10*time.Second)
			r.Ended()
			return r.Postgres().Start(ctx)
		}},
		{Name: "Redis path paused 8 s", Instances: 1, Inject: func(ctx context.Context, r *Run) error {
			r.RedisPath().Pause()
			sleep(ctx, 8*time.Second)
			r.Ended()
			r.RedisPath().Resume()
			return nil
		}},
		{Name: "Redis connections dropped, refused 5 s", Instances: 1, Inject: func(ctx context.Context, r *Run) error {
			r.RedisPath().Drop()
			sleep(ctx, 5*time.Second)
			r.Ended()
			r.RedisPath().Resume()
			return nil
		}},
		{Name: "Redis connections reset", Instances: 1, Inject: func(ctx context.Context, r *Run) error {
			r.RedisPath().Reset()
			return nil
		}},
		{Name: "SQL path paused 8 s", Instances: 1, Inject: func(ctx context.Context, r *Run) error {
			r.SQLPath().Pause()
			sleep(ctx, 8*time.Second)
			r.Ended()
			r.SQLPath().Resume()
			return nil
		}},
		{Name: "SQL connections dropped, refused 5 s", Instances: 1, Inject: func(ctx context.Context, r *Run) error {
			r.SQLPath().Drop()
			sleep(ctx, 5*time.Second)
			r.Ended()
			r.SQLPath().Resume()
			return nil
		}},
		{Name: "SQL connections reset", Instances: 1, Inject: func(ctx context.Context, r *Run) error {
			r.SQLPath().Reset()
			return nil
		}},
	}
}

// Markdown writes the table as docs/reliability.md shows it.
func Markdown(w io.Writer, rows []Row) {
	fmt.Fprintln(w, "| fault | attempts | requests | 201s | lost | oversold | double | Redis ≠ SQL | 404s | gave up unknown | hand-overs | fault s | recovery s |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rows {
		rec := "none"
		if r.Recovery >= 0 {
			rec = fmt.Sprintf("%.2f", r.Recovery)
		}
		fmt.Fprintf(w, "| %s | %d | %d | %d | %d | %d | %d | %d | %d | %d | %d | %.1f | %s |\n", r.Fault, r.Attempts, r.Requests,
			r.Confirmed, r.Lost, r.Oversold, r.Double, r.Drift, r.NotFound, r.Unknown, r.Promoted, r.FaultFor, rec)
	}
}
