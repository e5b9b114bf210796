// Package contracttest checks HTTP traffic against the OpenAPI document
// with a third-party validator (github.com/getkin/kin-openapi), so tests
// that drive the REST API also prove that every response they see is one
// the contract allows: its status, content type, headers and body schema.
// It is for tests only.
package contracttest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/plinthai/plinth/api"
)

// Load parses and validates the OpenAPI document and builds a router.
func Load(tb testing.TB) (*openapi3.T, routers.Router) {
	tb.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(api.OpenAPIYAML())
	if err != nil {
		tb.Fatalf("load openapi: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		tb.Fatalf("openapi document is invalid: %v", err)
	}
	doc.Servers = nil // match any host: tests run on ephemeral ports
	router, err := legacy.NewRouter(doc)
	if err != nil {
		tb.Fatalf("openapi router: %v", err)
	}
	return doc, router
}

// Transport returns a RoundTripper that sends through next (nil for
// http.DefaultTransport) and fails tb when a response under /v1 does not
// match the document.
func Transport(tb testing.TB, next http.RoundTripper) http.RoundTripper {
	_, router := Load(tb)
	if next == nil {
		next = http.DefaultTransport
	}
	return &transport{tb: tb, next: next, router: router}
}

type transport struct {
	tb     testing.TB
	next   http.RoundTripper
	router routers.Router
}

// RoundTrip implements http.RoundTripper. Only /v1 is checked: the Open
// Inference Protocol under /v2 is a contract of its own, tested by the
// inference package's golden files.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil || !strings.HasPrefix(req.URL.Path, "/v1/") {
		return resp, err
	}
	body, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if rerr != nil {
		return resp, rerr
	}
	if err := t.validate(req, resp, body); err != nil {
		t.tb.Errorf("contract violation: %s %s → %d: %v\nbody: %.500s", req.Method, req.URL.Path, resp.StatusCode, err, body)
	}
	return resp, nil
}

// validate checks one exchange; a request the document does not route is
// a violation unless the server answered 404 or 405.
func (t *transport) validate(req *http.Request, resp *http.Response, body []byte) error {
	route, params, err := t.router.FindRoute(req)
	if err != nil {
		if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed {
			return nil
		}
		return fmt.Errorf("request not in the document: %w", err)
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
	out.SetBodyBytes(body)
	return openapi3filter.ValidateResponse(req.Context(), out)
}
