package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/plinthai/plinth/internal/platform/problem"
	"github.com/plinthai/plinth/internal/platform/telemetry"
)

// RequestIDHeader carries the request id in both directions.
const RequestIDHeader = "X-Request-Id"

// unmatchedLabel is the route label of requests no route served.
const unmatchedLabel = "unmatched"

type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inflight prometheus.Gauge

	mu        sync.Mutex // serialises misses of the routes' caches
	unmatched atomic.Pointer[routeStats]
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plinth_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "plinth_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern.",
			Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
		}, []string{"route"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "plinth_http_requests_in_flight",
			Help: "HTTP requests being served now.",
		}),
	}
	reg.MustRegister(m.requests, m.duration, m.inflight)
	return m
}

// routeStats are one route's metric handles, resolved once: the latency
// histogram and the request counters by method and status code seen so
// far (copy on write; a route answers few distinct pairs).
type routeStats struct {
	label    string
	duration prometheus.Observer
	counters atomic.Pointer[[]codeCounter]
}

type codeCounter struct {
	method string
	code   int
	c      prometheus.Counter
}

// maxCachedCounters bounds a route's counter cache against clients that
// send made-up methods; past it, lookups go to the vector.
const maxCachedCounters = 32

// statsFor returns the handles of the route that served a request (nil:
// none did).
func (m *httpMetrics) statsFor(rt *route) *routeStats {
	slot, label := &m.unmatched, unmatchedLabel
	if rt != nil && rt.pattern != fallbackPattern {
		slot, label = &rt.stats, rt.pattern
	}
	if st := slot.Load(); st != nil {
		return st
	}
	st := &routeStats{label: label, duration: m.duration.WithLabelValues(label)}
	st.counters.Store(&[]codeCounter{})
	if !slot.CompareAndSwap(nil, st) {
		return slot.Load()
	}
	return st
}

func (m *httpMetrics) observe(st *routeStats, method string, code int, d time.Duration) {
	st.duration.Observe(d.Seconds())
	for _, cc := range *st.counters.Load() {
		if cc.code == code && cc.method == method {
			cc.c.Inc()
			return
		}
	}
	c := m.requests.WithLabelValues(st.label, method, strconv.Itoa(code))
	c.Inc()
	m.mu.Lock()
	defer m.mu.Unlock()
	old := *st.counters.Load()
	if len(old) < maxCachedCounters {
		next := append(old[:len(old):len(old)], codeCounter{method: method, code: code, c: c})
		st.counters.Store(&next)
	}
}

// statusWriter records the status code written and the route that served
// the request. The middleware pools them: a handler must not keep its
// ResponseWriter past its return (net/http's rule too).
type statusWriter struct {
	http.ResponseWriter
	code  int
	route *route
}

var statusWriters = sync.Pool{New: func() any { return new(statusWriter) }}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// instrument wraps the mux with request ids, recovery, metrics and trace
// context. With tracing on, otelhttp starts a span per request; with it
// off, only an incoming W3C traceparent (and baggage) is extracted into
// the context, so logs carry the caller's trace id and the bus propagates
// it, without otelhttp's cost on every request.
func instrument(next http.Handler, logger *slog.Logger, reg prometheus.Registerer, tracing bool) http.Handler {
	m := newHTTPMetrics(reg)
	ids := newRequestIDs()
	epoch := time.Now()
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Since(epoch) // one clock read; time.Now takes two (wall and monotonic)
		if !tracing {
			r = withRemoteTrace(r)
		}
		if id := r.Header.Get(RequestIDHeader); id != "" && len(id) <= 128 {
			w.Header()[RequestIDHeader] = []string{id}
		} else {
			w.Header()[RequestIDHeader] = ids.header()
		}
		sw := statusWriters.Get().(*statusWriter)
		*sw = statusWriter{ResponseWriter: w}
		m.inflight.Inc()
		defer func() {
			m.inflight.Dec()
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				logger.ErrorContext(r.Context(), "handler panic", "route", r.Pattern, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				if sw.code == 0 {
					problem.Write(sw, r, fmt.Errorf("panic"))
				}
			}
			code := sw.code
			if code == 0 {
				code = http.StatusOK
			}
			m.observe(m.statsFor(sw.route), r.Method, code, time.Since(epoch)-start)
			*sw = statusWriter{}
			statusWriters.Put(sw)
		}()
		next.ServeHTTP(sw, r)
	})
	if !tracing {
		return inner
	}
	return otelhttp.NewHandler(inner, "http",
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method + " " + r.URL.Path }),
		otelhttp.WithFilter(func(r *http.Request) bool {
			return r.URL.Path != "/metrics" && r.URL.Path != "/livez" && r.URL.Path != "/readyz"
		}))
}

