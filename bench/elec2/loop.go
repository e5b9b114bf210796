package main

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/pflag"

	"github.com/plinthai/plinth/internal/app"
	"github.com/plinthai/plinth/internal/platform/telemetry"
	"github.com/plinthai/plinth/internal/registry"
	"github.com/plinthai/plinth/internal/wire"
)

//go:embed config/*.yaml
var configFiles embed.FS

// epoch is the virtual start of the replay: elec2 begins on 7 May 1996,
// and half-hour i starts at epoch + i × 30 minutes.
var epoch = time.Date(1996, 5, 7, 0, 0, 0, 0, time.UTC)

const (
	entity  = "nsw"
	stream  = "market"
	halfOur = 30 * time.Minute
)

// model is one model the loop serves and retrains: its name and view.
type model struct {
	name, view string
	full       bool
	correct    int
	n          int
	served     map[int64]int // predictions by version
}

// loopStats is what the loop measured.
type loopStats struct {
	Accuracy    map[string]float64 `json:"accuracy"`
	Predictions int                `json:"predictions_per_model"`
	Jobs        map[string]int     `json:"jobs_by_trigger"`
	Succeeded   int                `json:"jobs_succeeded"`
	Promotions  map[string]int     `json:"promotions"`
	Served      map[string]int     `json:"versions_served"`
	// Joined and AUC are the monitor's view of the last virtual day at
	// the end: labels joined to predictions, and ROC AUC.
	Joined  map[string]uint64  `json:"monitor_joined_last_day"`
	AUC     map[string]float64 `json:"monitor_roc_auc_last_day"`
	Seconds float64            `json:"seconds"`
}

// clock is the replay's virtual time, shared by every service.
type clock struct{ ns atomic.Int64 }

func (c *clock) Now() time.Time    { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) set(t time.Time)   { c.ns.Store(t.UnixNano()) }
func at(i int) time.Time           { return epoch.Add(time.Duration(i) * halfOur) }
func eventTime(t time.Time) string { return t.Format(time.RFC3339Nano) }
func discardLogger() *slog.Logger  { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
func warnLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// loop is one replay through an in-process App.
type loop struct {
	a      *app.App
	clk    *clock
	http   *http.Client
	base   string
	models []*model
	stats  loopStats
	seen   map[string]bool // jobs waited for
	p      protocol
	round  int // scheduled trainings so far
	// progress, when set, receives a line every four virtual weeks.
	progress io.Writer
	// spent is wall time by stage: ingest, visible, train, predict, feedback.
	spent map[string]time.Duration
}

// timed adds the time since start to stage.
func (l *loop) timed(stage string, start time.Time) { l.spent[stage] += time.Since(start) }

// config is the App's configuration for the replay: every target, a
// temporary data dir, auth off, the replay's streams, views and rules,
// a one-day monitor window and rollouts that promote after one short
// 100 % canary step.
func config(dir string) (app.Config, error) {
	var cfg app.Config
	fs := pflag.NewFlagSet("elec2", pflag.ContinueOnError)
	cfg.RegisterFlags(fs)
	if err := fs.Parse(nil); err != nil {
		return cfg, err
	}
	for _, name := range []string{"streams.yaml", "views.yaml", "rules.yaml"} {
		b, err := configFiles.ReadFile("config/" + name)
		if err != nil {
			return cfg, err
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return cfg, err
		}
	}
	cfg.Targets, cfg.DataDir = []string{app.TargetAll}, filepath.Join(dir, "data")
	cfg.Server.HTTPAddr, cfg.Server.GRPCAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.Gateway.Auth.Disabled, cfg.Gateway.RateLimit.Disabled = true, true
	cfg.Ingest.StreamsFile, cfg.Ingest.MaxEventAge = filepath.Join(dir, "streams.yaml"), 0
	cfg.Features.ViewsFile, cfg.Features.OfflineFlush = filepath.Join(dir, "views.yaml"), 20*time.Millisecond
	cfg.Monitor.RulesFile = filepath.Join(dir, "rules.yaml")
	// Half an hour of the replay's clock passes in milliseconds: a
	// prediction log lingering for others would reach the monitor hours
	// late.
	cfg.Inference.LogLinger = 0
	cfg.Monitor.BucketWidth, cfg.Monitor.Buckets = halfOur, day
	cfg.Monitor.EvalInterval, cfg.Monitor.RetrainCooldown = 100*time.Millisecond, 72*time.Hour
	cfg.Rollout.Tick, cfg.Rollout.CanarySteps = 20*time.Millisecond, []float64{100}
	cfg.Rollout.StepTimeout, cfg.Rollout.OnTimeout, cfg.Rollout.MinSamples = 100*time.Millisecond, "promote", 0
	return cfg, nil
}

// runLoop replays d through the platform and returns what it measured.
func runLoop(ctx context.Context, d *dataset, p protocol, logs io.Writer) (loopStats, error) {
	start := time.Now()
	dir, err := os.MkdirTemp("", "plinth-elec2-*")
	if err != nil {
		return loopStats{}, err
	}
	defer os.RemoveAll(dir)
	cfg, err := config(dir)
	if err != nil {
		return loopStats{}, err
	}
	logger := discardLogger()
	if logs != nil {
		logger = warnLogger(logs)
	}
	a, err := app.New(cfg, logger, new(slog.LevelVar), telemetry.NewRegistry("elec2"))
	if err != nil {
		return loopStats{}, err
	}
	l := &loop{a: a, clk: &clock{}, http: &http.Client{Timeout: 30 * time.Second}, seen: map[string]bool{}, p: p, progress: logs, spent: map[string]time.Duration{},
		stats: loopStats{Accuracy: map[string]float64{}, Jobs: map[string]int{}, Promotions: map[string]int{}, Served: map[string]int{},
			Joined: map[string]uint64{}, AUC: map[string]float64{}}}
	l.clk.set(epoch)
	a.Clock = l.clk.Now
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx) }()
	defer func() { cancel(); <-done }()
	if err := l.waitReady(ctx, done); err != nil {
		return loopStats{}, err
	}
	if err := l.setup(ctx); err != nil {
		return loopStats{}, err
	}
	if err := l.replay(ctx, d); err != nil {
		return loopStats{}, err
	}
	for _, m := range l.models {
		l.stats.Accuracy[m.name] = float64(m.correct) / float64(max(m.n, 1))
		l.stats.Predictions = m.n
		l.stats.Served[m.name] = len(m.served)
		st, err := a.Monitor.Status(ctx, m.name)
		if err != nil {
			return loopStats{}, err
		}
		for _, v := range st.Versions {
			l.stats.Joined[m.name] += v.Samples
			if v.Samples > 0 {
				l.stats.AUC[m.name] = v.Quality["roc_auc"]
			}
		}
	}
	l.stats.Seconds = time.Since(start).Seconds()
	return l.stats, nil
}

