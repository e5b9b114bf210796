package problem

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// ContentType is the media type of problem documents.
const ContentType = "application/problem+json"

// Details is an RFC 9457 problem document with Plinth's extensions.
type Details struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail,omitempty"`
	Instance  string `json:"instance,omitempty"`
	Field     string `json:"field,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// requestIDHeader carries the request id set by the server middleware.
const requestIDHeader = "X-Request-Id"

// Write sends err as a problem document. Internal errors are reported as
// 500 with a fixed text; the caller logs the real error.
func Write(w http.ResponseWriter, r *http.Request, err error) {
	status := Status(err)
	d := Details{
		Type:      TypePrefix + Slug(err),
		Title:     http.StatusText(status),
		Status:    status,
		Detail:    detail(err),
		Field:     FieldOf(err),
		RequestID: w.Header().Get(requestIDHeader),
	}
	if r != nil {
		d.Instance = r.URL.Path
	}
	WriteDetails(w, d)
}

// WriteDetails sends a prepared problem document.
func WriteDetails(w http.ResponseWriter, d Details) {
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(d.Status)
	_ = json.NewEncoder(w).Encode(d)
}

// Parse turns an HTTP error response back into an error of the matching
// kind (used by HTTP clients). It reads at most 64 KiB of the body.
func Parse(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var d Details
	if strings.HasPrefix(resp.Header.Get("Content-Type"), ContentType) && json.Unmarshal(body, &d) == nil {
		return fromDetails(d)
	}
	d = Details{Status: resp.StatusCode, Detail: strings.TrimSpace(string(body))}
	for _, k := range kinds {
		if k.status == resp.StatusCode {
			d.Type = TypePrefix + k.slug
		}
	}
	return fromDetails(d)
}

func fromDetails(d Details) error {
	k, ok := kindBySlug(strings.TrimPrefix(d.Type, TypePrefix))
	if !ok {
		return fmt.Errorf("server error %d: %s", d.Status, d.Detail)
	}
	if d.Field != "" {
		return &FieldError{Field: d.Field, Reason: d.Detail, Kind: k.err}
	}
	return fmt.Errorf("%s: %w", d.Detail, k.err)
}

// IsKind reports whether err is of any known kind (a client error or an
// expected failure rather than a bug).
func IsKind(err error) bool {
	_, ok := kindOf(err)
	return ok && !errors.Is(err, ErrUnavailable)
}
