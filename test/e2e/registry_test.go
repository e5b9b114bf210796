package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/plinthai/plinth/internal/gateway"
	"github.com/plinthai/plinth/internal/registry"
	"github.com/plinthai/plinth/internal/registry/client"
	"github.com/plinthai/plinth/internal/registry/registrytest"
)

const (
	defaultPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	defaultNATS     = "nats://127.0.0.1:4222"
)

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func randomName(t *testing.T) string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

// postgresSchema returns a URL of the test PostgreSQL server scoped to a
// fresh schema that is dropped when the test ends; it skips the test when
// the server is unreachable.
func postgresSchema(t *testing.T) string {
	t.Helper()
	raw := env("PLINTH_TEST_POSTGRES_URL", defaultPostgres)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, raw)
	if err != nil {
		t.Skipf("PostgreSQL not reachable at %s (set PLINTH_TEST_POSTGRES_URL): %v", raw, err)
	}
	schema := "e2e_" + randomName(t)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
		_ = conn.Close(ctx)
	})
	u, _ := url.Parse(raw)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// natsURL returns the external NATS server's URL, skipping when it is down.
func natsURL(t *testing.T) string {
	t.Helper()
	raw := env("PLINTH_TEST_NATS_URL", defaultNATS)
	nc, err := nats.Connect(raw, nats.Timeout(2*time.Second))
	if err != nil {
		t.Skipf("NATS not reachable at %s (set PLINTH_TEST_NATS_URL): %v", raw, err)
	}
	nc.Close()
	return raw
}

// registryProcess starts `plinth serve --target=registry` on PostgreSQL and
// the external NATS, isolated by schema and stream prefix, and returns a
// gRPC client of it and the prefix.
func registryProcess(t *testing.T) (registry.API, string) {
	t.Helper()
	prefix := "E2E" + randomName(t)
	secret := "e2e-secret-" + randomName(t) + randomName(t) + randomName(t)
	p := startPlinth(t, "serve", "--target=registry", "--data.dir", t.TempDir(), "--auth.hmac-secret", secret,
		"--server.http-addr=127.0.0.1:0", "--server.grpc-addr=127.0.0.1:0",
		"--db.url", postgresSchema(t), "--nats.url", natsURL(t), "--nats.stream-prefix", prefix,
		"--registry.max-artifact-bytes", "1048576")
	base := "http://" + p.waitField(t, "listening", "http_addr", 30*time.Second)
	grpcAddr := p.field("listening", "grpc_addr")
	waitReady(t, base, 30*time.Second)
	token, err := gateway.MintToken([]byte(secret), gateway.DefaultIssuer, gateway.DefaultAudience, "e2e", []string{gateway.ScopeModelsRead, gateway.ScopeModelsWrite}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithPerRPCCredentials(bearer(token)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		if _, err := p.stop(t, 15*time.Second); err != nil {
			t.Errorf("registry process exit: %v", err)
		}
		deleteStreams(t, prefix)
	})
	return client.New(conn), prefix
}

// bearer sends a token with every call (over plaintext: tests only).
type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

func (bearer) RequireTransportSecurity() bool { return false }

func deleteStreams(t *testing.T, prefix string) {
	nc, err := nats.Connect(env("PLINTH_TEST_NATS_URL", defaultNATS))
	if err != nil {
		return
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	for _, s := range []string{"EVENTS", "FEEDBACK", "PREDICTIONS", "MODELS", "JOBS"} {
		_ = js.DeleteStream(context.Background(), prefix+"_"+s)
	}
}

// TestRegistryProcessOnPostgresAndNATS runs the registry behaviour suite
// against separate `--target=registry` processes (one per case, each with
// its own schema), through the gRPC client from this process.
func TestRegistryProcessOnPostgresAndNATS(t *testing.T) {
	registrytest.Run(t, func(t *testing.T) registry.API {
		api, _ := registryProcess(t)
		return api
	})
}

// TestRegistryProcessPublishesEvents checks that the registry process's
// outbox relay delivers MODELS events to the external NATS server.
func TestRegistryProcessPublishesEvents(t *testing.T) {
	api, prefix := registryProcess(t)
	ctx := context.Background()
	if _, err := api.CreateModel(ctx, registry.CreateModelRequest{Name: "events.check"}); err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(env("PLINTH_TEST_NATS_URL", defaultNATS))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	cons, err := js.OrderedConsumer(ctx, prefix+"_MODELS", jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := cons.Next(jetstream.FetchMaxWait(10 * time.Second))
	if err != nil {
		t.Fatalf("no MODELS event within 10 s: %v", err)
	}
	var ev registry.Event
	if err := json.Unmarshal(msg.Data(), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Type != registry.EventModelCreated || ev.Model != "events.check" {
		t.Errorf("event = %+v", ev)
	}
	if want := prefix + "." + registry.Subject("events.check", registry.EventModelCreated); msg.Subject() != want {
		t.Errorf("subject = %q, want %q", msg.Subject(), want)
	}
}