// withRemoteTrace returns r with the W3C trace context of its headers in
// its context, or r itself when it carries none (the common case, free).
func withRemoteTrace(r *http.Request) *http.Request {
	if r.Header["Traceparent"] == nil && r.Header["Baggage"] == nil {
		return r
	}
	return r.WithContext(otel.GetTextMapPropagator().Extract(r.Context(), propagation.HeaderCarrier(r.Header)))
}

// requestIDs makes request ids: a random per-process prefix and a counter,
// 24 hex digits like a 96-bit random id, unique without a system call per
// request.
type requestIDs struct {
	prefix [12]byte // 6 random bytes in hex
	n      atomic.Uint64
}

func newRequestIDs() *requestIDs {
	var b [6]byte
	_, _ = rand.Read(b[:])
	ids := &requestIDs{}
	hex.Encode(ids.prefix[:], b[:])
	return ids
}

func (g *requestIDs) next() string { return g.header()[0] }

// idHeader is a request id and the header value slice that holds it, made
// in one allocation; neither is written after it is built.
type idHeader struct {
	vals [1]string
	buf  [24]byte
}

// header returns a new id as a header value.
func (g *requestIDs) header() []string {
	const digits = "0123456789abcdef"
	h := new(idHeader)
	copy(h.buf[:], g.prefix[:])
	n := g.n.Add(1)
	for i := len(h.buf) - 1; i >= len(g.prefix); i-- {
		h.buf[i] = digits[n&0xf]
		n >>= 4
	}
	h.vals[0] = unsafe.String(&h.buf[0], len(h.buf))
	return h.vals[:]
}

// logLevelHandler shows (GET) or sets (PUT, body "debug" or ?level=debug)
// the process's log level.
func logLevelHandler(levels *slog.LevelVar) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
		case http.MethodPut, http.MethodPost:
			v := r.URL.Query().Get("level")
			if v == "" {
				b, _ := io.ReadAll(io.LimitReader(r.Body, 64))
				v = strings.TrimSpace(string(b))
			}
			lvl, err := telemetry.ParseLevel(v)
			if err != nil {
				problem.Write(w, r, problem.Field("level", "%v", err))
				return
			}
			levels.Set(lvl)
		default:
			w.Header().Set("Allow", "GET, PUT")
			problem.Write(w, r, problem.Wrap(problem.ErrInvalid, "method %s not allowed", r.Method))
			return
		}
		fmt.Fprintln(w, strings.ToLower(levels.Level().String()))
	})
}

// unaryInterceptor is the one unary interceptor of the gRPC server: the
// caller's W3C trace context into ctx (when trace is set: tracing off, so
// otelgrpc does not do it), panic recovery (INTERNAL, the process stays
// up), then the edge. One function rather than a chain of three, because
// grpc-go's chaining allocates a closure per link on every call.
func (s *Server) unaryInterceptor(logger *slog.Logger, trace bool) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		if trace {
			ctx = remoteTraceGRPC(ctx)
		}
		defer func() {
			if p := recover(); p != nil {
				logger.ErrorContext(ctx, "grpc handler panic", "method", info.FullMethod, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				err = status.Error(codes.Internal, "internal error")
			}
		}()
		return s.edgeUnary(ctx, req, info, handler)
	}
}

// traceStream extracts an incoming W3C trace context from gRPC metadata
// when tracing is off (otelgrpc does it when on).
func traceStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	ctx := ss.Context()
	if tctx := remoteTraceGRPC(ctx); tctx != ctx {
		ss = &contextStream{ServerStream: ss, ctx: tctx}
	}
	return handler(srv, ss)
}

func remoteTraceGRPC(ctx context.Context) context.Context {
	tp := metadata.ValueFromIncomingContext(ctx, "traceparent")
	if len(tp) == 0 {
		return ctx
	}
	carrier := propagation.MapCarrier{"traceparent": tp[0]}
	if ts := metadata.ValueFromIncomingContext(ctx, "tracestate"); len(ts) > 0 {
		carrier["tracestate"] = ts[0]
	}
	if bg := metadata.ValueFromIncomingContext(ctx, "baggage"); len(bg) > 0 {
		carrier["baggage"] = bg[0]
	}
	return otel.GetTextMapPropagator().Extract(ctx, carrier)
}

// contextStream is a server stream with another context.
type contextStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *contextStream) Context() context.Context { return s.ctx }

func recoverStream(logger *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
		defer func() {
			if p := recover(); p != nil {
				logger.Error("grpc stream panic", "method", info.FullMethod, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				err = status.Error(codes.Internal, "internal error")
			}
		}()
		return handler(srv, ss)
	}
}
