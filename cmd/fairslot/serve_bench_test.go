package main

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/ulule/limiter/v3"
	"github.com/ulule/limiter/v3/drivers/store/memory"
)

// BenchmarkRateCountersGC measures what the in-memory rate counters cost
// each garbage collection, by how many are live: 250,000 is one per patient
// and address seen in the release hour's first half minute (the library's
// 30 s sweep), 80,000 about what a 2 s sweep leaves at 20,000 attempts a
// second; the service's store (internal/ratelimit) beside the library's.
// go test -run '^$' -bench RateCountersGC ./cmd/fairslot
func BenchmarkRateCountersGC(b *testing.B) {
	rate := limiter.Rate{Period: time.Minute, Limit: 10} // none expires during the benchmark
	stores := []struct {
		name string
		new  func() limiter.Store
	}{
		{"ratelimit", memoryLimitStore},
		{"library", func() limiter.Store {
			return memory.NewStoreWithOptions(limiter.StoreOptions{Prefix: limiter.DefaultPrefix, CleanUpInterval: 2 * time.Second})
		}},
	}
	for _, st := range stores {
		for _, n := range []int{80_000, 250_000} {
			b.Run(fmt.Sprint(st.name, "/", n), func(b *testing.B) {
				s := st.new()
				for i := range n {
					if _, err := s.Get(context.Background(), fmt.Sprintf("account:%08d-0000-4000-8000-000000000000", i), rate); err != nil {
						b.Fatal(err)
					}
				}
				runtime.GC()
				b.ResetTimer()
				for b.Loop() {
					runtime.GC()
				}
				runtime.KeepAlive(s)
			})
		}
	}
}
