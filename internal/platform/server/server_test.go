package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"

	"github.com/plinthai/plinth/internal/platform/problem"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func start(t *testing.T, ready ReadyFunc) (*Server, string) {
	t.Helper()
	cfg := Config{HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0", ReadHeaderTimeout: time.Second,
		IdleTimeout: time.Second, MaxHeaderBytes: 1 << 14, GRPCMaxRecvBytes: 1 << 20}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	levels := new(slog.LevelVar)
	s := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), prometheus.NewRegistry(), ready, levels)
	s.Mux().HandleFunc("GET /boom", func(http.ResponseWriter, *http.Request) { panic("kaboom") })
	if err := s.Starting(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Running(ctx) }()
	t.Cleanup(func() {
		dctx, dcancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer dcancel()
		if err := s.Drain(dctx); err != nil {
			t.Error(err)
		}
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return s, "http://" + s.HTTPAddr()
}

func get(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestProbes(t *testing.T) {
	var notReady atomic.Bool
	_, base := start(t, func(context.Context) error {
		if notReady.Load() {
			return errors.New("registry: warming up")
		}
		return nil
	})
	if code, _, _ := get(t, base+"/livez"); code != 200 {
		t.Errorf("/livez = %d, want 200", code)
	}
	if code, _, _ := get(t, base+"/readyz"); code != 200 {
		t.Errorf("/readyz = %d, want 200", code)
	}
	notReady.Store(true)
	code, body, _ := get(t, base+"/readyz")
	if code != 503 || !strings.Contains(body, "registry: warming up") {
		t.Errorf("/readyz = %d %q, want 503 naming the module", code, body)
	}
}

func TestPanicIsA500AndServerSurvives(t *testing.T) {
	_, base := start(t, func(context.Context) error { return nil })
	code, body, hdr := get(t, base+"/boom")
	if code != 500 || hdr.Get("Content-Type") != problem.ContentType {
		t.Fatalf("/boom = %d %s, want 500 problem", code, hdr.Get("Content-Type"))
	}
	var d problem.Details
	if err := json.Unmarshal([]byte(body), &d); err != nil || d.RequestID == "" || d.RequestID != hdr.Get(RequestIDHeader) {
		t.Errorf("problem = %+v (err %v), want the request id %q", d, err, hdr.Get(RequestIDHeader))
	}
	if code, _, _ := get(t, base+"/livez"); code != 200 {
		t.Errorf("after panic /livez = %d", code)
	}
	_, metrics, _ := get(t, base+"/metrics")
	for _, want := range []string{`plinth_http_requests_total{code="500",method="GET",route="GET /boom"} 1`, "plinth_http_request_duration_seconds_bucket"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestLogLevelAtRunTime(t *testing.T) {
	_, base := start(t, func(context.Context) error { return nil })
	req, _ := http.NewRequest(http.MethodPut, base+"/debug/log-level", strings.NewReader("debug"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, body, _ := get(t, base+"/debug/log-level"); strings.TrimSpace(body) != "debug" {
		t.Errorf("level = %q, want debug", body)
	}
	req, _ = http.NewRequest(http.MethodPut, base+"/debug/log-level?level=loud", nil)
	resp, _ = http.DefaultClient.Do(req)
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("bad level: status %d, want 400", resp.StatusCode)
	}
}

func TestValidateReportsAll(t *testing.T) {
	c := Config{HTTPAddr: "nohostport", GRPCAddr: "also bad", MaxHeaderBytes: 0, GRPCMaxRecvBytes: -1}
	err := c.Validate()
	for _, want := range []string{"server.http-addr", "server.grpc-addr", "server.max-header-bytes", "server.grpc-max-recv-bytes"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to name %s", err, want)
		}
	}
}

func TestRequestIDsAreUnique(t *testing.T) {
	ids := newRequestIDs()
	seen := map[string]bool{}
	for range 1000 {
		id := ids.next()
		if len(id) != 24 || strings.Trim(id, "0123456789abcdef") != "" || seen[id] {
			t.Fatalf("id %q: want 24 new hex digits", id)
		}
		seen[id] = true
	}
	if other := newRequestIDs().next(); other[:12] == ids.next()[:12] {
		t.Errorf("two processes share the prefix %q", other[:12])
	}
}

// TestTraceContextWithoutTracing: with tracing off the caller's
// traceparent still reaches the handler's context.
func TestTraceContextWithoutTracing(t *testing.T) {
	otel.SetTextMapPropagator(propagation.TraceContext{})
	t.Cleanup(func() { otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator()) })
	s, base := start(t, func(context.Context) error { return nil })
	s.Mux().HandleFunc("GET /trace", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(trace.SpanContextFromContext(r.Context()).TraceID().String()))
	})
	req, _ := http.NewRequest(http.MethodGet, base+"/trace", nil)
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("trace id in the handler = %q, want the caller's", b)
	}
	if _, body, _ := get(t, base+"/trace"); body != (trace.TraceID{}).String() {
		t.Errorf("without traceparent: trace id %q, want none", body)
	}
}

// TestRoutingWithoutEdge: unmatched paths answer like ServeMux (404, 405
// with Allow), and public paths answer 503 until an edge is installed,
// then go through it once per route.
func TestRoutingWithoutEdge(t *testing.T) {
	s, base := start(t, func(context.Context) error { return nil })
	s.Mux().HandleFunc("GET /v1/things/{id}", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(r.PathValue("id"))) })
	if code, _, _ := get(t, base+"/nowhere"); code != 404 {
		t.Errorf("/nowhere = %d, want 404", code)
	}
	resp, err := http.Post(base+"/livez", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /livez = %d Allow %q, want 405 GET, HEAD", resp.StatusCode, resp.Header.Get("Allow"))
	}
	for _, path := range []string{"/v1/things/a", "/v1/nope", "/v2"} {
		if code, _, hdr := get(t, base+path); code != 503 || hdr.Get("Retry-After") == "" {
			t.Errorf("%s before the edge = %d, want 503", path, code)
		}
	}
	var built []string
	s.SetEdge(Edge{
		Route: func(pattern string, next http.Handler) http.Handler {
			built = append(built, pattern)
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Edge", "yes")
				next.ServeHTTP(w, r)
			})
		},
		Unmatched: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) }),
	})
	if code, body, hdr := get(t, base+"/v1/things/a"); code != 200 || body != "a" || hdr.Get("X-Edge") != "yes" {
		t.Errorf("/v1/things/a = %d %q edge %q, want 200 a through the edge", code, body, hdr.Get("X-Edge"))
	}
	if code, _, hdr := get(t, base+"/livez"); code != 200 || hdr.Get("X-Edge") != "" {
		t.Errorf("/livez = %d edge %q, want 200 past the edge", code, hdr.Get("X-Edge"))
	}
	if code, _, _ := get(t, base+"/v1/nope"); code != http.StatusTeapot {
		t.Errorf("/v1/nope = %d, want the edge's unmatched handler", code)
	}
	_, metrics, _ := get(t, base+"/metrics")
	for _, want := range []string{`route="GET /v1/things/{id}"`, `code="418",method="GET",route="unmatched"`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if !slices.Contains(built, "GET /v1/things/{id}") {
		t.Errorf("edge built for %v, want GET /v1/things/{id}", built)
	}
}
