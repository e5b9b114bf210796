package gateway

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/plinthai/plinth/internal/platform/auth"
	"github.com/plinthai/plinth/internal/platform/httpx"
	"github.com/plinthai/plinth/internal/platform/problem"
)

// edgeRoute is the edge for HTTP in front of one route, in this order:
// header size, load shedding, body limit, timeout, authentication and
// scopes, rate limit, fault injection, idempotency. Each step answers with
// an error (a problem document; {"error"} under /v2) and stops the
// request, or passes it on. It is built once per route when the edge is
// installed, so the route's operation is looked up then, not per request.
type edgeRoute struct {
	s       *Service
	op      Operation
	timeout time.Duration
	next    http.Handler
}

// routeHandler is server.Edge.Route: the edge in front of pattern's
// handler. A pattern in neither the contract nor OIPRoutes is refused.
func (s *Service) routeHandler(pattern string, next http.Handler) http.Handler {
	op, ok := s.operation(pattern)
	if !ok {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.logger.ErrorContext(r.Context(), "route is not in the API contract (api/openapi.yaml); refusing it", "route", pattern)
			writeError(w, r, errors.New("route "+pattern+" is not in the API contract"))
		})
	}
	return &edgeRoute{s: s, op: op, timeout: s.timeout(op), next: next}
}

func (e *edgeRoute) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s, op := e.s, &e.op
	if !s.headerFits(w, r) {
		return
	}
	if !s.shed.acquire() {
		s.metrics.shed.Inc()
		w.Header().Set("Retry-After", "1")
		writeProblem(w, r, http.StatusServiceUnavailable, slugOverloaded, "the server is serving as many requests as it may; retry shortly")
		return
	}
	defer s.shed.release()
	if !s.bodyFits(w, r, op) {
		return
	}
	ctx := new(edgeContext)
	ctx.d.Init(r.Context(), time.Now().Add(e.timeout)) // its timer starts only if something waits
	defer ctx.d.Cancel()
	p, ok := s.authenticate(ctx, w, r, op)
	if !ok {
		return
	}
	ctx.p = p // before anything reads it: the handlers get the context next
	r = r.WithContext(ctx)
	s.limitBody(w, r, op)
	if !s.rateLimit(w, r, op, p) || !s.injectFaults(w, r, op) {
		return
	}
	if op.Mutating() && !op.OIP && r.Header.Get(IdempotencyKeyHeader) != "" {
		s.idempotent(w, r, *op, p, e.next)
		return
	}
	e.next.ServeHTTP(w, r)
}

// edgeContext is a request's context past the edge: its time limit and
// its principal in one allocation (httpx.WithDeadline and
// auth.WithPrincipal would take three).
type edgeContext struct {
	d httpx.Deadline
	p auth.Principal
}

func (c *edgeContext) Deadline() (time.Time, bool) { return c.d.Deadline() }
func (c *edgeContext) Done() <-chan struct{}       { return c.d.Done() }
func (c *edgeContext) Err() error                  { return c.d.Err() }

// AfterFunc lets derived contexts hook on without a goroutine each (see
// httpx.Deadline.AfterFunc).
func (c *edgeContext) AfterFunc(f func()) (stop func() bool) { return c.d.AfterFunc(f) }

// Value answers the principal, as auth.From reads it, else the parent's
// values.
func (c *edgeContext) Value(key any) any {
	if _, ok := key.(auth.ContextKey); ok {
		return &c.p
	}
	return c.d.Value(key)
}

// headerFits answers 431 when the header block is over the limit.
func (s *Service) headerFits(w http.ResponseWriter, r *http.Request) bool {
	if n := headerBytes(r); n > s.cfg.Limits.MaxHeaderBytes {
		writeProblem(w, r, http.StatusRequestHeaderFieldsTooLarge, slugHeaderTooLarge,
			"request headers exceed the limit of "+strconv.Itoa(s.cfg.Limits.MaxHeaderBytes)+" bytes")
		return false
	}
	return true
}

// operation returns the operation of a ServeMux pattern: from the OpenAPI
// contract, or from the table of Open Inference Protocol routes.
func (s *Service) operation(pattern string) (Operation, bool) {
	if op, ok := s.contract.Operation(pattern); ok {
		return op, true
	}
	op, ok := s.oip[pattern]
	return op, ok
}

// unmatched is server.Edge.Unmatched: a public path no route serves
// answers 405 when another method serves it, else 404.
func (s *Service) unmatched(w http.ResponseWriter, r *http.Request) {
	if !s.headerFits(w, r) {
		return
	}
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if s.deps.Host.Mux().Match(probe) != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeProblem(w, r, http.StatusMethodNotAllowed, slugMethodNotAllowed,
			"method "+r.Method+" is not allowed on "+r.URL.Path+" (allowed: "+strings.Join(allow, ", ")+")")
		return
	}
	writeError(w, r, problem.Wrap(problem.ErrNotFound, "no operation at %s %s; see /v1/openapi.json", r.Method, r.URL.Path))
}

