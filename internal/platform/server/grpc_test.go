package server

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// testService answers UnaryCall with the trace id it sees, and panics when
// the request asks for response size -1.
type testService struct {
	testgrpc.UnimplementedTestServiceServer
}

func (testService) UnaryCall(ctx context.Context, req *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
	if req.GetResponseSize() < 0 {
		panic("kaboom")
	}
	return &testgrpc.SimpleResponse{Username: trace.SpanContextFromContext(ctx).TraceID().String()}, nil
}

// startGRPC serves a Server's gRPC on a loopback port with the test
// service registered, and returns a client of it.
func startGRPC(t *testing.T) (*Server, *grpc.ClientConn) {
	t.Helper()
	cfg := Config{HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0", ReadHeaderTimeout: time.Second,
		IdleTimeout: time.Second, MaxHeaderBytes: 1 << 14, GRPCMaxRecvBytes: 1 << 20}
	s := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), prometheus.NewRegistry(),
		func(context.Context) error { return nil }, new(slog.LevelVar))
	testgrpc.RegisterTestServiceServer(s.GRPC(), testService{})
	if err := s.Starting(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Running(ctx) }()
	conn, err := grpc.NewClient(s.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
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
	return s, conn
}

// TestGRPCInterceptor checks the one unary interceptor: UNAVAILABLE until
// an edge is installed (health exempt), the edge in front of the handler
// with the caller's trace context, and a panic answered INTERNAL with the
// server still serving.
func TestGRPCInterceptor(t *testing.T) {
	s, conn := startGRPC(t)
	client := testgrpc.NewTestServiceClient(conn)
	ctx := context.Background()
	if _, err := client.UnaryCall(ctx, &testgrpc.SimpleRequest{}); status.Code(err) != codes.Unavailable {
		t.Errorf("before the edge: got %v, want Unavailable", err)
	}
	if _, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Errorf("health before the edge: %v, want an answer", err)
	}
	var edged atomic.Int64
	s.SetEdge(Edge{Unary: func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		edged.Add(1)
		return h(ctx, req)
	}})

	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	otel.SetTextMapPropagator(propagation.TraceContext{})
	t.Cleanup(func() { otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator()) })
	tctx := metadata.AppendToOutgoingContext(ctx, "traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	resp, err := client.UnaryCall(tctx, &testgrpc.SimpleRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.GetUsername(); got != traceID {
		t.Errorf("trace id in the handler: got %q, want %q", got, traceID)
	}
	if _, err := client.UnaryCall(ctx, &testgrpc.SimpleRequest{ResponseSize: -1}); status.Code(err) != codes.Internal {
		t.Errorf("panicking handler: got %v, want Internal", err)
	}
	for range 100 { // on the pooled stream workers, one after another
		if _, err := client.UnaryCall(ctx, &testgrpc.SimpleRequest{}); err != nil {
			t.Fatalf("after the panic: %v", err)
		}
	}
	if got := edged.Load(); got != 102 {
		t.Errorf("edge ran %d times, want 102", got)
	}
}
