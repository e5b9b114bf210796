package inference

import (
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/plinthai/plinth/internal/registry"
)

// series returns the series of the metric family name in reg whose labels
// include all of want.
func series(t *testing.T, reg *prometheus.Registry, name string, want map[string]string) []*dto.Metric {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []*dto.Metric
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	metric:
		for _, m := range f.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for k, v := range want {
				if got[k] != v {
					continue metric
				}
			}
			out = append(out, m)
		}
	}
	return out
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

	v1 := map[string]string{"model": "m", "version": "1"}
	m := h.s.metrics
	if got := testutil.ToFloat64(m.requests.WithLabelValues("m", "1", "champion")); got != 4 {
		t.Errorf("requests{m,1,champion} = %v, want 4", got)
	}
	if got := testutil.ToFloat64(m.errors.WithLabelValues("m", "1")); got != 1 {
		t.Errorf("errors{m,1} = %v, want 1", got)
	}
	for _, c := range []struct {
		name       string
		count, sum float64 // sum < 0: not checked
	}{
		{"plinth_inference_latency_seconds", 4, -1},
		{"plinth_inference_batch_rows", 4, 5}, // 1 + 1 + 2 + 1 rows
	} {
		s := series(t, h.prom, c.name, v1)
		if len(s) != 1 {
			t.Fatalf("%s{m,1}: %d series, want 1", c.name, len(s))
		}
		hist := s[0].GetHistogram()
		if float64(hist.GetSampleCount()) != c.count || (c.sum >= 0 && hist.GetSampleSum() != c.sum) {
			t.Errorf("%s{m,1}: count %d sum %v, want %v and %v", c.name, hist.GetSampleCount(), hist.GetSampleSum(), c.count, c.sum)
		}
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
	for _, name := range []string{"plinth_inference_requests_total", "plinth_inference_errors_total", "plinth_inference_latency_seconds", "plinth_inference_batch_rows"} {
		if s := series(t, h.prom, name, v1); len(s) != 0 {
			t.Errorf("%s: %d series of version 1 after it was unloaded, want none", name, len(s))
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