func (s *Service) timeout(op Operation) time.Duration {
	if op.Timeout > 0 {
		return op.Timeout
	}
	return s.cfg.Limits.RequestTimeout
}

// bodyFits answers 413 when a non-streamed body declares a length over
// the limit.
func (s *Service) bodyFits(w http.ResponseWriter, r *http.Request, op *Operation) bool {
	if op.Stream || r.Body == nil {
		return true
	}
	limit := s.cfg.Limits.MaxBodyBytes
	if r.ContentLength > limit {
		writeError(w, r, problem.FieldKind(problem.ErrTooLarge, "body", "larger than the limit of %d bytes", limit))
		return false
	}
	return true
}

// limitBody bounds a non-streamed body of r, the edge's own copy of the
// request, as it is read. A body of a declared length needs nothing more:
// bodyFits checked the length, and net/http reads no further than it.
func (s *Service) limitBody(w http.ResponseWriter, r *http.Request, op *Operation) {
	if !op.Stream && r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody {
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.Limits.MaxBodyBytes)
	}
}

// authenticate checks credentials and scopes.
func (s *Service) authenticate(ctx context.Context, w http.ResponseWriter, r *http.Request, op *Operation) (auth.Principal, bool) {
	if op.Public {
		return auth.Principal{Subject: auth.Anonymous}, true
	}
	var header string
	if v := r.Header["Authorization"]; len(v) > 0 { // the key as net/http stores it: no canonicalising per request
		header = v[0]
	}
	p, err := s.authn.Authenticate(ctx, header)
	if err == nil {
		err = Authorize(p, op.Scopes)
	}
	if err != nil {
		s.metrics.authFailures.WithLabelValues("http", authFailureReason(err)).Inc()
		if problem.Status(err) == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="plinth"`)
		}
		writeError(w, r, err)
		return auth.Principal{}, false
	}
	return p, true
}

// rateLimit spends a token of the principal's bucket for the operation's
// class. A failing shared limiter lets requests through (and logs): the
// limits protect the platform, and Redis being down must not stop it.
func (s *Service) rateLimit(w http.ResponseWriter, r *http.Request, op *Operation, p auth.Principal) bool {
	if s.cfg.RateLimit.Disabled || !rateLimited(p) {
		return true
	}
	cl := s.limitFor(op.Class)
	d, err := s.limiter.Allow(r.Context(), bucketKey(p, r, op.Class), cl.Limit)
	if err != nil {
		s.logger.WarnContext(r.Context(), "rate limiter failed; letting the request through", "err", err)
		return true
	}
	d.setHeaders(w.Header(), &cl.headers)
	if !d.Allowed {
		s.metrics.rateLimited.WithLabelValues(op.Class).Inc()
		writeProblem(w, r, http.StatusTooManyRequests, slugRateLimited,
			"rate limit of "+op.Class+" operations for "+p.Subject+" exceeded; retry after "+w.Header().Get("Retry-After")+" s")
		return false
	}
	return true
}

// classLimit is a rate class's limit with its constant headers.
type classLimit struct {
	Limit
	headers limitHeaders
}

func newClassLimit(class string, rate float64, burst int) *classLimit {
	l := Limit{Rate: rate, Burst: burst}
	return &classLimit{Limit: l, headers: newLimitHeaders(class, l)}
}

func (s *Service) limitFor(class string) *classLimit {
	if class == ClassRead {
		return s.readLimit
	}
	return s.writeLimit
}

// bucketKey is the bucket of a principal and class; callers without
// credentials share buckets per client address.
func bucketKey(p auth.Principal, r *http.Request, class string) BucketKey {
	if p.Subject != auth.Anonymous || r == nil {
		return BucketKey{Class: class, Who: p.Subject}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return BucketKey{Class: class, Who: host, ByAddr: true}
}

// injectFaults applies the fault rules: it may delay, fail or abort.
func (s *Service) injectFaults(w http.ResponseWriter, r *http.Request, op *Operation) bool {
	outcome, status, delay := s.faults.apply(r.Context(), *op)
	if delay > 0 {
		s.metrics.faults.WithLabelValues("latency", op.Target).Inc()
	}
	switch outcome {
	case faultAbort:
		s.metrics.faults.WithLabelValues("abort", op.Target).Inc()
		panic(http.ErrAbortHandler) // net/http closes the connection without a response
	case faultError:
		s.metrics.faults.WithLabelValues("error", op.Target).Inc()
		writeProblem(w, r, status, slugInjected, "fault injected by a rule of /v1/faults")
		return false
	}
	return true
}
