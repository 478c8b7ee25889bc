// Package cowmap is a map of values made once per key and read without a
// lock: a hit is one atomic load and one map read; a miss makes the value
// under a lock and publishes a copy of the map with it. It suits a small,
// bounded key set read on every request, such as the label sets of a
// metric, whose vectors' own lookup checks, hashes and locks each time.
package cowmap

import (
	"maps"
	"sync"
	"sync/atomic"
)

// Map holds the values made so far; the zero Map is not usable: New.
type Map[K comparable, V any] struct {
	newValue func(K) V
	m        atomic.Pointer[map[K]V]
	mu       sync.Mutex
}

// New returns a Map whose values are made by newValue, once per key.
func New[K comparable, V any](newValue func(K) V) *Map[K, V] {
	return &Map[K, V]{newValue: newValue}
}

// Get returns k's value, making it the first time k is asked for.
func (c *Map[K, V]) Get(k K) V {
	if m := c.m.Load(); m != nil {
		if v, ok := (*m)[k]; ok {
			return v
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	next := map[K]V{}
	if old := c.m.Load(); old != nil {
		if v, ok := (*old)[k]; ok {
			return v // made while this call waited for the lock
		}
		next = maps.Clone(*old)
	}
	v := c.newValue(k)
	next[k] = v
	c.m.Store(&next)
	return v
}
