package registry

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/plinthai/plinth/internal/platform/problem"
)

type metrics struct {
	changes       *prometheus.CounterVec
	artifactBytes prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plinth_registry_changes_total",
			Help: "Registry write operations by operation and outcome (ok, or the error kind).",
		}, []string{"op", "outcome"}),
		artifactBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "plinth_registry_artifact_bytes_total",
			Help: "Bytes of artifacts uploaded and stored.",
		}),
	}
	for _, c := range []prometheus.Collector{m.changes, m.artifactBytes} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register registry metrics: %w", err)
		}
	}
	return m, nil
}

func (m *metrics) observe(op string, err error) {
	outcome := "ok"
	if err != nil {
		outcome = problem.Slug(err)
	}
	m.changes.WithLabelValues(op, outcome).Inc()
}