func (l *loop) waitReady(ctx context.Context, done chan error) error {
	deadline := time.Now().Add(30 * time.Second)
	for l.a.Ready(ctx) != nil || l.a.HTTPAddr() == "" {
		select {
		case err := <-done:
			done <- err
			return fmt.Errorf("plinth stopped before ready: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("plinth not ready: %v", l.a.Ready(ctx))
		}
		time.Sleep(5 * time.Millisecond)
	}
	l.base = "http://" + l.a.HTTPAddr()
	return nil
}

// setup registers the two models, tagged with their views, with a gate
// that passes any version and rolls it out.
func (l *loop) setup(ctx context.Context) error {
	l.models = []*model{{name: "elec2", view: "market", full: true}, {name: "elec2-labels", view: "market_labels"}}
	for _, m := range l.models {
		m.served = map[int64]int{}
		if _, err := l.a.Registry.CreateModel(ctx, registry.CreateModelRequest{Name: m.name, Tags: map[string]string{"feature_view": m.view}}); err != nil {
			return fmt.Errorf("create model %s: %w", m.name, err)
		}
		if _, err := l.a.Registry.SetGatePolicy(ctx, registry.GatePolicy{Model: m.name, AutoRollout: true}); err != nil {
			return fmt.Errorf("gate of %s: %w", m.name, err)
		}
	}
	return nil
}

// replay runs the stream in time order: for half-hour i, the label of
// i-1 and the inputs of i are ingested at time i; once both views show
// them, each model predicts i by entity key, then i's label goes to
// FEEDBACK. The first model is trained when warm-up ends, then on schedule;
// the monitor queues more on decay, which the replay waits for once a day.
func (l *loop) replay(ctx context.Context, d *dataset) error {
	start := time.Now()
	for i := range d.y {
		t := at(i)
		l.clk.set(t)
		if l.progress != nil && i%(4*week) == 0 {
			fmt.Fprintf(l.progress, "elec2 replay: %s, half-hour %d, %.0f s, %v\n", t.Format("2006-01-02"), i, time.Since(start).Seconds(), l.spent)
		}
		s := time.Now()
		if err := l.ingest(ctx, d, i); err != nil {
			return err
		}
		l.timed("ingest", s)
		s = time.Now()
		if err := l.waitVisible(ctx, d, i); err != nil {
			return err
		}
		l.timed("visible", s)
		s = time.Now()
		if err := l.schedule(ctx, i); err != nil {
			return err
		}
		l.timed("train", s)
		s = time.Now()
		for _, m := range l.models {
			id := ""
			if i >= l.p.Warmup {
				var err error
				if id, err = l.predict(ctx, m, i, d.y[i]); err != nil {
					return err
				}
			}
			if err := l.feedback(ctx, m, i, id, d.y[i]); err != nil {
				return err
			}
		}
		l.timed("predict+feedback", s)
	}
	return nil
}

func (l *loop) ingest(ctx context.Context, d *dataset, i int) error {
	var evs [][]byte
	if i > 0 { // the label of i-1, known when i starts
		evs = append(evs, fmt.Appendf(nil, `{"id":"label-%d","market":%q,"ts":%q,"up":%g}`, i-1, entity, eventTime(at(i)), d.y[i-1]))
	}
	var b strings.Builder
	fmt.Fprintf(&b, `{"id":"row-%d","market":%q,"ts":%q`, i, entity, eventTime(at(i)))
	for j, name := range inputs {
		fmt.Fprintf(&b, `,%q:%g`, name, d.x[i][j])
	}
	b.WriteString("}")
	evs = append(evs, []byte(b.String()))
	res, err := l.a.Ingest.Ingest(ctx, stream, evs)
	if err != nil {
		return fmt.Errorf("ingest half-hour %d: %w", i, err)
	}
	if res.Accepted != len(evs) {
		return fmt.Errorf("ingest half-hour %d: %d of %d accepted: %+v", i, res.Accepted, len(evs), res.Rejected)
	}
	return nil
}

// waitVisible waits until every view serves half-hour i's period: the
// label of i-1 was published before it, so it is applied too.
func (l *loop) waitVisible(ctx context.Context, d *dataset, i int) error {
	deadline := time.Now().Add(10 * time.Second)
	for _, m := range l.models {
		for {
			fv, err := l.a.Features.Lookup(ctx, m.view, []string{entity})
			if err != nil {
				return err
			}
			if k := indexOf(fv.Names, "period"); k >= 0 && fv.Found[0] && fv.Values[k] == d.x[i][2] {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("view %s: half-hour %d not visible after 10s", m.view, i)
			}
			time.Sleep(100 * time.Microsecond)
		}
	}
	return nil
}

func indexOf(names []string, name string) int {
	for k, n := range names {
		if n == name {
			return k
		}
	}
	return -1
}

// predict asks the inference service for half-hour i by entity key and
// scores the answer; it returns the prediction id.
func (l *loop) predict(ctx context.Context, m *model, i int, label float64) (string, error) {
	id := fmt.Sprintf("%s-%d", m.name, i)
	body := fmt.Sprintf(`{"id":%q,"entity":%q}`, id, entity)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.base+"/v1/models/"+m.name+":predict", strings.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := l.http.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("predict %s half-hour %d: %s: %s", m.name, i, resp.Status, bytes.TrimSpace(b))
	}
	var out struct {
		Version int64   `json:"version"`
		Score   float64 `json:"score"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return "", fmt.Errorf("predict %s: %w", m.name, err)
	}
	m.served[out.Version]++
	m.n++
	if boolf(out.Score >= 0.5) == label {
		m.correct++
	}
	return id, nil
}

// feedback publishes the label of half-hour i to FEEDBACK, naming the
// prediction when there was one.
func (l *loop) feedback(ctx context.Context, m *model, i int, predictionID string, label float64) error {
	fb := wire.Feedback{ID: fmt.Sprintf("%s-fb-%d", m.name, i), Model: m.name, PredictionID: predictionID,
		Entity: entity, EventTime: at(i), Label: label, At: l.clk.Now()}
	b, err := json.Marshal(fb)
	if err != nil {
		return err
	}
	bus := l.a.Bus()
	if _, err := bus.Publish(ctx, bus.Subject(wire.FeedbackSubject(m.name)), b, fb.ID, nil); err != nil {
		return fmt.Errorf("publish feedback %d: %w", i, err)
	}
	return nil
}
