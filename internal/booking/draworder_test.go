package booking

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
)

func TestDrawOrderVector(t *testing.T) {
	// Computed by the Python recipe of docs/design.md (an independent
	// implementation): the order must not depend on Go.
	seed, _ := hex.DecodeString("000000000000000000000000000000000000000000000000000000000000002a")
	var ids []string
	for n := uint64(1); n <= 10; n++ {
		ids = append(ids, fmt.Sprintf("%08x-0000-4000-8000-%012x", n*2654435761%(1<<32), n))
	}
	slices.Reverse(ids) // the input order does not matter
	order, digest := DrawOrder(seed, "7d4f3a2e-0000-4000-8000-000000000001", ChannelOnline, ids)
	want := []string{
		"78dde6c4-0000-4000-8000-000000000004", "17156075-0000-4000-8000-000000000005",
		"f1bbcd88-0000-4000-8000-000000000008", "9e3779b1-0000-4000-8000-000000000001",
		"b54cda26-0000-4000-8000-000000000006", "538453d7-0000-4000-8000-000000000007",
		"2e2ac0ea-0000-4000-8000-00000000000a", "8ff34739-0000-4000-8000-000000000009",
		"daa66d13-0000-4000-8000-000000000003", "3c6ef362-0000-4000-8000-000000000002",
	}
	if !slices.Equal(order, want) {
		t.Errorf("DrawOrder =\n%v\nwant\n%v", order, want)
	}
	if got := hex.EncodeToString(digest); got != "7bf1fb39bcfd3963ec75c9bf358aea5f35b4ea77cbdfa8e9095766c1d263b541" {
		t.Errorf("digest = %s", got)
	}
}

// TestCommitmentVector: both commitment recipes against Python's hashlib
// (docs/design.md "Verifiable by anyone"), v2 bound to its pool.
func TestCommitmentVector(t *testing.T) {
	seed, _ := hex.DecodeString("000000000000000000000000000000000000000000000000000000000000002a")
	const session = "7d4f3a2e-0000-4000-8000-000000000001"
	for _, c := range []struct {
		recipe int
		ch     Channel
		want   string
	}{
		// hashlib.sha256(seed)
		{CommitV1, ChannelOnline, "0a28e9ffef0073f9a6a674cf57ee77307f38f0f1bebb087888d9011ed0eeefdf"},
		{CommitV1, ChannelPhone, "0a28e9ffef0073f9a6a674cf57ee77307f38f0f1bebb087888d9011ed0eeefdf"},
		// hashlib.sha256(b"fairslot commit v2\n" + session + b"\n" + channel + b"\n" + seed)
		{CommitV2, ChannelOnline, "8446a6373b7bdfa066cec1a448c8bcb288f1e67c20107e2fee1798b608a7fcda"},
		{CommitV2, ChannelPhone, "266d83ed5439a3441e8436c536f8b59f13bc0698ac29567932188eebeea47528"},
	} {
		got, err := Commitment(c.recipe, session, c.ch, seed)
		if err != nil || hex.EncodeToString(got) != c.want {
			t.Errorf("Commitment(v%d, %s) = %x, %v; want %s", c.recipe, c.ch, got, err, c.want)
		}
	}
	for _, r := range []int{0, 3} {
		if c, err := Commitment(r, session, ChannelOnline, seed); err == nil {
			t.Errorf("Commitment(recipe %d) = %x, want an error: no recipe is guessed", r, c)
		}
	}
}

func TestDrawOrderDependsOnEverything(t *testing.T) {
	seed := make([]byte, 32)
	ids := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	order := func(o []string, _ []byte) []string { return o }
	base := order(DrawOrder(seed, "s", ChannelOnline, ids))
	other := slices.Clone(seed)
	other[31] = 1
	withI := slices.DeleteFunc(order(DrawOrder(seed, "s", ChannelOnline, append(slices.Clone(ids), "i"))),
		func(id string) bool { return id == "i" })
	for name, got := range map[string][]string{
		"another seed":    order(DrawOrder(other, "s", ChannelOnline, ids)),
		"another session": order(DrawOrder(seed, "t", ChannelOnline, ids)),
		"another channel": order(DrawOrder(seed, "s", ChannelPhone, ids)),
		// one more entry changes the key: the others' order changes too
		"one more entry": withI,
	} {
		if slices.Equal(got, base) {
			t.Errorf("%s gives the same order %v", name, base)
		}
	}
	if got := order(DrawOrder(seed, "s", ChannelOnline, ids)); !slices.Equal(got, base) {
		t.Errorf("DrawOrder is not repeatable: %v then %v", base, got)
	}
	if got := order(DrawOrder(seed, "s", ChannelOnline, nil)); len(got) != 0 {
		t.Errorf("DrawOrder of no entries = %v", got)
	}
}

