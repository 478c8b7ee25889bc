package httpapi

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are labelled by route template, method, status and outcome (an
// error code or "ok"): bounded sets. Never by user, patient, IP or session.
type metrics struct {
	requests      *prometheus.CounterVec
	latency       *prometheus.HistogramVec
	limiterErrors prometheus.Counter
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
	if reg != nil {
		reg.MustRegister(m.requests, m.latency, m.limiterErrors)
	}
	return m
}

func (m *metrics) observe(route, method string, status int, outcome string, d time.Duration) {
	method = methodLabel(method)
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route, method, outcome).Observe(d.Seconds())
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
