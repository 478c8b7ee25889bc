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

// Lottery release in Redis: enter.lua admits an entry in one round trip
// and holds its quota; unenter.lua forgets entries (withdrawn, decided by the
// draw, failed to commit); loadentries.lua is their reconciliation. A
// lottery pool's meta fields (lot:, seed:, drawn:) are written by load.lua
// and Drawn; reserve.lua keeps a lottery pool closed to first-come until
// drawn.

// lotteryArg is a pool's lottery field for load.lua: empty for first-come,
// else "opens ms|draw ms|seed committed|drawn". A lottery pool takes no
// entries before its seed is committed, and no booking before it is drawn.
func lotteryArg(q booking.ChannelQuota) string {
	if !q.IsLottery() {
		return ""
	}
	return strconv.FormatInt(q.OpensAt.UnixMilli(), 10) + "|" + strconv.FormatInt(q.DrawAt.UnixMilli(), 10) + "|" +
		flag(q.Draw != nil) + "|" + flag(q.Draw != nil && q.Draw.Status == booking.DrawDrawn)
}

// Enter runs enter.lua.
func (g *Gate) Enter(ctx context.Context, r booking.Reservation) (bool, error) {
	k := g.keys(r.HospitalID)
	keys := []string{k.entry(r.BookingID), k.meta(r.SessionID), k.bar(r.IdentityKey), k.identity(r.IdentityKey),
		k.entries(r.SessionID), k.entriesPending(), k.loaded()}
	args := []any{
		r.BookingID, r.Nonce, string(r.Channel), r.SessionID, r.VisitDate, r.DepartmentID, r.Week,
		r.Month, r.Today, r.Policy.PerDay, r.Policy.PerWeek, r.Policy.PerMonth,
		r.HoldFor.Milliseconds(), r.KeepUntil.UnixMilli(), r.IdentityKey,
	}
	start := time.Now()
	keys, args, err := g.withLimits(ctx, r.Limits, keys, args, start)
	if err != nil {
		return false, err
	}
	res, err := g.enter.Run(ctx, g.rdb, keys, args...).StringSlice()
	g.observe("enter", start)
	if err != nil {
		return false, unavailable("enter", err)
	}
	if len(res) == 0 {
		return false, fmt.Errorf("enter: empty reply")
	}
	if err := rateLimited(res, r.Limits, start); err != nil {
		return false, err
	}
	switch res[0] {
	case "ok":
		return false, nil
	case "replay":
		return true, nil
	case "window_closed":
		return false, booking.ErrWindowClosed
	case "not_lottery":
		// The catalog knows a lottery pool whose seed Redis has not seen
		// committed yet: it takes entries once the window is loaded.
		return false, booking.ErrNotReleased
	}
	return false, replyError("enter", res, r.Location)
}

// withLimits adds the caller's shared rate limits to a script's keys and
// arguments (common.lua shared_limits), for the script to count first in
// its own round trip. On a cluster the limits' keys live in other slots
// than the hospital's, where a script cannot reach them: they are counted
// first, on their own (one round trip, the nodes at once), and an attempt
// over one is refused here.
func (g *Gate) withLimits(ctx context.Context, limits []booking.SharedLimit, keys []string, args []any, start time.Time) ([]string, []any, error) {
	if len(limits) == 0 {
		return keys, args, nil
	}
	if _, cluster := g.rdb.(*redis.ClusterClient); cluster {
		return keys, args, g.countLimits(ctx, limits, start)
	}
	for _, l := range limits {
		keys = append(keys, l.Key)
		args = append(args, l.Limit, l.Period.Milliseconds())
	}
	return keys, args, nil
}

// rateLimited is the refusal of a script's rate_limited reply (nil for
// any other reply): which of limits was over, and for how long.
func rateLimited(res []string, limits []booking.SharedLimit, start time.Time) error {
	if len(res) < 3 || res[0] != "rate_limited" || len(limits) == 0 {
		return nil
	}
	ttl, _ := strconv.ParseInt(res[1], 10, 64)
	i, _ := strconv.Atoi(res[2])
	return limitReached(start, ttl, limits[min(max(i, 1), len(limits))-1].Period)
}

