package features

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	events     *prometheus.CounterVec
	visible    *prometheus.HistogramVec
	offlineErr prometheus.Counter
}

// Outcomes of an event, the label of plinth_features_events_total.
const (
	outcomeApplied   = "applied"
	outcomeDuplicate = "duplicate"
	outcomeLate      = "late"
	outcomeInvalid   = "invalid"
)

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plinth_features_events_total",
			Help: "Events consumed, by view and outcome (applied, duplicate, late, invalid).",
		}, []string{"view", "outcome"}),
		visible: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "plinth_features_event_visible_seconds",
			Help:    "Time from an event's arrival in JetStream to its features being visible online.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5, 30},
		}, []string{"view"}),
		offlineErr: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "plinth_features_offline_write_errors_total",
			Help: "Offline log segments that failed to write (their events are redelivered).",
		}),
	}
	for _, c := range []prometheus.Collector{m.events, m.visible, m.offlineErr} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register features metrics: %w", err)
		}
	}
	return m, nil
}
