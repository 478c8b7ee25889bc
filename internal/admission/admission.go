// Package admission is the Redis side of fairslot's booking protocol: the
// atomic gate that decides, in one round trip, whether a booking attempt may
// go on to SQL and which slot it gets. It owns the Lua scripts, the key
// layout and the translation of script replies into booking errors.
//
// Every key of one hospital shares the hash tag {<hospital id>}, so each
// script touches a single Redis Cluster slot and runs unchanged on a cluster
// sharded by hospital. The key layout is described in docs/design.md.
package admission

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"fairslot/internal/booking"
)

var (
	//go:embed common.lua
	commonLua string
	//go:embed reserve.lua
	reserveLua string
	//go:embed release.lua
	releaseLua string
	//go:embed load.lua
	loadLua string
	//go:embed place.lua
	placeLua string
	//go:embed waitlist.lua
	waitlistLua string
	//go:embed drawn.lua
	drawnLua string
	//go:embed movepool.lua
	movePoolLua string
	//go:embed mark.lua
	markLua string
	//go:embed enter.lua
	enterLua string
	//go:embed unenter.lua
	unenterLua string
	//go:embed loadentries.lua
	loadEntriesLua string
	//go:embed soldout.lua
	soldOutLua string
	//go:embed redelay.lua
	redelayLua string
	//go:embed turn.lua
	turnLua string
	//go:embed pend.lua
	pendLua string
	//go:embed moveperson.lua
	movePersonLua string
)

// script builds a script with the shared functions in front.
func script(body string) *redis.Script { return redis.NewScript(commonLua + "\n" + body) }

// Gate implements booking.Admission over Redis.
type Gate struct {
	rdb     redis.UniversalClient
	prefix  string
	reserve *redis.Script
	release *redis.Script
	load    *redis.Script
	place   *redis.Script
	wait    *redis.Script
	drawn   *redis.Script
	move    *redis.Script
	mark    *redis.Script
	enter   *redis.Script
	unenter *redis.Script
	loadEnt *redis.Script
	soldOut *redis.Script
	redelay *redis.Script
	turn    *redis.Script
	pend    *redis.Script
	person  *redis.Script
	latency *prometheus.HistogramVec
}

// Gate is every narrow admission port of the domain; the whole
// (booking.Admission) is what cmd/fairslot wires.
var (
	_ booking.Admission   = (*Gate)(nil)
	_ booking.HoldGate    = (*Gate)(nil)
	_ booking.SlotReturns = (*Gate)(nil)
	_ booking.WaitQueue   = (*Gate)(nil)
	_ booking.PoolMover   = (*Gate)(nil)
	_ booking.BarGate     = (*Gate)(nil)
	_ booking.StateKeeper = (*Gate)(nil)
	_ booking.LotteryGate = (*Gate)(nil)
)

// New returns a Gate whose keys start with prefix (for example "fs"; tests
// use a prefix of their own). The scripts are idempotent, so go-redis may
// retry them after a timeout: a retried reserve carries the same nonce and
// gets the same slot instead of a second one.
func New(rdb redis.UniversalClient, prefix string, reg prometheus.Registerer) *Gate {
	g := &Gate{
		rdb:     rdb,
		prefix:  prefix,
		reserve: script(reserveLua),
		release: script(releaseLua),
		load:    script(loadLua),
		place:   script(placeLua),
		wait:    script(waitlistLua),
		drawn:   script(drawnLua),
		move:    script(movePoolLua),
		mark:    redis.NewScript(markLua),
		enter:   script(enterLua),
		unenter: script(unenterLua),
		soldOut: script(soldOutLua),
		loadEnt: script(loadEntriesLua),
		redelay: script(redelayLua),
		turn:    script(turnLua),
		pend:    script(pendLua),
		person:  redis.NewScript(movePersonLua),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "fairslot_redis_duration_seconds",
			Help:    "Latency of admission operations in Redis, by operation.",
			Buckets: []float64{.0002, .0005, .001, .002, .005, .01, .025, .05, .1, .25, 1},
		}, []string{"op"}),
	}
	if reg != nil {
		reg.MustRegister(g.latency)
	}
	return g
}

// Preload loads the scripts into Redis so the first booking attempts do not
// pay for an EVAL fallback.
func (g *Gate) Preload(ctx context.Context) error {
	for _, s := range []*redis.Script{g.reserve, g.release, g.load, g.place, g.wait, g.drawn, g.move, g.mark, g.enter, g.unenter, g.loadEnt, g.redelay, g.turn, g.pend, g.person} {
		if err := s.Load(ctx, g.rdb).Err(); err != nil {
			return fmt.Errorf("load script: %w", err)
		}
	}
	return nil
}

func (g *Gate) observe(op string, start time.Time) {
	g.latency.WithLabelValues(op).Observe(time.Since(start).Seconds())
}

