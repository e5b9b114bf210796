package gateway

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"

	"github.com/plinthai/plinth/internal/platform/auth"
)

// secretFile holds the generated HMAC secret inside the data directory.
const secretFile = "gateway/hmac.key"

var (
	hmacMethods = []string{"HS256", "HS384", "HS512"}
	jwksMethods = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)

// Claims are the JWT claims Plinth reads: the registered ones and the
// scopes, as an OAuth "scope" string or an "scp" list.
type Claims struct {
	jwt.RegisteredClaims
	Scope string   `json:"scope,omitempty"`
	Scp   []string `json:"scp,omitempty"`
}

// Verifier checks bearer JWTs: HMAC ones against the development secret,
// asymmetric ones against keys from a JWKS URL (cached, refreshed in the
// background and on an unknown key id). It checks issuer, audience, expiry
// (required) and not-before, refuses "none", and requires the algorithm to
// match the kind of key. It is safe for concurrent use.
type Verifier struct {
	secret   []byte
	jwks     keyfunc.Keyfunc
	parser   *jwt.Parser
	issuer   string
	audience string
}

// NewVerifier returns a verifier. secret may be nil (no HMAC tokens);
// jwks may be nil (no asymmetric tokens).
func NewVerifier(secret []byte, jwks keyfunc.Keyfunc, issuer, audience string, leeway time.Duration) *Verifier {
	var methods []string
	if len(secret) > 0 {
		methods = append(methods, hmacMethods...)
	}
	if jwks != nil {
		methods = append(methods, jwksMethods...)
	}
	p := jwt.NewParser(jwt.WithValidMethods(methods), jwt.WithIssuer(issuer), jwt.WithAudience(audience),
		jwt.WithLeeway(leeway), jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	return &Verifier{secret: secret, jwks: jwks, parser: p, issuer: issuer, audience: audience}
}

// NewJWKS fetches keys from url and keeps them fresh until ctx ends. An
// unknown key id triggers at most one extra fetch every 10 s; it never
// waits for that budget (the wait bound, which also bounds the fetch, is
// shorter than the refill interval, so the limiter refuses at once).
func NewJWKS(ctx context.Context, url string, refresh time.Duration) (keyfunc.Keyfunc, error) {
	noErr := false
	k, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{url}, keyfunc.Override{
		RefreshInterval:           refresh,
		RefreshUnknownKID:         rate.NewLimiter(rate.Every(10*time.Second), 1),
		RateLimitWaitMax:          5 * time.Second,
		HTTPTimeout:               10 * time.Second,
		NoErrorReturnFirstHTTPReq: &noErr,
		RefreshErrorHandlerFunc:   func(string) func(context.Context, error) { return func(context.Context, error) {} },
	})
	if err != nil {
		return nil, fmt.Errorf("jwks %s: %w", url, err)
	}
	return k, nil
}

// Verify checks a token and returns its principal.
func (v *Verifier) Verify(ctx context.Context, token string) (auth.Principal, error) {
	p, _, err := v.verify(ctx, token)
	return p, err
}

// verify is Verify that also returns the token's expiry (exp is required).
func (v *Verifier) verify(ctx context.Context, token string) (auth.Principal, time.Time, error) {
	var claims Claims
	_, err := v.parser.ParseWithClaims(token, &claims, v.keyFor(ctx))
	if err != nil {
		return auth.Principal{}, time.Time{}, fmt.Errorf("token: %w", err)
	}
	if claims.Subject == "" {
		return auth.Principal{}, time.Time{}, errors.New("token: no sub claim")
	}
	scopes := claims.Scp
	if claims.Scope != "" {
		scopes = append(scopes, strings.Fields(claims.Scope)...)
	}
	return auth.Principal{Subject: claims.Subject, Scopes: scopes}, claims.ExpiresAt.Time, nil
}

// keyFor picks the key by the token's algorithm family and refuses a key
// of another kind, so an HMAC token can never be checked against a public
// key (the classic RS256→HS256 confusion).
func (v *Verifier) keyFor(ctx context.Context) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		alg := t.Method.Alg()
		if strings.HasPrefix(alg, "HS") {
			if len(v.secret) == 0 {
				return nil, errors.New("HMAC tokens are not accepted")
			}
			return v.secret, nil
		}
		if v.jwks == nil {
			return nil, errors.New("no JWKS configured")
		}
		key, err := v.jwks.KeyfuncCtx(ctx)(t)
		if err != nil {
			return nil, err
		}
		if !keyMatches(alg, key) {
			return nil, fmt.Errorf("algorithm %s does not match the key type %T", alg, key)
		}
		return key, nil
	}
}

func keyMatches(alg string, key any) bool {
	switch key.(type) {
	case *rsa.PublicKey:
		return strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS")
	case *ecdsa.PublicKey:
		return strings.HasPrefix(alg, "ES")
	case ed25519.PublicKey:
		return alg == "EdDSA"
	}
	return false
}

// MintToken signs a development token (HS256) for subject with scopes,
// valid for ttl.
func MintToken(secret []byte, issuer, audience, subject string, scopes []string, ttl time.Duration) (string, error) {
	if len(secret) == 0 {
		return "", errors.New("mint token: no HMAC secret")
	}
	now := time.Now()
	claims := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: issuer, Subject: subject, Audience: jwt.ClaimStrings{audience},
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
		Scope: strings.Join(scopes, " "),
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
	if err != nil {
		return "", fmt.Errorf("mint token: %w", err)
	}
	return s, nil
}

// LoadSecret returns the HMAC secret of a data directory, generating and
// storing it (mode 0600) the first time when create is true.
func LoadSecret(dataDir string, create bool) ([]byte, error) {
	path := filepath.Join(dataDir, secretFile)
	b, err := os.ReadFile(path)
	if err == nil {
		return decodeSecret(path, b)
	}
	if !errors.Is(err, os.ErrNotExist) || !create {
		return nil, fmt.Errorf("read HMAC secret: %w", err)
	}
	raw := make([]byte, minHMACSecretBytes)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("generate HMAC secret: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("store HMAC secret: %w", err)
	}
	enc := []byte(hex.EncodeToString(raw))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return LoadSecret(dataDir, false) // another process won the race
	}
	if err != nil {
		return nil, fmt.Errorf("store HMAC secret: %w", err)
	}
	_, werr := f.Write(append(enc, '\n'))
	if err := errors.Join(werr, f.Close()); err != nil {
		return nil, fmt.Errorf("store HMAC secret: %w", err)
	}
	return enc, nil
}

func decodeSecret(path string, b []byte) ([]byte, error) {
	s := strings.TrimSpace(string(b))
	if len(s) < minHMACSecretBytes {
		return nil, fmt.Errorf("HMAC secret in %s: shorter than %d bytes", path, minHMACSecretBytes)
	}
	return []byte(s), nil
}
