package client

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSendEventsRetriesWithOneKey checks that a 503 is retried after its
// Retry-After with the same Idempotency-Key and body, and that the report
// of a 400 comes back with the error.
func TestSendEventsRetriesWithOneKey(t *testing.T) {
	var keys, bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		keys, bodies = append(keys, r.Header.Get("Idempotency-Key")), append(bodies, string(b))
		if ct := r.Header.Get("Content-Type"); ct != "application/x-ndjson" {
			t.Errorf("Content-Type = %q, want application/x-ndjson", ct)
		}
		w.Header().Set("Content-Type", "application/problem+json")
		switch len(keys) {
		case 1:
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, `{"status":503,"title":"Service Unavailable","accepted":0,"duplicates":0,"rejected":[]}`)
		default:
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"status":400,"title":"Bad Request","field":"[1].amount","accepted":0,"duplicates":0,`+
				`"rejected":[{"index":0,"field":"ts","reason":"missing"},{"index":1,"field":"amount","reason":"want a number"}]}`)
		}
	}))
	defer srv.Close()
	c, err := New(srv.URL, "t")
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.SendEvents(context.Background(), "tx", []json.RawMessage{json.RawMessage(`{ "a": 1 }`), json.RawMessage("{\n\"a\": \"x\"}")})
	if !IsStatus(err, http.StatusBadRequest) {
		t.Fatalf("err = %v, want a 400 *Error", err)
	}
	want := IngestResult{Rejected: []Rejection{{Index: 0, Field: "ts", Reason: "missing"}, {Index: 1, Field: "amount", Reason: "want a number"}}}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
	if len(keys) != 2 || keys[0] == "" || keys[0] != keys[1] {
		t.Errorf("Idempotency-Keys = %q, want one key sent twice", keys)
	}
	if want := "{\"a\":1}\n{\"a\":\"x\"}\n"; bodies[0] != want || bodies[1] != want {
		t.Errorf("bodies = %q, want NDJSON %q twice", bodies, want)
	}
	if _, err := c.SendEvents(context.Background(), "tx", []json.RawMessage{json.RawMessage(`{`)}); err == nil || !strings.Contains(err.Error(), "event 0") {
		t.Errorf("malformed event: err = %v, want one naming event 0", err)
	}
}
