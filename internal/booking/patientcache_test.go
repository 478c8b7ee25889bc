package booking

import (
	"fmt"
	"reflect"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"time"
)

// TestPatientCacheKeepsEveryField: what get returns is what was put, field
// by field, for every kind of CreatedAt (UTC, Local, another zone, none)
// and empty, long and non-ASCII strings; a later put of the same id wins,
// in either generation.
func TestPatientCacheKeepsEveryField(t *testing.T) {
	shanghai := time.FixedZone("CST", 8*3600)
	at := time.Date(2026, 12, 3, 8, 0, 0, 123456789, time.UTC)
	ps := []Patient{
		{ID: "0b7e4d56-6a3c-4b5e-9f00-000000000001", AccountID: "a1", IdentityID: "i1", IdentityKey: "k\x00\xff1", IDType: "resident_id",
			MaskedID: "1101**********1234", MaskedName: "张*", NameHash: "\x01\x02\x03", PhoneMasked: "138****0000",
			IsSelf: true, Relationship: RelSelf, BirthYear: 1990, Verified: true, CreatedAt: at},
		{ID: "p2", AccountID: "a1", Relationship: "child", BirthYear: 2019, CreatedAt: at.In(time.Local)},
		{ID: "p3", AccountID: "a2", MaskedName: strings.Repeat("名", 1000), CreatedAt: at.In(shanghai), Removed: true},
		{ID: "p4"},
		{ID: ""},
		{ID: "p5", CreatedAt: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC)},
	}
	c := newPatientCache(100)
	for _, p := range ps {
		c.put(p)
	}
	for _, p := range ps {
		got, ok := c.get(p.ID)
		if !ok || got != p {
			t.Errorf("get(%q) = %+v, %v; want %+v", p.ID, got, ok, p)
		}
		if got.CreatedAt.Location() != p.CreatedAt.Location() {
			t.Errorf("get(%q).CreatedAt in %v, want %v", p.ID, got.CreatedAt.Location(), p.CreatedAt.Location())
		}
	}
	if _, ok := c.get("p6"); ok {
		t.Error("get(p6) found a patient never put")
	}

	// A patient put again, changed, after its generation became the old one.
	c = newPatientCache(4)
	c.put(Patient{ID: "p", MaskedName: "old"})
	c.put(Patient{ID: "q"})
	c.put(Patient{ID: "r"}) // p and q are the old generation now
	c.put(Patient{ID: "p", MaskedName: "new", Removed: true})
	if got, _ := c.get("p"); got.MaskedName != "new" || !got.Removed {
		t.Errorf("get(p) = %+v, want the later put", got)
	}
	// Unchanged again: no second record.
	n := c.len()
	c.put(Patient{ID: "p", MaskedName: "new", Removed: true})
	if c.len() != n {
		t.Errorf("an unchanged put added a record: %d, was %d", c.len(), n)
	}
	// Too long to be a patient SQL holds: not cached, not truncated.
	c.put(Patient{ID: "huge", MaskedName: strings.Repeat("x", 1<<16)})
	if got, ok := c.get("huge"); ok {
		t.Errorf("get(huge) = %d bytes of name, want a miss", len(got.MaskedName))
	}
}

// TestPatientCacheHitAllocatesNothing: the release minute reads the cache
// on every attempt.
func TestPatientCacheHitAllocatesNothing(t *testing.T) {
	c := newPatientCache(10)
	c.put(Patient{ID: "p", AccountID: "a", IdentityKey: "k", CreatedAt: time.Now().Round(0)})
	if n := testing.AllocsPerRun(100, func() {
		if _, ok := c.get("p"); !ok {
			t.Fatal("miss")
		}
	}); n != 0 {
		t.Errorf("get allocates %v objects, want 0", n)
	}
}

