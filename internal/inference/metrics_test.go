package inference

import (
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/plinthai/plinth/internal/registry"
)

// histogram reads one series of a histogram vector.
func histogram(t *testing.T, o prometheus.Observer) *dto.Histogram {
	t.Helper()
	var m dto.Metric
	if err := o.(prometheus.Metric).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetHistogram()
}

// One version's requests, errors, latencies and batch rows are counted
// under its model and version, a request the client got wrong is not,
// and the version's series go when it is unloaded.
func TestMetricsPerVersion(t *testing.T) {
	reg := newFakeRegistry()
	reg.setAlias("m", aliasChampion, reg.addVersion("m", "test:const", nil, nil))
	reg.addVersion("m", "test:const", nil, nil)
	cfg := testConfig(t)
	cfg.PinnedVersions = 0 // a swapped-out version is unloaded, not kept for pinning
	h := start(t, reg, cfg, nil)

	for _, c := range []struct {
		path, body string
		status     int
	}{
		{"/v1/models/m:predict", `{"features":[1,2,3]}`, 200},
		{"/v1/models/m:predict", `{"features":{"a":1,"b":2,"c":3}}`, 200},
		{"/v2/models/m/infer", `{"inputs":[{"name":"features","shape":[2,3],"datatype":"FP32","data":[1,2,3,4,5,6]}]}`, 200},
		{"/v1/models/m:predict", `{"features":[666,0,0]}`, 500}, // the model panics
		{"/v1/models/m:predict", `{"features":[1]}`, 400},       // the client's mistake: never reaches the model
	} {
		if status, _, body := h.do("POST", c.path, []byte(c.body), nil); status != c.status {
			t.Fatalf("POST %s %s = %d %s, want %d", c.path, c.body, status, body, c.status)
		}
	}

	m := h.s.metrics
	if got := testutil.ToFloat64(m.requests.WithLabelValues("m", "1", "champion")); got != 4 {
		t.Errorf("requests{m,1,champion} = %v, want 4", got)
	}
	if got := testutil.ToFloat64(m.errors.WithLabelValues("m", "1")); got != 1 {
		t.Errorf("errors{m,1} = %v, want 1", got)
	}
	if lat := histogram(t, m.latency.WithLabelValues("m", "1")); lat.GetSampleCount() != 4 {
		t.Errorf("latency{m,1}: %d observations, want 4", lat.GetSampleCount())
	}
	if rows := histogram(t, m.batchSize.WithLabelValues("m", "1")); rows.GetSampleCount() != 4 || rows.GetSampleSum() != 5 {
		t.Errorf("batch_rows{m,1}: %d calls of %v rows, want 4 of 1 + 1 + 2 + 1", rows.GetSampleCount(), rows.GetSampleSum())
	}
	if got := testutil.ToFloat64(m.loaded.WithLabelValues("m")); got != 1 {
		t.Errorf("loaded_versions{m} = %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.inflight.WithLabelValues("m")); got != 0 {
		t.Errorf("requests_in_flight{m} = %v after every request ended, want 0", got)
	}

	reg.setAlias("m", aliasChampion, 2)
	h.refresh("m")
	if status, _, body := h.do("POST", "/v1/models/m:predict", []byte(`{"features":[1,2,3]}`), nil); status != 200 {
		t.Fatalf("after the swap = %d %s", status, body)
	}
	// Only version 2's series are left: one per arm, one of each other.
	for _, c := range []struct {
		name string
		vec  prometheus.Collector
		want int
	}{{"requests", m.requests, int(numArms)}, {"errors", m.errors, 1}, {"latency", m.latency, 1}, {"batch rows", m.batchSize, 1}} {
		if got := testutil.CollectAndCount(c.vec); got != c.want {
			t.Errorf("%s: %d series after version 1 was unloaded, want %d (version 2's)", c.name, got, c.want)
		}
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues("m", "2", "champion")); got != 1 {
		t.Errorf("requests{m,2,champion} = %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.loaded.WithLabelValues("m")); got != 1 {
		t.Errorf("loaded_versions{m} = %v after the swap, want 1", got)
	}
}

// The in-flight gauge counts the requests inside the model now.
func TestInFlightGauge(t *testing.T) {
	reg := newFakeRegistry()
	reg.setAlias("m", aliasChampion, reg.addVersion("m", "test:gate", nil, nil))
	g := &gate{hold: make(chan struct{})}
	h := startWith(t, reg, testConfig(t), nil, func(registry.Version) (runtime, *signature, bool) {
		return g, scoreSig([]string{"a", "b", "c"}, "test"), true
	})
	gauge := h.s.metrics.inflight.WithLabelValues("m")
	const n = 3
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.predictV1Raw(`{"features":[1,0,0]}`)
		}()
	}
	waitFor(t, "requests in the model", func() bool { return testutil.ToFloat64(gauge) == n })
	close(g.hold)
	wg.Wait()
	if got := testutil.ToFloat64(gauge); got != 0 {
		t.Errorf("requests_in_flight{m} = %v after the requests ended, want 0", got)
	}
}
