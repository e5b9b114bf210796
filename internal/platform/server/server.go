// Package server owns a process's one HTTP server and one gRPC server,
// shared by every module in the process. Modules add routes to Mux and
// services to GRPC during their init, before the servers start listening.
//
// The HTTP server answers /livez (the process is up), /readyz (every module
// is ready; 503 with the reasons otherwise, and from the moment a stop
// begins), /metrics (the process registry) and /debug/log-level. Every
// request gets an X-Request-Id, the caller's W3C trace context (a span of
// its own only when tracing is on, see WithTracing), metrics by route
// pattern, and panic recovery that answers 500 and keeps the process up.
// Each request is routed once, by the ServeMux; see Mux.
//
// Stop order: Drain stops accepting connections and waits for in-flight
// HTTP requests and gRPC calls to finish (or the deadline), before the
// manager stops any module the requests might still use.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/pflag"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
)

// Defaults for Config.
const (
	DefaultHTTPAddr          = ":8080"
	DefaultGRPCAddr          = ":8081"
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultIdleTimeout       = 2 * time.Minute
	DefaultMaxHeaderBytes    = 64 << 10
	DefaultGRPCMaxRecvBytes  = 64 << 20
)

// Config is the servers' configuration.
type Config struct {
	HTTPAddr          string        `yaml:"http-addr"`
	GRPCAddr          string        `yaml:"grpc-addr"`
	ReadHeaderTimeout time.Duration `yaml:"read-header-timeout"`
	IdleTimeout       time.Duration `yaml:"idle-timeout"`
	MaxHeaderBytes    int           `yaml:"max-header-bytes"`
	GRPCMaxRecvBytes  int           `yaml:"grpc-max-recv-bytes"`
}

// RegisterFlags registers the server.* flags.
func (c *Config) RegisterFlags(fs *pflag.FlagSet) {
	fs.StringVar(&c.HTTPAddr, "server.http-addr", DefaultHTTPAddr, "HTTP listen address (REST /v1, Open Inference Protocol /v2, probes, metrics)")
	fs.StringVar(&c.GRPCAddr, "server.grpc-addr", DefaultGRPCAddr, "gRPC listen address; empty disables gRPC")
	fs.DurationVar(&c.ReadHeaderTimeout, "server.read-header-timeout", DefaultReadHeaderTimeout, "time allowed to read request headers")
	fs.DurationVar(&c.IdleTimeout, "server.idle-timeout", DefaultIdleTimeout, "keep-alive idle timeout")
	fs.IntVar(&c.MaxHeaderBytes, "server.max-header-bytes", DefaultMaxHeaderBytes, "largest request header block accepted")
	fs.IntVar(&c.GRPCMaxRecvBytes, "server.grpc-max-recv-bytes", DefaultGRPCMaxRecvBytes, "largest gRPC message accepted")
}

// Validate reports every problem in the config.
func (c *Config) Validate() error {
	var errs []error
	if c.HTTPAddr == "" {
		errs = append(errs, errors.New("server.http-addr: must not be empty"))
	} else if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		errs = append(errs, fmt.Errorf("server.http-addr: %w", err))
	}
	if c.GRPCAddr != "" {
		if _, _, err := net.SplitHostPort(c.GRPCAddr); err != nil {
			errs = append(errs, fmt.Errorf("server.grpc-addr: %w", err))
		}
	}
	if c.MaxHeaderBytes <= 0 {
		errs = append(errs, errors.New("server.max-header-bytes: must be positive"))
	}
	if c.GRPCMaxRecvBytes <= 0 {
		errs = append(errs, errors.New("server.grpc-max-recv-bytes: must be positive"))
	}
	return errors.Join(errs...)
}

// streamWorkersPerCPU sizes the gRPC server's pool of stream workers. A
// call on a fresh goroutine grows its stack through the interceptors, the
// edge and the handler on every call (runtime.morestack copies it, about a
// sixth of a unary call's CPU); a pooled worker keeps its grown stack. A
// burst of streams beyond the pool runs on new goroutines, as without one,
// so the size bounds only how many calls reuse a stack at once.
const streamWorkersPerCPU = 64

func streamWorkers() uint32 { return uint32(streamWorkersPerCPU * runtime.GOMAXPROCS(0)) }

// ReadyFunc reports the process's readiness.
type ReadyFunc func(ctx context.Context) error

// Server is the process's HTTP and gRPC servers. It is a lifecycle.Service
// and a lifecycle.Drainer.
type Server struct {
	cfg    Config
	logger *slog.Logger
	mux    *Mux
	edge   atomic.Pointer[edgeState]
	grpc   *grpc.Server
	health *health.Server
	http   *http.Server

	mu       sync.Mutex
	httpLn   net.Listener
	grpcLn   net.Listener
	draining bool
}

// Option adjusts what New builds.
type Option func(*options)

type options struct{ tracing bool }

// WithTracing turns per-request spans on (otelhttp and otelgrpc), for a
// process whose OTEL_* environment asks for traces (see
// telemetry.TracingEnabled). Off, the servers only carry an incoming W3C
// trace context into the request's context, which costs nothing when a
// request has none.
func WithTracing(on bool) Option { return func(o *options) { o.tracing = on } }

