package server

import (
	"context"
	"net/http"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Edge is what a process puts in front of its public API: a handler per
// route for the paths under PublicPrefixes, one for the public paths no
// route serves, and gRPC interceptors for every service but health and
// reflection. The gateway module builds it (authentication, scopes,
// limits, idempotency, faults).
type Edge struct {
	// Route returns the handler that serves pattern's public requests in
	// front of next. It is called once per route, when the edge is
	// installed or the route registered later, never per request.
	Route func(pattern string, next http.Handler) http.Handler
	// Unmatched answers a public path that no route serves (404, 405).
	Unmatched http.Handler
	Unary     grpc.UnaryServerInterceptor
	Stream    grpc.StreamServerInterceptor
}

// PublicPrefixes are the path prefixes of the public API (each also covers
// the path without its trailing slash, such as /v2). Until an edge is
// installed they answer 503, so no request reaches a handler unchecked
// while the process starts.
var PublicPrefixes = []string{"/v1/", "/v2/"}

// edgeState is the installed edge, for the gRPC interceptors.
type edgeState struct{ edge Edge }

// SetEdge installs e; it may be called once the server is running, and
// later calls replace the edge. It is safe for concurrent use.
func (s *Server) SetEdge(e Edge) {
	s.mux.SetEdge(e)
	s.edge.Store(&edgeState{edge: e})
}

func isPublic(path string) bool {
	for _, p := range PublicPrefixes {
		if strings.HasPrefix(path, p) || path == p[:len(p)-1] {
			return true
		}
	}
	return false
}

// infraMethod reports whether a gRPC method is health or reflection, which
// stay open like /livez.
func infraMethod(fullMethod string) bool {
	return strings.HasPrefix(fullMethod, "/grpc.health.") || strings.HasPrefix(fullMethod, "/grpc.reflection.")
}

func (s *Server) edgeUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if infraMethod(info.FullMethod) {
		return handler(ctx, req)
	}
	st := s.edge.Load()
	if st == nil {
		return nil, status.Error(codes.Unavailable, "the server is starting")
	}
	if st.edge.Unary == nil {
		return handler(ctx, req)
	}
	return st.edge.Unary(ctx, req, info, handler)
}

func (s *Server) edgeStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if infraMethod(info.FullMethod) {
		return handler(srv, ss)
	}
	st := s.edge.Load()
	if st == nil {
		return status.Error(codes.Unavailable, "the server is starting")
	}
	if st.edge.Stream == nil {
		return handler(srv, ss)
	}
	return st.edge.Stream(srv, ss, info, handler)
}
