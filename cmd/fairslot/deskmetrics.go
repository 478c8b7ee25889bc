package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"fairslot/internal/booking"
)

// deskMetrics is booking.DeskMetrics on Prometheus: what the limits of a
// registration clerk's lookups did (booking's deskLookups). Neither is
// labelled by clerk: the audit log names them (docs/operations.md).
type deskMetrics struct {
	refused, marked prometheus.Counter
}

func newDeskMetrics(reg prometheus.Registerer) booking.DeskMetrics {
	if reg == nil {
		return nil
	}
	m := &deskMetrics{
		refused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fairslot_desk_lookups_refused_total",
			Help: "Clerks' lookups of a person without the ID card refused past --lookups-without-card in an hour (429 lookups_limited).",
		}),
		marked: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fairslot_desk_lookups_marked_total",
			Help: "Clerks' lookups of a person marked in the audit for the administrator, past --lookups-marked-over persons in an hour.",
		}),
	}
	reg.MustRegister(m.refused, m.marked)
	return m
}

func (m *deskMetrics) LookupRefused() { m.refused.Inc() }
func (m *deskMetrics) LookupMarked()  { m.marked.Inc() }