// New builds the servers. ready is consulted by /readyz; levels is the
// logger's LevelVar exposed on /debug/log-level.
func New(cfg Config, logger *slog.Logger, reg *prometheus.Registry, ready ReadyFunc, levels *slog.LevelVar, opts ...Option) *Server {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	s := &Server{cfg: cfg, logger: logger, mux: NewMux()}
	gopts := []grpc.ServerOption{GRPCCodec(), grpc.MaxRecvMsgSize(cfg.GRPCMaxRecvBytes), grpc.NumStreamWorkers(streamWorkers()),
		grpc.UnaryInterceptor(s.unaryInterceptor(logger, !o.tracing))}
	stream := []grpc.StreamServerInterceptor{recoverStream(logger), s.edgeStream}
	if o.tracing {
		gopts = append(gopts, grpc.StatsHandler(otelgrpc.NewServerHandler()))
	} else {
		stream = append([]grpc.StreamServerInterceptor{traceStream}, stream...)
	}
	gopts = append(gopts, grpc.ChainStreamInterceptor(stream...))
	s.grpc = grpc.NewServer(gopts...)
	s.health = health.NewServer()
	healthpb.RegisterHealthServer(s.grpc, s.health)
	reflection.Register(s.grpc)
	s.mux.HandleFunc("GET /livez", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	s.mux.HandleFunc("GET /readyz", s.readyz(ready))
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg, EnableOpenMetrics: false}))
	s.mux.Handle("/debug/log-level", logLevelHandler(levels))
	s.http = &http.Server{
		Handler:           instrument(s.mux, logger, reg, o.tracing),
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	return s
}

// Mux is the HTTP route table modules add to. Patterns use net/http's
// method and wildcard syntax. Requests under PublicPrefixes pass through
// the edge (see SetEdge) before they reach it.
func (s *Server) Mux() *Mux { return s.mux }

// Handler is the whole HTTP chain the listener serves (middleware, edge,
// routes), for tests and benchmarks that drive it without a socket.
func (s *Server) Handler() http.Handler { return s.http.Handler }

// GRPC is the gRPC server modules register services on.
func (s *Server) GRPC() *grpc.Server { return s.grpc }

// HTTPAddr returns the bound HTTP address once started ("" before).
func (s *Server) HTTPAddr() string { return addr(&s.mu, &s.httpLn) }

// GRPCAddr returns the bound gRPC address once started ("" before or when
// gRPC is disabled).
func (s *Server) GRPCAddr() string { return addr(&s.mu, &s.grpcLn) }

func addr(mu *sync.Mutex, ln *net.Listener) string {
	mu.Lock()
	defer mu.Unlock()
	if *ln == nil {
		return ""
	}
	return (*ln).Addr().String()
}

// Starting binds the listeners, so a port conflict fails the start.
func (s *Server) Starting(context.Context) error {
	hl, err := net.Listen("tcp", s.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen http on %s: %w", s.cfg.HTTPAddr, err)
	}
	var gl net.Listener
	if s.cfg.GRPCAddr != "" {
		if gl, err = net.Listen("tcp", s.cfg.GRPCAddr); err != nil {
			hl.Close()
			return fmt.Errorf("listen grpc on %s: %w", s.cfg.GRPCAddr, err)
		}
	}
	s.mu.Lock()
	s.httpLn, s.grpcLn = hl, gl
	s.mu.Unlock()
	s.logger.Info("listening", "http_addr", hl.Addr().String(), "grpc_addr", s.GRPCAddr())
	return nil
}

// Running serves until ctx is cancelled or a server fails.
func (s *Server) Running(ctx context.Context) error {
	errc := make(chan error, 2)
	go func() { errc <- s.http.Serve(s.httpLn) }()
	if s.grpcLn != nil {
		go func() { errc <- s.grpc.Serve(s.grpcLn) }()
	}
	select {
	case <-ctx.Done():
		return nil
	case err := <-errc:
		if err == nil || errors.Is(err, http.ErrServerClosed) || errors.Is(err, grpc.ErrServerStopped) {
			<-ctx.Done()
			return nil
		}
		return fmt.Errorf("serve: %w", err)
	}
}

// Drain stops accepting new work and waits for in-flight requests until
// ctx's deadline, then closes what remains.
func (s *Server) Drain(ctx context.Context) error {
	s.mu.Lock()
	if s.draining {
		s.mu.Unlock()
		return nil
	}
	s.draining = true
	s.mu.Unlock()
	s.health.Shutdown()
	done := make(chan struct{})
	go func() { s.grpc.GracefulStop(); close(done) }()
	err := s.http.Shutdown(ctx)
	select {
	case <-done:
	case <-ctx.Done():
		s.grpc.Stop()
	}
	if err != nil {
		_ = s.http.Close()
		return fmt.Errorf("drain http: %w", err)
	}
	return nil
}

// Stopping drains if that has not happened yet.
func (s *Server) Stopping(ctx context.Context) error { return s.Drain(ctx) }

// CheckReady is nil once the listeners are bound.
func (s *Server) CheckReady(context.Context) error {
	if s.HTTPAddr() == "" {
		return errors.New("not listening yet")
	}
	return nil
}

func (s *Server) readyz(ready ReadyFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := ready(ctx); err != nil {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "not ready: %v\n", err)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	}
}