// Ping checks that Redis answers.
func (g *Gate) Ping(ctx context.Context) error {
	if err := g.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("ping redis: %w", err)
	}
	return nil
}

// unavailable turns a Redis failure into the domain's 503: nothing was
// booked, retry later. The cause is kept for the log.
func unavailable(op string, err error) error {
	return fmt.Errorf("%s: %w: %w", op, booking.ErrUnavailable, err)
}

// Reserve runs reserve.lua.
func (g *Gate) Reserve(ctx context.Context, r booking.Reservation) (int, bool, error) {
	k := g.keys(r.HospitalID)
	keys := []string{
		k.record(r.BookingID), k.meta(r.SessionID), k.bar(r.IdentityKey), k.identity(r.IdentityKey),
		k.free(r.SessionID, r.Channel), k.held(r.SessionID), k.pending(), k.loaded(),
	}
	args := []any{
		r.BookingID, r.Nonce, string(r.Channel), r.SessionID, r.VisitDate, r.DepartmentID, r.Week,
		r.Month, r.Today, r.Policy.PerDay, r.Policy.PerWeek, r.Policy.PerMonth,
		r.HoldFor.Milliseconds(), r.KeepUntil.UnixMilli(), r.IdentityKey, flag(r.Draw),
	}
	start := time.Now()
	keys, args, err := g.withLimits(ctx, r.Limits, keys, args, start)
	if err != nil {
		return 0, false, err
	}
	res, err := g.reserve.Run(ctx, g.rdb, keys, args...).StringSlice()
	g.observe("reserve", start)
	if err != nil {
		return 0, false, unavailable("reserve", err)
	}
	if err := rateLimited(res, r.Limits, start); err != nil {
		return 0, false, err
	}
	return reserveReply(res, r.Location)
}

// SoldOut runs soldout.lua: whether the pool is still empty, its channel
// released (a lottery drawn) and its hospital's state whole.
func (g *Gate) SoldOut(ctx context.Context, s *booking.Session, ch booking.Channel) (bool, error) {
	k := g.keys(s.HospitalID)
	start := time.Now()
	n, err := g.soldOut.Run(ctx, g.rdb, []string{k.meta(s.ID), k.free(s.ID, ch), k.loaded()}, string(ch)).Int()
	g.observe("sold_out", start)
	if err != nil {
		return false, unavailable("sold out", err)
	}
	return n == 1, nil
}

// reserveReply translates reserve.lua's reply.
func reserveReply(res []string, loc *time.Location) (int, bool, error) {
	if len(res) == 0 {
		return 0, false, fmt.Errorf("reserve: empty reply")
	}
	switch res[0] {
	case "ok", "replay":
		if len(res) < 2 {
			return 0, false, fmt.Errorf("reserve: reply %q has no slot", res[0])
		}
		n, err := strconv.Atoi(res[1])
		if err != nil {
			return 0, false, fmt.Errorf("reserve: bad slot %q", res[1])
		}
		return n, res[0] == "replay", nil
	case "sold_out":
		if len(res) > 1 && res[1] == "pending" {
			return 0, false, errSoldOutPending
		}
	}
	return 0, false, replyError("reserve", res, loc)
}

// errSoldOutPending is reserve.lua's sold_out while holds of the hospital are
// pending: a sold_out still (errors.Is), made once.
var errSoldOutPending error = fmt.Errorf("%w: %w", booking.ErrSoldOut, booking.ErrCommitsPending)

// replyError translates an admission script's refusal; a time it names (a
// bar's end) is said in loc, the hospital's zone (nil: the stand-in zone).
func replyError(op string, res []string, loc *time.Location) error {
	switch res[0] {
	case "not_released", "lottery_pending":
		// lottery_pending: what the draw leaves is served first-come once
		// the draw is done.
		return booking.ErrNotReleased
	case "state_missing":
		return fmt.Errorf("%s: %w", op, booking.ErrStateMissing)
	case "bad_keep_until":
		return fmt.Errorf("%s: KeepUntil is not in the future", op)
	case "patient_barred":
		if len(res) > 1 {
			if ms, err := strconv.ParseInt(res[1], 10, 64); err == nil {
				if loc == nil {
					loc = booking.StandInLocation()
				}
				until := time.UnixMilli(ms).In(loc)
				return booking.Errorf(booking.ErrPatientBarred, "this patient may not book until %s", until.Format(time.RFC3339))
			}
		}
		return booking.ErrPatientBarred
	}
	if e, ok := rejections[res[0]]; ok {
		return e
	}
	return fmt.Errorf("%s: unknown reply %q", op, res[0])
}

