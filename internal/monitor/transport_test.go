package monitor_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/plinthai/plinth/internal/monitor"
	"github.com/plinthai/plinth/internal/monitor/client"
	"github.com/plinthai/plinth/internal/platform/problem"
	"github.com/plinthai/plinth/internal/wire"
)

// newService returns a service at a fixed time holding four joined labels
// for each of versions 1 and 2 of "fraud", both perfectly ranked.
func newService(t *testing.T) (*monitor.Service, time.Time) {
	t.Helper()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	rules, err := monitor.ParseRules([]byte("defaults: {canary: {min-samples: 4}}"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := monitor.Config{BucketWidth: time.Minute, Buckets: 60, Lateness: time.Hour, JoinWindow: time.Minute,
		MaxPending: 100, MaxPairs: 600, EvalInterval: time.Hour, WebhookBackoff: time.Second, RetrainCooldown: time.Hour, Instance: "t"}
	svc, err := monitor.New(cfg, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), prometheus.NewRegistry(),
		monitor.WithClock(func() time.Time { return now }), monitor.WithRules(rules))
	if err != nil {
		t.Fatal(err)
	}
	var pls []wire.PredictionLog
	var fbs []wire.Feedback
	for v := int64(1); v <= 2; v++ {
		for i := range 4 {
			id := fmt.Sprintf("%d-%d", v, i)
			pls = append(pls, wire.PredictionLog{ID: id, Model: "fraud", Version: v, Output: []float64{float64(i % 2)},
				LatencyUS: 2000, At: now.Add(-time.Minute)})
			fbs = append(fbs, wire.Feedback{ID: "f" + id, Model: "fraud", PredictionID: id, Label: float64(i % 2)})
		}
	}
	svc.Feed(pls, fbs)
	return svc, now
}

// grpcClient serves svc over gRPC on a loopback port and returns a client.
func grpcClient(t *testing.T, svc monitor.API) monitor.API {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	monitor.NewGRPC(svc).Register(srv)
	go func() { _ = srv.Serve(ln) }()
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = conn.Close()
		srv.Stop()
	})
	return client.New(conn)
}

// TestContract runs one behaviour suite against the service and the gRPC
// client.
func TestContract(t *testing.T) {
	svc, now := newService(t)
	for name, api := range map[string]monitor.API{"service": svc, "grpc": grpcClient(t, svc)} {
		t.Run(name, func(t *testing.T) {
			v, err := api.Verdict(t.Context(), "fraud", 1, 2)
			if err != nil {
				t.Fatal(err)
			}
			want := wire.CanaryVerdict{Model: "fraud", Champion: 1, Challenger: 2, Decision: wire.VerdictPromote,
				Reason: "challenger auprc 1.0000 within 0.0100 of champion 1.0000", Metric: monitor.MetricAUPRC,
				ChampionValue: 1, ChallengerValue: 1, ChampionSamples: 4, ChallengerSamples: 4, ChampionP99MS: 2, ChallengerP99MS: 2, At: now}
			if diff := cmp.Diff(want, v); diff != "" {
				t.Errorf("verdict (-want +got):\n%s", diff)
			}
			_, err = api.Verdict(t.Context(), "fraud", 2, 2)
			if !errors.Is(err, problem.ErrInvalid) || problem.FieldOf(err) != "challenger" {
				t.Errorf("same versions: %v, want invalid challenger", err)
			}
			st, err := api.Status(t.Context(), "fraud")
			if err != nil {
				t.Fatal(err)
			}
			if len(st.Versions) != 2 || st.Versions[1].Samples != 4 || st.Versions[1].Quality[monitor.MetricROCAUC] != 1 || st.Window != time.Hour {
				t.Errorf("status = %+v", st)
			}
			if empty, err := api.Status(t.Context(), "other"); err != nil || len(empty.Versions) != 0 {
				t.Errorf("status of a quiet model = %+v, %v; want no versions", empty, err)
			}
		})
	}
}

func TestHTTP(t *testing.T) {
	svc, _ := newService(t)
	mux := http.NewServeMux()
	monitor.NewHTTP(svc, slog.New(slog.DiscardHandler)).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	tests := []struct {
		path       string
		wantStatus int
		want       string // a field of the JSON answer that must hold
	}{
		{"/v1/models/fraud/monitor", 200, "versions"},
		{"/v1/models/fraud/monitor/verdict?champion=1&challenger=2", 200, "decision"},
		{"/v1/models/fraud/monitor/verdict?champion=1", 400, "title"},
		{"/v1/models/fraud/monitor/verdict?champion=x&challenger=2", 400, "title"},
	}
	for _, tt := range tests {
		resp, err := http.Get(srv.URL + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != tt.wantStatus || body[tt.want] == nil {
			t.Errorf("GET %s = %d %v (%v), want %d with %q", tt.path, resp.StatusCode, body, err, tt.wantStatus, tt.want)
		}
	}
}
