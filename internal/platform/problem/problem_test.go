package problem

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestHTTPRoundTrip(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantField  string
		wantKind   error
	}{
		{"field", Field("name", "must match %s", "[a-z]"), 400, "name", ErrInvalid},
		{"not found", Wrap(ErrNotFound, "model %q", "fraud"), 404, "", ErrNotFound},
		{"precondition", fmt.Errorf("alias champion: %w", ErrPrecondition), 412, "", ErrPrecondition},
		{"too large field", FieldKind(ErrTooLarge, "artifact", "over 10 bytes"), 413, "artifact", ErrTooLarge},
		{"checksum", FieldKind(ErrUnprocessable, "sha256", "mismatch"), 422, "sha256", ErrUnprocessable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			rec.Header().Set("X-Request-Id", "req-1")
			Write(rec, httptest.NewRequest("GET", "/v1/models/x", nil), tt.err)
			if rec.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d", rec.Code, tt.wantStatus)
			}
			if ct := rec.Header().Get("Content-Type"); ct != ContentType {
				t.Errorf("content type = %q", ct)
			}
			var d Details
			if err := json.Unmarshal(rec.Body.Bytes(), &d); err != nil {
				t.Fatal(err)
			}
			if d.Field != tt.wantField || d.RequestID != "req-1" || d.Instance != "/v1/models/x" {
				t.Errorf("details = %+v", d)
			}
			got := Parse(rec.Result())
			if !errors.Is(got, tt.wantKind) || FieldOf(got) != tt.wantField {
				t.Errorf("Parse = %v (field %q), want kind %v field %q", got, FieldOf(got), tt.wantKind, tt.wantField)
			}
		})
	}
}

func TestInternalErrorsHideDetail(t *testing.T) {
	rec := httptest.NewRecorder()
	Write(rec, nil, errors.New("pq: password for user x is hunter2"))
	var d Details
	_ = json.Unmarshal(rec.Body.Bytes(), &d)
	if d.Status != 500 || d.Detail != "internal error" {
		t.Errorf("got %+v, want a 500 with a fixed detail", d)
	}
}

func TestGRPCRoundTrip(t *testing.T) {
	tests := []error{
		Field("version", "must be positive"),
		Wrap(ErrNotFound, "model %q", "m"),
		Wrap(ErrConflict, "exists"),
		FieldKind(ErrUnprocessable, "sha256", "mismatch"),
		Wrap(ErrTooLarge, "big"),
	}
	for _, in := range tests {
		out := FromGRPC(GRPCStatus(in))
		k, _ := kindOf(in)
		if !errors.Is(out, k.err) {
			t.Errorf("%v → %v, lost kind %v", in, out, k.err)
		}
		if diff := cmp.Diff(FieldOf(in), FieldOf(out)); diff != "" {
			t.Errorf("%v: field (-want +got):\n%s", in, diff)
		}
		if detail(in) != detail(out) {
			t.Errorf("detail %q → %q", detail(in), detail(out))
		}
	}
}

// A body over http.MaxBytesReader's limit is the client's 413 naming the
// body, also when a handler wraps the read error.
func TestMaxBytesErrorIsTooLarge(t *testing.T) {
	err := fmt.Errorf("read: %w", &http.MaxBytesError{Limit: 64})
	if Status(err) != http.StatusRequestEntityTooLarge || FieldOf(err) != "body" || Slug(err) != "too-large" || detail(err) != "larger than the limit of 64 bytes" {
		t.Errorf("MaxBytesError: status %d field %q slug %q detail %q", Status(err), FieldOf(err), Slug(err), detail(err))
	}
}
