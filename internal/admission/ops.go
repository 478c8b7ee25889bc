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
// now: on a Redis Cluster the node id of the master of the hospital's hash
// slot, on a single Redis its run id. A change is a failover (a replica took
// over; replication is asynchronous, so it may lack the latest holds and
// returns) or a restart, after which the hospital's state must be
// reconciled with SQL.
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
	// CLUSTER SHARDS would do too, but CLUSTER SLOTS is what every Redis
	// from 3.0 on answers; the first node of a range is its master.
	slots, err := c.ClusterSlots(ctx).Result()
	if err != nil {
		return nil, unavailable("serving", err)
	}
	for i, h := range hospitalIDs {
		slot := keySlot(g.keys(h).pending())
		for _, r := range slots {
			if slot >= r.Start && slot <= r.End && len(r.Nodes) > 0 {
				out[i] = r.Nodes[0].ID
				break
			}
		}
		if out[i] == "" {
			return nil, unavailable("serving", fmt.Errorf("no master serves hash slot %d", slot))
		}
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

// keySlot is the Redis Cluster hash slot of a key: CRC16 (XMODEM) of its
// hash tag (the part between the first { and the next }, when not empty),
// else of the whole key, modulo 16384.
func keySlot(key string) int {
	if s := strings.IndexByte(key, '{'); s >= 0 {
		if e := strings.IndexByte(key[s+1:], '}'); e > 0 {
			key = key[s+1 : s+1+e]
		}
	}
	var crc uint16
	for i := 0; i < len(key); i++ {
		crc ^= uint16(key[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return int(crc) % 16384
}
