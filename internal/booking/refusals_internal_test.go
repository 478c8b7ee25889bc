package booking

import (
	"fmt"
	"reflect"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"
)

// TestThinRefusalsBatchByBatch: the writer keeps its thinning map from
// flush to flush, and each batch is still thinned alone, as when the map
// was made anew for it: alike refusals of one second that were thinned in
// one batch do not make the next batch's thinned too.
func TestThinRefusalsBatchByBatch(t *testing.T) {
	sec := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC).UnixNano()
	alike := func(n int) []refused {
		rs := make([]refused, n)
		for i := range rs {
			rs[i] = refused{ts: sec + int64(i), typ: EventRejected, account: "a", patient: "p", reason: "sold_out"}
		}
		return rs
	}
	var thinned atomic.Uint64
	seen := map[thinKey]int{}
	// One buffer for every batch, as the writer reuses its two: a batch's
	// strings overwrite the last one's, which its keys in seen point into.
	b := newRefusalBuf(16)
	thin := func(rs []refused) int {
		b.reset()
		for i := range rs {
			if !b.put(&rs[i]) {
				t.Fatal("no room in the buffer")
			}
		}
		thinRefusals(b, 4, &thinned, seen)
		return len(b.recs)
	}
	if got := thin(alike(6)); got != 4 || thinned.Load() != 2 {
		t.Fatalf("first batch of 6 alike, 4 a second: kept %d, thinned %d; want 4 and 2", got, thinned.Load())
	}
	if got := thin(alike(3)); got != 3 || thinned.Load() != 2 {
		t.Errorf("second batch of 3 alike, same second: kept %d, thinned %d in all; want 3 kept and still 2 thinned", got, thinned.Load())
	}
	other := alike(5)
	other[4].account = "b"
	if got := thin(other); got != 5 || thinned.Load() != 2 {
		t.Errorf("4 alike and one of another account: kept %d, thinned %d in all; want 5 and 2", got, thinned.Load())
	}
}

// TestRefusalBufferKeepsEveryField: every field of a refused attempt, set
// by reflection to a value of its own, comes back from the buffer, and so
// does the event made of it, field for field; also with empty, long and
// non-ASCII strings, and after the buffer was filled and reset (what the
// writer's two buffers go through every flush). A field added to refused
// without a place in refusedRec fails here instead of vanishing from
// every event.
func TestRefusalBufferKeepsEveryField(t *testing.T) {
	now := time.Date(2026, 12, 3, 8, 0, 0, 7, time.UTC)
	sess, err := BuildSession(SessionSpec{HospitalID: NewID(), DepartmentID: NewID(), DoctorID: NewID(), VisitDate: "2026-12-10",
		Period: "morning", StartsAt: now.Add(7 * 24 * time.Hour), EndsAt: now.Add(7*24*time.Hour + 4*time.Hour),
		Quotas: []ChannelQuota{{Channel: ChannelOnline, Quota: 10, ReleaseAt: now.Add(-time.Second)}}})
	if err != nil {
		t.Fatal(err)
	}
	other := sess
	other.ID = NewID()
	var want []refused
	typ := reflect.TypeFor[refused]()
	for i := range typ.NumField() {
		// One attempt with every field set, each string to a value naming
		// its field; then one with field i alone.
		for _, only := range []bool{false, true} {
			var r refused
			v := reflect.ValueOf(&r).Elem()
			for j := range typ.NumField() {
				if only && j != i {
					continue
				}
				f := v.Field(j)
				f = reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem() // unexported
				switch {
				case f.Kind() == reflect.String:
					f.SetString("值 of " + typ.Field(j).Name)
				case f.Kind() == reflect.Int64:
					f.SetInt(now.UnixNano())
				case f.Kind() == reflect.Bool:
					f.SetBool(true)
				case f.Type() == reflect.TypeFor[*Session]():
					f.Set(reflect.ValueOf(&sess))
				default:
					t.Fatalf("refused.%s is a %s: give it a place in refusedRec and a value here", typ.Field(j).Name, f.Type())
				}
			}
			want = append(want, r)
		}
	}
	want = append(want,
		refused{ts: 1, typ: EventRateLimited, account: strings.Repeat("a", 4000), ip: "2001:db8::1", sess: &other},
		refused{ts: -1, typ: EventRejected, ch: ChannelPhone, staff: "s", identity: "身份", phone: "+86 138 0000 0000", sess: &sess},
		refused{})
	// Room for the 4,000 bytes too; the second time over text the first
	// one wrote.
	b := newRefusalBuf(2 * len(want))
	var owned []refused
	for range 2 {
		b.reset()
		for i := range want {
			if !b.put(&want[i]) {
				t.Fatalf("attempt %d: no room in the buffer", i)
			}
		}
		for i := range want {
			if got := b.at(i); got != want[i] {
				t.Errorf("attempt %d back from the buffer:\n%+v\nwant\n%+v", i, got, want[i])
			}
			got := b.owned(i)
			if got != want[i] {
				t.Errorf("attempt %d owned:\n%+v\nwant\n%+v", i, got, want[i])
			}
			if g, w := got.event(), want[i].event(); !reflect.DeepEqual(g, w) {
				t.Errorf("attempt %d's event:\n%+v\nwant\n%+v", i, g, w)
			}
			owned = append(owned, got)
		}
	}
	// What owned gave is the attempts' own: the buffer's next fill
	// changes none of it.
	b.reset()
	for range want {
		b.put(&refused{account: strings.Repeat("x", 40), device: strings.Repeat("y", 40)})
	}
	for i, r := range owned[len(want):] {
		if r != want[i] {
			t.Errorf("attempt %d owned, after the buffer was filled again:\n%+v\nwant\n%+v", i, r, want[i])
		}
	}
	if n := len(b.sessions); n != 0 {
		t.Errorf("%d sessions listed after a fill without any", n)
	}
	b.reset()
	for i := range want {
		b.put(&want[i])
	}
	if n := len(b.sessions); n != 2 {
		t.Errorf("%d sessions listed for two", n)
	}
}

