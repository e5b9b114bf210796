package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/pflag"
	"go.uber.org/goleak"

	"github.com/plinthai/plinth/internal/gateway"
	"github.com/plinthai/plinth/internal/gateway/contracttest"
	"github.com/plinthai/plinth/internal/monitor"
	"github.com/plinthai/plinth/internal/platform/problem"
	"github.com/plinthai/plinth/internal/platform/telemetry"
	"github.com/plinthai/plinth/internal/registry"
	"github.com/plinthai/plinth/internal/wire"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// OpenCensus-era default exporters started by otel contrib init.
		goleak.IgnoreTopFunction("go.opencensus.io/stats/view.(*worker).start"),
	)
}

// testConfig is the default configuration with ephemeral ports and a
// temporary data directory.
func testConfig(t testing.TB, targets ...string) Config {
	t.Helper()
	var cfg Config
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	cfg.RegisterFlags(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	cfg.Targets = targets
	cfg.DataDir = t.TempDir()
	cfg.Server.HTTPAddr = "127.0.0.1:0"
	cfg.Server.GRPCAddr = "127.0.0.1:0"
	return cfg
}

// startApp runs an App until the test ends and returns it once ready.
func startApp(t testing.TB, cfg Config) *App { return startAppOut(t, cfg, nil) }

// startAppOut is startApp with the process's stdout going to out.
func startAppOut(t testing.TB, cfg Config, out io.Writer) *App {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := New(cfg, logger, new(slog.LevelVar), telemetry.NewRegistry("test"))
	if err != nil {
		t.Fatal(err)
	}
	a.Stdout = out
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for a.Ready(context.Background()) != nil || a.HTTPAddr() == "" {
		select {
		case err := <-done:
			done <- err // for the cleanup, which waits for the exit
			t.Fatalf("app stopped before ready: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready: %v", a.Ready(context.Background()))
		}
		time.Sleep(5 * time.Millisecond)
	}
	return a
}

type rest struct {
	t      testing.TB
	base   string
	token  string
	client *http.Client
}

// newRest returns a REST caller of a's HTTP server that authenticates
// with a development token carrying scopes (admin when none are named)
// and checks every response against the OpenAPI document.
func newRest(t testing.TB, a *App, scopes ...string) rest {
	t.Helper()
	if len(scopes) == 0 {
		scopes = []string{gateway.ScopeAdmin}
	}
	return rest{t: t, base: "http://" + a.HTTPAddr(), token: devToken(t, a.cfg, "test-user", scopes...),
		client: &http.Client{Transport: contracttest.Transport(t, nil)}}
}

// devToken mints an HMAC token from the data directory's secret.
func devToken(t testing.TB, cfg Config, subject string, scopes ...string) string {
	t.Helper()
	secret, err := gateway.LoadSecret(cfg.DataDir, true)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := gateway.MintToken(secret, cfg.Gateway.Auth.Issuer, cfg.Gateway.Auth.Audience, subject, scopes, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (r rest) do(method, path string, body []byte, hdr map[string]string) (*http.Response, []byte) {
	r.t.Helper()
	req, err := http.NewRequest(method, r.base+path, bytes.NewReader(body))
	if err != nil {
		r.t.Fatal(err)
	}
	if body != nil && hdr["Content-Type"] == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	client := r.client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func (r rest) want(status int, method, path string, body []byte, hdr map[string]string) []byte {
	r.t.Helper()
	resp, b := r.do(method, path, body, hdr)
	if resp.StatusCode != status {
		r.t.Fatalf("%s %s = %d %s, want %d", method, path, resp.StatusCode, b, status)
	}
	return b
}

func (r rest) problem(status int, field, method, path string, body []byte, hdr map[string]string) {
	r.t.Helper()
	resp, b := r.do(method, path, body, hdr)
	var d problem.Details
	if resp.StatusCode != status || resp.Header.Get("Content-Type") != problem.ContentType || json.Unmarshal(b, &d) != nil || d.Field != field {
		r.t.Errorf("%s %s = %d %s %s, want %d problem naming %q", method, path, resp.StatusCode, resp.Header.Get("Content-Type"), b, status, field)
	}
}

func TestRegistryOverRESTWithEvents(t *testing.T) {
	a := startApp(t, testConfig(t, TargetRegistry))
	r := newRest(t, a)

	// Subscribe to MODELS before changing anything.
	ctx := context.Background()
	cons, err := a.bus.JetStream().OrderedConsumer(ctx, a.bus.Stream("MODELS"), jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}

	r.want(201, "POST", "/v1/models", []byte(`{"name":"fraud","description":"card fraud"}`), nil)
	r.problem(409, "", "POST", "/v1/models", []byte(`{"name":"fraud"}`), nil)
	r.problem(400, "name", "POST", "/v1/models", []byte(`{"name":"Fraud!"}`), nil)
	r.problem(400, "colour", "POST", "/v1/models", []byte(`{"name":"x","colour":"red"}`), nil)
	r.problem(404, "", "GET", "/v1/models/nope", nil, nil)
	r.problem(400, "page_size", "GET", "/v1/models?page_size=1001", nil, nil)
	r.problem(400, "limit", "GET", "/v1/audit?limit=-1", nil, nil)
	r.problem(400, "limit", "GET", "/v1/jobs?limit=x", nil, nil)

	art := []byte("a model artifact")
	sum := sha256.Sum256(art)
	sha := hex.EncodeToString(sum[:])
	r.problem(422, "sha256", "POST", "/v1/artifacts", []byte("other bytes"), map[string]string{"X-Plinth-Sha256": sha, "Content-Type": "application/octet-stream"})
	r.problem(404, "", "GET", "/v1/artifacts/"+hex.EncodeToString(func() []byte { s := sha256.Sum256([]byte("other bytes")); return s[:] }()), nil, nil)
	r.want(201, "POST", "/v1/artifacts", art, map[string]string{"X-Plinth-Sha256": sha, "Content-Type": "application/octet-stream"})
	if got := r.want(200, "GET", "/v1/artifacts/"+sha, nil, nil); !bytes.Equal(got, art) {
		t.Errorf("download = %q", got)
	}

	r.want(201, "POST", "/v1/models/fraud/versions", []byte(`{"artifact_sha256":"`+sha+`","metrics":{"auprc":0.81}}`), nil)
	r.problem(404, "artifact_sha256", "POST", "/v1/models/fraud/versions", []byte(`{"artifact_sha256":"`+strings.Repeat("0", 64)+`"}`), nil)
	r.problem(400, "version", "GET", "/v1/models/fraud/versions/one", nil, nil)
	r.want(200, "GET", "/v1/models/fraud/versions/1", nil, nil)
	r.problem(404, "", "GET", "/v1/models/fraud/versions/9", nil, nil)
	r.problem(400, "version", "POST", "/v1/models/fraud/versions/one/gate", nil, nil)
	if got := r.want(200, "GET", "/v1/models/fraud/versions/1/artifact", nil, nil); !bytes.Equal(got, art) {
		t.Errorf("version artifact = %q", got)
	}

	r.problem(409, "", "PUT", "/v1/models/fraud/aliases/champion", []byte(`{"version":1}`), nil)
	r.want(200, "POST", "/v1/models/fraud/versions/1/gate", nil, nil)
	resp, body := r.do("PUT", "/v1/models/fraud/aliases/champion", []byte(`{"version":1}`), nil)
	if resp.StatusCode != 200 || resp.Header.Get("ETag") != `"1"` {
		t.Fatalf("set alias = %d %s etag %q", resp.StatusCode, body, resp.Header.Get("ETag"))
	}
	r.problem(412, "", "PUT", "/v1/models/fraud/aliases/champion", []byte(`{"version":1}`), map[string]string{"If-Match": `"7"`})
	r.want(200, "PUT", "/v1/models/fraud/aliases/champion", []byte(`{"version":1}`), map[string]string{"If-Match": `"1"`})

	var m registry.Model
	if err := json.Unmarshal(r.want(200, "GET", "/v1/models/fraud", nil, nil), &m); err != nil {
		t.Fatal(err)
	}
	if m.LatestVersion != 1 || m.Aliases["champion"] != 1 {
		t.Errorf("model = %+v", m)
	}

	want := []string{"model_created", "version_created", "gate_evaluated", "alias_moved", "alias_moved"}
	var got []string
	deadline := time.Now().Add(10 * time.Second)
	for len(got) < len(want) && time.Now().Before(deadline) {
		msgs, err := cons.Fetch(len(want)-len(got), jetstream.FetchMaxWait(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for msg := range msgs.Messages() {
			var ev registry.Event
			if err := json.Unmarshal(msg.Data(), &ev); err != nil {
				t.Fatal(err)
			}
			if msg.Subject() != a.bus.Subject(registry.Subject("fraud", ev.Type)) {
				t.Errorf("subject %q for %s event", msg.Subject(), ev.Type)
			}
			got = append(got, ev.Type)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("MODELS events (-want +got):\n%s", diff)
	}
}

func TestUnknownTargetAndBadConfig(t *testing.T) {
	cfg := testConfig(t, "nope")
	if _, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), nil, nil); err == nil || !strings.Contains(err.Error(), `unknown target "nope"`) {
		t.Errorf("New(unknown target) = %v", err)
	}
	cfg = testConfig(t, TargetRegistry)
	cfg.Server.HTTPAddr, cfg.Log.Level, cfg.ShutdownTimeout = "", "loud", 0
	err := cfg.Validate()
	for _, want := range []string{"server.http-addr", "log.level", "server.shutdown-timeout"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate = %v, want it to name %s", err, want)
		}
	}
}

func TestServeCommandFlags(t *testing.T) {
	var out, errb bytes.Buffer
	err := Execute(context.Background(), []string{"serve", "--list-targets"}, nil, &out, &errb)
	if err != nil || !strings.Contains(out.String(), "registry") || !strings.Contains(out.String(), "monitor") || !strings.Contains(out.String(), "all") {
		t.Errorf("--list-targets: %v\n%s", err, out.String())
	}
	out.Reset()
	err = Execute(context.Background(), []string{"serve", "--print.config", "--db.url=postgres://h/db"}, []string{"PLINTH_LOG_LEVEL=debug"}, &out, &errb)
	if err != nil || !strings.Contains(out.String(), "url: postgres://h/db") || !strings.Contains(out.String(), "level: debug") {
		t.Errorf("--print.config: %v\n%s", err, out.String())
	}
	out.Reset()
	err = Execute(context.Background(), []string{"serve", "--config.verify", "--server.http-addr=bad", "--log.format=xml"}, nil, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "server.http-addr") || !strings.Contains(err.Error(), "log.format") {
		t.Errorf("--config.verify with two problems = %v, want both named", err)
	}
	out.Reset()
	err = Execute(context.Background(), []string{"serve", "--config.verify"},
		[]string{"PLINTH_TEST_POSTGRES_URL=x", "PLINTH_DATASETS=/d", "PLINTH_TOKEN=t", "PLINTH_ADDR=a"}, &out, &errb)
	if err != nil || !strings.Contains(out.String(), "configuration OK") {
		t.Errorf("harness and client variables must not be server options: %v", err)
	}
	err = Execute(context.Background(), []string{"serve", "--config.verify"}, []string{"PLINTH_NO_SUCH=1"}, &out, &errb)
	if !errors.Is(err, err) || err == nil || !strings.Contains(err.Error(), "PLINTH_NO_SUCH") {
		t.Errorf("unknown env var = %v", err)
	}
	out.Reset()
	if err := Execute(context.Background(), []string{"--version"}, nil, &out, &errb); err != nil || !strings.Contains(out.String(), "plinth version") {
		t.Errorf("--version: %v %q", err, out.String())
	}
}

// TestMonitorTarget runs the monitor with the registry, feeds it through
// the streams and reads the figures and a verdict over REST.
func TestMonitorTarget(t *testing.T) {
	a := startApp(t, testConfig(t, TargetRegistry, TargetMonitor))
	r := newRest(t, a)
	now := time.Now().UTC()
	for i := range 4 {
		id := "p" + string(rune('0'+i))
		pl, _ := json.Marshal(wire.PredictionLog{ID: id, Model: "fraud", Version: 1, Arm: wire.ArmChampion,
			Output: []float64{float64(i % 2)}, LatencyUS: 3000, At: now.Add(-time.Minute)})
		fb, _ := json.Marshal(wire.Feedback{ID: "f" + id, Model: "fraud", PredictionID: id, Label: float64(i % 2), At: now})
		for subject, data := range map[string][]byte{wire.PredictionSubject("fraud"): pl, wire.FeedbackSubject("fraud"): fb} {
			if _, err := a.bus.Publish(t.Context(), subject, data, "", nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	var st monitor.ModelStatus
	deadline := time.Now().Add(30 * time.Second)
	for len(st.Versions) == 0 || st.Versions[0].Samples < 4 {
		if time.Now().After(deadline) {
			t.Fatalf("status after 30 s: %+v", st)
		}
		if err := json.Unmarshal(r.want(200, "GET", "/v1/models/fraud/monitor", nil, nil), &st); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond) // polling with a deadline
	}
	if got := st.Versions[0].Quality[monitor.MetricROCAUC]; got != 1 {
		t.Errorf("roc_auc = %v, want 1", got)
	}
	var v wire.CanaryVerdict
	if err := json.Unmarshal(r.want(200, "GET", "/v1/models/fraud/monitor/verdict?champion=1&challenger=2", nil, nil), &v); err != nil {
		t.Fatal(err)
	}
	if v.Decision != wire.VerdictWait {
		t.Errorf("verdict = %+v, want wait (no challenger traffic)", v)
	}
	r.problem(400, "challenger", "GET", "/v1/models/fraud/monitor/verdict?champion=1", nil, nil)
}

func TestIngestOverREST(t *testing.T) {
	cfg := testConfig(t, TargetIngest)
	cfg.Ingest.StreamsFile = "../ingest/testdata/streams.yaml"
	a := startApp(t, cfg)
	r := newRest(t, a)
	ts := time.Now().UTC().Format(time.RFC3339Nano)
	ev := `{"txn_id":"a1","card_id":"c1","ts":"` + ts + `","amount":4.5}`
	r.want(200, "POST", "/v1/events/transactions", []byte(ev), nil)
	r.problem(400, "amount", "POST", "/v1/events/transactions", []byte(`{"txn_id":"a2","card_id":"c1","ts":"`+ts+`","amount":"x"}`), nil)
	r.problem(404, "", "POST", "/v1/events/nope", []byte(ev), nil)
	var res struct{ Accepted, Duplicates int }
	if err := json.Unmarshal(r.want(200, "POST", "/v1/events/transactions", []byte("["+ev+"]"), nil), &res); err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 1 || res.Duplicates != 1 {
		t.Errorf("repeat = %+v, want accepted 1, duplicate 1", res)
	}
}

func TestIngestToFeaturesOverREST(t *testing.T) {
	cfg := testConfig(t, TargetIngest, TargetFeatures)
	cfg.Ingest.StreamsFile = "../ingest/testdata/streams.yaml"
	cfg.Features.ViewsFile = "../features/testdata/views.yaml"
	a := startApp(t, cfg)
	r := newRest(t, a)
	ts := time.Now().UTC().Format(time.RFC3339Nano)
	body := `{"txn_id":"f1","card_id":"c9","ts":"` + ts + `","amount":4.5,"merchant":"m"}` + "\n" +
		`{"txn_id":"f2","card_id":"c9","ts":"` + ts + `","amount":1.5,"merchant":"n"}`
	r.want(200, "POST", "/v1/events/transactions", []byte(body), map[string]string{"Content-Type": "application/x-ndjson"})
	deadline := time.Now().Add(10 * time.Second)
	for {
		var fv struct {
			Names  []string   `json:"names"`
			Values []*float64 `json:"values"`
		}
		if err := json.Unmarshal(r.want(200, "POST", "/v1/features/card:lookup", []byte(`{"entities":["c9"]}`), nil), &fv); err != nil {
			t.Fatal(err)
		}
		if fv.Values[2] != nil && *fv.Values[2] == 6 { // amount_sum_1h
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("features never showed both events: %v", fv.Values)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition with a deadline
	}
	r.problem(404, "", "POST", "/v1/features/nope:lookup", []byte(`{"entities":["c9"]}`), nil)
}
