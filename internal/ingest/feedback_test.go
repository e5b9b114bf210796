package ingest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/plinthai/plinth/internal/ingest"
	"github.com/plinthai/plinth/internal/ingest/ingesttest"
	"github.com/plinthai/plinth/internal/platform/bus"
	"github.com/plinthai/plinth/internal/platform/bus/bustest"
	"github.com/plinthai/plinth/internal/wire"
)

// feedbackOf reads every label of model on FEEDBACK.
func feedbackOf(t *testing.T, b *bus.Bus, model string) []wire.Feedback {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cons, err := b.JetStream().OrderedConsumer(ctx, b.Stream(bus.StreamFeedback), jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{b.Subject(wire.FeedbackSubject(model))}})
	if err != nil {
		t.Fatal(err)
	}
	var out []wire.Feedback
	for {
		batch, err := cons.Fetch(100, jetstream.FetchMaxWait(200*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for msg := range batch.Messages() {
			n++
			var fb wire.Feedback
			if err := json.Unmarshal(msg.Data(), &fb); err != nil {
				t.Fatal(err)
			}
			out = append(out, fb)
		}
		if n == 0 {
			return out
		}
	}
}

func TestFeedbackOverHTTP(t *testing.T) {
	cfg := ingest.DefaultConfig()
	cfg.MaxBatch = 4
	b := bustest.Embedded(t)
	svc := newService(t, b, cfg)
	mux := http.NewServeMux()
	ingest.NewHTTP(svc, cfg, slog.New(slog.NewTextHandler(io.Discard, nil))).Register(mux)
	post := func(model, body string) (int, string) {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("POST", "/v1/models/"+model+"/feedback", bytes.NewBufferString(body)))
		return rec.Code, rec.Body.String()
	}
	byID := `{"id":"l1","prediction_id":"p1","label":1}`
	byEntity := `{"id":"l2","entity":"c7","event_time":"2026-03-01T11:00:00Z","label":0,"at":"2026-03-01T11:30:00Z"}`
	tests := []struct {
		name, model, body string
		status            int
		field             string
	}{
		{"by prediction and by entity", "fraud", "[" + byID + "," + byEntity + "]", 200, ""},
		{"sent again", "fraud", byID, 200, ""},
		{"no id", "fraud", `{"prediction_id":"p1","label":1}`, 400, "id"},
		{"nothing to join on", "fraud", `{"id":"x","label":1}`, 400, "prediction_id"},
		{"entity without time", "fraud", `{"id":"x","entity":"c","label":1}`, 400, "event_time"},
		{"no truth", "fraud", `{"id":"x","prediction_id":"p"}`, 400, "label"},
		{"label of the wrong type", "fraud", `{"id":"x","prediction_id":"p","label":"yes"}`, 400, "label"},
		{"unknown field", "fraud", `{"id":"x","prediction_id":"p","label":1,"lable":1}`, 400, "lable"},
		{"another model in the body", "fraud", `{"id":"x","model":"churn","prediction_id":"p","label":1}`, 400, "model"},
		{"bad model name", "Fraud!", byID, 400, "model"},
		{"all bad batch", "fraud", `[{"id":"x"},{"id":"y"}]`, 400, "[0].prediction_id"},
		{"over the batch limit", "fraud", "[" + byID + "," + byID + "," + byID + "," + byID + "," + byID + "]", 413, "body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := post(tt.model, tt.body)
			if status != tt.status {
				t.Fatalf("got %d %s, want %d", status, body, tt.status)
			}
			var got struct {
				Field string `json:"field"`
			}
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatal(err)
			}
			if got.Field != tt.field {
				t.Errorf("field %q, want %q (%s)", got.Field, tt.field, body)
			}
		})
	}
	want := []wire.Feedback{
		{ID: "l1", Model: "fraud", PredictionID: "p1", Label: 1, At: ingesttest.Now.UTC()},
		{ID: "l2", Model: "fraud", Entity: "c7", EventTime: time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC), At: time.Date(2026, 3, 1, 11, 30, 0, 0, time.UTC)},
	}
	if diff := cmp.Diff(want, feedbackOf(t, b, "fraud")); diff != "" {
		t.Errorf("FEEDBACK (-want +got), each label once:\n%s", diff)
	}
}
