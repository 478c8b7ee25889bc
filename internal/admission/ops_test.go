package admission

import (
	"testing"
	"time"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
)

func TestServingOnCluster(t *testing.T) {
	cf := newClusterFixture(t, 3)
	ids := make([]string, len(cf.hosps))
	for i, f := range cf.hosps {
		ids[i] = f.hosp
	}
	got, err := cf.g.Serving(cf.ctx, ids)
	testenv.Must(t, err, "serving")
	seen := map[string]bool{}
	for i, f := range cf.hosps {
		// f.rdb is the master of the hospital's slot.
		if want := f.rdb.Options().Addr; got[i] != want {
			t.Errorf("hospital %d: served by %q, want %q (the master of its slot)", i, got[i], want)
		}
		seen[got[i]] = true
	}
	if len(seen) != 3 {
		t.Errorf("three hospitals on three masters are served by %d distinct nodes, want 3", len(seen))
	}
}

func TestServingOnSingleRedis(t *testing.T) {
	f := newFixture(t)
	got, err := f.g.Serving(f.ctx, []string{f.hosp, booking.NewID()})
	testenv.Must(t, err, "serving")
	want := infoField(f.rdb.Info(f.ctx, "server").Val(), "run_id")
	if len(got) != 2 || got[0] != want || got[1] != want || len(want) != 40 {
		t.Errorf("serving = %q, want the run id %q for both", got, want)
	}
}

func TestOverdueCountsExpiredPendingHolds(t *testing.T) {
	f := newFixture(t)
	s := f.session(day(3), "dept", online(5, time.Now().Add(-time.Hour)))
	for range 3 {
		f.mustReserve(f.reservation(s, newIdentityKey())) // pending for a minute
	}
	other := newFixture(t)
	n, err := f.g.Overdue(f.ctx, []string{f.hosp, other.hosp}, time.Now())
	testenv.Must(t, err, "overdue now")
	if n != 0 {
		t.Errorf("overdue now = %d, want 0 (the holds are pending for a minute)", n)
	}
	n, err = f.g.Overdue(f.ctx, []string{f.hosp, other.hosp}, time.Now().Add(2*time.Minute))
	testenv.Must(t, err, "overdue in two minutes")
	if n != 3 {
		t.Errorf("overdue in two minutes = %d, want 3", n)
	}
	if n, err = f.g.Overdue(f.ctx, nil, time.Now()); err != nil || n != 0 {
		t.Errorf("overdue of no hospital = %d, %v; want 0, nil", n, err)
	}
}
