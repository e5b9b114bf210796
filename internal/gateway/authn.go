package gateway

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/plinthai/plinth/internal/platform/auth"
	"github.com/plinthai/plinth/internal/platform/problem"
)

// maxCredentialBytes bounds a bearer credential; real JWTs are far smaller.
const maxCredentialBytes = 8 << 10

// ErrNoCredentials means the request carried no Authorization header.
var ErrNoCredentials = fmt.Errorf("no credentials: send Authorization: Bearer <token or API key>: %w", problem.ErrUnauthenticated)

// Authenticator turns a credential into a principal: API keys (plk_...)
// through the key store, anything else as a JWT. It is safe for
// concurrent use.
type Authenticator struct {
	disabled bool
	verifier *Verifier
	keys     *KeyStore
	cache    *credCache // nil: no caching (--auth.cache-ttl=0)
}

// disabledPrincipal is every caller's principal with auth disabled; its
// scopes are shared and must not be modified.
var disabledPrincipal = auth.Principal{Subject: auth.Anonymous, Scopes: []string{ScopeAdmin}}

// ParseBearer extracts the credential from an Authorization header value:
// the scheme "Bearer" (any case), one or more spaces, then a token of
// visible ASCII. It reports false for anything else.
func ParseBearer(header string) (string, bool) {
	scheme, rest, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return "", false
	}
	tok := strings.TrimLeft(rest, " ")
	if tok == "" || len(tok) > maxCredentialBytes {
		return "", false
	}
	for i := 0; i < len(tok); i++ {
		if c := tok[i]; c <= ' ' || c > '~' {
			return "", false
		}
	}
	return tok, true
}

// Authenticate checks the Authorization header value. With auth disabled
// every caller is the anonymous principal with every scope. A credential
// verified within the cache TTL is answered from the cache (see credCache).
func (a *Authenticator) Authenticate(ctx context.Context, header string) (auth.Principal, error) {
	if a.disabled {
		return disabledPrincipal, nil
	}
	if header == "" {
		return auth.Principal{}, ErrNoCredentials
	}
	tok, ok := ParseBearer(header)
	if !ok {
		return auth.Principal{}, problem.FieldKind(problem.ErrUnauthenticated, "Authorization", "want the Bearer scheme with one token")
	}
	var key [sha256.Size]byte
	if a.cache != nil {
		key = hashCredential(tok)
		if p, ok := a.cache.get(&key); ok {
			return p, nil
		}
	}
	var p auth.Principal
	var notAfter time.Time
	var err error
	if strings.HasPrefix(tok, APIKeyPrefix) {
		p, err = a.keys.Authenticate(ctx, tok)
	} else {
		p, notAfter, err = a.verifier.verify(ctx, tok)
	}
	if err != nil {
		if ctx.Err() != nil {
			return auth.Principal{}, ctx.Err()
		}
		return auth.Principal{}, problem.FieldKind(problem.ErrUnauthenticated, "Authorization", "%v", err)
	}
	if a.cache != nil {
		a.cache.put(&key, p, notAfter)
	}
	return p, nil
}

// hashCredential is the SHA-256 of a credential, hashed in place (Sum256
// only reads its input) so the hit path neither allocates nor copies.
func hashCredential(tok string) [sha256.Size]byte {
	return sha256.Sum256(unsafe.Slice(unsafe.StringData(tok), len(tok)))
}

// forget drops the cached credentials of subject (a revoked API key).
func (a *Authenticator) forget(subject string) {
	if a != nil && a.cache != nil {
		a.cache.forget(subject)
	}
}

// Authorize reports ErrForbidden unless p holds every scope in need
// (admin holds them all).
func Authorize(p auth.Principal, need []string) error {
	if slices.Contains(p.Scopes, ScopeAdmin) {
		return nil
	}
	var missing []string
	for _, s := range need {
		if !slices.Contains(p.Scopes, s) {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		return problem.Wrap(problem.ErrForbidden, "%s lacks scope %s", p.Subject, strings.Join(missing, ", "))
	}
	return nil
}

// authFailureReason is a bounded label for the auth failure metric.
func authFailureReason(err error) string {
	switch {
	case errors.Is(err, ErrNoCredentials):
		return "missing"
	case errors.Is(err, problem.ErrForbidden):
		return "scope"
	default:
		return "invalid"
	}
}
