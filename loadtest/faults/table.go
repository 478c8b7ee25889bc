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
		cut("Redis path paused 8 s", (*Run).RedisPath, (*Proxy).Pause, 8*time.Second),
		cut("Redis connections dropped, refused 5 s", (*Run).RedisPath, (*Proxy).Drop, 5*time.Second),
		cut("Redis connections reset", (*Run).RedisPath, (*Proxy).Reset, 0),
		cut("SQL path paused 8 s", (*Run).SQLPath, (*Proxy).Pause, 8*time.Second),
		cut("SQL connections dropped, refused 5 s", (*Run).SQLPath, (*Proxy).Drop, 5*time.Second),
		cut("SQL connections reset", (*Run).SQLPath, (*Proxy).Reset, 0),
	}
}

// cut is a fault of a path: act on its proxy, and after d let it flow again.
func cut(name string, path func(*Run) *Proxy, act func(*Proxy), d time.Duration) Fault {
	return Fault{Name: name, Instances: 1, Inject: func(ctx context.Context, r *Run) error {
		act(path(r))
		if d > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(d):
			}
			r.Ended()
			path(r).Resume()
		}
		return nil
	}}
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
