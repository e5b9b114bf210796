// Package auth carries who is calling through a request's context. The edge
// authenticates a request and stores its Principal; services read it to
// record who changed what. A context without one is the anonymous caller.
package auth

import (
	"context"
	"slices"
)

// Anonymous names a caller that presented no credentials.
const Anonymous = "anonymous"

// Principal is an authenticated caller.
type Principal struct {
	// Subject identifies the caller: a user, or "apikey:<id>" for a service
	// account.
	Subject string
	Scopes  []string
}

// ContextKey is the key of the principal in a context. WithPrincipal's
// context holds a Principal under it; a context that keeps the principal
// itself (the edge's, which holds the request's deadline too) answers a
// *Principal.
type ContextKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ContextKey{}, p)
}

// From returns the caller in ctx, or an anonymous principal.
func From(ctx context.Context) Principal {
	switch p := ctx.Value(ContextKey{}).(type) {
	case Principal:
		if p.Subject != "" {
			return p
		}
	case *Principal:
		if p != nil && p.Subject != "" {
			return *p
		}
	}
	return Principal{Subject: Anonymous}
}

// HasScope reports whether the caller in ctx was granted scope.
func HasScope(ctx context.Context, scope string) bool {
	return slices.Contains(From(ctx).Scopes, scope)
}
