package inference

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"
	"go.uber.org/goleak"

	"github.com/plinthai/plinth/internal/platform/problem"
	"github.com/plinthai/plinth/internal/registry"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fakeRegistry is an in-memory Registry for the service's unit tests; the
// real registry and the bus are exercised by internal/app's tests.
type fakeRegistry struct {
	mu       sync.Mutex
	models   map[string]registry.Model
	versions map[string][]registry.Version
	blobs    map[string][]byte
}

func newFakeRegistry() *fakeRegistry {
	return &fakeRegistry{models: map[string]registry.Model{}, versions: map[string][]registry.Version{}, blobs: map[string][]byte{}}
}

func (f *fakeRegistry) GetModel(_ context.Context, name string) (registry.Model, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.models[name]
	if !ok {
		return m, problem.Wrap(problem.ErrNotFound, "model %q", name)
	}
	m.Aliases = maps(m.Aliases)
	return m, nil
}

func maps(m map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (f *fakeRegistry) ListModels(_ context.Context, _ int, _ string) ([]registry.Model, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []registry.Model
	for _, m := range f.models {
		m.Aliases = maps(m.Aliases)
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b registry.Model) int { return strings.Compare(a.Name, b.Name) })
	return out, "", nil
}

func (f *fakeRegistry) GetVersion(_ context.Context, model string, v int64) (registry.Version, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	vs := f.versions[model]
	if v < 1 || int(v) > len(vs) {
		return registry.Version{}, problem.Wrap(problem.ErrNotFound, "version %d", v)
	}
	return vs[v-1], nil
}

func (f *fakeRegistry) OpenArtifact(_ context.Context, sha string) (io.ReadCloser, registry.Artifact, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.blobs[sha]
	if !ok {
		return nil, registry.Artifact{}, problem.Wrap(problem.ErrNotFound, "artifact")
	}
	return io.NopCloser(strings.NewReader(string(b))), registry.Artifact{SHA256: sha, Size: int64(len(b))}, nil
}

// addVersion registers a version; data (may be nil) is its artifact.
func (f *fakeRegistry) addVersion(model, format string, data []byte, tags map[string]string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.models[model]
	if !ok {
		m = registry.Model{Name: model, Aliases: map[string]int64{}, Tags: map[string]string{}}
	}
	v := int64(len(f.versions[model]) + 1)
	sha := fmt.Sprintf("%s-%d", model, v)
	f.blobs[sha] = data
	f.versions[model] = append(f.versions[model], registry.Version{Model: model, Version: v, Format: format, ArtifactSHA256: sha, Tags: tags})
	m.LatestVersion = v
	f.models[model] = m
	return v
}

func (f *fakeRegistry) setAlias(model, alias string, v int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.models[model]
	m.Aliases = maps(m.Aliases)
	if v == 0 {
		delete(m.Aliases, alias)
	} else {
		m.Aliases[alias] = v
	}
	f.models[model] = m
}

func (f *fakeRegistry) setModel(model string, fn func(*registry.Model)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.models[model]
	fn(&m)
	f.models[model] = m
}

// constRuntime scores every row with its version number, so a test can
// tell which version answered; a first feature of 666 panics.
type constRuntime struct{ v float64 }

func (c constRuntime) predict(_ context.Context, rows []float32, n int, out []float64) error {
	for i := range n {
		if rows[i*3] == 666 {
			panic("the model met 666")
		}
		out[i] = c.v
	}
	return nil
}

// testRuntimes builds runtimes for versions of format "test:const".
func testRuntimes(v registry.Version) (runtime, *signature, bool) {
	if v.Format != "test:const" {
		return nil, nil, false
	}
	return constRuntime{float64(v.Version)}, scoreSig([]string{"a", "b", "c"}, "test"), true
}

// harness is a started Service behind an HTTP test server.
type harness struct {
	t    testing.TB
	reg  *fakeRegistry
	s    *Service
	srv  *httptest.Server
	prom *prometheus.Registry
}

func testConfig(t testing.TB) Config {
	t.Helper()
	var cfg Config
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	cfg.RegisterFlags(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// start builds and starts a service over reg; pub (may be nil) receives
// prediction logs.
func start(t testing.TB, reg *fakeRegistry, cfg Config, pub Publisher) *harness {
	t.Helper()
	return startWith(t, reg, cfg, pub, testRuntimes)
}

// startWith is start with the runtimes of test versions built by rts.
func startWith(t testing.TB, reg *fakeRegistry, cfg Config, pub Publisher, rts func(registry.Version) (runtime, *signature, bool)) *harness {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	prom := prometheus.NewRegistry()
	s, err := New(cfg, reg, nil, nil, logger, prom)
	if err != nil {
		t.Fatal(err)
	}
	s.testRuntime = rts
	s.logs.pub = pub
	if err := s.Starting(context.Background()); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	NewHTTP(s, "test", logger).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Stopping(ctx); err != nil {
			t.Errorf("Stopping: %v", err)
		}
	})
	return &harness{t: t, reg: reg, s: s, srv: srv, prom: prom}
}

// do sends a request and returns the status, headers and body.
func (h *harness) do(method, path string, body []byte, hdr map[string]string) (int, http.Header, []byte) {
	h.t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+path, strings.NewReader(string(body)))
	if err != nil {
		h.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// refresh applies the registry's state now, as a MODELS event would.
func (h *harness) refresh(model string) {
	h.t.Helper()
	if err := h.s.refresh(context.Background(), model, nil); err != nil {
		h.t.Fatal(err)
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
