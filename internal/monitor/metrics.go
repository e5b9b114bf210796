package monitor

import (
	"fmt"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the monitor's Prometheus series. Labels are bounded: model,
// version, a metric or feature name from the model's schema, and fixed
// outcome words; never an entity or prediction id.
type metrics struct {
	predictions   *prometheus.CounterVec
	feedback      *prometheus.CounterVec
	evicted       *prometheus.CounterVec
	invalid       *prometheus.CounterVec
	pending       *prometheus.GaugeVec
	quality       *prometheus.GaugeVec
	samples       *prometheus.GaugeVec
	windowPreds   *prometheus.GaugeVec
	errorRate     *prometheus.GaugeVec
	p99           *prometheus.GaugeVec
	psi           *prometheus.GaugeVec
	alerts        *prometheus.CounterVec
	webhook       *prometheus.CounterVec
	retrains      *prometheus.CounterVec
	verdicts      *prometheus.CounterVec
	profileErrors prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: "plinth_monitor_" + name, Help: help}, labels)
	}
	gauge := func(name, help string, labels ...string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "plinth_monitor_" + name, Help: help}, labels)
	}
	m := &metrics{
		predictions: counter("predictions_total", "Prediction logs consumed, by outcome: counted, duplicate, outside_window.", "model", "outcome"),
		feedback:    counter("feedback_total", "Labels consumed, by outcome: joined, pending, duplicate, late, invalid.", "model", "outcome"),
		evicted:     counter("pending_evicted_total", "Predictions or labels evicted unjoined (too old or over the cap), by kind.", "kind"),
		invalid:     counter("messages_invalid_total", "Messages that could not be decoded, by stream; they are terminated.", "stream"),
		pending:     gauge("pending", "Predictions and labels waiting for a join, by kind.", "kind"),
		quality:     gauge("quality", "Live quality over the window of joined labels, by metric (roc_auc, auprc, precision_at_k, hr_at_10, ndcg_at_10).", "model", "version", "metric"),
		samples:     gauge("joined_samples", "Joined labels in the window.", "model", "version"),
		windowPreds: gauge("window_predictions", "Predictions in the window.", "model", "version"),
		errorRate:   gauge("error_rate", "Share of failed predictions in the window.", "model", "version"),
		p99:         gauge("latency_p99_seconds", "99th percentile prediction latency in the window.", "model", "version"),
		psi:         gauge("feature_psi", "Population stability index of a feature in the window against the training profile.", "model", "version", "feature"),
		alerts:      counter("alerts_total", "Alerts raised, by rule (decay, error_rate, latency, drift).", "model", "rule"),
		webhook:     counter("webhook_deliveries_total", "Alert webhook deliveries, by outcome: ok, failed (after retries), dropped (queue full).", "outcome"),
		retrains:    counter("retrain_requests_total", "Retrain requests, by trigger and outcome: published, duplicate, cooldown, failed.", "model", "trigger", "outcome"),
		verdicts:    counter("verdicts_total", "Canary verdicts given, by decision.", "model", "decision"),
		profileErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "plinth_monitor_profile_errors_total",
			Help: "Failures to load a version's reference profile from the registry (drift is skipped until a retry succeeds)."}),
	}
	for _, c := range []prometheus.Collector{m.predictions, m.feedback, m.evicted, m.invalid, m.pending, m.quality,
		m.samples, m.windowPreds, m.errorRate, m.p99, m.psi, m.alerts, m.webhook, m.retrains, m.verdicts, m.profileErrors} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register monitor metrics: %w", err)
		}
	}
	return m, nil
}

// observe publishes a version's figures.
func (m *metrics) observe(s VersionStats) {
	v := strconv.FormatInt(s.Version, 10)
	for name, q := range s.Quality {
		m.quality.WithLabelValues(s.Model, v, name).Set(q)
	}
	m.samples.WithLabelValues(s.Model, v).Set(float64(s.Samples))
	m.windowPreds.WithLabelValues(s.Model, v).Set(float64(s.Predictions))
	m.errorRate.WithLabelValues(s.Model, v).Set(s.ErrorRate)
	m.p99.WithLabelValues(s.Model, v).Set(s.P99MS / 1000)
	for _, d := range s.Drift {
		m.psi.WithLabelValues(s.Model, v, d.Feature).Set(d.PSI)
	}
}

// forget drops the series of a version that left the window.
func (m *metrics) forget(model string, version int64) {
	l := prometheus.Labels{"model": model, "version": strconv.FormatInt(version, 10)}
	for _, g := range []*prometheus.GaugeVec{m.quality, m.samples, m.windowPreds, m.errorRate, m.p99, m.psi} {
		g.DeletePartialMatch(l)
	}
}
