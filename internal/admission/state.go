package admission

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"fairslot/internal/booking"
)

// A hospital's state is whole when its mark (mark.lua) is there and names
// the Redis process that serves the hospital now. A Redis restarted empty
// or flushed has no mark; one restarted from its own files (AOF, RDB), or a
// replica promoted after a failover, has a mark with another run id: its
// latest writes may be lost, so the state is reloaded from SQL as well.

// States reads each hospital's mark and the run id of the Redis serving it.
func (g *Gate) States(ctx context.Context, hospitalIDs []string) ([]booking.StateStatus, error) {
	pipe := g.rdb.Pipeline()
	marks := make([]*redis.StringCmd, len(hospitalIDs))
	claims := make([]*redis.IntCmd, len(hospitalIDs))
	for i, h := range hospitalIDs {
		k := g.keys(h)
		marks[i] = pipe.Get(ctx, k.loaded())
		claims[i] = pipe.Exists(ctx, k.reloading())
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, unavailable("states", err)
	}
	out := make([]booking.StateStatus, len(hospitalIDs))
	runIDs := map[string]string{} // by node address
	for i, h := range hospitalIDs {
		mark, err := marks[i].Result()
		switch {
		case errors.Is(err, redis.Nil) && claims[i].Val() == 1:
			out[i] = booking.StateReloading
			continue
		case errors.Is(err, redis.Nil):
			out[i] = booking.StateMissing
			continue
		case err != nil:
			return nil, unavailable("states", err)
		}
		run, err := g.runID(ctx, g.keys(h).loaded(), runIDs)
		if err != nil {
			return nil, err
		}
		if markedRun, _, _ := strings.Cut(mark, "|"); markedRun != run {
			out[i] = booking.StateStale
		}
	}
	return out, nil
}

// runID returns the run id of the Redis process that serves key: the
// master of its slot on a cluster. cache holds the ids already read, by
// node address.
func (g *Gate) runID(ctx context.Context, key string, cache map[string]string) (string, error) {
	var node redis.Cmdable = g.rdb
	addr := ""
	if c, ok := g.rdb.(*redis.ClusterClient); ok {
		m, err := c.MasterForKey(ctx, key)
		if err != nil {
			return "", unavailable("run id", err)
		}
		node, addr = m, m.Options().Addr
	}
	if id, ok := cache[addr]; ok {
		return id, nil
	}
	info, err := node.Info(ctx, "server").Result()
	if err != nil {
		return "", unavailable("run id", err)
	}
	for line := range strings.SplitSeq(info, "\n") {
		if id, ok := strings.CutPrefix(strings.TrimSpace(line), "run_id:"); ok {
			cache[addr] = id
			return id, nil
		}
	}
	return "", fmt.Errorf("run id: INFO server has no run_id")
}

// BeginReload claims a hospital's reload and removes its mark.
func (g *Gate) BeginReload(ctx context.Context, hospitalID, token string, ttl time.Duration) (bool, error) {
	k := g.keys(hospitalID)
	n, err := g.mark.Run(ctx, g.rdb, []string{k.loaded(), k.reloading()}, "begin", token, ttl.Milliseconds()).Int()
	if err != nil {
		return false, unavailable("begin reload", err)
	}
	return n == 1, nil
}

// EndReload writes the mark, naming the Redis process that serves the
// hospital, if the claim is still token's.
func (g *Gate) EndReload(ctx context.Context, hospitalID, token string) (bool, error) {
	k := g.keys(hospitalID)
	run, err := g.runID(ctx, k.loaded(), map[string]string{})
	if err != nil {
		return false, err
	}
	// Read before the script: if Redis restarts in between, the claim is
	// gone with the data and the script writes nothing.
	value := run + "|" + strconv.FormatInt(time.Now().UnixMilli(), 10)
	n, err := g.mark.Run(ctx, g.rdb, []string{k.loaded(), k.reloading()}, "end", token, value).Int()
	if err != nil {
		return false, unavailable("end reload", err)
	}
	return n == 1, nil
}

