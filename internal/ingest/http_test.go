package ingest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/plinthai/plinth/internal/ingest"
	"github.com/plinthai/plinth/internal/platform/bus/bustest"
)

// busyAPI answers every request as a bus that could not persist anything.
type busyAPI struct{ err error }

func (b busyAPI) Ingest(_ context.Context, _ string, events [][]byte) (ingest.Result, error) {
	res := ingest.Result{Rejected: []ingest.Rejection{}}
	for i := range events {
		res.Rejected = append(res.Rejected, ingest.Rejection{Index: i, Reason: "busy", Retryable: true})
	}
	return res, b.err
}

func TestHTTP(t *testing.T) {
	cfg := ingest.DefaultConfig()
	cfg.MaxBatch, cfg.MaxBodyBytes = 3, 1024
	svc := newService(t, bustest.Embedded(t), cfg)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	mux := http.NewServeMux()
	ingest.NewHTTP(svc, cfg, logger).Register(mux)
	busy := http.NewServeMux()
	ingest.NewHTTP(busyAPI{ingest.ErrBusy}, cfg, logger).Register(busy)
	overloaded := http.NewServeMux()
	ingest.NewHTTP(busyAPI{ingest.ErrOverloaded}, cfg, logger).Register(overloaded)

	ok := `{"txn_id":"h1","card_id":"c1","ts":"2026-03-01T12:00:00Z","amount":1}`
	bad := `{"txn_id":"h2","card_id":"c1","ts":"2026-03-01T12:00:00Z","amount":"x"}`
	tests := []struct {
		name, ct, path, body string
		mux                  *http.ServeMux
		status               int
		field                string // problem field, or "" for a 200 result
		retryAfter           string
	}{
		{"one event", "application/json", "transactions", ok, mux, 200, "", ""},
		{"one bad event", "application/json", "transactions", bad, mux, 400, "amount", ""},
		{"mixed array", "", "transactions", "[" + ok + "," + bad + "]", mux, 200, "", ""},
		{"all bad array", "application/json", "transactions", "[" + bad + "," + bad + "]", mux, 400, "[0].amount", ""},
		{"ndjson with a broken line", "application/x-ndjson", "transactions", ok + "\n{oops\n\n" + ok + "\n", mux, 200, "", ""},
		{"unknown stream", "application/json", "nope", ok, mux, 404, "", ""},
		{"batch over the limit", "application/json", "transactions", "[" + ok + "," + ok + "," + ok + "," + ok + "]", mux, 413, "body", ""},
		{"body over the limit", "application/json", "transactions", "[" + strings.Repeat(" ", 1100) + "]", mux, 413, "body", ""},
		{"malformed array", "application/json", "transactions", "[" + ok, mux, 400, "body", ""},
		{"wrong content type", "text/csv", "transactions", ok, mux, 400, "Content-Type", ""},
		{"bus busy", "application/json", "transactions", ok, busy, 503, "", "1"},
		{"too many in flight", "application/json", "transactions", ok, overloaded, 429, "", "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "/v1/events/"+tt.path, bytes.NewBufferString(tt.body))
			if tt.ct != "" {
				req.Header.Set("Content-Type", tt.ct)
			}
			rec := httptest.NewRecorder()
			tt.mux.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("got %d %s, want %d", rec.Code, rec.Body, tt.status)
			}
			var body struct {
				Field    string             `json:"field"`
				Rejected []ingest.Rejection `json:"rejected"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %s: %v", rec.Body, err)
			}
			if body.Field != tt.field {
				t.Errorf("field = %q, want %q (body %s)", body.Field, tt.field, rec.Body)
			}
			if got := rec.Header().Get("Retry-After"); got != tt.retryAfter {
				t.Errorf("Retry-After = %q, want %q", got, tt.retryAfter)
			}
		})
	}
}

func TestHTTPNDJSONReportsLineIndex(t *testing.T) {
	svc := newService(t, bustest.Embedded(t), ingest.DefaultConfig())
	mux := http.NewServeMux()
	ingest.NewHTTP(svc, ingest.DefaultConfig(), slog.New(slog.NewTextHandler(io.Discard, nil))).Register(mux)
	body := `{"user_id":1}` + "\n" + `{"user_id":"x"}` + "\n" + `{"user_id":3}`
	req := httptest.NewRequest("POST", "/v1/events/clicks", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-ndjson")
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	var res ingest.Result
	if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil || rec.Code != 200 {
		t.Fatalf("got %d %s", rec.Code, rec.Body)
	}
	if res.Accepted != 2 || len(res.Rejected) != 1 || res.Rejected[0].Index != 1 || res.Rejected[0].Field != "user_id" {
		t.Errorf("result = %+v, want 2 accepted and line 1 rejected on user_id", res)
	}
}
