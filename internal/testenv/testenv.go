// Package testenv gives tests the real Redis and PostgreSQL that `make test`
// starts (deploy/local/services.sh), and the Redis Cluster it also starts
// (services.sh start-cluster). A test that needs one fails, never
// skips, when it is missing: a green run must mean the real path was tested.
package testenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"fairslot/internal/cockroach"
)

// RedisAddrEnv, RedisPasswordEnv, RedisClusterEnv and DatabaseURLEnv name
// the variables `make test` sets.
const (
	RedisAddrEnv     = "FAIRSLOT_TEST_REDIS_ADDR"
	RedisPasswordEnv = "FAIRSLOT_TEST_REDIS_PASSWORD" // of the Redis and of the cluster's nodes
	RedisClusterEnv  = "FAIRSLOT_TEST_REDIS_CLUSTER"  // comma-separated node addresses
	DatabaseURLEnv   = "FAIRSLOT_TEST_DATABASE_URL"
)

func need(t testing.TB, env string) string {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		t.Fatalf("%s is not set: run the tests with `make test`, which starts Redis and PostgreSQL", env)
	}
	return v
}

// RedisPassword is the password of the test Redis and Redis Cluster
// (services.sh makes one per data folder).
func RedisPassword() string { return os.Getenv(RedisPasswordEnv) }

// Token returns a short random string for names that must not collide
// between tests running at the same time.
func Token() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Redis returns a client of the test Redis and a key prefix of this test's
// own, so tests can share the server without seeing each other's keys.
func Redis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: need(t, RedisAddrEnv), Password: RedisPassword()})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("test redis at %s: %v", rdb.Options().Addr, err)
	}
	prefix := "t" + Token()
	t.Cleanup(func() {
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, prefix+":*", 1000).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
		rdb.Close()
	})
	return rdb, prefix
}

// RedisCluster returns a client of the test Redis Cluster and a key prefix
// of this test's own. It fails unless every node answers with
// cluster_state:ok. The prefix has no hash tag, so keys under it spread over
// the masters by their own tags; cleanup deletes them on every master.
func RedisCluster(t testing.TB) (*redis.ClusterClient, string) {
	t.Helper()
	list := os.Getenv(RedisClusterEnv)
	if list == "" {
		t.Fatalf("%s is not set: run the tests with `make test`, which starts the Redis Cluster too "+
			"(or `deploy/local/services.sh start-cluster` and `eval \"$(deploy/local/services.sh env)\"`)", RedisClusterEnv)
	}
	var addrs []string
	for a := range strings.SplitSeq(list, ",") {
		if a = strings.TrimSpace(a); a != "" {
			addrs = append(addrs, a)
		}
	}
	if len(addrs) == 0 {
		t.Fatalf("%s lists no address", RedisClusterEnv)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, a := range addrs {
		node := redis.NewClient(&redis.Options{Addr: a, Password: RedisPassword()})
		info, err := node.ClusterInfo(ctx).Result()
		node.Close()
		if err != nil {
			t.Fatalf("test redis cluster node %s (from %s; start it with `deploy/local/services.sh start-cluster`): %v",
				a, RedisClusterEnv, err)
		}
		if !slices.Contains(strings.Fields(info), "cluster_state:ok") {
			t.Fatalf("test redis cluster node %s (from %s) is not cluster_state:ok:\n%s", a, RedisClusterEnv, info)
		}
	}
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, Password: RedisPassword()})
	var masters atomic.Int32
	err := rdb.ForEachMaster(ctx, func(context.Context, *redis.Client) error {
		masters.Add(1)
		return nil
	})
	if err == nil && masters.Load() == 0 {
		err = errors.New("no master serves a slot")
	}
	if err != nil {
		rdb.Close()
		t.Fatalf("test redis cluster at %s: %v", strings.Join(addrs, ","), err)
	}
	prefix := "t" + Token()
	t.Cleanup(func() {
		defer rdb.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err := rdb.ForEachMaster(ctx, func(ctx context.Context, master *redis.Client) error {
			var keys []string
			iter := master.Scan(ctx, 0, prefix+":*", 1000).Iterator()
			for iter.Next(ctx) {
				keys = append(keys, iter.Val())
			}
			if err := iter.Err(); err != nil {
				return fmt.Errorf("scan %s: %w", master.Options().Addr, err)
			}
			// One key per DEL: keys of different slots may not share a command.
			pipe := master.Pipeline()
			for _, k := range keys {
				pipe.Del(ctx, k)
			}
			if len(keys) > 0 {
				if _, err := pipe.Exec(ctx); err != nil {
					return fmt.Errorf("delete on %s: %w", master.Options().Addr, err)
				}
			}
			return nil
		})
		if err != nil {
			t.Logf("clean up redis cluster keys %s:*: %v", prefix, err)
		}
	})
	return rdb, prefix
}

// DatabaseURL creates an empty database of this test's own and returns its
// URL; the database is dropped when the test ends.
func DatabaseURL(t testing.TB) string {
	t.Helper()
	admin := need(t, DatabaseURLEnv)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("test database at %s: %v", DatabaseURLEnv, err)
	}
	name := "fairslot_t_" + Token()
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	conn.Close(ctx)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Logf("drop test database: %v", err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			// CockroachDB (FAIRSLOT_TEST_COCKROACH_URL) has no WITH (FORCE).
			if _, err2 := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" CASCADE"); err2 != nil {
				t.Logf("drop test database: %v; %v", err, err2)
			}
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("parse %s: %v", DatabaseURLEnv, err)
	}
	u.Path = "/" + name
	return u.String()
}

// DB returns a migrated database of this test's own.
func DB(t testing.TB) *cockroach.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	db, err := cockroach.Open(ctx, DatabaseURL(t), nil)
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(db.Close)
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate test database: %v", err)
	}
	return db
}

// Must fails the test on err.
func Must(t testing.TB, err error, what string, args ...any) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", fmt.Sprintf(what, args...), err)
	}
}

// LogBuffer collects the logs of a service under test, safely from many
// goroutines: shown when a test fails, and searched by tests for what must
// never be logged.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Shanghai is the hospitals' zone, where visit dates are civil dates.
var Shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return loc
}()

// Day returns the civil date offset days from today in Asia/Shanghai.
func Day(offset int) string {
	return time.Now().In(Shanghai).AddDate(0, 0, offset).Format(time.DateOnly)
}
