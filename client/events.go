package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// IngestResult is the server's report on a batch of events: how many were
// accepted (duplicates included), how many of those were duplicates of an
// event id already ingested, and every event not accepted, by index in the
// batch.
type IngestResult struct {
	Accepted   int         `json:"accepted"`
	Duplicates int         `json:"duplicates"`
	Rejected   []Rejection `json:"rejected"`
}

// Rejection is one event the server did not accept. Retryable events were
// valid but the bus could not take them: send them again.
type Rejection struct {
	Index     int    `json:"index"`
	Field     string `json:"field,omitempty"`
	Reason    string `json:"reason"`
	Retryable bool   `json:"retryable,omitempty"`
}

// SendEvents ingests events into a stream as one NDJSON batch (each event
// one JSON object; it is compacted onto one line). Like every write it
// carries an Idempotency-Key, and a 429 or 503 is retried after its
// Retry-After; the server also drops events whose id it has seen, so a
// batch sent again is counted as duplicates.
//
// The server answers a batch with no event accepted with 400, and an
// overloaded bus with 429 or 503; then the error is an *Error and the
// returned result still holds the per-event report.
func (c *Client) SendEvents(ctx context.Context, stream string, events []json.RawMessage) (IngestResult, error) {
	var buf bytes.Buffer
	for i, ev := range events {
		if err := json.Compact(&buf, ev); err != nil {
			return IngestResult{}, fmt.Errorf("event %d: %w", i, err)
		}
		buf.WriteByte('\n')
	}
	var res IngestResult
	_, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/events/" + esc(stream), payload: buf.Bytes(),
		contentType: "application/x-ndjson", out: &res, problemOut: &res})
	return res, err
}
