package admission

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Serving returns, for each hospital, which Redis process serves its keys
// now: on a Redis Cluster the address of the master of the hospital's hash
// slot, on a single Redis its run id. A change is a failover (a replica took
// over; replication is asynchronous, so it may lack the latest holds and
// returns) or a restart, after which the hospital's state must be
// reconciled with SQL.
//
// On a cluster it first asks the client to reload its map of the slots. The
// client reloads it by itself only every 60 s or after a MOVED answer, and a
// dead master answers nothing: without this, attempts on the slots of a
// failed master kept going to its address for up to a minute after its
// replica had taken over (measured: 54 s). The reload runs in the
// background, trying the nodes in turn until one answers, so each call sees
// the map of the call before: one watch period late.
func (g *Gate) Serving(ctx context.Context, hospitalIDs []string) ([]string, error) {
	out := make([]string, len(hospitalIDs))
	c, ok := g.rdb.(*redis.ClusterClient)
	if !ok {
		info, err := g.rdb.Info(ctx, "server").Result()
		if err != nil {
			return nil, unavailable("serving", err)
		}
		run := infoField(info, "run_id")
		if run == "" {
			return nil, fmt.Errorf("serving: INFO server has no run_id")
		}
		for i := range out {
			out[i] = run
		}
		return out, nil
	}
	c.ReloadState(ctx)
	for i, h := range hospitalIDs {
		m, err := c.MasterForKey(ctx, g.keys(h).pending())
		if err != nil {
			return nil, unavailable("serving", err)
		}
		out[i] = m.Options().Addr
	}
	return out, nil
}

// Overdue counts the holds whose pending deadline has passed, over the
// given hospitals: the sweeper's backlog. A few are normal between sweeps; a
// growing number means the sweeper is not running or cannot reach SQL.
func (g *Gate) Overdue(ctx context.Context, hospitalIDs []string, now time.Time) (int64, error) {
	if len(hospitalIDs) == 0 {
		return 0, nil
	}
	pipe := g.rdb.Pipeline()
	counts := make([]*redis.IntCmd, len(hospitalIDs))
	max := strconv.FormatInt(now.UnixMilli(), 10)
	for i, h := range hospitalIDs {
		counts[i] = pipe.ZCount(ctx, g.keys(h).pending(), "-inf", max)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, unavailable("overdue", err)
	}
	var n int64
	for _, c := range counts {
		n += c.Val()
	}
	return n, nil
}

// infoField reads one field of an INFO reply.
func infoField(info, name string) string {
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+":"); ok {
			return v
		}
	}
	return ""
}
