package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"fairslot/internal/booking"
	"fairslot/internal/testenv"
	"fairslot/internal/testenv/stack"
)

// servingScript is the real gate with the node that serves the hospitals
// scripted by the test: a failover is a change of node.
type servingScript struct {
	watchedGate
	node string
}

func (s *servingScript) Serving(_ context.Context, ids []string) ([]string, error) {
	out := make([]string, len(ids))
	for i := range out {
		out[i] = s.node
	}
	return out, nil
}

// A Redis failover that lost writes leaves Redis wrong about a hospital;
// the watch reconciles it when the node serving the hospital changes, and
// only then.
func TestRedisWatchReconcilesWhenTheServingNodeChanges(t *testing.T) {
	ctx := t.Context()
	st := stack.New(t, booking.Config{}, nil)
	sch, err := demoSchedule(time.Now(), time.Now().Add(-time.Minute), 2, 12)
	testenv.Must(t, err, "demo schedule")
	testenv.Must(t, st.Store.SaveSchedule(ctx, sch), "save schedule")
	_, err = st.Service.Refresh(ctx)
	testenv.Must(t, err, "refresh")
	testenv.Must(t, st.Service.Reconcile(ctx), "reconcile")

	gate := &servingScript{watchedGate: st.Gate, node: "node-1"}
	reg := prometheus.NewRegistry()
	w := newRedisWatch(gate, st.Service, st.Log, reg)
	testenv.Must(t, w.checkServing(ctx), "first look")

	// The promoted replica lacks a return: a free slot is missing.
	sess := sch.Sessions[len(sch.Sessions)-1]
	free := st.Prefix + ":{" + sess.HospitalID + "}:s:" + sess.ID + ":free:" + string(booking.ChannelOnline)
	if n, err := st.Redis.ZPopMin(ctx, free).Result(); err != nil || len(n) != 1 {
		t.Fatalf("take a free slot out of %s: %v, %v", free, n, err)
	}
	drift := func() []booking.Drift {
		t.Helper()
		diff, err := st.Service.Check(ctx)
		testenv.Must(t, err, "check")
		return diff
	}
	if len(drift()) == 0 {
		t.Fatalf("check finds no drift after a slot was lost; the test cannot tell a reconcile")
	}

	testenv.Must(t, w.checkServing(ctx), "same node")
	if got := drift(); len(got) == 0 {
		t.Fatalf("the watch reconciled although the serving node did not change")
	}
	gate.node = "node-2" // the replica took over
	testenv.Must(t, w.checkServing(ctx), "after the failover")
	if got := drift(); len(got) != 0 {
		t.Fatalf("after the serving node changed, Redis still differs from SQL: %+v", got)
	}
	// One failover and one reconcile counted for each hospital the node
	// serves (the demo has two).
	want := float64(len(sch.Hospitals))
	if got := gauge(t, reg, "fairslot_redis_failovers_total", ""); got != want {
		t.Errorf("fairslot_redis_failovers_total = %v, want %v", got, want)
	}
	if got := gauge(t, reg, "fairslot_redis_failover_reconciles_total", ""); got != want {
		t.Errorf("fairslot_redis_failover_reconciles_total = %v, want %v", got, want)
	}
	testenv.Must(t, w.checkServing(ctx), "settled")
	if got := gauge(t, reg, "fairslot_redis_failovers_total", ""); got != want {
		t.Errorf("after settling, fairslot_redis_failovers_total = %v, want still %v", got, want)
	}
}

// The gauges: the sweeper's backlog and the pools released in the last hour.
func TestRedisWatchGauges(t *testing.T) {
	ctx := t.Context()
	st := stack.New(t, booking.Config{}, nil)
	now := time.Now()
	sch, err := demoSchedule(now, now.Add(-10*time.Minute), 3, 12)
	testenv.Must(t, err, "demo schedule")
	// Sessions of the last day are released two hours ago: not in the window.
	var inWindow int
	for i := range sch.Sessions {
		s := &sch.Sessions[i]
		late := s.VisitDate == sch.Sessions[len(sch.Sessions)-1].VisitDate
		for j := range s.Channels {
			if late {
				s.Channels[j].ReleaseAt = now.Add(-2 * time.Hour)
			} else if s.Channels[j].Channel == booking.ChannelOnline && now.Before(s.EndsAt) {
				inWindow += s.Channels[j].Quota
			}
		}
	}
	testenv.Must(t, st.Store.SaveSchedule(ctx, sch), "save schedule")
	_, err = st.Service.Refresh(ctx)
	testenv.Must(t, err, "refresh")
	testenv.Must(t, st.Service.Reconcile(ctx), "reconcile")

	reg := prometheus.NewRegistry()
	w := newRedisWatch(st.Gate, st.Service, st.Log, reg)
	testenv.Must(t, w.gauges(ctx), "gauges")
	online := string(booking.ChannelOnline)
	if got := gauge(t, reg, "fairslot_release_slots", online); got != float64(inWindow) || inWindow == 0 {
		t.Errorf("fairslot_release_slots{channel=online} = %v, want %d", got, inWindow)
	}
	if got := gauge(t, reg, "fairslot_release_slots_free", online); got != float64(inWindow) {
		t.Errorf("fairslot_release_slots_free{channel=online} = %v, want %d (nothing booked)", got, inWindow)
	}
	if got := gauge(t, reg, "fairslot_holds_overdue", ""); got != 0 {
		t.Errorf("fairslot_holds_overdue = %v, want 0", got)
	}
}

// gauge reads a metric's value from reg: the one with channel label ch, or
// the only one when ch is "".
func gauge(t *testing.T, reg *prometheus.Registry, name, ch string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	testenv.Must(t, err, "gather")
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			match := ch == ""
			for _, l := range m.GetLabel() {
				match = match || l.GetName() == "channel" && l.GetValue() == ch
			}
			if !match {
				continue
			}
			switch {
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("metric %s{channel=%q} not found", name, ch)
	return 0
}

// TestUnmigratedDatabaseSaysMigrate: a command run against a database that
// was never migrated (or is older than the build) says to run `fairslot
// migrate`; it used to end on PostgreSQL's bare `relation "hospitals" does
// not exist`, which left the operator to guess. A migrated database runs.
func TestUnmigratedDatabaseSaysMigrate(t *testing.T) {
	_, prefix := testenv.Redis(t)
	env := toolEnv(t, prefix)
	env["FAIRSLOT_DATABASE_URL"] = env["FAIRSLOT_MIGRATE_DATABASE_URL"]
	env["FAIRSLOT_STAFF_PASSWORD"] = "staff-pass-123"
	getenv := func(k string) string { return env[k] }
	for _, cmd := range [][]string{
		{"reconcile", "--check"},
		{"events", "--out", filepath.Join(t.TempDir(), "events.jsonl")},
		{"staff", "add", "--role", "admin", "--phone", "13900000077"},
	} {
		t.Run(strings.Join(cmd, " "), func(t *testing.T) {
			var out, errs bytes.Buffer
			err := run(context.Background(), cmd, getenv, &out, &errs)
			if err == nil || !strings.Contains(err.Error(), "run `fairslot migrate`") {
				t.Errorf("fairslot %s on an unmigrated database = %v, want it to say to run fairslot migrate", strings.Join(cmd, " "), err)
			}
		})
	}
	var out, errs bytes.Buffer
	testenv.Must(t, run(context.Background(), []string{"migrate"}, getenv, &out, &errs), "migrate")
	if err := run(context.Background(), []string{"reconcile", "--check"}, getenv, &out, &errs); err != nil {
		t.Errorf("fairslot reconcile --check after migrate = %v, want success", err)
	}
}