// limitIncr is ulule/limiter's Redis store's incr script, word for word
// (drivers/store/redis): the one the API's limiter runs for every other
// request, here for a cluster's entries (Enter).
var limitIncr = `
local key = KEYS[1]
local count = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local ret = redis.call("incrby", key, ARGV[1])
if ret == count then
	if ttl > 0 then
		redis.call("pexpire", key, ARGV[2])
	end
	return {ret, ttl}
end
ttl = redis.call("pttl", key)
return {ret, ttl}
`

// countLimits counts an attempt's shared limits on their own, in one
// pipeline, as the limiter's store does: for a cluster.
func (g *Gate) countLimits(ctx context.Context, limits []booking.SharedLimit, start time.Time) error {
	if len(limits) == 0 {
		return nil
	}
	pipe := g.rdb.Pipeline()
	cmds := make([]*redis.Cmd, len(limits))
	for i, l := range limits {
		cmds[i] = pipe.Eval(ctx, limitIncr, []string{l.Key}, 1, l.Period.Milliseconds())
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return unavailable("shared limits", err)
	}
	for i, c := range cmds {
		v, err := c.Int64Slice()
		if err != nil || len(v) != 2 {
			return unavailable("shared limits", fmt.Errorf("reply %v: %v", c.Val(), err))
		}
		if v[0] > limits[i].Limit {
			return limitReached(start, v[1], limits[i].Period)
		}
	}
	return nil
}

// limitReached is the answer to an attempt over a shared limit, with the
// wait the API's limiter gives (httpapi: the counter's expiry, in whole
// seconds, rounded up; at least 1 s).
func limitReached(now time.Time, ttlMS int64, period time.Duration) error {
	expires := now.Add(period)
	if ttlMS > 0 {
		expires = now.Add(time.Duration(ttlMS) * time.Millisecond)
	}
	wait := int(time.Unix(expires.Unix(), 0).Sub(now).Seconds() + 0.999)
	return &booking.LimitError{Wait: time.Duration(max(wait, 1)) * time.Second, Err: booking.ErrRateLimited}
}

// ConfirmEntries drops entries from the pending set once SQL has them.
func (g *Gate) ConfirmEntries(ctx context.Context, hospitalID string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	start := time.Now()
	err := g.rdb.ZRem(ctx, g.keys(hospitalID).entriesPending(), toAny(ids)...).Err()
	g.observe("confirm_entries", start)
	if err != nil {
		return unavailable("confirm entries", err)
	}
	return nil
}

func toAny(ids []string) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

// unenterBatch bounds the entries one unenter.lua call forgets, so that a
// draw of thousands does not hold Redis for long at once.
const unenterBatch = 500

// ReleaseEntries runs unenter.lua per session, in batches.
func (g *Gate) ReleaseEntries(ctx context.Context, refs []booking.EntryRef, keepHold, onlyIfExpired bool) ([]string, error) {
	type group struct{ hospital, session string }
	groups := map[group][]booking.EntryRef{}
	var order []group
	for _, r := range refs {
		gk := group{r.HospitalID, r.SessionID}
		if _, ok := groups[gk]; !ok {
			order = append(order, gk)
		}
		groups[gk] = append(groups[gk], r)
	}
	var skipped []string
	for _, gk := range order {
		list := groups[gk]
		k := g.keys(gk.hospital)
		for len(list) > 0 {
			n := min(len(list), unenterBatch)
			keys := []string{k.entries(gk.session), k.entriesPending()}
			args := []any{flag(onlyIfExpired), flag(keepHold)}
			for _, r := range list[:n] {
				keys = append(keys, k.entry(r.EntryID), k.identity(r.IdentityKey))
				args = append(args, r.EntryID)
			}
			list = list[n:]
			start := time.Now()
			res, err := g.unenter.Run(ctx, g.rdb, keys, args...).StringSlice()
			g.observe("unenter", start)
			if err != nil {
				return skipped, unavailable("release entries", err)
			}
			skipped = append(skipped, res...)
		}
	}
	return skipped, nil
}