var rejections = map[string]*booking.Error{
	"session_not_found":    booking.ErrSessionNotFound,
	"channel_closed":       booking.ErrChannelClosed,
	"already_booked":       booking.ErrAlreadyBooked,
	"quota_day_department": booking.ErrQuotaDayDept,
	"quota_day":            booking.ErrQuotaDay,
	"quota_week":           booking.ErrQuotaWeek,
	"quota_month":          booking.ErrQuotaMonth,
	"sold_out":             booking.ErrSoldOut,
	"already_entered":      booking.ErrAlreadyEntered,
}

// Confirm removes a hold from the pending set once SQL has its row.
func (g *Gate) Confirm(ctx context.Context, hospitalID string, bookingIDs ...string) error {
	if len(bookingIDs) == 0 {
		return nil
	}
	start := time.Now()
	err := g.rdb.ZRem(ctx, g.keys(hospitalID).pending(), toAny(bookingIDs)...).Err()
	g.observe("confirm", start)
	if err != nil {
		return unavailable("confirm", err)
	}
	return nil
}

// Pend runs pend.lua: the hold is pending again for the given time.
func (g *Gate) Pend(ctx context.Context, hospitalID, bookingID string, pendFor time.Duration) error {
	k := g.keys(hospitalID)
	start := time.Now()
	err := g.pend.Run(ctx, g.rdb, []string{k.pending(), k.record(bookingID)}, bookingID, pendFor.Milliseconds()).Err()
	g.observe("pend", start)
	if err != nil {
		return unavailable("pend", err)
	}
	return nil
}

// Release runs release.lua with the pool or drop route.
func (g *Gate) Release(ctx context.Context, h booking.Hold, how booking.Release) error {
	route := "drop"
	if how.ReturnSlot {
		route = "pool"
	}
	res, err := g.runRelease(ctx, h, h.Channel, route, how, booking.Return{}, nil, false)
	if err != nil {
		return err
	}
	if res.released < 0 {
		return booking.ErrHoldPending
	}
	return nil
}

// Return runs release.lua with the returned or reissue route, over the
// waitlist's head in steps (handOut).
func (g *Gate) Return(ctx context.Context, h booking.Hold, r booking.Return) (booking.Placement, error) {
	route, to := "returned", h.Channel
	if r.Reissue {
		route, to = "reissue", r.To
	}
	return g.handOut(ctx, h.HospitalID, h.SessionID, "return", func(cands []booking.WaitlistRef, last bool) (booking.Placement, error) {
		res, err := g.runRelease(ctx, h, to, route, booking.Release{}, r, cands, last)
		return res.Placement, err
	})
}

// handOut runs step, one placing script over the head of the session's
// waitlist read just before, until the slot is placed. It reads the head
// again when the line changed under the script ("retry", at most
// maxRetries times in all) and reads on when every candidate was passed by
// with more of the line behind them ("more", common.lua pass_by: at most
// maxPassSteps steps, the last of which places the slot whatever stands
// further back). The placement's Skipped has every entry passed by, on an
// error too: they have left the line.
func (g *Gate) handOut(ctx context.Context, hospitalID, sessionID, op string,
	step func(cands []booking.WaitlistRef, last bool) (booking.Placement, error)) (booking.Placement, error) {
	var passed []string
	for retries, steps := 0, 0; retries < maxRetries; {
		cands, err := g.waitHead(ctx, hospitalID, sessionID)
		if err != nil {
			return booking.Placement{Skipped: passed}, err
		}
		pl, err := step(cands, steps == maxPassSteps-1)
		if err != nil {
			return booking.Placement{Skipped: passed}, err
		}
		switch pl.Outcome {
		case "retry":
			retries++
		case "more":
			steps++
			passed = append(passed, pl.Skipped...)
		default:
			pl.Skipped = append(passed, pl.Skipped...)
			return pl, nil
		}
	}
	return booking.Placement{Skipped: passed}, unavailable(op, errWaitlistBusy)
}

// maxRetries bounds the re-reads of a waitlist that keeps changing.
const maxRetries = 8

var errWaitlistBusy = errors.New("the waitlist changed under every attempt")

// candidateCount is how many waitlist entries a placing script may look at
// in one step: enough that a returned slot practically always finds an
// eligible one in the first.
const candidateCount = 20

// maxPassSteps bounds the steps of one hand-out: a returned slot reads on
// past up to maxPassSteps×candidateCount (1,280) entries it may not go to,
// each step one script over 20, before it is placed whatever stands further
// back. Every step takes the entries it passes by out of the line for good,
// so a crowd of them costs its scripts once, not on every returned slot.
const maxPassSteps = 64

type releaseResult struct {
	booking.Placement
	released int
	outcome  string
}

