package booking

import (
	"hash/maphash"
	"sync"
	"time"
	"unsafe"
)

// patientCache is a bounded two-generation cache: lookups hit either
// generation; when the young one is full it becomes the old one and the old
// one is dropped. O(1), no per-entry bookkeeping.
//
// It holds no pointers the garbage collector has to trace. Login warms it
// with every patient of the release hour (~200,000), and as a
// map[string]Patient those were ten strings and a time.Location each,
// about two million pointers that every collection marked: the largest
// part of the live heap of the release minute (docs/performance.md, "What
// the collector scans"). Here a patient's strings are copied, one after the
// other, into large byte chunks, and its record holds where they are and
// its other fields as plain values; the index is keyed by a hash of the
// id. Byte slices and maps of pointer-free keys and values are not scanned.
// get hands out strings that point into the chunks (unsafe.String), so a
// hit allocates nothing; chunks are only appended to, never rewritten, so
// those strings never change, and a string still in use keeps its chunk.
type patientCache struct {
	mu         sync.RWMutex
	max        int
	seed       maphash.Seed
	young, old *patientGen
	// locs are the time.Locations of the cached CreatedAt values (UTC and
	// Local in practice), so a record names one by its index.
	locs []*time.Location
}

// A patientGen is one generation: recs and the chunks of their strings,
// and the index from the hash of a patient id to its latest record.
type patientGen struct {
	index  map[uint64]int32
	recs   []patientRec
	chunks [][]byte
}

// patientFields is how many of Patient's fields are strings (patientRec.ends).
const patientFields = 11

// patientChunk is the size of a chunk of strings: a few hundred patients.
const patientChunk = 64 << 10

// A patientRec is a cached Patient without pointers: its strings are
// chunk[off:off+ends[0]], chunk[off+ends[0]:off+ends[1]], … in the order of
// strings below.
type patientRec struct {
	chunk, off   uint32
	ends         [patientFields]uint16
	createdSec   int64
	createdNs    int32
	loc          uint8
	isSelf       bool
	verified     bool
	selfVerified bool
	removed      bool
	namesake     bool
	birthYear    int64
}

func newPatientCache(max int) *patientCache {
	return &patientCache{max: max, seed: maphash.MakeSeed(), young: newPatientGen(0), old: newPatientGen(0)}
}

func newPatientGen(n int) *patientGen {
	return &patientGen{index: make(map[uint64]int32, n)}
}

// strings are p's string fields, in the order of patientRec.ends.
func patientStrings(p *Patient) [patientFields]*string {
	return [...]*string{&p.ID, &p.AccountID, &p.IdentityID, &p.IdentityKey, &p.IDType, &p.MaskedID,
		&p.MaskedName, &p.NameHash, &p.PhoneMasked, (*string)(&p.Relationship), &p.ConsentDue}
}

func (c *patientCache) get(id string) (Patient, bool) {
	h := maphash.String(c.seed, id)
	c.mu.RLock()
	defer c.mu.RUnlock()
	if p, ok := c.lookup(c.young, h, id); ok {
		return p, true
	}
	return c.lookup(c.old, h, id)
}

// lookup finds id in g. Two ids of one hash cannot both be cached: the
// later put replaces the earlier, which is then a miss (the id is checked).
func (c *patientCache) lookup(g *patientGen, h uint64, id string) (Patient, bool) {
	i, ok := g.index[h]
	if !ok {
		return Patient{}, false
	}
	p := c.decode(g, &g.recs[i])
	return p, p.ID == id
}

func (c *patientCache) decode(g *patientGen, r *patientRec) Patient {
	p := Patient{IsSelf: r.isSelf, Verified: r.verified, SelfVerified: r.selfVerified, Removed: r.removed, Namesake: r.namesake, BirthYear: int(r.birthYear),
		CreatedAt: time.Unix(r.createdSec, int64(r.createdNs)).In(c.locs[r.loc])}
	chunk, from := g.chunks[r.chunk], r.off
	for i, f := range patientStrings(&p) {
		to := r.off + uint32(r.ends[i])
		if to > from {
			*f = unsafe.String(&chunk[from], to-from)
		}
		from = to
	}
	return p
}

func (c *patientCache) put(p Patient) {
	fields := patientStrings(&p)
	size := 0
	for _, f := range fields {
		size += len(*f)
	}
	if size > 1<<16-1 {
		return // not a patient SQL holds (its fields are short); not cached, read each time
	}
	h := maphash.String(c.seed, p.ID)
	c.mu.Lock()
	defer c.mu.Unlock()
	if i, ok := c.young.index[h]; ok && c.decode(c.young, &c.young.recs[i]) == p {
		return // unchanged (Login warms every patient of the account again)
	}
	loc, ok := c.locIndex(p.CreatedAt.Location())
	if !ok {
		return
	}
	if len(c.young.recs) >= c.max/2 {
		c.old, c.young = c.young, newPatientGen(c.max/2)
	}
	g := c.young
	if len(g.chunks) == 0 || len(g.chunks[len(g.chunks)-1])+size > patientChunk {
		g.chunks = append(g.chunks, make([]byte, 0, patientChunk))
	}
	n := len(g.chunks) - 1
	chunk := g.chunks[n]
	r := patientRec{chunk: uint32(n), off: uint32(len(chunk)), createdSec: p.CreatedAt.Unix(), createdNs: int32(p.CreatedAt.Nanosecond()),
		loc: loc, isSelf: p.IsSelf, verified: p.Verified, selfVerified: p.SelfVerified, removed: p.Removed, namesake: p.Namesake, birthYear: int64(p.BirthYear)}
	for i, f := range fields {
		chunk = append(chunk, *f...)
		r.ends[i] = uint16(len(chunk) - int(r.off))
	}
	g.chunks[n] = chunk // within its capacity: the bytes handed out before stay where they are
	g.index[h] = int32(len(g.recs))
	g.recs = append(g.recs, r)
}

// locIndex is loc's index in c.locs, added if new (up to 256 of them).
func (c *patientCache) locIndex(loc *time.Location) (uint8, bool) {
	for i, l := range c.locs {
		if l == loc {
			return uint8(i), true
		}
	}
	if len(c.locs) > 255 {
		return 0, false
	}
	c.locs = append(c.locs, loc)
	return uint8(len(c.locs) - 1), true
}

// len is how many records the cache holds (a patient put again changed
// holds two while both generations last).
func (c *patientCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.young.recs) + len(c.old.recs)
}

// clear forgets every patient: a desk link changed which person some of them
// are (LinkIdentities), and the cache does not know which. Links are rare.
func (c *patientCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.young, c.old = newPatientGen(0), newPatientGen(0)
}
