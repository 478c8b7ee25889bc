package admission

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// The state under a prefix is one database's: <p>:owner names the origin
// (cockroach.DB.Origin) of the database it was built from. A restored copy
// served beside production with the same Redis and prefix rewrote
// production's holds and quota counters with the backup's (review21b H3);
// an instance of another database now refuses to start on it.
func (g *Gate) owner() string { return g.prefix + ":owner" }

// Own claims the state for origin when no database holds it (a new
// prefix, or a Redis that lost everything, whose state the reload rebuilds
// from this database anyway), and returns the origin that holds it: origin
// itself, or the one that was there first.
func (g *Gate) Own(ctx context.Context, origin string) (string, error) {
	for range 2 {
		ok, err := g.rdb.SetNX(ctx, g.owner(), origin, 0).Result()
		if err != nil {
			return "", fmt.Errorf("claim the redis state: %w", err)
		}
		if ok {
			return origin, nil
		}
		holder, err := g.rdb.Get(ctx, g.owner()).Result()
		if errors.Is(err, redis.Nil) {
			continue // removed between the two: claim it again
		}
		if err != nil {
			return "", fmt.Errorf("read the redis state's database: %w", err)
		}
		return holder, nil
	}
	return "", errors.New("claim the redis state: its owner key keeps disappearing")
}

// HandOver gives the state to origin whichever database held it, and
// returns that one ("" none): after a real restore, with every instance of
// the old database stopped (`fairslot reconcile --hand-over`).
func (g *Gate) HandOver(ctx context.Context, origin string) (string, error) {
	was, err := g.rdb.SetArgs(ctx, g.owner(), origin, redis.SetArgs{Get: true}).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return "", fmt.Errorf("hand the redis state over: %w", err)
	}
	return was, nil
}