func (g *Gate) runRelease(ctx context.Context, h booking.Hold, to booking.Channel, route string, how booking.Release, r booking.Return,
	cands []booking.WaitlistRef, last bool) (releaseResult, error) {
	k := g.keys(h.HospitalID)
	keys := []string{k.record(h.BookingID), k.held(h.SessionID), k.identity(h.IdentityKey), k.free(h.SessionID, to),
		k.pending(), k.wait(h.SessionID), k.delayed(), k.round(h.SessionID), k.joins(h.SessionID)}
	args := []any{h.BookingID, h.SlotNo, flag(how.Forget), flag(how.OnlyIfExpired), route, r.Delay.Milliseconds(),
		string(h.Channel), r.HoldFor.Milliseconds(), r.KeepUntil.UnixMilli(), r.Now.UnixMilli(), r.Round.Milliseconds()}
	args = append(args, sessionArgs(h.SessionID, r.Placing)...)
	keys, args = appendCandidates(k, keys, args, cands, last)
	start := time.Now()
	res, err := g.release.Run(ctx, g.rdb, keys, args...).Slice()
	g.observe("release", start)
	if err != nil {
		return releaseResult{}, unavailable("release", err)
	}
	if len(res) < 3 {
		return releaseResult{}, fmt.Errorf("release: short reply %v", res)
	}
	n, _ := res[0].(int64)
	out := releaseResult{released: int(n), outcome: fmt.Sprint(res[1])}
	out.Placement = placement(res[1:])
	return out, nil
}

// placement reads {outcome, served, skipped...}.
func placement(res []any) booking.Placement {
	p := booking.Placement{Outcome: fmt.Sprint(res[0])}
	if len(res) > 1 {
		p.Served = fmt.Sprint(res[1])
	}
	for _, v := range res[min(2, len(res)):] {
		p.Skipped = append(p.Skipped, fmt.Sprint(v))
	}
	return p
}

// sessionArgs are the session fields a placing script needs to judge a
// waitlisted identity (common.lua session_args).
func sessionArgs(sessionID string, p booking.Placing) []any {
	return []any{sessionID, p.VisitDate, p.DepartmentID, p.Week, p.Month, p.Today,
		p.Policy.PerDay, p.Policy.PerWeek, p.Policy.PerMonth}
}

// appendCandidates adds whether this is the hand-out's last step and the
// waitlist candidates: their count and entries to ARGV, three keys each to
// KEYS (common.lua candidates).
func appendCandidates(k keyspace, keys []string, args []any, cands []booking.WaitlistRef, last bool) ([]string, []any) {
	args = append(args, flag(last), len(cands))
	for _, c := range cands {
		args = append(args, c.ID+"|"+c.IdentityKey)
		keys = append(keys, k.identity(c.IdentityKey), k.bar(c.IdentityKey), k.record(c.ID))
	}
	return keys, args
}

// waitHead reads the first entries of a session's waitlist.
func (g *Gate) waitHead(ctx context.Context, hospitalID, sessionID string) ([]booking.WaitlistRef, error) {
	entries, err := g.rdb.LRange(ctx, g.keys(hospitalID).wait(sessionID), 0, candidateCount-1).Result()
	if err != nil {
		return nil, unavailable("waitlist", err)
	}
	return parseWaitlist(entries), nil
}

func parseWaitlist(entries []string) []booking.WaitlistRef {
	out := make([]booking.WaitlistRef, 0, len(entries))
	for _, e := range entries {
		id, ik, ok := strings.Cut(e, "|")
		if ok {
			out = append(out, booking.WaitlistRef{ID: id, IdentityKey: ik})
		}
	}
	return out
}

// Delayed lists returned slots whose random delay is over.
func (g *Gate) Delayed(ctx context.Context, hospitalID string, now time.Time, limit int) ([]booking.DelayedSlot, error) {
	members, err := g.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{Key: g.keys(hospitalID).delayed(), ByScore: true, Start: "-inf",
		Stop: strconv.FormatInt(now.UnixMilli(), 10), Count: int64(limit)}).Result()
	if err != nil {
		return nil, unavailable("delayed", err)
	}
	out := make([]booking.DelayedSlot, 0, len(members))
	for _, m := range members {
		f := strings.Split(m, "|")
		if len(f) != 3 {
			continue
		}
		n, err := strconv.Atoi(f[1])
		if err != nil {
			continue
		}
		out = append(out, booking.DelayedSlot{HospitalID: hospitalID, SessionID: f[0], SlotNo: n, Channel: booking.Channel(f[2])})
	}
	return out, nil
}

// Redelay runs redelay.lua: each slot free in its pool waits delay() again
// among the returned slots (all of one hospital).
func (g *Gate) Redelay(ctx context.Context, slots []booking.DelayedSlot, delay func() time.Duration) (int, error) {
	if len(slots) == 0 {
		return 0, nil
	}
	k := g.keys(slots[0].HospitalID)
	keys := []string{k.delayed()}
	args := make([]any, 0, 3*len(slots))
	for _, d := range slots {
		keys = append(keys, k.free(d.SessionID, d.Channel))
		args = append(args, d.SessionID+"|"+strconv.Itoa(d.SlotNo)+"|"+string(d.Channel), d.SlotNo, delay().Milliseconds())
	}
	start := time.Now()
	n, err := g.redelay.Run(ctx, g.rdb, keys, args...).Int()
	g.observe("redelay", start)
	if err != nil {
		return 0, unavailable("redelay", err)
	}
	return n, nil
}

