package gateway

import "github.com/prometheus/client_golang/prometheus"

// metrics are the edge's Prometheus series; every label set is bounded.
type metrics struct {
	authFailures *prometheus.CounterVec
	rateLimited  *prometheus.CounterVec
	shed         prometheus.Counter
	idempotency  *prometheus.CounterVec
	faults       *prometheus.CounterVec
	faultRules   prometheus.GaugeFunc
}

func newMetrics(reg prometheus.Registerer, faults *Faults) *metrics {
	m := &metrics{
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plinth_gateway_auth_failures_total",
			Help: "Requests refused by authentication or scopes, by transport and reason (missing, invalid, scope).",
		}, []string{"transport", "reason"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plinth_gateway_rate_limited_total",
			Help: "Requests refused with 429 by rate class.",
		}, []string{"class"}),
		shed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "plinth_gateway_shed_total",
			Help: "Requests refused with 503 because limits.max-in-flight were being served.",
		}),
		idempotency: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plinth_gateway_idempotency_total",
			Help: "Requests with an Idempotency-Key by outcome (first, replayed, conflict, mismatch).",
		}, []string{"outcome"}),
		faults: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plinth_gateway_faults_injected_total",
			Help: "Faults injected by kind (latency, error, abort) and target.",
		}, []string{"kind", "target"}),
		faultRules: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "plinth_gateway_fault_rules",
			Help: "Fault injection rules in force (0 when fault injection is off).",
		}, func() float64 { return float64(faults.Len()) }),
	}
	reg.MustRegister(m.authFailures, m.rateLimited, m.shed, m.idempotency, m.faults, m.faultRules)
	return m
}
