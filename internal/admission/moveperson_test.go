package admission

import (
	"errors"
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

// wantMovedPerson checks MovePerson in one hospital: a document holds one
// clinic on a day and the person another; once the document's holds move
// to the person's key, a third clinic that day breaks the per-day quota
// (2), and the document's bar bars the person. Again, nothing changes
// (idempotent). hs are the hospitals of one call (on several nodes in a
// cluster).
func wantMovedPerson(t *testing.T, g *Gate, hs []*fixture) {
	date := futureMonday()
	doc, person := newIdentityKey(), newIdentityKey()
	var thirds []booking.Reservation
	for _, f := range hs {
		a := f.session(date, "dermatology", online(2, time.Now().Add(-time.Hour)))
		b := f.session(date, "orthopedics", online(2, time.Now().Add(-time.Hour)))
		c := f.session(date, "urology", online(2, time.Now().Add(-time.Hour)))
		f.mustReserve(f.reservation(a, doc))
		f.mustReserve(f.reservation(b, person))
		thirds = append(thirds, f.reservation(c, person))
	}
	until := time.Now().Add(48 * time.Hour).Truncate(time.Millisecond)
	testenv.Must(t, g.Bar(t.Context(), []string{hs[0].hosp}, doc, until), "bar the document")
	ids := make([]string, len(hs))
	for i, f := range hs {
		ids[i] = f.hosp
	}
	for round := range 2 {
		testenv.Must(t, g.MovePerson(t.Context(), ids, doc, person), "move person (round %d)", round)
	}
	for i, f := range hs {
		_, _, err := g.Reserve(f.ctx, thirds[i])
		want := booking.ErrQuotaDay
		if i == 0 {
			want = booking.ErrPatientBarred
		}
		if !errors.Is(err, want) {
			t.Errorf("hospital %d: a third clinic that day for the person = %v, want %v", i, err, want)
		}
		if f.exists(g.keys(f.hosp).identity(doc)) {
			t.Errorf("hospital %d: the document's holds are still under its own key", i)
		}
	}
}

func TestMovePersonJoinsTheHolds(t *testing.T) {
	f := newFixture(t)
	f2 := *f
	f2.hosp = booking.NewID()
	markWhole(t, f.g, f2.hosp)
	wantMovedPerson(t, f.g, []*fixture{f, &f2})
}

func TestClusterMovePersonJoinsTheHolds(t *testing.T) {
	cf := newClusterFixture(t, 2)
	if n := nodes(cf.hosps); n < 2 {
		t.Fatalf("the hospitals live on %d node(s), want 2", n)
	}
	wantMovedPerson(t, cf.g, cf.hosps)
}
