// Package client is the Go client of Plinth's REST API (/v1), the one the
// plinth CLI uses. It authenticates with a bearer credential (an API key
// or a JWT), sends an Idempotency-Key with every JSON write so a retried
// write never applies twice, retries 429 and 503 answers after their
// Retry-After (bounded), and returns errors as *Error carrying the problem
// document.
//
// A Client is safe for concurrent use.
package client

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Defaults of a Client.
const (
	DefaultAddr    = "http://localhost:8080"
	DefaultRetries = 3
	maxRetryWait   = 10 * time.Second
)

// Client calls one Plinth server.
type Client struct {
	base    *url.URL
	token   string
	tokenFn func(context.Context) (string, error)
	http    *http.Client
	retries int
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient replaces http.DefaultClient.
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithTokenSource makes every request ask fn for its bearer credential
// (a token that expires and is renewed, say), instead of the token given
// to New. An error of fn fails the request.
func WithTokenSource(fn func(context.Context) (string, error)) Option {
	return func(c *Client) { c.tokenFn = fn }
}

// WithRetries sets how often a 429 or 503 answer is retried (0: never).
func WithRetries(n int) Option { return func(c *Client) { c.retries = n } }

// New returns a client of the server at addr (such as
// http://localhost:8080) sending token as its bearer credential ("" for
// none).
func New(addr, token string, opts ...Option) (*Client, error) {
	if addr == "" {
		addr = DefaultAddr
	}
	if !strings.Contains(addr, "://") {
		addr = "http://" + addr
	}
	u, err := url.Parse(strings.TrimRight(addr, "/"))
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("server address %q: want http://host:port", addr)
	}
	c := &Client{base: u, token: token, http: http.DefaultClient, retries: DefaultRetries}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Addr returns the server's base URL.
func (c *Client) Addr() string { return c.base.String() }

// request is one call: JSON in (body), bytes already encoded as
// contentType (payload, retried like body), or a stream (raw, never
// retried); JSON out (out). problemOut, when set, also receives the
// problem document of an answer of 400 or more.
type request struct {
	method, path string
	query        url.Values
	body         any
	payload      []byte
	contentType  string
	raw          io.Reader
	rawLen       int64
	header       http.Header
	out          any
	problemOut   any
}

// do sends r, retrying JSON calls on 429 and 503, and decodes the answer.
func (c *Client) do(ctx context.Context, r request) (http.Header, error) {
	payload := r.payload
	if r.body != nil {
		var err error
		if payload, err = json.Marshal(r.body); err != nil {
			return nil, fmt.Errorf("encode request: %w", err)
		}
	}
	if r.header == nil {
		r.header = http.Header{}
	}
	if r.method != http.MethodGet && r.header.Get("Idempotency-Key") == "" {
		r.header.Set("Idempotency-Key", newKey())
	}
	for attempt := 0; ; attempt++ {
		resp, err := c.send(ctx, r, payload)
		if err != nil {
			return nil, err
		}
		wait, retry := retryAfter(resp, attempt < c.retries && r.raw == nil)
		if !retry {
			return resp.Header, c.decode(resp, r.out, r.problemOut)
		}
		resp.Body.Close()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

func (c *Client) send(ctx context.Context, r request, payload []byte) (*http.Response, error) {
	u := *c.base
	u.Path += r.path
	u.RawQuery = r.query.Encode()
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	} else if r.raw != nil {
		body = r.raw
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", r.method, r.path, err)
	}
	req.Header = r.header.Clone()
	if payload != nil {
		req.Header.Set("Content-Type", cmp.Or(r.contentType, "application/json"))
	}
	if r.raw != nil {
		req.Header.Set("Content-Type", "application/octet-stream")
		req.ContentLength = r.rawLen
	}
	token := c.token
	if c.tokenFn != nil {
		if token, err = c.tokenFn(ctx); err != nil {
			return nil, fmt.Errorf("%s %s: credential: %w", r.method, r.path, err)
		}
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, &UnreachableError{Addr: c.base.String(), Err: err}
	}
	return resp, nil
}

// retryAfter says whether to retry resp and after how long.
func retryAfter(resp *http.Response, allowed bool) (time.Duration, bool) {
	if !allowed || (resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable) {
		return 0, false
	}
	secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || secs < 0 {
		return 0, false
	}
	return min(time.Duration(secs)*time.Second, maxRetryWait), true
}

func (c *Client) decode(resp *http.Response, out, problemOut any) error {
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		return parseError(resp, problemOut)
	}
	if w, ok := out.(io.Writer); ok {
		if _, err := io.Copy(w, resp.Body); err != nil {
			return fmt.Errorf("read response: %w", err)
		}
		return nil
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode response: %w", err)
	}
	return nil
}

func newKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// UnreachableError means the server could not be reached at all.
type UnreachableError struct {
	Addr string
	Err  error
}

// Error implements error.
func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach the Plinth server at %s (is `plinth serve` running? set --addr or PLINTH_ADDR): %v", e.Addr, e.Err)
}

// Unwrap returns the transport error.
func (e *UnreachableError) Unwrap() error { return e.Err }

// Error is an answer of 400 or more: the server's problem document.
type Error struct {
	Status    int    `json:"status"`
	Type      string `json:"type"`
	Title     string `json:"title"`
	Detail    string `json:"detail"`
	Field     string `json:"field"`
	RequestID string `json:"request_id"`
}

// Error implements error.
func (e *Error) Error() string {
	msg := fmt.Sprintf("%d %s", e.Status, e.Title)
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.Field != "" {
		msg += " (field " + e.Field + ")"
	}
	if e.RequestID != "" {
		msg += " [request " + e.RequestID + "]"
	}
	return msg
}

// IsStatus reports whether err is an *Error with the given HTTP status.
func IsStatus(err error, status int) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == status
}

// parseError reads the problem document of resp, and decodes it into
// problemOut too when that is not nil.
func parseError(resp *http.Response, problemOut any) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if problemOut != nil {
		_ = json.Unmarshal(body, problemOut)
	}
	e := &Error{Status: resp.StatusCode, Title: http.StatusText(resp.StatusCode)}
	if json.Unmarshal(body, e) != nil || e.Status == 0 {
		e.Status, e.Detail = resp.StatusCode, strings.TrimSpace(string(body))
	}
	return e
}
