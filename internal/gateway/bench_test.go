package gateway

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"

	"github.com/plinthai/plinth/internal/platform/server"
	"github.com/plinthai/plinth/internal/platform/sqlstore/sqltest"
)

// benchWriter is a ResponseWriter that keeps its header map between
// requests, so the benchmark counts the chain's allocations and not the
// recorder's.
type benchWriter struct {
	h    http.Header
	code int
	n    int
}

func (w *benchWriter) Header() http.Header         { return w.h }
func (w *benchWriter) WriteHeader(code int)        { w.code = code }
func (w *benchWriter) Write(b []byte) (int, error) { w.n += len(b); return len(b), nil }

// rewindBody is a request body that can be read again.
type rewindBody struct{ strings.Reader }

func (*rewindBody) Close() error { return nil }

// BenchmarkEdgeChain drives a predict request through the whole HTTP chain
// of a process (the server's middleware, the gateway, the mux) to a
// stand-in handler that reads the body and writes a small answer: the
// platform's cost per request, without the socket and the model. The
// -uncached modes verify the credential on every request
// (--auth.cache-ttl=0): an HS256 signature, or an SQLite lookup.
func BenchmarkEdgeChain(b *testing.B) {
	for _, mode := range []string{"jwt", "apikey", "auth-disabled", "jwt-uncached", "apikey-uncached"} {
		b.Run(mode, func(b *testing.B) { benchEdgeChain(b, mode) })
	}
}

func benchEdgeChain(b *testing.B, mode string) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := prometheus.NewRegistry()
	srv := server.New(server.Config{HTTPAddr: "127.0.0.1:0", MaxHeaderBytes: 1 << 16, GRPCMaxRecvBytes: 1 << 20},
		logger, reg, func(context.Context) error { return nil }, new(slog.LevelVar))
	var cfg Config
	fs := pflag.NewFlagSet("bench", pflag.ContinueOnError)
	cfg.RegisterFlags(fs)
	if err := fs.Parse(nil); err != nil {
		b.Fatal(err)
	}
	cfg.Auth.HMACSecret = testSecret
	cfg.Auth.Disabled = mode == "auth-disabled"
	uncached := strings.HasSuffix(mode, "-uncached")
	if uncached {
		cfg.Auth.CacheTTL = 0 // --auth.cache-ttl=0: verify every request
		mode = strings.TrimSuffix(mode, "-uncached")
	}
	cfg.RateLimit.ReadRate, cfg.RateLimit.ReadBurst = 1e9, 1000 // predict is a read: never denies; Remaining stays small
	svc, err := New(cfg, Deps{DB: sqltest.SQLite(b), Host: srv, DataDir: b.TempDir(), Version: "bench", Out: io.Discard,
		Logger: logger, Registry: reg})
	if err != nil {
		b.Fatal(err)
	}
	answer := []byte(`{"score":0.5}`)
	srv.Mux().HandleFunc("POST /v1/models/{model}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("model") != "bench:predict" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = w.Write(answer)
	})
	ctx := context.Background()
	if err := svc.Starting(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = svc.Stopping(ctx); _ = srv.Drain(ctx) })
	var cred string
	switch mode {
	case "jwt":
		cred, err = MintToken([]byte(testSecret), DefaultIssuer, DefaultAudience, "bench", []string{ScopePredict}, time.Hour)
	case "apikey":
		var k CreatedAPIKey
		k, err = svc.Keys().Create(ctx, "bench", []string{ScopePredict}, "bench")
		cred = k.Key
	}
	if err != nil {
		b.Fatal(err)
	}
	const body = `{"features":[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.0]}`
	req, err := http.NewRequest(http.MethodPost, "http://127.0.0.1/v1/models/bench:predict", nil)
	if err != nil {
		b.Fatal(err)
	}
	req.RemoteAddr = "127.0.0.1:40000"
	req.Header.Set("Content-Type", "application/json")
	if cred != "" {
		req.Header.Set("Authorization", "Bearer "+cred)
	}
	rb := &rewindBody{}
	req.Body, req.ContentLength = rb, int64(len(body))
	h := srv.Handler()
	w := &benchWriter{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rb.Reset(body)
		clear(w.h)
		w.code = 0
		h.ServeHTTP(w, req)
		if w.code != 0 && w.code != http.StatusOK {
			b.Fatalf("status %d, headers %v", w.code, w.h)
		}
	}
}