// ExpiredEntries lists entries whose pending deadline passed; entries whose
// record is gone leave the pending set (nothing is left to settle).
func (g *Gate) ExpiredEntries(ctx context.Context, hospitalID string, now time.Time, limit int) ([]booking.EntryRef, error) {
	k := g.keys(hospitalID)
	ids, err := g.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{Key: k.entriesPending(), ByScore: true, Start: "-inf",
		Stop: strconv.FormatInt(now.UnixMilli(), 10), Count: int64(limit)}).Result()
	if err != nil || len(ids) == 0 {
		if err != nil {
			return nil, unavailable("expired entries", err)
		}
		return nil, nil
	}
	pipe := g.rdb.Pipeline()
	recs := make([]*redis.StringCmd, len(ids))
	for i, id := range ids {
		recs[i] = pipe.Get(ctx, k.entry(id))
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, unavailable("expired entries", err)
	}
	var out []booking.EntryRef
	var gone []any
	for i, c := range recs {
		f := strings.Split(c.Val(), "|")
		if len(f) != 4 {
			gone = append(gone, ids[i])
			continue
		}
		out = append(out, booking.EntryRef{HospitalID: hospitalID, SessionID: f[1], EntryID: ids[i],
			Channel: booking.Channel(f[2]), IdentityKey: f[3]})
	}
	if len(gone) > 0 {
		g.rdb.ZRem(ctx, k.entriesPending(), gone...)
	}
	return out, nil
}

// Entries lists the live entries of the given sessions.
func (g *Gate) Entries(ctx context.Context, hospitalID string, sessionIDs []string) ([]booking.EntryRef, error) {
	k := g.keys(hospitalID)
	pipe := g.rdb.Pipeline()
	cmds := make([]*redis.MapStringStringCmd, len(sessionIDs))
	for i, sid := range sessionIDs {
		cmds[i] = pipe.HGetAll(ctx, k.entries(sid))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, unavailable("entries", err)
	}
	var out []booking.EntryRef
	for i, c := range cmds {
		for id, v := range c.Val() {
			ch, ik, _ := strings.Cut(v, "|")
			out = append(out, booking.EntryRef{HospitalID: hospitalID, SessionID: sessionIDs[i], EntryID: id,
				Channel: booking.Channel(ch), IdentityKey: ik})
		}
	}
	return out, nil
}

// LoadEntries runs loadentries.lua for one session.
func (g *Gate) LoadEntries(ctx context.Context, s *booking.Session, live []booking.Entry, stale []booking.EntryRef) error {
	k := g.keys(s.HospitalID)
	keys := []string{k.entries(s.ID), k.entriesPending()}
	args := []any{len(live), len(stale)}
	week, month := booking.PeriodKeys(s.VisitDate)
	hold := strings.Join([]string{s.VisitDate, s.DepartmentID, week, month, s.ID, "E"}, "|")
	keep := s.EndsAt.Add(48 * time.Hour).UnixMilli()
	for _, e := range live {
		keys = append(keys, k.entry(e.ID), k.identity(e.IdentityKey))
		args = append(args, e.ID, hold, "sql|"+s.ID+"|"+string(e.Channel)+"|"+e.IdentityKey,
			string(e.Channel)+"|"+e.IdentityKey, keep)
	}
	for _, r := range stale {
		keys = append(keys, k.entry(r.EntryID), k.identity(r.IdentityKey))
		args = append(args, r.EntryID)
	}
	start := time.Now()
	err := g.loadEnt.Run(ctx, g.rdb, keys, args...).Err()
	g.observe("load_entries", start)
	if err != nil {
		return unavailable("load entries", err)
	}
	return nil
}

// Drawn marks a pool's draw done (drawn.lua): reserve.lua serves the pool
// first-come from then on, once what the draw left is held for the
// waitlist's round (with round > 0).
func (g *Gate) Drawn(ctx context.Context, s *booking.Session, ch booking.Channel, now time.Time, round time.Duration) (int, error) {
	k := g.keys(s.HospitalID)
	n, err := g.drawn.Run(ctx, g.rdb, []string{k.meta(s.ID), k.free(s.ID, ch), k.round(s.ID), k.delayed()},
		s.ID, string(ch), now.UnixMilli(), round.Milliseconds()).Int()
	if err != nil {
		return 0, unavailable("drawn", err)
	}
	return n, nil
}