// Place runs place.lua for a delayed slot, over the waitlist's head in
// steps (handOut).
func (g *Gate) Place(ctx context.Context, d booking.DelayedSlot, p booking.Placing, to booking.Channel, when booking.PlaceWhen) (booking.Placement, error) {
	k := g.keys(d.HospitalID)
	member := d.SessionID + "|" + strconv.Itoa(d.SlotNo) + "|" + string(d.Channel)
	return g.handOut(ctx, d.HospitalID, d.SessionID, "place", func(cands []booking.WaitlistRef, last bool) (booking.Placement, error) {
		keys := []string{k.delayed(), k.held(d.SessionID), k.pending(), k.wait(d.SessionID), k.free(d.SessionID, to),
			k.round(d.SessionID), k.joins(d.SessionID)}
		args := []any{member, placeWhen[when], string(to), p.HoldFor.Milliseconds(), p.KeepUntil.UnixMilli(),
			p.Now.UnixMilli(), p.Delay.Milliseconds(), p.Round.Milliseconds()}
		args = append(args, sessionArgs(d.SessionID, p)...)
		keys, args = appendCandidates(k, keys, args, cands, last)
		start := time.Now()
		res, err := g.place.Run(ctx, g.rdb, keys, args...).Slice()
		g.observe("place", start)
		if err != nil {
			return booking.Placement{}, unavailable("place", err)
		}
		if len(res) == 0 {
			return booking.Placement{}, fmt.Errorf("place: empty reply")
		}
		return placement(res), nil
	})
}

// placeWhen is place.lua's ARGV 2 for each booking.PlaceWhen.
var placeWhen = map[booking.PlaceWhen]string{booking.PlaceIfDue: "1", booking.PlaceNow: "0", booking.PlaceReturned: "r"}

// JoinWaitlist adds an entry: to its round's joins while the round is
// open, else to the end of the line; it returns its position in the line
// (0 while its round is open).
func (g *Gate) JoinWaitlist(ctx context.Context, hospitalID, sessionID string, e booking.WaitlistRef, now time.Time) (int, error) {
	res, err := g.runWait(ctx, hospitalID, sessionID, nil, []booking.WaitlistRef{e}, now)
	if err != nil {
		return 0, unavailable("join waitlist", err)
	}
	return int(res[1]), nil
}

// Refusal runs turn.lua: why a returned slot of the session would pass the
// identity by at its turn on the waitlist (nil: it would not).
func (g *Gate) Refusal(ctx context.Context, hospitalID, sessionID, identityKey string, p booking.Placing) error {
	k := g.keys(hospitalID)
	res, err := g.turn.Run(ctx, g.rdb, []string{k.identity(identityKey), k.bar(identityKey)}, sessionArgs(sessionID, p)...).StringSlice()
	if err != nil {
		return unavailable("waitlist turn", err)
	}
	if len(res) == 0 {
		return nil
	}
	return replyError("waitlist turn", res, nil)
}

// LeaveWaitlist removes an entry.
func (g *Gate) LeaveWaitlist(ctx context.Context, hospitalID, sessionID string, e booking.WaitlistRef, now time.Time) error {
	return g.SyncWaitlist(ctx, hospitalID, sessionID, []booking.WaitlistRef{e}, nil, now)
}

// WaitRound reads when the session's latest waitlist round ends.
func (g *Gate) WaitRound(ctx context.Context, hospitalID, sessionID string) (time.Time, error) {
	ms, err := g.rdb.HGet(ctx, g.keys(hospitalID).round(sessionID), "end").Int64()
	if errors.Is(err, redis.Nil) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, unavailable("waitlist round", err)
	}
	return time.UnixMilli(ms), nil
}

// Waitlist lists a session's waitlist in order: the line, then the joins
// of open rounds by round and key (their order until the rounds end).
func (g *Gate) Waitlist(ctx context.Context, hospitalID, sessionID string) ([]booking.WaitlistRef, error) {
	k := g.keys(hospitalID)
	var line *redis.StringSliceCmd
	var joins *redis.ZSliceCmd
	if _, err := g.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		line = p.LRange(ctx, k.wait(sessionID), 0, -1)
		joins = p.ZRangeWithScores(ctx, k.joins(sessionID), 0, -1)
		return nil
	}); err != nil {
		return nil, unavailable("waitlist", err)
	}
	return append(parseWaitlist(line.Val()), parseJoins(joins.Val())...), nil
}