// Snapshot reads a hospital's state for sessions and identities, without
// changing anything: three pipelined round trips.
func (g *Gate) Snapshot(ctx context.Context, hospitalID string, sessions []*booking.Session, identityKeys []string) (booking.AdmissionSnapshot, error) {
	k := g.keys(hospitalID)
	snap := booking.AdmissionSnapshot{Sessions: map[string]booking.SessionSnapshot{}, Identities: map[string]map[string]string{},
		Records: map[string]booking.Hold{}, Pending: map[string]time.Time{}, EntriesPending: map[string]time.Time{},
		Bars: map[string]time.Time{}}
	st, err := g.States(ctx, []string{hospitalID})
	if err != nil {
		return snap, err
	}
	snap.Status = st[0]

	type sessionCmds struct {
		meta *redis.MapStringStringCmd
		free []*redis.StringSliceCmd
		held *redis.MapStringStringCmd
		wait *redis.StringSliceCmd
		join *redis.ZSliceCmd
	}
	pipe := g.rdb.Pipeline()
	cmds := make([]sessionCmds, len(sessions))
	for i, s := range sessions {
		c := sessionCmds{meta: pipe.HGetAll(ctx, k.meta(s.ID)), held: pipe.HGetAll(ctx, k.held(s.ID)),
			wait: pipe.LRange(ctx, k.wait(s.ID), 0, -1), join: pipe.ZRangeWithScores(ctx, k.joins(s.ID), 0, -1)}
		for _, ch := range booking.Channels {
			c.free = append(c.free, pipe.ZRange(ctx, k.free(s.ID, ch), 0, -1))
		}
		cmds[i] = c
	}
	pending := pipe.ZRangeWithScores(ctx, k.pending(), 0, -1)
	entriesPending := pipe.ZRangeWithScores(ctx, k.entriesPending(), 0, -1)
	if _, err := pipe.Exec(ctx); err != nil {
		return snap, unavailable("snapshot", err)
	}
	var held []string
	for i, s := range sessions {
		c := cmds[i]
		ss := booking.SessionSnapshot{Exists: len(c.meta.Val()) > 0, Release: map[booking.Channel]time.Time{},
			Free: map[booking.Channel][]int{}, Held: map[int]string{}, Waitlist: append(parseWaitlist(c.wait.Val()), parseJoins(c.join.Val())...)}
		for f, v := range c.meta.Val() {
			if ch, ok := strings.CutPrefix(f, "rel:"); ok {
				if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
					ss.Release[booking.Channel(ch)] = time.UnixMilli(ms)
				}
			}
		}
		for j, ch := range booking.Channels {
			for _, v := range c.free[j].Val() {
				if n, err := strconv.Atoi(v); err == nil {
					ss.Free[ch] = append(ss.Free[ch], n)
				}
			}
		}
		for slot, bid := range c.held.Val() {
			if n, err := strconv.Atoi(slot); err == nil {
				ss.Held[n] = bid
				held = append(held, bid)
			}
		}
		snap.Sessions[s.ID] = ss
	}
	for _, z := range pending.Val() {
		snap.Pending[fmt.Sprint(z.Member)] = time.UnixMilli(int64(z.Score))
	}
	for _, z := range entriesPending.Val() {
		snap.EntriesPending[fmt.Sprint(z.Member)] = time.UnixMilli(int64(z.Score))
	}
	if snap.Delayed, err = g.Delayed(ctx, hospitalID, time.Now().Add(100*365*24*time.Hour), 1_000_000); err != nil {
		return snap, err
	}
	holds, err := g.records(ctx, hospitalID, held)
	if err != nil {
		return snap, err
	}
	idents := map[string]bool{}
	for _, ik := range identityKeys {
		idents[ik] = true
	}
	for _, h := range holds {
		snap.Records[h.BookingID] = h
		idents[h.IdentityKey] = true
	}
	pipe = g.rdb.Pipeline()
	hashes := map[string]*redis.MapStringStringCmd{}
	bars := map[string]*redis.StringCmd{}
	for ik := range idents {
		hashes[ik] = pipe.HGetAll(ctx, k.identity(ik))
		bars[ik] = pipe.Get(ctx, k.bar(ik))
	}
	if len(idents) > 0 {
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return snap, unavailable("snapshot", err)
		}
	}
	for ik, c := range hashes {
		if len(c.Val()) > 0 {
			snap.Identities[ik] = c.Val()
		}
		if ms, err := strconv.ParseInt(bars[ik].Val(), 10, 64); err == nil {
			snap.Bars[ik] = time.UnixMilli(ms)
		}
	}
	return snap, nil
}
