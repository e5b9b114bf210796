package ingest

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	events   *prometheus.CounterVec
	inFlight prometheus.GaugeFunc
}

// Outcomes of an event, the label of plinth_ingest_events_total.
const (
	outcomeAccepted  = "accepted"
	outcomeDuplicate = "duplicate"
	outcomeRejected  = "rejected"
	outcomeBusy      = "busy"
)

func newMetrics(reg prometheus.Registerer, inFlight func() float64) (*metrics, error) {
	m := &metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plinth_ingest_events_total",
			Help: "Events received, by stream and outcome (accepted, duplicate, rejected, busy).",
		}, []string{"stream", "outcome"}),
		inFlight: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "plinth_ingest_events_in_flight",
			Help: "Events published and waiting for JetStream's acknowledgement.",
		}, inFlight),
	}
	for _, c := range []prometheus.Collector{m.events, m.inFlight} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register ingest metrics: %w", err)
		}
	}
	return m, nil
}

func (m *metrics) count(stream string, r *Result, busy int) {
	m.events.WithLabelValues(stream, outcomeAccepted).Add(float64(r.Accepted - r.Duplicates))
	m.events.WithLabelValues(stream, outcomeDuplicate).Add(float64(r.Duplicates))
	m.events.WithLabelValues(stream, outcomeRejected).Add(float64(len(r.Rejected) - busy))
	m.events.WithLabelValues(stream, outcomeBusy).Add(float64(busy))
}
