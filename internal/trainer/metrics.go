package trainer

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type serviceMetrics struct {
	jobs     *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*serviceMetrics, error) {
	m := &serviceMetrics{
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plinth_trainer_job_deliveries_total",
			Help: "Job deliveries handled, by outcome: succeeded, failed, retry, cancelled, skipped, interrupted.",
		}, []string{"outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "plinth_trainer_job_duration_seconds",
			Help:    "Time spent on one job delivery, by outcome.",
			Buckets: prometheus.ExponentialBuckets(0.05, 4, 10),
		}, []string{"outcome"}),
	}
	for _, c := range []prometheus.Collector{m.jobs, m.duration} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register trainer metrics: %w", err)
		}
	}
	return m, nil
}
