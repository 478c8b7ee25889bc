package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"fairslot/internal/admission"
	"fairslot/internal/booking"
)

// redisWatch is what every instance does for the operators besides serving:
// it follows which Redis node serves each hospital and reconciles a
// hospital with SQL when that changes (a failover or a restart may have
// lost the latest holds and returns), and it keeps the release-hour gauges
// the dashboard and the alert rules read (deploy/prometheus).
type redisWatch struct {
	gate watchedGate
	svc  *booking.Service
	log  *slog.Logger

	serving map[string]string // hospital → the node last reconciled against

	failovers     prometheus.Counter
	reconciled    prometheus.Counter
	overdue       prometheus.Gauge
	releasedFree  *prometheus.GaugeVec
	releasedSlots *prometheus.GaugeVec
}

// watchedGate is what the watch reads of admission (*admission.Gate).
type watchedGate interface {
	Serving(ctx context.Context, hospitalIDs []string) ([]string, error)
	Overdue(ctx context.Context, hospitalIDs []string, now time.Time) (int64, error)
	Remaining(ctx context.Context, sessions []*booking.Session) ([]map[booking.Channel]int, error)
}

var _ watchedGate = (*admission.Gate)(nil)

// releaseWindow is how long after a pool's release its free slots are
// reported: the release hour the dashboard shows.
const releaseWindow = time.Hour

func newRedisWatch(gate watchedGate, svc *booking.Service, log *slog.Logger, reg prometheus.Registerer) *redisWatch {
	w := &redisWatch{
		gate: gate, svc: svc, log: log, serving: map[string]string{},
		failovers: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fairslot_redis_failovers_total",
			Help: "Hospitals whose Redis node changed (failover or restart), each reconciled with SQL.",
		}),
		reconciled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fairslot_redis_failover_reconciles_total",
			Help: "Reconciliations of hospitals after their Redis node changed, completed.",
		}),
		overdue: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "fairslot_holds_overdue",
			Help: "Holds whose pending deadline has passed, not yet settled by the sweeper (its backlog).",
		}),
		releasedFree: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "fairslot_release_slots_free",
			Help: "Free slots of the pools released in the last hour, by channel.",
		}, []string{"channel"}),
		releasedSlots: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "fairslot_release_slots",
			Help: "Slots of the pools released in the last hour, by channel.",
		}, []string{"channel"}),
	}
	reg.MustRegister(w.failovers, w.reconciled, w.overdue, w.releasedFree, w.releasedSlots,
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "fairslot_admission_drift_total",
			Help: "Commits SQL refused because Redis had handed out a slot SQL had booked (Redis drifted from SQL); each session is reconciled.",
		}, func() float64 { return float64(svc.Stats().Drifts) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "fairslot_pool_move_put_backs_failed_total",
			Help: "Pool moves SQL refused whose slots could not be put back in Redis; each session is reconciled from SQL.",
		}, func() float64 { return float64(svc.Stats().PutBacksFailed) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "fairslot_flags_opened_total",
			Help: "Scalper flags the detector opened or reopened for review.",
		}, func() float64 { return float64(svc.Stats().FlagsOpened) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "fairslot_detect_runs_total",
			Help: "Runs of the scalper detector in this instance.",
		}, func() float64 { return float64(svc.Stats().DetectRuns) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "fairslot_detect_last_duration_seconds",
			Help: "How long the detector's last run took (the detector alone, not its SQL reads and writes).",
		}, func() float64 { return svc.Stats().DetectLast.Seconds() }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "fairslot_detect_last_events",
			Help: "Events the detector's last run read.",
		}, func() float64 { return float64(svc.Stats().DetectEvents) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "fairslot_call_backs_purged_total",
			Help: "Call-back rows (notices of people no account lists) the retention job deleted past their need and grace.",
		}, func() float64 { return float64(svc.Stats().CallBacksPurged) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "fairslot_caller_phones_purged_total",
			Help: "Numbers kept to call a caller or walk-in back (sealed) the retention job deleted past their need and grace.",
		}, func() float64 { return float64(svc.Stats().CallerPhonesPurged) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "fairslot_removed_members_erased_total",
			Help: "Removed family members whose number and name (sealed) the retention job erased past the grace.",
		}, func() float64 { return float64(svc.Stats().RemovedMembersErased) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "fairslot_event_phones_erased_total",
			Help: "Events whose phone reference (a keyed hash) the retention job emptied past the detection window.",
		}, func() float64 { return float64(svc.Stats().EventPhonesErased) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "fairslot_events_purged_total",
			Help: "Booking events the retention job deleted: refused attempts past 90 days, the others past 400.",
		}, func() float64 { return float64(svc.Stats().EventsPurged) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "fairslot_report_phones_erased_total",
			Help: "Closed scalper reports whose offered number (hash and mask) the retention job erased past their need.",
		}, func() float64 { return float64(svc.Stats().ReportPhonesErased) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "fairslot_notifications_purged_total",
			Help: "Notifications the retention job deleted: a closed account's after 30 days, a read one a year after it was written.",
		}, func() float64 { return float64(svc.Stats().NotificationsPurged) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "fairslot_identities_erased_total",
			Help: "Persons whose sealed ID number and name the retention job erased a year after nothing named them (hashes and masks kept).",
		}, func() float64 { return float64(svc.Stats().IdentitiesErased) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "fairslot_case_texts_erased_total",
			Help: "Closed cases whose free texts the retention job erased after the complaint-record period (--case-record-years).",
		}, func() float64 { return float64(svc.Stats().CaseTextsErased) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "fairslot_admission_state_not_whole",
			Help: "Hospitals whose booking state in Redis this instance last saw lost, stale or being reloaded (each answers 503 until reloaded).",
		}, func() float64 { return float64(svc.StateNotWhole()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "fairslot_admission_reloads_total",
			Help: "Reloads of a hospital's booking state from SQL this instance completed after Redis lost it.",
		}, func() float64 { return float64(svc.Reloads()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "fairslot_flags_overdue",
			Help: "Open scalper flags past their decision deadline (--flag-decision-within) at the last detection run; their holds on lottery entries have lapsed.",
		}, func() float64 { return float64(svc.Stats().FlagsOverdue) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "fairslot_lottery_draws_overdue",
			Help: "Lottery pools not drawn a minute after their draw time (and grace), as this instance's catalog shows them.",
		}, func() float64 { return float64(svc.DrawsOverdue()) }))
	return w
}