// TestDrawOrderUniform: over many seeds every entry takes every place
// equally often (a chi-squared test at a 1e-6 false alarm rate), so each of
// n entries wins one of k slots with probability k/n. The seeds are fixed:
// the test gives the same answer every run.
func TestDrawOrderUniform(t *testing.T) {
	const n, runs = 6, 60000
	ids := []string{"e0", "e1", "e2", "e3", "e4", "e5"}
	var count [n][n]int // entry → place
	for r := range runs {
		var seed [32]byte
		binary.BigEndian.PutUint64(seed[:], uint64(r))
		seed = sha256.Sum256(seed[:])
		order, _ := DrawOrder(seed[:], "s", ChannelOnline, ids)
		for place, id := range order {
			count[id[1]-'0'][place]++
		}
	}
	expected := float64(runs) / n
	chi2 := 0.0
	for i := range n {
		for p := range n {
			d := float64(count[i][p]) - expected
			chi2 += d * d / expected
		}
	}
	// (n−1)² = 25 degrees of freedom; P(χ² > 69) < 1e-6.
	if chi2 > 69 {
		t.Errorf("χ² = %.1f over entry × place counts %v: not uniform", chi2, count)
	}
	if chi2 < 5 {
		t.Errorf("χ² = %.1f is implausibly small for random draws: %v", chi2, count)
	}
	if math.IsNaN(chi2) {
		t.Error("χ² is NaN")
	}
}

func TestGroupCommit(t *testing.T) {
	const callers, maxBatch, maxFlushers = 400, 16, 3
	var (
		mu       sync.Mutex
		written  = map[int]int{}
		batches  []int
		inFlight atomic.Int32
		peak     atomic.Int32
	)
	g := newGroupCommit("test", maxBatch, maxFlushers, func(items []int) []error {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		mu.Lock()
		batches = append(batches, len(items))
		for _, v := range items {
			written[v]++
		}
		mu.Unlock()
		errs := make([]error, len(items))
		for i, v := range items {
			if v%7 == 0 {
				errs[i] = fmt.Errorf("refused %d", v)
			}
		}
		return errs
	})
	var afterItems atomic.Int32
	g.after = func(items []int, errs []error) {
		if len(items) != len(errs) {
			t.Errorf("after got %d items and %d answers", len(items), len(errs))
		}
		afterItems.Add(int32(len(items)))
	}
	answers := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() { answers[i] = g.do(i) })
	}
	wg.Wait()
	for i, err := range answers {
		if want := i%7 == 0; (err != nil) != want || want && err.Error() != fmt.Sprintf("refused %d", i) {
			t.Errorf("caller %d got %v, want its own answer", i, err)
		}
		if written[i] != 1 {
			t.Errorf("item %d written %d times, want once", i, written[i])
		}
	}
	for _, n := range batches {
		if n < 1 || n > maxBatch {
			t.Errorf("a batch of %d items; want 1 to %d", n, maxBatch)
		}
	}
	if p := peak.Load(); p > maxFlushers {
		t.Errorf("%d batches written at once, want at most %d", p, maxFlushers)
	}
	if n := afterItems.Load(); n != callers {
		t.Errorf("after saw %d items, want every one of the %d", n, callers)
	}
	if g.flushing != 0 || len(g.queue) != 0 {
		t.Errorf("after every answer: %d turns open, %d queued; want 0, 0", g.flushing, len(g.queue))
	}
	// Every caller alone still gets its answer.
	if err := g.do(1); err != nil {
		t.Errorf("a lone caller: %v", err)
	}
}
