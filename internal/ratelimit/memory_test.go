package ratelimit

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ulule/limiter/v3"
	"github.com/ulule/limiter/v3/drivers/store/memory"
)

// TestSameCountsAsTheLibrary: the same requests, counted by this store and
// by the library's memory store, are refused at the same request of each
// key with the same counts left: an attacker gets not one request more
// through this store. The windows are an hour long, so none ends during
// the test however slow the machine.
func TestSameCountsAsTheLibrary(t *testing.T) {
	ctx := context.Background()
	ours, lib := NewMemoryStore(0), memory.NewStoreWithOptions(limiter.StoreOptions{Prefix: limiter.DefaultPrefix})
	rates := []limiter.Rate{{Period: time.Hour, Limit: 5}, {Period: time.Hour, Limit: 50}}
	refused := 0
	for i := range 2000 {
		key := fmt.Sprintf("ip:10.0.%d.%d", i%7, i%3) // 21 keys, unevenly hit
		rate := rates[i%2]
		var a, b limiter.Context
		var errA, errB error
		if i%10 == 9 {
			a, errA = ours.Increment(ctx, key, 3, rate)
			b, errB = lib.Increment(ctx, key, 3, rate)
		} else {
			a, errA = ours.Get(ctx, key, rate)
			b, errB = lib.Get(ctx, key, rate)
		}
		if errA != nil || errB != nil {
			t.Fatalf("request %d: %v, %v", i, errA, errB)
		}
		if a.Reached != b.Reached || a.Remaining != b.Remaining || a.Limit != b.Limit || abs(a.Reset-b.Reset) > 1 {
			t.Fatalf("request %d (%s): ours %+v, the library's %+v", i, key, a, b)
		}
		if a.Reached {
			refused++
		}
		if i == 1000 {
			if _, err := ours.Reset(ctx, "ip:10.0.1.1", rate); err != nil {
				t.Fatal(err)
			}
			if _, err := lib.Reset(ctx, "ip:10.0.1.1", rate); err != nil {
				t.Fatal(err)
			}
		}
		pa, _ := ours.Peek(ctx, key, rate)
		pb, _ := lib.Peek(ctx, key, rate)
		if pa.Reached != pb.Reached || pa.Remaining != pb.Remaining {
			t.Fatalf("peek after request %d (%s): ours %+v, the library's %+v", i, key, pa, pb)
		}
	}
	if refused == 0 {
		t.Fatal("no request was refused: the comparison proves nothing")
	}
}

func abs(x int64) int64 { return max(x, -x) }

// TestWindows: a window counts from its first request for its period; the
// first request after it begins a new one; the sweep drops only the
// counters whose window is over. The clock is given.
func TestWindows(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	now := t0
	s := newStore(0, func() time.Time { return now })
	rate := limiter.Rate{Period: time.Second, Limit: 2}
	get := func(key string) limiter.Context {
		c, err := s.Get(ctx, key, rate)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for i, want := range []bool{false, false, true, true} {
		if c := get("a"); c.Reached != want {
			t.Errorf("request %d at t0: reached %v, want %v", i+1, c.Reached, want)
		}
	}
	now = t0.Add(700 * time.Millisecond)
	get("b")
	if c := get("a"); !c.Reached || c.Reset != t0.Add(time.Second).Unix() {
		t.Errorf("a at t0+0.7s: %+v, want refused until t0+1s", c)
	}
	now = t0.Add(time.Second + time.Nanosecond) // a's window is over, b's is not
	s.sweep()
	if n := s.Len(); n != 1 {
		t.Errorf("after the sweep %d counters, want b's alone", n)
	}
	if c := get("a"); c.Reached || c.Remaining != 1 {
		t.Errorf("a in a new window: %+v, want the first of two", c)
	}
	get("b")
	if c := get("b"); !c.Reached {
		t.Errorf("b's third request in its window: %+v, want refused", c)
	}
}

// BenchmarkGet compares a count in this store with one in the library's:
// go test -run '^$' -bench Get -benchmem ./internal/ratelimit/
func BenchmarkGet(b *testing.B) {
	keys := make([]string, 50000)
	for i := range keys {
		keys[i] = fmt.Sprintf("ip:10.%d.%d.%d", i>>16, (i>>8)&255, i&255)
	}
	rate := limiter.Rate{Period: time.Second, Limit: 50}
	for _, s := range []struct {
		name  string
		store limiter.Store
	}{{"ratelimit", NewMemoryStore(2 * time.Second)}, {"library", memory.NewStoreWithOptions(limiter.StoreOptions{Prefix: limiter.DefaultPrefix, CleanUpInterval: 2 * time.Second})}} {
		b.Run(s.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					i++
					if _, err := s.store.Get(context.Background(), keys[i%len(keys)], rate); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// TestGetJoinedIsGetOfTheJoinedKey: GetJoined(prefix, key) counts on the
// very counter of Get(prefix+key), interleaved, so the API's first tier
// refuses at the same request whichever it calls; other keys (the same
// bytes split elsewhere excepted, which is the same key) are apart.
func TestGetJoinedIsGetOfTheJoinedKey(t *testing.T) {
	ctx := context.Background()
	s := NewMemoryStore(0)
	rate := limiter.Rate{Period: time.Hour, Limit: 5}
	for i := range 5 {
		var c limiter.Context
		switch i % 3 {
		case 0:
			c = s.GetJoined("ip:", "10.0.0.1", rate)
		case 1:
			c, _ = s.Get(ctx, "ip:10.0.0.1", rate)
		case 2:
			c = s.GetJoined("ip:10.", "0.0.1", rate)
		}
		if c.Remaining != int64(4-i) || c.Reached {
			t.Fatalf("request %d: %+v, want %d left", i+1, c, 4-i)
		}
	}
	if c := s.GetJoined("ip:", "10.0.0.1", rate); !c.Reached {
		t.Errorf("sixth request: %+v, want refused", c)
	}
	if c := s.GetJoined("acct:", "10.0.0.1", rate); c.Reached || c.Remaining != 4 {
		t.Errorf("another prefix: %+v, want its own first request", c)
	}
	if n := testing.AllocsPerRun(100, func() { s.GetJoined("ip:", "10.0.0.2", rate) }); n != 0 {
		t.Errorf("GetJoined allocates %v objects, want 0", n)
	}
}
