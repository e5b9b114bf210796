package registry_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/plinthai/plinth/internal/platform/blob"
	"github.com/plinthai/plinth/internal/platform/outbox"
	"github.com/plinthai/plinth/internal/platform/sqlstore"
	"github.com/plinthai/plinth/internal/platform/sqlstore/sqltest"
	"github.com/plinthai/plinth/internal/registry"
	"github.com/plinthai/plinth/internal/registry/client"
	"github.com/plinthai/plinth/internal/registry/registrytest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newService returns a started registry over db with a fresh blob store.
func newService(t *testing.T, db *sqlstore.DB) *registry.Service {
	t.Helper()
	ctx := context.Background()
	blobs, err := blob.Open(ctx, blob.Config{}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = blobs.Close() })
	if err := outbox.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	svc, err := registry.New(registry.Config{MaxArtifactBytes: registrytest.MaxArtifactBytes}, db, blobs, nil,
		slog.New(slog.NewTextHandler(io.Discard, nil)), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Starting(ctx); err != nil {
		t.Fatal(err)
	}
	return svc
}

// viaGRPC serves api on a loopback gRPC server and returns a client of it.
func viaGRPC(t *testing.T, api registry.API) registry.API {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	registry.NewGRPC(api).Register(srv)
	go func() { _ = srv.Serve(lis) }()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(); srv.Stop() })
	return client.New(conn)
}

// TestContract runs the behaviour suite on every SQL backend, in process
// and through the gRPC client.
func TestContract(t *testing.T) {
	for _, b := range sqltest.Backends() {
		t.Run(b.Name+"/in-process", func(t *testing.T) {
			registrytest.Run(t, func(t *testing.T) registry.API { return newService(t, b.Open(t)) })
		})
		t.Run(b.Name+"/grpc", func(t *testing.T) {
			registrytest.Run(t, func(t *testing.T) registry.API { return viaGRPC(t, newService(t, b.Open(t))) })
		})
	}
}

func mustDo(t *testing.T, fn func() error) {
	t.Helper()
	if err := fn(); err != nil {
		t.Fatal(err)
	}
}

func bytesReader(s string) io.Reader { return strings.NewReader(s) }

func errorsIs(err, kind error) bool { return errors.Is(err, kind) }
