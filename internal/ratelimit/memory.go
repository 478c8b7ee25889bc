// Package ratelimit is an in-memory store of rate counters for
// ulule/limiter (limiter.Store), with the same fixed windows as the
// library's own memory store and a fraction of its cost per request.
//
// The API counts every request in memory, the sold-out answers of the
// release minute included (httpapi.Config.LocalStore): at 20,000 requests a
// second the library's store, which per count builds a second key string,
// reads the clock three times, goes through a sync.Map and a read-write
// lock per counter, was an eighth of the CPU of a refused attempt. This one
// reads the clock once and keeps the counters as values in sharded maps
// under a plain mutex. The counting is the library's, to the request:
// TestSameCountsAsTheLibrary.
package ratelimit

import (
	"context"
	"hash/maphash"
	"runtime"
	"sync"
	"time"

	"github.com/ulule/limiter/v3"
)

// A counter's window: count requests since it began, until expires (Unix
// ns). A request after expires begins a new window, as in the library.
type counter struct {
	count   int64
	expires int64
}

const shards = 64

type shard struct {
	mu sync.Mutex
	m  map[uint64]counter // by the key's hash
	_  [48]byte           // one shard a cache line: no false sharing of locks
}

type store struct {
	seed   maphash.Seed
	now    func() time.Time
	shards [shards]shard
}

// Store is the limiter.Store; the expired counters are swept every
// sweepEvery until it is garbage.
type Store struct {
	*store
	stop chan struct{}
}

var _ limiter.Store = (*Store)(nil)

// NewMemoryStore returns a store that drops expired counters every
// sweepEvery (0: never; an expired counter is reset on its next use
// anyway, so sweeping changes no limit, only what memory the counters of
// gone clients hold).
func NewMemoryStore(sweepEvery time.Duration) *Store {
	return newStore(sweepEvery, time.Now)
}

func newStore(sweepEvery time.Duration, now func() time.Time) *Store {
	s := &store{seed: maphash.MakeSeed(), now: now}
	for i := range s.shards {
		s.shards[i].m = make(map[uint64]counter)
	}
	w := &Store{store: s, stop: make(chan struct{})}
	if sweepEvery > 0 {
		go s.sweepEvery(sweepEvery, w.stop)
		runtime.SetFinalizer(w, func(w *Store) { close(w.stop) })
	}
	return w
}

// shard returns key's shard and its hash, the key in the shard's map.
func (s *store) shard(key string) (*shard, uint64) {
	h := maphash.String(s.seed, key)
	return &s.shards[h%shards], h
}

// add counts n requests for key now and returns the window's count and end.
func (s *store) add(key string, n int64, period time.Duration) (int64, int64) {
	return s.addHash(maphash.String(s.seed, key), n, period)
}

// addHash counts n requests for the key of hash h.
func (s *store) addHash(h uint64, n int64, period time.Duration) (int64, int64) {
	now := s.now().UnixNano()
	sh := &s.shards[h%shards]
	sh.mu.Lock()
	c, ok := sh.m[h]
	if !ok || now > c.expires {
		c = counter{expires: now + int64(period)}
	}
	c.count += n
	sh.m[h] = c
	sh.mu.Unlock()
	return c.count, c.expires
}

// Get counts one request for key.
func (s *store) Get(_ context.Context, key string, rate limiter.Rate) (limiter.Context, error) {
	count, expires := s.add(key, 1, rate.Period)
	return state(rate, count, expires), nil
}

// GetJoined counts one request for prefix+key, the same counter as
// Get(prefix+key), without making that string: the API's first tier counts
// every request twice ("ip:"+address, "acct:"+account), and the joined
// keys were garbage of each.
func (s *store) GetJoined(prefix, key string, rate limiter.Rate) limiter.Context {
	var h maphash.Hash // the hash of writes is the hash of their concatenation
	h.SetSeed(s.seed)
	h.WriteString(prefix)
	h.WriteString(key)
	count, expires := s.addHash(h.Sum64(), 1, rate.Period)
	return state(rate, count, expires)
}

// Increment counts n requests for key.
func (s *store) Increment(_ context.Context, key string, n int64, rate limiter.Rate) (limiter.Context, error) {
	count, expires := s.add(key, n, rate.Period)
	return state(rate, count, expires), nil
}

// Peek reads key's count without counting.
func (s *store) Peek(_ context.Context, key string, rate limiter.Rate) (limiter.Context, error) {
	now := s.now().UnixNano()
	sh, h := s.shard(key)
	sh.mu.Lock()
	c, ok := sh.m[h]
	sh.mu.Unlock()
	if !ok || now > c.expires {
		c = counter{expires: now + int64(rate.Period)}
	}
	return state(rate, c.count, c.expires), nil
}

// Reset forgets key's count.
func (s *store) Reset(_ context.Context, key string, rate limiter.Rate) (limiter.Context, error) {
	sh, h := s.shard(key)
	sh.mu.Lock()
	delete(sh.m, h)
	sh.mu.Unlock()
	return state(rate, 0, s.now().UnixNano()+int64(rate.Period)), nil
}

// state is the limiter.Context of a count, as the library's stores make it
// (drivers/store/common.GetContextFromState).
func state(rate limiter.Rate, count, expires int64) limiter.Context {
	ctx := limiter.Context{Limit: rate.Limit, Reset: time.Unix(0, expires).Unix(), Reached: true}
	if count <= rate.Limit {
		ctx.Remaining, ctx.Reached = rate.Limit-count, false
	}
	return ctx
}

// sweep drops the counters whose window ended before now.
func (s *store) sweep() {
	now := s.now().UnixNano()
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for k, c := range sh.m {
			if now > c.expires {
				delete(sh.m, k)
			}
		}
		sh.mu.Unlock()
	}
}

func (s *store) sweepEvery(d time.Duration, stop <-chan struct{}) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			s.sweep()
		case <-stop:
			return
		}
	}
}

// Len is how many counters the store holds.
func (s *store) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}