// run follows the serving nodes every `every` and refreshes the gauges
// every five times that, until ctx ends.
func (w *redisWatch) run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for n := 0; ; n++ {
		if err := w.checkServing(ctx); err != nil && ctx.Err() == nil {
			w.log.Warn("read which Redis nodes serve the hospitals", "err", err)
		}
		if n%5 == 0 {
			if err := w.gauges(ctx); err != nil && ctx.Err() == nil {
				w.log.Warn("read the release gauges", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// checkServing reconciles every hospital whose serving node changed since
// it was last seen. The first sight of a hospital only records its node
// (serve reconciles everything at start). A failed reconciliation keeps the
// old node, so the next tick tries again.
func (w *redisWatch) checkServing(ctx context.Context) error {
	hs := w.svc.Catalog().Hospitals()
	if len(hs) == 0 {
		return nil
	}
	ids := make([]string, len(hs))
	for i, h := range hs {
		ids[i] = h.ID
	}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	nodes, err := w.gate.Serving(cctx, ids)
	cancel()
	if err != nil {
		return err
	}
	var changed []string
	for i, id := range ids {
		old, seen := w.serving[id]
		switch {
		case !seen:
			w.serving[id] = nodes[i]
		case old != nodes[i]:
			changed = append(changed, id)
		}
	}
	if len(changed) == 0 {
		return nil
	}
	w.failovers.Add(float64(len(changed)))
	w.log.Warn("the Redis node serving hospitals changed (failover or restart); reconciling them with SQL", "hospitals", len(changed))
	start := time.Now()
	if err := w.svc.ReconcileHospitals(ctx, changed); err != nil {
		return err
	}
	for i, id := range ids {
		w.serving[id] = nodes[i]
	}
	w.reconciled.Add(float64(len(changed)))
	w.log.Info("reconciled hospitals after a Redis node change", "hospitals", len(changed), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// gauges reads the sweeper's backlog and the free slots of the pools
// released in the last hour.
func (w *redisWatch) gauges(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	cat := w.svc.Catalog()
	now := time.Now()
	var ids []string
	var recent []*booking.Session
	for _, h := range cat.Hospitals() {
		ids = append(ids, h.ID)
		for _, s := range cat.HospitalSessions(h.ID) {
			for _, q := range s.Channels {
				if !q.ReleaseAt.After(now) && now.Sub(q.ReleaseAt) < releaseWindow && now.Before(s.EndsAt) {
					recent = append(recent, s)
					break
				}
			}
		}
	}
	n, err := w.gate.Overdue(ctx, ids, now)
	if err != nil {
		return err
	}
	w.overdue.Set(float64(n))
	free, total := map[booking.Channel]int{}, map[booking.Channel]int{}
	if len(recent) > 0 {
		rem, err := w.gate.Remaining(ctx, recent)
		if err != nil {
			return err
		}
		for i, s := range recent {
			for _, q := range s.Channels {
				if !q.ReleaseAt.After(now) && now.Sub(q.ReleaseAt) < releaseWindow {
					free[q.Channel] += rem[i][q.Channel]
					total[q.Channel] += q.Quota
				}
			}
		}
	}
	w.releasedFree.Reset()
	w.releasedSlots.Reset()
	for c, n := range total {
		w.releasedSlots.WithLabelValues(string(c)).Set(float64(n))
		w.releasedFree.WithLabelValues(string(c)).Set(float64(free[c]))
	}
	return nil
}

// jobMetrics is booking.JobMetrics on Prometheus: failed runs of each
// periodic job, and when each last succeeded, so a job that keeps failing
// or stops succeeding (hung past its deadline, never given its lease)
// raises an alert (deploy/prometheus/alerts.yml, FairslotJobFailing and
// FairslotJobNotSucceeding) rather than only a log line. Each job's
// interval and deadline are exported beside them, so the alert's
// threshold follows the job as configured rather than one figure for all.
type jobMetrics struct {
	failures    *prometheus.CounterVec
	lastSuccess *prometheus.GaugeVec
	now         func() time.Time
}

// newJobMetrics exports both series for every job from the start: the
// failures at 0 (a rate needs the series before its first failure), the
// last success at now, so a job that never succeeds on any instance is
// caught as well as one that stopped; and each job's interval and
// per-run deadline, which do not change while the process runs.
func newJobMetrics(reg prometheus.Registerer, jobs []booking.Job, now func() time.Time) booking.JobMetrics {
	if reg == nil {
		return nil
	}
	m := &jobMetrics{
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fairslot_job_failures_total",
			Help: "Runs of a periodic background job (sweep, notify, no-shows, …) that ended in an error or past their deadline, by job_name (not job: that label is Prometheus's own).",
		}, []string{"job_name"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "fairslot_job_last_success_timestamp_seconds",
			Help: "When a periodic background job last ran to success on this instance (Unix seconds), by job_name; the instance's start until its first success.",
		}, []string{"job_name"}),
		now: now,
	}
	interval := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "fairslot_job_interval_seconds",
		Help: "How often a periodic background job runs on this instance (its ticker), by job_name.",
	}, []string{"job_name"})
	timeout := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "fairslot_job_timeout_seconds",
		Help: "The deadline of each run of a periodic background job, by job_name.",
	}, []string{"job_name"})
	start := float64(now().UnixNano()) / 1e9
	for _, j := range jobs {
		m.failures.WithLabelValues(j.Name)
		m.lastSuccess.WithLabelValues(j.Name).Set(start)
		interval.WithLabelValues(j.Name).Set(j.Every.Seconds())
		timeout.WithLabelValues(j.Name).Set(j.RunTimeout().Seconds())
	}
	reg.MustRegister(m.failures, m.lastSuccess, interval, timeout)
	return m
}

func (m *jobMetrics) JobRan(job string, err error) {
	if err != nil {
		m.failures.WithLabelValues(job).Inc()
		return
	}
	m.lastSuccess.WithLabelValues(job).Set(float64(m.now().UnixNano()) / 1e9)
}