// TestRefusalBufferHoldsNoPointers: the records are plain values, so the
// collector scans neither them nor the text (the point of refusalBuf).
func TestRefusalBufferHoldsNoPointers(t *testing.T) {
	var check func(reflect.Type, string)
	check = func(typ reflect.Type, path string) {
		switch typ.Kind() {
		case reflect.Struct:
			for i := range typ.NumField() {
				check(typ.Field(i).Type, path+"."+typ.Field(i).Name)
			}
		case reflect.Array:
			check(typ.Elem(), path+"[]")
		case reflect.Pointer, reflect.String, reflect.Slice, reflect.Map, reflect.Interface, reflect.Func, reflect.Chan, reflect.UnsafePointer:
			t.Errorf("%s is a %s: the collector would scan every record", path, typ.Kind())
		}
	}
	check(reflect.TypeFor[refusedRec](), "refusedRec")
}

// TestRefusalBufferFull: a buffer whose records or text are full refuses
// the next attempt, and the log counts it dropped; one more than a record
// can say (64 KiB of strings) is dropped too, never cut.
func TestRefusalBufferFull(t *testing.T) {
	l := newRefusalLog(2)
	l.add(refused{account: "a"})
	l.add(refused{account: "b"})
	l.add(refused{account: "c"})
	if got := l.dropped.Load(); got != 1 || len(l.buf.recs) != 2 {
		t.Errorf("3 attempts into 2 records: %d kept, %d dropped; want 2 and 1", len(l.buf.recs), got)
	}
	l = newRefusalLog(4)
	l.add(refused{device: strings.Repeat("d", 3*refusalText)}) // more than its share of the text, less than all of it
	l.add(refused{device: strings.Repeat("d", 2*refusalText)}) // past the end of the text
	l.add(refused{device: strings.Repeat("d", 70_000)})        // past a record's reach
	l.add(refused{account: "a"})
	if got := l.dropped.Load(); got != 2 || len(l.buf.recs) != 2 {
		t.Errorf("%d kept, %d dropped; want 2 and 2", len(l.buf.recs), got)
	}
	if got := l.take(); got.at(0).device != strings.Repeat("d", 3*refusalText) || got.at(1).account != "a" {
		t.Errorf("kept %q… and %q", got.at(0).device[:8], got.at(1).account)
	}
}

// BenchmarkRefusalLogGC measures what the refusal log costs the garbage
// collector with both its buffers full (the release minute's 20,000
// refusals a second fill one every flush): the heap bytes one collection
// scans and the time of a full collection; beside it the two []refused of
// the same size it was before (docs/performance.md, "What the collector
// scans"), in the same run.
//
//	go test -run '^$' -bench RefusalLogGC -benchtime 20x ./internal/booking
func BenchmarkRefusalLogGC(b *testing.B) {
	const n = 32768 // Config.RefusalBuffer's default
	sess := &Session{ID: NewID()}
	attempt := func(i int) refused { // each string its own, as a request's are
		return refused{ts: int64(i), typ: EventRejected, sess: sess, ch: ChannelOnline, account: fmt.Sprintf("%08x-1111-4b5e-9f00-%012x", i, i),
			patient: fmt.Sprintf("%08x-6a3c-4b5e-9f00-%012x", i, i), reason: strings.Clone("sold_out"),
			ip: fmt.Sprintf("10.%d.%d.%d", i>>16, (i>>8)&255, i&255), device: fmt.Sprintf("dv-%06d", i)}
	}
	run := func(b *testing.B, add func(refused)) {
		for i := range 2 * n {
			add(attempt(i))
		}
		runtime.GC()
		s := []metrics.Sample{{Name: "/gc/scan/heap:bytes"}}
		b.ResetTimer()
		var scanned uint64
		for range b.N {
			runtime.GC()
			metrics.Read(s)
			scanned += s[0].Value.Uint64()
		}
		b.ReportMetric(float64(scanned)/float64(b.N)/(1<<20), "scanned-MiB/gc")
	}
	b.Run("[]refused", func(b *testing.B) {
		bufs := [2][]refused{make([]refused, 0, n), make([]refused, 0, n)}
		run(b, func(r refused) { bufs[len(bufs[0])/n] = append(bufs[len(bufs[0])/n], r) })
		runtime.KeepAlive(bufs)
	})
	b.Run("refusalBuf", func(b *testing.B) {
		bufs := [2]*refusalBuf{newRefusalBuf(n), newRefusalBuf(n)}
		run(b, func(r refused) { bufs[len(bufs[0].recs)/n].put(&r) })
		runtime.KeepAlive(bufs)
	})
}
