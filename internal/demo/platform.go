package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/plinthai/plinth/internal/app"
	"github.com/plinthai/plinth/internal/inference"
	"github.com/plinthai/plinth/internal/wire"
	"github.com/plinthai/plinth/products/fraud"
)

// platform drives an App in process: ingest and FEEDBACK directly, and
// predictions through the inference service's own HTTP handler (no
// network, no gateway: the demo is the platform's operator).
type platform struct {
	app     *app.App
	logger  *slog.Logger
	once    sync.Once
	predict http.Handler // built on first use: the service exists once the App runs
}

var _ fraud.Platform = (*platform)(nil)

func newPlatform(a *app.App, logger *slog.Logger) *platform {
	return &platform{app: a, logger: logger}
}

func (p *platform) handler() http.Handler {
	p.once.Do(func() {
		mux := http.NewServeMux()
		inference.NewHTTP(p.app.Inference, app.BuildVersion(), p.logger).Register(mux)
		p.predict = mux
	})
	return p.predict
}

func (p *platform) Ingest(ctx context.Context, stream string, events [][]byte) error {
	res, err := p.app.Ingest.Ingest(ctx, stream, events)
	if err != nil {
		return err
	}
	if len(res.Rejected) > 0 {
		r := res.Rejected[0]
		return fmt.Errorf("%d of %d events rejected, first #%d %s: %s", len(res.Rejected), len(events), r.Index, r.Field, r.Reason)
	}
	return nil
}

func (p *platform) WaitFeatures(ctx context.Context, view string) error {
	return p.app.WaitFeatures(ctx, view)
}

func (p *platform) Feedback(ctx context.Context, fbs ...wire.Feedback) error {
	return p.app.PublishFeedback(ctx, fbs...)
}

// prediction is the /v1 predict answer.
type prediction struct {
	ID      string  `json:"id"`
	Version int64   `json:"version"`
	Arm     string  `json:"arm"`
	Score   float64 `json:"score"`
}

func (p *platform) Predict(ctx context.Context, model, entity string) (fraud.Scored, error) {
	var out prediction
	if err := p.callPredict(ctx, "predict", model, entity, &out); err != nil {
		return fraud.Scored{}, err
	}
	return fraud.Scored{ID: out.ID, Version: out.Version, Arm: out.Arm, Score: out.Score}, nil
}

// callPredict posts entity to model's /v1 predict handler and decodes the
// answer into out; verb names the call in its errors ("predict %s for %s").
func (p *platform) callPredict(ctx context.Context, verb, model, entity string, out any) error {
	body, err := json.Marshal(map[string]string{"entity": entity})
	if err != nil {
		return err
	}
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/v1/models/"+model+":predict", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	p.handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return fmt.Errorf("%s %s for %s: %d %s", verb, model, entity, rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
		return fmt.Errorf("%s %s: %w", verb, model, err)
	}
	return nil
}

// openLogger returns given, or a logger of JSON lines to dataDir/plinth.log
// with the function that closes its file.
func openLogger(given *slog.Logger, dataDir string) (*slog.Logger, func(), error) {
	if given != nil {
		return given, func() {}, nil
	}
	f, err := os.OpenFile(filepath.Join(dataDir, "plinth.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, err
	}
	return slog.New(slog.NewJSONHandler(f, nil)), func() { _ = f.Close() }, nil
}