// parseJoins reads the joins of open rounds ("key|entry id|identity key",
// scored by the round's end).
func parseJoins(zs []redis.Z) []booking.WaitlistRef {
	out := make([]booking.WaitlistRef, 0, len(zs))
	for _, z := range zs {
		m, _ := z.Member.(string)
		key, rest, _ := strings.Cut(m, "|")
		id, ik, ok := strings.Cut(rest, "|")
		n, err := strconv.ParseUint(key, 16, 64)
		if ok && err == nil {
			out = append(out, booking.WaitlistRef{ID: id, IdentityKey: ik, RoundEnd: int64(z.Score), Key: n})
		}
	}
	return out
}

// SyncWaitlist runs waitlist.lua.
func (g *Gate) SyncWaitlist(ctx context.Context, hospitalID, sessionID string, drop, add []booking.WaitlistRef, now time.Time) error {
	if _, err := g.runWait(ctx, hospitalID, sessionID, drop, add, now); err != nil {
		return unavailable("sync waitlist", err)
	}
	return nil
}

func (g *Gate) runWait(ctx context.Context, hospitalID, sessionID string, drop, add []booking.WaitlistRef, now time.Time) ([]int64, error) {
	k := g.keys(hospitalID)
	args := []any{now.UnixMilli(), len(drop)}
	for _, e := range append(slices.Clone(drop), add...) {
		args = append(args, fmt.Sprintf("%d|%016x|%s|%s", e.RoundEnd, e.Key, e.ID, e.IdentityKey))
	}
	return g.wait.Run(ctx, g.rdb, []string{k.wait(sessionID), k.joins(sessionID), k.round(sessionID)}, args...).Int64Slice()
}

// Bar sets an identity's bar in each hospital's keyspace; the key expires
// with the bar.
func (g *Gate) Bar(ctx context.Context, hospitalIDs []string, identityKey string, until time.Time) error {
	pipe := g.rdb.Pipeline()
	for _, h := range hospitalIDs {
		pipe.Set(ctx, g.keys(h).bar(identityKey), until.UnixMilli(), 0)
		pipe.PExpireAt(ctx, g.keys(h).bar(identityKey), until)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return unavailable("bar", err)
	}
	return nil
}

// MovePerson moves a linked document's holds and bar to its person's key,
// in each hospital's keyspace (moveperson.lua); EVAL, as EVALSHA in a
// pipeline does not fall back when Redis lacks the script.
func (g *Gate) MovePerson(ctx context.Context, hospitalIDs []string, fromKey, toKey string) error {
	pipe := g.rdb.Pipeline()
	for _, h := range hospitalIDs {
		k := g.keys(h)
		g.person.Eval(ctx, pipe, []string{k.identity(fromKey), k.identity(toKey), k.bar(fromKey), k.bar(toKey)})
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return unavailable("move person", err)
	}
	return nil
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// Holds lists the holds of the given sessions of one hospital.
func (g *Gate) Holds(ctx context.Context, hospitalID string, sessionIDs []string) ([]booking.Hold, error) {
	k := g.keys(hospitalID)
	pipe := g.rdb.Pipeline()
	held := make([]*redis.MapStringStringCmd, len(sessionIDs))
	for i, sid := range sessionIDs {
		held[i] = pipe.HGetAll(ctx, k.held(sid))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, unavailable("holds", err)
	}
	var bids []string
	for _, c := range held {
		for _, bid := range c.Val() {
			bids = append(bids, bid)
		}
	}
	holds, err := g.records(ctx, hospitalID, bids)
	if err != nil || len(holds) == 0 {
		return holds, err
	}
	// Whether each hold was pending, read before the caller reads SQL: a
	// hold confirmed later was committed before, so SQL will show it.
	ids := make([]string, len(holds))
	for i, h := range holds {
		ids[i] = h.BookingID
	}
	scores, err := g.rdb.ZMScore(ctx, k.pending(), ids...).Result()
	if err != nil {
		return nil, unavailable("holds", err)
	}
	for i := range holds {
		if i < len(scores) && scores[i] != 0 {
			holds[i].PendingUntil = time.UnixMilli(int64(scores[i]))
		}
	}
	return holds, nil
}

// records reads the booking records of bids; ids without a record are left out.
func (g *Gate) records(ctx context.Context, hospitalID string, bids []string) ([]booking.Hold, error) {
	if len(bids) == 0 {
		return nil, nil
	}
	k := g.keys(hospitalID)
	pipe := g.rdb.Pipeline()
	recs := make([]*redis.StringCmd, len(bids))
	for i, bid := range bids {
		recs[i] = pipe.Get(ctx, k.record(bid))
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, unavailable("records", err)
	}
	out := make([]booking.Hold, 0, len(bids))
	for i, c := range recs {
		if h, ok := parseRecord(hospitalID, bids[i], c.Val()); ok {
			out = append(out, h)
		}
	}
	return out, nil
}

// parseRecord reads "nonce|session|slot|channel|identity key".
func parseRecord(hospitalID, bookingID, rec string) (booking.Hold, bool) {
	f := strings.Split(rec, "|")
	if len(f) != 5 {
		return booking.Hold{}, false
	}
	n, err := strconv.Atoi(f[2])
	if err != nil {
		return booking.Hold{}, false
	}
	return booking.Hold{HospitalID: hospitalID, SessionID: f[1], BookingID: bookingID, SlotNo: n,
		Channel: booking.Channel(f[3]), IdentityKey: f[4]}, true
}

// Expired lists holds whose pending deadline passed. Pending entries whose
// record is gone are dropped: nothing is left to settle.
func (g *Gate) Expired(ctx context.Context, hospitalID string, now time.Time, limit int) ([]booking.Hold, error) {
	k := g.keys(hospitalID)
	bids, err := g.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{Key: k.pending(), ByScore: true, Start: "-inf",
		Stop: strconv.FormatInt(now.UnixMilli(), 10), Count: int64(limit)}).Result()
	if err != nil {
		return nil, unavailable("expired", err)
	}
	holds, err := g.records(ctx, hospitalID, bids)
	if err != nil {
		return nil, err
	}
	if len(holds) < len(bids) {
		known := make(map[string]bool, len(holds))
		for _, h := range holds {
			known[h.BookingID] = true
		}
		for _, bid := range bids {
			if !known[bid] {
				g.rdb.ZRem(ctx, k.pending(), bid)
			}
		}
	}
	return holds, nil
}

