package lockout

import (
	"testing"
	"time"

	"github.com/ulule/limiter/v3"
	limredis "github.com/ulule/limiter/v3/drivers/store/redis"

	"fairslot/internal/testenv"
)

// redisStore is a limiter store on the test Redis under a prefix of the
// test's own, as cmd/fairslot builds it for every instance.
func redisStore(t *testing.T) limiter.Store {
	t.Helper()
	rdb, prefix := testenv.Redis(t)
	st, err := limredis.NewStoreWithOptions(rdb, limiter.StoreOptions{Prefix: prefix + ":login"})
	testenv.Must(t, err, "limiter store")
	return st
}

// TestFailuresHoldAcrossInstances: two guards over one Redis (two service
// instances) count the same phone's failures together; past the first
// tier the phone waits about the tier's window, on both; a success resets
// the count; another phone is not affected.
func TestFailuresHoldAcrossInstances(t *testing.T) {
	ctx := t.Context()
	st := redisStore(t)
	tiers := []Tier{{3, time.Minute}, {5, time.Hour}}
	a, b := New(st, tiers), New(st, tiers)
	const phone, other = "k-phone", "k-other"

	for i := range 3 {
		g := a
		if i%2 == 1 {
			g = b
		}
		if w, err := g.Wait(ctx, phone); err != nil || w != 0 {
			t.Fatalf("before failure %d: wait %v, %v; want none", i+1, w, err)
		}
		testenv.Must(t, g.Failed(ctx, phone), "failed")
	}
	for name, g := range map[string]*Guard{"the first instance": a, "the second instance": b} {
		w, err := g.Wait(ctx, phone)
		if err != nil || w <= 0 || w > time.Minute+time.Second {
			t.Errorf("%s after 3 failures: wait %v, %v; want up to a minute", name, w, err)
		}
	}
	if w, _ := b.Wait(ctx, other); w != 0 {
		t.Errorf("another phone waits %v, want 0", w)
	}
	testenv.Must(t, b.Succeeded(ctx, phone), "succeeded")
	if w, _ := a.Wait(ctx, phone); w != 0 {
		t.Errorf("after a success: wait %v, want 0", w)
	}

	// The tiers count the same failures: a guesser who waits out the first
	// tier's windows meets the second, and waits longer.
	st2 := redisStore(t)
	g := New(st2, []Tier{{100, time.Minute}, {4, time.Hour}})
	for range 4 {
		testenv.Must(t, g.Failed(ctx, phone), "failed")
	}
	if w, _ := g.Wait(ctx, phone); w <= time.Minute || w > time.Hour+time.Second {
		t.Errorf("past the second tier: wait %v, want up to an hour (more than the first tier's minute)", w)
	}
}

func TestParseTiers(t *testing.T) {
	got, err := ParseTiers("5/15m, 20/24h")
	if err != nil || len(got) != 2 || got[0] != (Tier{5, 15 * time.Minute}) || got[1] != (Tier{20, 24 * time.Hour}) {
		t.Errorf("ParseTiers = %v, %v; want 5/15m and 20/24h", got, err)
	}
	for _, bad := range []string{"", "5", "0/1m", "x/1m", "5/1ms", "5/forever"} {
		if _, err := ParseTiers(bad); err == nil {
			t.Errorf("ParseTiers(%q) = nil error, want one", bad)
		}
	}
}

// FuzzParseTiers: a --login-failures value is read into tiers of at least one
// failure and a second, or refused.
func FuzzParseTiers(f *testing.F) {
	for _, seed := range []string{"5/15m,20/24h", "1/1s", "", "0/1m", "5/-1m", "9999999999999999999999/1h", ",,"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		tiers, err := ParseTiers(in)
		if err != nil {
			return
		}
		for _, tr := range tiers {
			if tr.Failures < 1 || tr.Window < time.Second {
				t.Fatalf("ParseTiers(%q) = %+v, want every tier at least 1 failure and 1s", in, tiers)
			}
		}
	})
}
