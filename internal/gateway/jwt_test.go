package gateway

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
)

const testSecret = "0123456789abcdef0123456789abcdef"

// jwksServer serves a JWK Set that a test can rotate.
type jwksServer struct {
	mu   sync.Mutex
	keys []jwkset.JWKMarshal
	srv  *httptest.Server
}

func newJWKSServer(t *testing.T) *jwksServer {
	j := &jwksServer{}
	j.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		j.mu.Lock()
		defer j.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(jwkset.JWKSMarshal{Keys: j.keys})
	}))
	t.Cleanup(j.srv.Close)
	return j
}

// publish replaces the served keys.
func (j *jwksServer) publish(t *testing.T, keys map[string]crypto.Signer) {
	t.Helper()
	j.mu.Lock()
	defer j.mu.Unlock()
	j.keys = nil
	for kid, k := range keys {
		alg := map[string]jwkset.ALG{"rsa": jwkset.AlgRS256, "ec": jwkset.AlgES256, "ed": jwkset.AlgEdDSA}[strings.Split(kid, "-")[0]]
		jwk, err := jwkset.NewJWKFromKey(k.Public(), jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{KID: kid, ALG: alg, USE: jwkset.UseSig}})
		if err != nil {
			t.Fatal(err)
		}
		j.keys = append(j.keys, jwk.Marshal())
	}
}

func mustRSA(t *testing.T) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustEC(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustEd(t *testing.T) ed25519.PrivateKey {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func claims(mod func(*Claims)) Claims {
	now := time.Now()
	c := Claims{RegisteredClaims: jwt.RegisteredClaims{Issuer: DefaultIssuer, Audience: jwt.ClaimStrings{DefaultAudience},
		Subject: "alice", IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))}, Scope: "models:read predict"}
	if mod != nil {
		mod(&c)
	}
	return c
}

func sign(t *testing.T, m jwt.SigningMethod, kid string, key any, c Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestJWTVerification(t *testing.T) {
	rsaKey, ecKey, edKey, stranger := mustRSA(t), mustEC(t), mustEd(t), mustRSA(t)
	js := newJWKSServer(t)
	js.publish(t, map[string]crypto.Signer{"rsa-1": rsaKey, "ec-1": ecKey, "ed-1": edKey})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	jwks, err := NewJWKS(ctx, js.srv.URL, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	v := NewVerifier([]byte(testSecret), jwks, DefaultIssuer, DefaultAudience, time.Second)
	pubDER, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, claims(nil)).SignedString(jwt.UnsafeAllowNoneSignatureType)
	tests := []struct {
		name    string
		token   string
		wantErr string
	}{
		{"hmac ok", sign(t, jwt.SigningMethodHS256, "", []byte(testSecret), claims(nil)), ""},
		{"rsa ok", sign(t, jwt.SigningMethodRS256, "rsa-1", rsaKey, claims(nil)), ""},
		{"ecdsa ok", sign(t, jwt.SigningMethodES256, "ec-1", ecKey, claims(nil)), ""},
		{"eddsa ok", sign(t, jwt.SigningMethodEdDSA, "ed-1", edKey, claims(nil)), ""},
		{"alg none", none, "signing method none is invalid"},
		{"hmac signed with the public key", sign(t, jwt.SigningMethodHS256, "rsa-1", pubPEM, claims(nil)), "signature is invalid"},
		{"alg does not match key", sign(t, jwt.SigningMethodES256, "rsa-1", ecKey, claims(nil)), "does not match"},
		{"expired", sign(t, jwt.SigningMethodHS256, "", []byte(testSecret), claims(func(c *Claims) { c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-time.Minute)) })), "expired"},
		{"no expiry", sign(t, jwt.SigningMethodHS256, "", []byte(testSecret), claims(func(c *Claims) { c.ExpiresAt = nil })), "exp claim is required"},
		{"not yet valid", sign(t, jwt.SigningMethodHS256, "", []byte(testSecret), claims(func(c *Claims) { c.NotBefore = jwt.NewNumericDate(time.Now().Add(time.Hour)) })), "not valid yet"},
		{"wrong audience", sign(t, jwt.SigningMethodHS256, "", []byte(testSecret), claims(func(c *Claims) { c.Audience = jwt.ClaimStrings{"other"} })), "audience"},
		{"wrong issuer", sign(t, jwt.SigningMethodHS256, "", []byte(testSecret), claims(func(c *Claims) { c.Issuer = "evil" })), "issuer"},
		{"unknown key id", sign(t, jwt.SigningMethodRS256, "rsa-9", stranger, claims(nil)), "key"},
		{"known kid, wrong key", sign(t, jwt.SigningMethodRS256, "rsa-1", stranger, claims(nil)), "verification error"},
		{"wrong secret", sign(t, jwt.SigningMethodHS256, "", []byte("another-secret-another-secret-xx"), claims(nil)), "signature is invalid"},
		{"no subject", sign(t, jwt.SigningMethodHS256, "", []byte(testSecret), claims(func(c *Claims) { c.Subject = "" })), "no sub"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := v.Verify(context.Background(), tt.token)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Verify = %v, want ok", err)
				}
				if diff := cmp.Diff([]string{"models:read", "predict"}, p.Scopes); p.Subject != "alice" || diff != "" {
					t.Errorf("principal = %+v (scopes -want +got %s)", p, diff)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Verify = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestJWKSRotation(t *testing.T) {
	old, next := mustRSA(t), mustRSA(t)
	js := newJWKSServer(t)
	js.publish(t, map[string]crypto.Signer{"rsa-old": old})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	jwks, err := NewJWKS(ctx, js.srv.URL, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	v := NewVerifier(nil, jwks, DefaultIssuer, DefaultAudience, 0)
	if _, err := v.Verify(ctx, sign(t, jwt.SigningMethodRS256, "rsa-old", old, claims(nil))); err != nil {
		t.Fatalf("old key before rotation: %v", err)
	}
	js.publish(t, map[string]crypto.Signer{"rsa-new": next})
	// An unknown kid makes the verifier fetch the set again.
	if _, err := v.Verify(ctx, sign(t, jwt.SigningMethodRS256, "rsa-new", next, claims(nil))); err != nil {
		t.Fatalf("new key after rotation: %v", err)
	}
	if _, err := v.Verify(ctx, sign(t, jwt.SigningMethodRS256, "rsa-old", old, claims(nil))); err == nil {
		t.Error("old key still accepted after it left the JWKS")
	}
	hmac := sign(t, jwt.SigningMethodHS256, "", []byte(testSecret), claims(nil))
	if _, err := v.Verify(ctx, hmac); err == nil {
		t.Error("HMAC token accepted by a verifier without a secret")
	}
}

func TestMintTokenAndSecret(t *testing.T) {
	dir := t.TempDir()
	s1, err := LoadSecret(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := LoadSecret(dir, false)
	if err != nil || string(s1) != string(s2) {
		t.Fatalf("second load = %q, %v; want the first secret", s2, err)
	}
	if _, err := LoadSecret(t.TempDir(), false); err == nil {
		t.Error("LoadSecret(create=false) on an empty dir succeeded")
	}
	tok, err := MintToken(s1, DefaultIssuer, DefaultAudience, "bob", []string{ScopeAdmin}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewVerifier(s1, nil, DefaultIssuer, DefaultAudience, 0).Verify(context.Background(), tok)
	if err != nil || p.Subject != "bob" || !cmp.Equal(p.Scopes, []string{ScopeAdmin}) {
		t.Errorf("minted token = %+v, %v", p, err)
	}
}
