package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/plinthai/plinth/internal/gateway"
	"github.com/plinthai/plinth/internal/platform/lifecycle"
)

// serviceScopes are what one target may ask of another: the scopes of the
// calls targets make to each other, and ScopeService, which keeps those
// calls out of the users' rate limits.
var serviceScopes = []string{gateway.ScopeService, gateway.ScopeModelsRead, gateway.ScopeModelsWrite,
	gateway.ScopeFeaturesRead, gateway.ScopeEventsWrite, gateway.ScopePredict}

// serviceTokenTTL is the lifetime of a minted service token; it is renewed
// at half of it.
const serviceTokenTTL = time.Hour

// serviceToken is the bearer credential this process presents to other
// targets: --auth.service-token as given, or a token minted from the HMAC
// secret that every process of a deployment shares. It implements
// credentials.PerRPCCredentials and is safe for concurrent use.
type serviceToken struct {
	static  string
	secret  []byte
	issuer  string
	aud     string
	subject string

	mu      sync.Mutex
	token   string
	renewAt time.Time
}

// newServiceToken returns the credential of a process with auth config c,
// or nil when authentication is off.
func newServiceToken(c gateway.AuthConfig, dataDir string, targets []string) (*serviceToken, error) {
	t := &serviceToken{issuer: c.Issuer, aud: c.Audience, subject: fmt.Sprintf("service:%v", targets)}
	switch {
	case c.Disabled:
		return nil, nil
	case c.ServiceToken != "":
		t.static = c.ServiceToken
		return t, nil
	case c.HMACSecret != "":
		t.secret = []byte(c.HMACSecret)
		return t, nil
	case c.JWKSURL != "":
		return nil, errors.New("--auth.service-token is required to call other targets when tokens come from --auth.jwks-url")
	}
	secret, err := gateway.LoadSecret(dataDir, true)
	if err != nil {
		return nil, fmt.Errorf("service credential: %w", err)
	}
	t.secret = secret
	return t, nil
}

// Token returns the current token, minting a new one when the last is
// past half its life.
func (t *serviceToken) Token(context.Context) (string, error) {
	if t.static != "" {
		return t.static, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if now := time.Now(); t.token == "" || now.After(t.renewAt) {
		tok, err := gateway.MintToken(t.secret, t.issuer, t.aud, t.subject, serviceScopes, serviceTokenTTL)
		if err != nil {
			return "", err
		}
		t.token, t.renewAt = tok, now.Add(serviceTokenTTL/2)
	}
	return t.token, nil
}

// GetRequestMetadata implements credentials.PerRPCCredentials.
func (t *serviceToken) GetRequestMetadata(ctx context.Context, _ ...string) (map[string]string, error) {
	tok, err := t.Token(ctx)
	if err != nil {
		return nil, err
	}
	return map[string]string{"authorization": "Bearer " + tok}, nil
}

// RequireTransportSecurity implements credentials.PerRPCCredentials: the
// platform's gRPC runs in plaintext inside the deployment (TLS belongs to
// the mesh or the load balancer).
func (*serviceToken) RequireTransportSecurity() bool { return false }

// serviceCredential returns the process's credential for calls to other
// targets (nil with auth off), built on first use.
func (a *App) serviceCredential() (*serviceToken, error) {
	a.credOnce.Do(func() {
		a.cred, a.credErr = newServiceToken(a.cfg.Gateway.Auth, a.cfg.DataDir, a.cfg.Targets)
	})
	return a.cred, a.credErr
}

// serviceTokenFunc is the credential as a token source for REST clients.
func (a *App) serviceTokenFunc() (func(context.Context) (string, error), error) {
	cred, err := a.serviceCredential()
	if err != nil || cred == nil {
		return func(context.Context) (string, error) { return "", nil }, err
	}
	return cred.Token, nil
}

// remote is a gRPC connection to another target, as a module: it closes
// the connection at stop and is ready once the target's health service
// says it serves.
type remote struct {
	name, addr string
	conn       *grpc.ClientConn
}

// dial connects to the target name at addr with this process's service
// credential.
func (a *App) dial(name, addr string) (*remote, error) {
	cred, err := a.serviceCredential()
	if err != nil {
		return nil, err
	}
	opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithStatsHandler(otelgrpc.NewClientHandler())}
	if cred != nil {
		opts = append(opts, grpc.WithPerRPCCredentials(cred))
	}
	conn, err := grpc.NewClient(addr, opts...)
	if err != nil {
		return nil, fmt.Errorf("dial %s at %s: %w", name, addr, err)
	}
	return &remote{name: name, addr: addr, conn: conn}, nil
}

// service is the connection's lifecycle: closed at stop, ready while the
// other side serves.
func (r *remote) service() lifecycle.Service {
	health := healthpb.NewHealthClient(r.conn)
	return lifecycle.Funcs{
		StopFn: func(context.Context) error { return r.conn.Close() },
		ReadyFn: func(ctx context.Context) error {
			resp, err := health.Check(ctx, &healthpb.HealthCheckRequest{})
			if err != nil {
				return fmt.Errorf("%s at %s: %w", r.name, r.addr, err)
			}
			if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
				return fmt.Errorf("%s at %s: %s", r.name, r.addr, resp.GetStatus())
			}
			return nil
		},
	}
}
