package main

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// scriptFlush empties Redis's script cache, as a restart or an operator
// would: the service's EVALSHA calls meet NOSCRIPT.
func scriptFlush(ctx context.Context, addr string) error {
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	return c.ScriptFlush(ctx).Err()
}
