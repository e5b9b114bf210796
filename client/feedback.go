package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// Label is one ground-truth label of a model's prediction: its id (a
// label sent again counts once), what it judges (PredictionID, or Entity
// and EventTime), and its truth (Label, or Items for recommenders). At is
// when the truth became known; zero is the time the server takes it.
type Label struct {
	ID           string    `json:"id"`
	PredictionID string    `json:"prediction_id,omitempty"`
	Entity       string    `json:"entity,omitempty"`
	EventTime    time.Time `json:"event_time,omitzero"`
	Label        *float64  `json:"label,omitempty"`
	Items        []string  `json:"items,omitempty"`
	At           time.Time `json:"at,omitzero"`
}

// SendFeedback sends a model's labels as one NDJSON batch, answered like
// SendEvents: a per-label report, an *Error (with the report) when none
// was accepted or the bus is overloaded.
func (c *Client) SendFeedback(ctx context.Context, model string, labels []Label) (IngestResult, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for i := range labels {
		if err := enc.Encode(&labels[i]); err != nil {
			return IngestResult{}, fmt.Errorf("label %d: %w", i, err)
		}
	}
	var res IngestResult
	_, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/models/" + esc(model) + "/feedback", payload: buf.Bytes(),
		contentType: "application/x-ndjson", out: &res, problemOut: &res})
	return res, err
}
