package httpapi

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"fairslot/internal/cowmap"
)

// metrics are labelled by route template, method, status and outcome (an
// error code or "ok"): bounded sets. Never by user, patient, IP or session.
type metrics struct {
	requests      *prometheus.CounterVec
	latency       *prometheus.HistogramVec
	limiterErrors prometheus.Counter
	// seen holds the counter and the histogram of each label set observed
	// so far, resolved once: a request then counts with one map read, where
	// the vectors' own lookup formatted the status, checked every label's
	// UTF-8, hashed them and took a read lock (2 % of a sold-out answer's
	// CPU). The label sets are bounded, so is the map.
	seen *cowmap.Map[labelSet, observers]
}

// labelSet is one request's labels; route, method and outcome are the
// server's own strings (templates, methodLabel, error codes), never bytes
// of the request.
type labelSet struct {
	route, method, outcome string
	status                 int
}

type observers struct {
	requests prometheus.Counter
	latency  prometheus.Observer
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fairslot_http_requests_total",
			Help: "HTTP requests by route template, method and status code.",
		}, []string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "fairslot_http_request_duration_seconds",
			Help: "HTTP request latency by route template, method and outcome (ok or the error code).",
			// .15 and .2 so the release second's 201s (issue 16: p99 ≤ 100 ms)
			// are estimated inside a 50 ms step rather than 100-250 ms.
			Buckets: []float64{.0005, .001, .002, .005, .01, .025, .05, .1, .15, .2, .25, .5, 1, 2.5},
		}, []string{"route", "method", "outcome"}),
		limiterErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fairslot_rate_limiter_errors_total",
			Help: "Rate-limiter store failures (the request was let through).",
		}),
	}
	m.seen = cowmap.New(m.resolve)
	if reg != nil {
		reg.MustRegister(m.requests, m.latency, m.limiterErrors)
	}
	return m
}

func (m *metrics) observe(route, method string, status int, outcome string, d time.Duration) {
	o := m.seen.Get(labelSet{route: route, method: methodLabel(method), outcome: outcome, status: status})
	o.requests.Inc()
	o.latency.Observe(d.Seconds())
}

// resolve looks l's counter and histogram up in the vectors.
func (m *metrics) resolve(l labelSet) observers {
	return observers{
		requests: m.requests.WithLabelValues(l.route, l.method, strconv.Itoa(l.status)),
		latency:  m.latency.WithLabelValues(l.route, l.method, l.outcome),
	}
}

// methodLabel is the method as a metric label: the methods HTTP defines,
// and "other" for anything a client invents, so the label stays a bounded
// set.
func methodLabel(m string) string {
	switch m {
	case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE":
		return m
	}
	return "other"
}