// Load runs load.lua for one session.
func (g *Gate) Load(ctx context.Context, s *booking.Session, active []booking.Booking, stale []booking.StaleHold) error {
	k := g.keys(s.HospitalID)
	keys := []string{k.meta(s.ID), k.held(s.ID), k.pending(), k.delayed()}
	// Every channel is passed, those the session has not as closed with no
	// slot, so load.lua empties their pools too: a layout changed by two
	// administrators at once (each closing the session as it was before) left
	// the first change's pool beside the second's (reconcile --check:
	// unknown_slot, free_twice).
	pools := slices.Clone(s.Channels)
	absent := map[booking.Channel]bool{}
	for _, ch := range booking.Channels {
		if _, ok := s.Channel(ch); !ok {
			pools, absent[ch] = append(pools, booking.ChannelQuota{Channel: ch}), true
		}
	}
	args := []any{len(pools), len(active), len(stale), s.VisitDate, s.DepartmentID}
	week, month := booking.PeriodKeys(s.VisitDate)
	for _, q := range pools {
		keys = append(keys, k.free(s.ID, q.Channel))
		var slots strings.Builder
		for _, sl := range s.Slots {
			if sl.Channel == q.Channel {
				if slots.Len() > 0 {
					slots.WriteByte(',')
				}
				slots.WriteString(strconv.Itoa(sl.No))
			}
		}
		if s.Stopped() || absent[q.Channel] {
			// Closed (or no pool of the session): no release time, no
			// lottery window, no free slot.
			args = append(args, string(q.Channel), "", slots.String(), "")
			continue
		}
		args = append(args, string(q.Channel), q.ReleaseAt.UnixMilli(), slots.String(), lotteryArg(q))
	}
	keep := s.EndsAt.Add(48 * time.Hour).UnixMilli()
	for _, b := range active {
		keys = append(keys, k.identity(b.IdentityKey), k.record(b.ID))
		entry := strings.Join([]string{s.VisitDate, s.DepartmentID, week, month, s.ID, strconv.Itoa(b.SlotNo)}, "|")
		rec := strings.Join([]string{"sql", s.ID, strconv.Itoa(b.SlotNo), string(b.Channel), b.IdentityKey}, "|")
		args = append(args, b.ID, b.SlotNo, entry, rec, keep)
	}
	for _, h := range stale {
		keys = append(keys, k.identity(h.IdentityKey), k.record(h.BookingID))
		args = append(args, h.BookingID, h.SlotNo, flag(h.Forget), flag(h.Cancelled))
	}
	keys = append(keys, k.closed(s.ID)) // last: a closed session stays closed
	start := time.Now()
	err := g.load.Run(ctx, g.rdb, keys, args...).Err()
	g.observe("load", start)
	if err != nil {
		return unavailable("load", err)
	}
	return nil
}

// Remaining counts free slots per channel with one pipelined round trip.
func (g *Gate) Remaining(ctx context.Context, sessions []*booking.Session) ([]map[booking.Channel]int, error) {
	pipe := g.rdb.Pipeline()
	cmds := make([][]*redis.IntCmd, len(sessions))
	for i, s := range sessions {
		k := g.keys(s.HospitalID)
		for _, q := range s.Channels {
			cmds[i] = append(cmds[i], pipe.ZCard(ctx, k.free(s.ID, q.Channel)))
		}
	}
	start := time.Now()
	_, err := pipe.Exec(ctx)
	g.observe("remaining", start)
	if err != nil {
		return nil, unavailable("remaining", err)
	}
	out := make([]map[booking.Channel]int, len(sessions))
	for i, s := range sessions {
		out[i] = make(map[booking.Channel]int, len(s.Channels))
		for j, q := range s.Channels {
			out[i][q.Channel] = int(cmds[i][j].Val())
		}
	}
	return out, nil
}

