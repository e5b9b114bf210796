package app

import (
	"slices"
	"strings"
	"testing"

	"github.com/plinthai/plinth/internal/gateway"
)

func authConfig(mod func(*gateway.AuthConfig)) gateway.AuthConfig {
	c := gateway.AuthConfig{Issuer: gateway.DefaultIssuer, Audience: gateway.DefaultAudience, Leeway: gateway.DefaultLeeway}
	if mod != nil {
		mod(&c)
	}
	return c
}

// TestServiceTokenIsVerifiedByAnotherProcess: a token minted from the
// shared HMAC secret passes another process's verifier with the service
// scopes, and is reused until it must be renewed.
func TestServiceTokenIsVerifiedByAnotherProcess(t *testing.T) {
	secret := strings.Repeat("s", 32)
	tok, err := newServiceToken(authConfig(func(c *gateway.AuthConfig) { c.HMACSecret = secret }), t.TempDir(), []string{"trainer"})
	if err != nil || tok == nil {
		t.Fatalf("newServiceToken = %v, %v", tok, err)
	}
	first, err := tok.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	p, err := gateway.NewVerifier([]byte(secret), nil, gateway.DefaultIssuer, gateway.DefaultAudience, gateway.DefaultLeeway).Verify(t.Context(), first)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	for _, s := range []string{gateway.ScopeService, gateway.ScopeModelsWrite, gateway.ScopeFeaturesRead} {
		if !slices.Contains(p.Scopes, s) {
			t.Errorf("scopes %v lack %s", p.Scopes, s)
		}
	}
	if p.Subject != "service:[trainer]" {
		t.Errorf("subject %q", p.Subject)
	}
	if again, _ := tok.Token(t.Context()); again != first {
		t.Error("a fresh token was minted before half its life")
	}
	md, err := tok.GetRequestMetadata(t.Context())
	if err != nil || md["authorization"] != "Bearer "+first {
		t.Errorf("metadata = %v, %v", md, err)
	}
	if _, err := gateway.NewVerifier([]byte(strings.Repeat("x", 32)), nil, gateway.DefaultIssuer, gateway.DefaultAudience,
		gateway.DefaultLeeway).Verify(t.Context(), first); err == nil {
		t.Error("a process with another secret accepted the token")
	}
}

func TestServiceTokenSources(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		mod     func(*gateway.AuthConfig)
		wantNil bool
		want    string // static token
		wantErr string
	}{
		{"auth off", func(c *gateway.AuthConfig) { c.Disabled = true }, true, "", ""},
		{"given", func(c *gateway.AuthConfig) { c.ServiceToken = "plk_a_b" }, false, "plk_a_b", ""},
		{"jwks without one", func(c *gateway.AuthConfig) { c.JWKSURL = "https://idp/jwks" }, false, "", "--auth.service-token is required"},
		{"data directory's secret", nil, false, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := newServiceToken(authConfig(tt.mod), dir, []string{"all"})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || (tok == nil) != tt.wantNil {
				t.Fatalf("newServiceToken = %v, %v", tok, err)
			}
			if tok == nil {
				return
			}
			got, err := tok.Token(t.Context())
			if err != nil || got == "" || (tt.want != "" && got != tt.want) {
				t.Errorf("Token = %q, %v, want %q", got, err, tt.want)
			}
		})
	}
	secret, err := gateway.LoadSecret(dir, false)
	if err != nil || len(secret) == 0 {
		t.Errorf("the data directory's secret was not created: %v", err)
	}
}
