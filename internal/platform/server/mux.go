package server

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/plinthai/plinth/internal/platform/problem"
)

// Mux is the process's HTTP route table: net/http's ServeMux that also
// records every pattern registered on it, so tests can compare the routes a
// process serves with the API contract. It is safe for concurrent use.
//
// Routing happens once per request, in the ServeMux: every registered
// handler is wrapped in a route that knows its pattern, and puts the edge
// (see SetEdge) in front of the handler when the request's path is public.
// The edge's handler for a route is built once, when the edge is installed
// or the route registered, so the edge finds the route's operation at
// build time rather than per request. A catch-all route answers paths no
// pattern serves: public ones through the edge's Unmatched handler, the
// rest with ServeMux's own 404 and 405.
type Mux struct {
	mux      *http.ServeMux
	fallback *route

	mu       sync.Mutex
	routes   []*route
	patterns []string
	edge     *Edge
}

// NewMux returns an empty route table.
func NewMux() *Mux {
	m := &Mux{mux: http.NewServeMux()}
	m.fallback = &route{pattern: fallbackPattern, mux: m}
	m.fallback.next = http.HandlerFunc(m.notFound)
	m.mux.Handle(fallbackPattern, m.fallback)
	return m
}

// fallbackPattern is the catch-all route's pattern; it is not listed by
// Patterns and its metrics label is "unmatched".
const fallbackPattern = "/"

// Handle registers h for pattern (net/http's method and wildcard syntax).
// Like http.ServeMux, it panics on a conflicting or malformed pattern.
func (m *Mux) Handle(pattern string, h http.Handler) {
	rt := &route{pattern: pattern, next: h, mux: m}
	m.mux.Handle(pattern, rt)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.routes = append(m.routes, rt)
	m.patterns = append(m.patterns, pattern)
	if m.edge != nil {
		rt.install(m.edge)
	}
}

// HandleFunc registers f for pattern.
func (m *Mux) HandleFunc(pattern string, f func(http.ResponseWriter, *http.Request)) {
	m.Handle(pattern, http.HandlerFunc(f))
}

// SetEdge puts e in front of every route, present and future, for
// requests under PublicPrefixes; later calls replace it. Until it is
// called those requests answer 503. Only e's HTTP fields are used.
func (m *Mux) SetEdge(e Edge) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.edge = &e
	for _, rt := range m.routes {
		rt.install(&e)
	}
	unmatched := e.Unmatched
	if unmatched == nil {
		unmatched = m.fallback.next
	}
	m.fallback.edged.Store(&unmatched)
}

// Patterns returns every registered pattern, sorted.
func (m *Mux) Patterns() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := slices.Clone(m.patterns)
	slices.Sort(out)
	return out
}

// Match returns the pattern that would serve r ("" when none does).
func (m *Mux) Match(r *http.Request) string {
	_, pattern := m.mux.Handler(r)
	if pattern == fallbackPattern {
		return ""
	}
	return pattern
}

// ServeHTTP dispatches r to the handler of its pattern.
func (m *Mux) ServeHTTP(w http.ResponseWriter, r *http.Request) { m.mux.ServeHTTP(w, r) }

// notFound answers a non-public path no pattern serves as ServeMux would
// without the catch-all: 405 with Allow when another method is served
// there, else 404.
func (m *Mux) notFound(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, method := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = method
		if method != r.Method && m.Match(probe) != "" {
			allow = append(allow, method)
		}
	}
	if len(allow) == 0 {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
}

// route is one registered pattern: its handler, the handler with the edge
// in front, and the pattern's metric handles (set by the server's
// middleware on first use).
type route struct {
	pattern string
	next    http.Handler
	mux     *Mux
	edged   atomic.Pointer[http.Handler]
	stats   atomic.Pointer[routeStats]
}

func (rt *route) install(e *Edge) {
	if e.Route == nil {
		rt.edged.Store(&rt.next)
		return
	}
	h := e.Route(rt.pattern, rt.next)
	rt.edged.Store(&h)
}

// ServeHTTP tells the server's middleware which route served the request
// and passes public requests through the edge.
func (rt *route) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if sw, ok := w.(*statusWriter); ok {
		sw.route = rt
	}
	if !isPublic(r.URL.Path) {
		rt.next.ServeHTTP(w, r)
		return
	}
	h := rt.edged.Load()
	if h == nil {
		w.Header().Set("Retry-After", "1")
		problem.Write(w, r, problem.Wrap(problem.ErrUnavailable, "the server is starting"))
		return
	}
	(*h).ServeHTTP(w, r)
}
