package detect

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestInterner: every string gets one sym however often it comes, through
// the table's growth, for strings longer than a slot can say and for
// strings that are prefixes of each other; and sortStrings gives the
// strings of two interners one sym each, in order.
func TestInterner(t *testing.T) {
	long := strings.Repeat("x", lenMax+10)
	words := []string{long, long[:lenMax], long[:lenMax-1], long + "y", "a", "ab", "abc", "abcdefgh", "abcdefghi", "abcdefgh\x00"}
	for i := range 50000 {
		words = append(words, fmt.Sprintf("id-%d", i*7919%100003))
	}
	a, b := newInterner(), newInterner()
	syms := map[string]sym{}
	for round := range 2 {
		for i, w := range words {
			s := a.internString(w)
			if round == 0 {
				if _, dup := syms[w]; !dup {
					syms[w] = s
				}
			}
			if syms[w] != s || string(a.bytes(s)) != w {
				t.Fatalf("round %d, word %d: sym %d (%q…), want %d", round, i, s, string(a.bytes(s))[:min(10, len(a.bytes(s)))], syms[w])
			}
			if i%3 == 0 {
				b.intern([]byte(w + "-b"))
			}
			if i%5 == 0 {
				b.intern([]byte(w))
			}
		}
	}
	if a.len() != len(syms)+1 {
		t.Errorf("%d syms for %d distinct strings and the empty one", a.len(), len(syms))
	}
	all, ranks := sortStrings([]*interner{a, b})
	var want []string
	seen := map[string]bool{"": true}
	want = append(want, "")
	for _, t := range []*interner{a, b} {
		for i := 1; i < t.len(); i++ {
			if w := string(t.bytes(sym(i))); !seen[w] {
				seen[w] = true
				want = append(want, w)
			}
		}
	}
	slices.Sort(want)
	if all.len() != len(want) {
		t.Fatalf("%d strings sorted, want %d", all.len(), len(want))
	}
	for i, w := range want {
		if all.at(sym(i)) != w {
			t.Fatalf("string %d is %.12q, want %.12q", i, all.at(sym(i)), w)
		}
		if s, ok := all.search(w); !ok || s != sym(i) {
			t.Fatalf("search(%.12q) = %d, %v; want %d", w, s, ok, i)
		}
	}
	for p, t2 := range []*interner{a, b} {
		for i := range t2.len() {
			if all.at(ranks[p][i]) != string(t2.bytes(sym(i))) {
				t.Fatalf("interner %d: sym %d ranked %d, another string", p, i, ranks[p][i])
			}
		}
	}
	if _, ok := all.search("zz-not-there"); ok {
		t.Error("search found a string nobody interned")
	}
}

// TestInternerAllocates: a string already interned is found without
// allocating, ids longer than Go's 32-byte conversion buffer too (the
// service's detector interns every field of every event it reads from its
// table, through Add).
func TestInternerAllocates(t *testing.T) {
	in := newInterner()
	s, b := "c6d8c641-fa67-4d1f-80ea-6b07a15ca38f-c10", []byte("b8d83fc1-5c86-412b-9f57-0a8dcf3cbc9c")
	in.internString(s)
	in.intern(b)
	if n := testing.AllocsPerRun(100, func() { in.internString(s); in.intern(b) }); n != 0 {
		t.Errorf("%v allocations to find two interned strings, want 0", n)
	}
}
