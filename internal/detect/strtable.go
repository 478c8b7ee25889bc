package detect

import (
	"bytes"
	"cmp"
	"hash/maphash"
	"slices"
	"sort"
	"strings"
)

// The strings of the events, interned without a Go string or a map entry
// apiece: millions of ids cost their bytes, an offset and a slot of a hash
// table, and nothing the collector has to scan.

// interner gives each distinct string a sym in the order it first came:
// the bytes back to back in one arena, string i at arena[offs[i]:offs[i+1]],
// and an open-addressed table of syms by hash. Sym 0 is the empty string.
type interner struct {
	arena []byte
	offs  []int
	// slots hold a string's hash's top 32 bits, its sym and where its
	// bytes are (a zero key: free). A string's slot is found from the same
	// top bits, so the table grows without the strings being hashed again.
	slots []slot
	bits  uint // len(slots) is 1<<bits
}

// slot is a string in the table: key is its hash's top 32 bits and its sym,
// at its offset in the arena and its length (lenMax: look in offs), so that
// a lookup that finds it reads its bytes without reading offs.
type slot struct{ key, at uint64 }

const lenMax = 1<<16 - 1

func equal[T string | []byte](t *interner, s slot, b T) bool {
	off, n := int(s.at>>16), int(s.at&lenMax)
	if n == lenMax {
		return string(t.bytes(sym(uint32(s.key)))) == string(b)
	}
	return n == len(b) && string(t.arena[off:off+n]) == string(b)
}

var internSeed = maphash.MakeSeed()

func newInterner() *interner {
	const bits = 12
	return &interner{offs: []int{0, 0}, slots: make([]slot, 1<<bits), bits: bits}
}

// len is the number of syms, the empty string's included.
func (t *interner) len() int { return len(t.offs) - 1 }

func (t *interner) bytes(i sym) []byte { return t.arena[t.offs[i]:t.offs[i+1]] }

// intern returns the sym of b, adding it when new; b is copied.
func (t *interner) intern(b []byte) sym {
	if len(b) == 0 {
		return 0
	}
	return internHashed(t, maphash.Bytes(internSeed, b)>>32, b)
}

// internString is intern for a string, without converting it (which
// allocates for ids longer than 32 bytes).
func (t *interner) internString(s string) sym {
	if s == "" {
		return 0
	}
	return internHashed(t, maphash.String(internSeed, s)>>32, s)
}

// internHashed is intern of b whose hash's top 32 bits are tag.
func internHashed[T string | []byte](t *interner, tag uint64, b T) sym {
	mask := uint64(len(t.slots) - 1)
	i := tag >> (32 - t.bits)
	for {
		s := t.slots[i]
		if s.key == 0 {
			break
		}
		if s.key>>32 == tag && equal(t, s, b) {
			return sym(uint32(s.key))
		}
		i = (i + 1) & mask
	}
	j := sym(t.len())
	off := len(t.arena)
	t.arena = append(t.arena, b...)
	t.offs = append(t.offs, len(t.arena))
	t.slots[i] = slot{key: tag<<32 | uint64(uint32(j)), at: uint64(off)<<16 | uint64(min(len(b), lenMax))}
	if 4*t.len() > 3*len(t.slots) {
		t.grow()
	}
	return j
}

func (t *interner) grow() {
	t.bits++
	slots := make([]slot, 1<<t.bits)
	mask := uint64(len(slots) - 1)
	for _, s := range t.slots {
		if s.key == 0 {
			continue
		}
		i := (s.key >> 32) >> (32 - t.bits)
		for slots[i].key != 0 {
			i = (i + 1) & mask
		}
		slots[i] = s
	}
	t.slots = slots
}

// strTable is the detector's table of strings, in string order: sym i
// names all[offs[i]:offs[i+1]], and sym 0 is the empty string.
type strTable struct {
	all  string
	offs []int
}

func (t strTable) len() int        { return len(t.offs) - 1 }
func (t strTable) at(i sym) string { return t.all[t.offs[i]:t.offs[i+1]] }

// search finds the sym of s.
func (t strTable) search(s string) (sym, bool) {
	i := sort.Search(t.len(), func(i int) bool { return t.at(sym(i)) >= s })
	return sym(i), i < t.len() && t.at(sym(i)) == s
}

// sortStrings puts the strings of the interners in order, once each, and
// says for each interner the rank (the new sym) of each of its syms. The
// strings of each interner are sorted by their first eight bytes, compared
// in full only when those are equal, then the sorted lists merged.
func sortStrings(ts []*interner) (strTable, [][]sym) {
	type keyed struct {
		key uint64
		i   int32
	}
	orders := make([][]keyed, len(ts))
	total := 0
	for p, t := range ts {
		order := make([]keyed, t.len())
		for i := range order {
			order[i] = keyed{prefix(t.bytes(sym(i))), int32(i)}
		}
		slices.SortFunc(order, func(a, b keyed) int {
			if a.key != b.key {
				return cmp.Compare(a.key, b.key)
			}
			return bytes.Compare(t.bytes(a.i), t.bytes(b.i))
		})
		orders[p] = order
		total += len(t.arena)
	}
	var all strings.Builder
	all.Grow(total)
	offs := make([]int, 1, len(orders[0])+1)
	ranks := make([][]sym, len(ts))
	for p, t := range ts {
		ranks[p] = make([]sym, t.len())
	}
	at := make([]int, len(ts)) // the next of each sorted list
	for {
		// The least string at the head of a list; equal ones take one sym.
		var least []byte
		var leastKey uint64
		found := false
		for p, t := range ts {
			if at[p] == len(orders[p]) {
				continue
			}
			k := orders[p][at[p]]
			b := t.bytes(k.i)
			if !found || k.key < leastKey || (k.key == leastKey && bytes.Compare(b, least) < 0) {
				least, leastKey, found = b, k.key, true
			}
		}
		if !found {
			break
		}
		r := sym(len(offs) - 1)
		all.Write(least)
		offs = append(offs, all.Len())
		for p, t := range ts {
			if at[p] < len(orders[p]) {
				if k := orders[p][at[p]]; k.key == leastKey && bytes.Equal(t.bytes(k.i), least) {
					ranks[p][k.i] = r
					at[p]++
				}
			}
		}
	}
	return strTable{all: all.String(), offs: offs}, ranks
}

// prefix is the first eight bytes of s as a number, zeros after a short
// string: comparing prefixes orders strings as far as they go.
func prefix(s []byte) uint64 {
	var k uint64
	for i := 0; i < 8; i++ {
		k <<= 8
		if i < len(s) {
			k |= uint64(s[i])
		}
	}
	return k
}