// HeldForWaitlist counts each session's slots held for its waitlist's round
// (the `slot:<n>` marks of its round hash, which place.lua drops as it
// hands a slot out) and reads when the round ends.
func (g *Gate) HeldForWaitlist(ctx context.Context, sessions []*booking.Session) ([]booking.WaitlistHold, error) {
	pipe := g.rdb.Pipeline()
	cmds := make([]*redis.MapStringStringCmd, len(sessions))
	for i, s := range sessions {
		cmds[i] = pipe.HGetAll(ctx, g.keys(s.HospitalID).round(s.ID))
	}
	start := time.Now()
	_, err := pipe.Exec(ctx)
	g.observe("held_for_waitlist", start)
	if err != nil {
		return nil, unavailable("held for waitlist", err)
	}
	out := make([]booking.WaitlistHold, len(sessions))
	for i, c := range cmds {
		for f, v := range c.Val() {
			switch {
			case strings.HasPrefix(f, "slot:"):
				out[i].Slots++
			case f == "end":
				if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
					out[i].Until = time.UnixMilli(ms)
				}
			}
		}
		if out[i].Slots == 0 {
			out[i].Until = time.Time{}
		}
	}
	return out, nil
}

// MoveFree runs movepool.lua: up to n free slots (the latest first) leave
// the from pool for the delayed set as the to pool's, each waiting out a
// delay() (free in no pool until Place hands it out with PlaceReturned);
// with slots given (n 0), exactly those go back: parked (or free) as the
// from pool's, to the to pool. It
// returns the slots moved and, when none was free to move, how many of the
// from pool's slots are held for the waitlist's round.
func (g *Gate) MoveFree(ctx context.Context, s *booking.Session, from, to booking.Channel, n int, releaseAt time.Time, slots []int,
	delay func() time.Duration) ([]int, int, error) {
	k := g.keys(s.HospitalID)
	args := []any{n, string(to), releaseAt.UnixMilli(), s.ID, string(from)}
	if len(slots) > 0 {
		args[0] = 0
		for _, sl := range slots {
			args = append(args, sl)
		}
	} else {
		for range n {
			var d time.Duration
			if delay != nil {
				d = delay()
			}
			args = append(args, d.Milliseconds())
		}
	}
	start := time.Now()
	res, err := g.move.Run(ctx, g.rdb, []string{k.meta(s.ID), k.free(s.ID, from), k.free(s.ID, to), k.delayed(), k.round(s.ID)},
		args...).Int64Slice()
	g.observe("move_pool", start)
	if err != nil {
		return nil, 0, unavailable("move pool", err)
	}
	if len(res) == 0 {
		return nil, 0, fmt.Errorf("move pool: empty reply")
	}
	out := make([]int, 0, len(res)-1)
	for _, v := range res[1:] {
		out = append(out, int(v))
	}
	return out, int(res[0]), nil
}

// Close stops admission to a session in one MULTI: every channel's release
// time and lottery window go (reserve.lua then answers channel_closed,
// enter.lua not_lottery), the free pools are emptied and the waitlist
// dropped (a slot returned meanwhile waits out its delay instead of being
// handed on). The holds, the seed and drawn marks and the delayed returns
// stay: Load (reconciliation) rebuilds the session from SQL, open or not.
func (g *Gate) Close(ctx context.Context, s *booking.Session, hold time.Duration) error {
	k := g.keys(s.HospitalID)
	start := time.Now()
	_, err := g.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, k.closed(s.ID), "1", hold)
		for _, c := range booking.Channels {
			p.HDel(ctx, k.meta(s.ID), "rel:"+string(c), "lot:"+string(c))
			p.Del(ctx, k.free(s.ID, c))
		}
		p.Del(ctx, k.wait(s.ID))  // a returned slot is handed to nobody
		p.Del(ctx, k.round(s.ID)) // nor held for anybody
		p.Del(ctx, k.joins(s.ID))
		return nil
	})
	g.observe("close", start)
	if err != nil {
		return unavailable("close", err)
	}
	return nil
}

// Reopen drops Close's mark, so the next Load opens the session as SQL
// says.
func (g *Gate) Reopen(ctx context.Context, s *booking.Session) error {
	if err := g.rdb.Del(ctx, g.keys(s.HospitalID).closed(s.ID)).Err(); err != nil {
		return unavailable("reopen", err)
	}
	return nil
}
