package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"

	"github.com/plinthai/plinth/internal/platform/auth"
	"github.com/plinthai/plinth/internal/platform/problem"
	"github.com/plinthai/plinth/internal/platform/server"
	"github.com/plinthai/plinth/internal/platform/sqlstore"
	"github.com/plinthai/plinth/internal/platform/sqlstore/sqltest"
)

// fakeHost is a server's route table and edge slot without the server.
type fakeHost struct {
	mux  *server.Mux
	edge server.Edge
}

func (h *fakeHost) Mux() *server.Mux      { return h.mux }
func (h *fakeHost) SetEdge(e server.Edge) { h.edge = e; h.mux.SetEdge(e) }
func defaultConfig(t *testing.T) Config {
	var c Config
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	c.RegisterFlags(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	c.Auth.HMACSecret = testSecret
	return c
}

// harness runs a gateway in front of stand-in handlers for two contract
// routes: POST /v1/models (counts calls, may block) and GET /v1/models.
type harness struct {
	t        *testing.T
	svc      *Service
	url      string
	reg      *prometheus.Registry
	adminKey string
	calls    atomic.Int64
	entered  chan struct{} // receives when POST /v1/models starts, if gate is set
	gate     chan struct{} // POST /v1/models waits on it when not nil
	status   atomic.Int64  // status POST /v1/models answers (201 by default)
}

func newHarness(t *testing.T, mod func(*Config)) *harness {
	return newHarnessDB(t, sqltest.SQLite(t), mod)
}

func newHarnessDB(t *testing.T, db *sqlstore.DB, mod func(*Config)) *harness {
	t.Helper()
	cfg := defaultConfig(t)
	if mod != nil {
		mod(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, reg: prometheus.NewRegistry(), entered: make(chan struct{}, 16)}
	h.status.Store(http.StatusCreated)
	host := &fakeHost{mux: server.NewMux()}
	var out bytes.Buffer
	svc, err := New(cfg, Deps{DB: db, Host: host, DataDir: t.TempDir(), Version: "test", Out: &out,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Registry: h.reg})
	if err != nil {
		t.Fatal(err)
	}
	host.mux.HandleFunc("POST /v1/models", h.create)
	host.mux.HandleFunc("GET /v1/models", func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprintf(w, `{"subject":%q}`, auth.From(r.Context()).Subject)
	})
	if err := svc.Starting(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Running(ctx) }()
	srv := httptest.NewServer(host.mux)
	t.Cleanup(func() {
		srv.Close()
		cancel()
		<-done
		_ = svc.Stopping(context.Background())
	})
	h.svc, h.url = svc, srv.URL
	h.adminKey = regexp.MustCompile(`plk_[A-Za-z0-9_-]+`).FindString(out.String())
	return h
}

func (h *harness) create(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		problem.Write(w, r, err)
		return
	}
	n := h.calls.Add(1)
	if h.gate != nil {
		h.entered <- struct{}{}
		<-h.gate
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Location", fmt.Sprintf("/v1/models/m%d", n))
	w.WriteHeader(int(h.status.Load()))
	_, _ = fmt.Fprintf(w, `{"call":%d,"body":%q}`, n, body)
}

// call sends a request with a bearer credential (none when cred is "").
func (h *harness) call(method, path, cred, body string, hdr map[string]string) (*http.Response, string) {
	h.t.Helper()
	req, err := http.NewRequest(method, h.url+path, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if cred != "" {
		req.Header.Set("Authorization", "Bearer "+cred)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// token mints an HMAC token for subject with scopes.
func (h *harness) token(subject string, scopes ...string) string {
	h.t.Helper()
	tok, err := MintToken([]byte(testSecret), DefaultIssuer, DefaultAudience, subject, scopes, 3600e9)
	if err != nil {
		h.t.Fatal(err)
	}
	return tok
}

// problemType returns the problem type of a response body.
func problemType(body string) string {
	var d problem.Details
	_ = json.Unmarshal([]byte(body), &d)
	return strings.TrimPrefix(d.Type, problem.TypePrefix)
}
