package realname

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Budget is the hospital's daily allowance of paid calls to the gateway,
// shared by the instances. Spend takes one call from today's; false once
// today's is spent. An error (the store unreachable) lets the call
// through: the budget guards the bill, not the check.
type Budget interface {
	Spend(ctx context.Context) (bool, error)
}

// RedisBudget is a Budget counted in Redis, one counter a day: the day in
// the hospital's time zone, as its provider bills, so the budget is whole
// again at local midnight on every instance at once.
type RedisBudget struct {
	rdb    redis.Cmdable
	prefix string
	perDay int64
	loc    *time.Location
	now    func() time.Time
}

// NewRedisBudget allows perDay calls a day (a day in loc, from now's
// clock, time.Now when nil), counted under prefix in rdb.
func NewRedisBudget(rdb redis.Cmdable, prefix string, perDay int64, loc *time.Location, now func() time.Time) *RedisBudget {
	if now == nil {
		now = time.Now
	}
	return &RedisBudget{rdb: rdb, prefix: prefix, perDay: perDay, loc: loc, now: now}
}

// Spend counts one call in today's counter, which outlives the day by a
// day (for a look afterwards) and then goes.
func (b *RedisBudget) Spend(ctx context.Context) (bool, error) {
	key := b.prefix + ":realname-budget:" + b.now().In(b.loc).Format(time.DateOnly)
	var incr *redis.IntCmd
	_, err := b.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		incr = p.Incr(ctx, key)
		p.Expire(ctx, key, 48*time.Hour)
		return nil
	})
	if err != nil {
		return true, fmt.Errorf("real-name budget: %w", err)
	}
	return incr.Val() <= b.perDay, nil
}