// BenchmarkPatientCacheGC measures what 200,000 cached patients (the
// release hour's, warmed by Login) cost the garbage collector: the heap
// bytes one collection scans with them cached, the time of a full
// collection, and a hit. Against a map[string]Patient of the same
// patients, in the same run (docs/performance.md, "What the collector
// scans"):
//
//	go test -run '^$' -bench PatientCacheGC -benchtime 20x ./internal/booking
func BenchmarkPatientCacheGC(b *testing.B) {
	const n = 200_000
	created := time.Date(2026, 11, 1, 9, 0, 0, 0, time.Local)
	// patient i, each string its own allocation as when SQL reads it; made
	// again when needed, so the benchmark holds no patients of its own.
	patient := func(i int) Patient {
		return Patient{ID: fmt.Sprintf("%08x-6a3c-4b5e-9f00-%012x", i, i), AccountID: fmt.Sprintf("%08x-1111-4b5e-9f00-%012x", i, i),
			IdentityID: fmt.Sprintf("%08x-2222-4b5e-9f00-%012x", i, i), IdentityKey: fmt.Sprintf("%064x", i), IDType: strings.Clone("resident_id"),
			MaskedID: fmt.Sprintf("1101**********%04d", i%10000), MaskedName: strings.Clone("张*"), NameHash: fmt.Sprintf("%032x", i),
			PhoneMasked: fmt.Sprintf("138****%04d", i%10000), IsSelf: true, Relationship: Relationship(strings.Clone(string(RelSelf))),
			BirthYear: 1990, Verified: true, CreatedAt: created.Add(time.Duration(i) * time.Second)}
	}
	run := func(b *testing.B, put func(Patient), get func(string) bool) {
		for i := range n {
			put(patient(i))
		}
		runtime.GC()
		s := []metrics.Sample{{Name: "/gc/scan/heap:bytes"}}
		b.ResetTimer()
		var scanned uint64
		for i := range b.N {
			runtime.GC()
			metrics.Read(s)
			scanned += s[0].Value.Uint64()
			if !get(patient(i % n).ID) {
				b.Fatal("miss")
			}
		}
		b.ReportMetric(float64(scanned)/float64(b.N)/(1<<20), "scanned-MiB/gc")
	}
	b.Run("map[string]Patient", func(b *testing.B) {
		m := make(map[string]Patient)
		run(b, func(p Patient) { m[p.ID] = p }, func(id string) bool { _, ok := m[id]; return ok })
		runtime.KeepAlive(m)
	})
	b.Run("patientCache", func(b *testing.B) {
		c := newPatientCache(2 * n)
		run(b, c.put, func(id string) bool { _, ok := c.get(id); return ok })
		runtime.KeepAlive(c)
	})
}

// TestPatientCacheKnowsEveryField: every field of Patient, set by
// reflection to a value of its own, comes back from the cache. A field
// added to Patient without a place in patientRec fails here instead of
// being dropped silently by every cached read.
func TestPatientCacheKnowsEveryField(t *testing.T) {
	typ := reflect.TypeFor[Patient]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		var p Patient
		v := reflect.ValueOf(&p).Elem().Field(i)
		switch {
		case f.Type == reflect.TypeFor[time.Time]():
			v.Set(reflect.ValueOf(time.Date(2026, 12, 3, 8, 0, 0, 7, time.UTC)))
		case v.Kind() == reflect.String:
			v.SetString("value of " + f.Name)
		case v.Kind() == reflect.Bool:
			v.SetBool(true)
		case v.CanInt():
			v.SetInt(1987)
		default:
			t.Fatalf("Patient.%s is a %s: give it a place in patientRec and a case here", f.Name, f.Type)
		}
		if f.Name != "ID" {
			p.ID = "p"
		}
		c := newPatientCache(10)
		c.put(p)
		if got, ok := c.get(p.ID); !ok || got != p {
			t.Errorf("Patient.%s: get = %+v, %v; want %+v", f.Name, got, ok, p)
		}
	}
}
