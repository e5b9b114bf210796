// Package httpx holds the HTTP plumbing every service's transport shares:
// strict JSON request decoding that names the offending field, JSON
// responses, query parameter parsing, and a request deadline that costs
// nothing until something waits on it (Deadline). Errors it returns are
// problem errors, ready for problem.Write.
package httpx

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/plinthai/plinth/internal/platform/problem"
)

// Router is where transports register routes: *http.ServeMux and the
// server's recording mux both are one.
type Router interface {
	HandleFunc(pattern string, handler func(http.ResponseWriter, *http.Request))
}

// DefaultMaxJSONBytes bounds a JSON request body.
const DefaultMaxJSONBytes = 1 << 20

// DecodeJSON decodes r's body into v, refusing unknown fields, trailing
// data, a non-JSON content type and bodies over max bytes (ErrTooLarge).
func DecodeJSON(r *http.Request, v any, max int64) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return problem.Field("Content-Type", "want application/json, got %q", ct)
		}
	}
	body := http.MaxBytesReader(nil, r.Body, max)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err, max)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return jsonError(err, max)
		}
		return problem.Field("body", "unexpected data after the JSON value")
	}
	return nil
}

func jsonError(err error, max int64) error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
		mbe *http.MaxBytesError
	)
	switch {
	case errors.As(err, &mbe):
		return problem.FieldKind(problem.ErrTooLarge, "body", "larger than %d bytes", max)
	case errors.As(err, &syn):
		return problem.Field("body", "malformed JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return problem.Field(field, "want %s, got JSON %s", typ.Type, typ.Value)
	case errors.Is(err, io.EOF):
		return problem.Field("body", "empty body, want a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return problem.Field("body", "truncated JSON")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return problem.Field(name, "unknown field")
	default:
		return problem.Field("body", "invalid JSON: %v", err)
	}
}

// WriteJSON writes v as JSON with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// QueryInt parses an optional integer query parameter (def when absent).
func QueryInt(r *http.Request, name string, def int64) (int64, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, problem.Field(name, "%q is not an integer", s)
	}
	return n, nil
}

// QueryCount parses an optional count query parameter (a page size, a
// limit) between 0 and max; absent, it is 0, which leaves the choice to
// the server.
func QueryCount(r *http.Request, name string, max int) (int, error) {
	n, err := QueryInt(r, name, 0)
	if err != nil {
		return 0, err
	}
	if n < 0 || n > int64(max) {
		return 0, problem.Field(name, "must be between 0 and %d", max)
	}
	return int(n), nil
}

// QueryBool parses an optional boolean query parameter.
func QueryBool(r *http.Request, name string) (bool, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, problem.Field(name, "%q is not true or false", s)
	}
	return b, nil
}

// PathInt parses an integer path wildcard.
func PathInt(r *http.Request, name string) (int64, error) {
	s := r.PathValue(name)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, problem.Field(name, "%q is not an integer", s)
	}
	return n, nil
}

// ETag quotes a revision as an entity tag.
func ETag(rev int64) string { return fmt.Sprintf(`"%d"`, rev) }
