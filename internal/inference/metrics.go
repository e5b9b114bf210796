package inference

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/plinthai/plinth/internal/wire"
)

// arm indexes the traffic arms in flat arrays.
type arm uint8

const (
	armChampion arm = iota
	armChallenger
	armShadow
	armPinned
	numArms
)

// armNames is indexed by arm, with the wire names.
var armNames = [numArms]string{wire.ArmChampion, wire.ArmChallenger, wire.ArmShadow, wire.ArmPinned}

func (a arm) String() string { return armNames[a] }

// metrics are the service's Prometheus metrics; labels are bounded by the
// models and versions loaded (a version's series are deleted on unload).
type metrics struct {
	requests    *prometheus.CounterVec
	errors      *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	batchSize   *prometheus.HistogramVec
	inflight    *prometheus.GaugeVec
	loaded      *prometheus.GaugeVec
	loads       *prometheus.CounterVec
	logs        *prometheus.CounterVec
	logsWaiting prometheus.Gauge
	shadowDrops prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plinth_inference_requests_total",
			Help: "Predictions answered or shadowed, by model, version and traffic arm.",
		}, []string{"model", "version", "arm"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plinth_inference_errors_total",
			Help: "Predictions that failed in the model (panics included), by model and version.",
		}, []string{"model", "version"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "plinth_inference_latency_seconds",
			Help:    "Time from decoded request to model output, batching wait included, by model and version.",
			Buckets: []float64{.000005, .00001, .000025, .00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .1, 1},
		}, []string{"model", "version"}),
		batchSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "plinth_inference_batch_rows",
			Help:    "Rows per model call, by model and version (1 when batching is off and requests carry one row).",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 1024},
		}, []string{"model", "version"}),
		inflight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "plinth_inference_requests_in_flight",
			Help: "Prediction requests being served now, by model.",
		}, []string{"model"}),
		loaded: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "plinth_inference_loaded_versions",
			Help: "Versions of a model loaded now (champion, challenger and pinned).",
		}, []string{"model"}),
		loads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plinth_inference_loads_total",
			Help: "Model version loads, by model and result (ok or error).",
		}, []string{"model", "result"}),
		logs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plinth_inference_prediction_logs_total",
			Help: "Prediction logs by outcome: published, dropped (queue full: the bus is slow) or failed (the bus refused).",
		}, []string{"outcome"}),
		logsWaiting: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "plinth_inference_prediction_logs_waiting",
			Help: "Prediction logs queued for the bus or in a batch being published.",
		}),
		shadowDrops: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "plinth_inference_shadow_dropped_total",
			Help: "Shadow predictions dropped because the shadow queue was full.",
		}),
	}
	reg.MustRegister(m.requests, m.errors, m.latency, m.batchSize, m.inflight, m.loaded, m.loads, m.logs, m.logsWaiting, m.shadowDrops)
	return m
}

// versionMetrics are one loaded version's series, bound once at load so
// the request path does no label lookups.
type versionMetrics struct {
	requests [numArms]prometheus.Counter
	errors   prometheus.Counter
	latency  prometheus.Observer
	batch    prometheus.Observer
}

func (m *metrics) forVersion(model string, version int64) *versionMetrics {
	v := strconv.FormatInt(version, 10)
	vm := &versionMetrics{
		errors:  m.errors.WithLabelValues(model, v),
		latency: m.latency.WithLabelValues(model, v),
		batch:   m.batchSize.WithLabelValues(model, v),
	}
	for a := range numArms {
		vm.requests[a] = m.requests.WithLabelValues(model, v, a.String())
	}
	return vm
}

// dropVersion deletes a version's series once it is unloaded.
func (m *metrics) dropVersion(model string, version int64) {
	labels := prometheus.Labels{"model": model, "version": strconv.FormatInt(version, 10)}
	m.requests.DeletePartialMatch(labels)
	m.errors.Delete(labels)
	m.latency.Delete(labels)
	m.batchSize.Delete(labels)
}
