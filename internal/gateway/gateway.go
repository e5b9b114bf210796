package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/plinthai/plinth/api"
	"github.com/plinthai/plinth/internal/gateway/migrations"
	"github.com/plinthai/plinth/internal/platform/auth"
	"github.com/plinthai/plinth/internal/platform/server"
	"github.com/plinthai/plinth/internal/platform/sqlstore"
)

// BootstrapKeyName names the admin key created on an empty database.
const BootstrapKeyName = "bootstrap-admin"

// Host is the process's server as the gateway uses it: the route table
// and the slot for the edge.
type Host interface {
	Mux() *server.Mux
	SetEdge(server.Edge)
}

// Deps are what the gateway is built from.
type Deps struct {
	DB       *sqlstore.DB
	Host     Host
	DataDir  string
	Version  string
	Ready    func(ctx context.Context) error // the process's readiness, for /v1/status
	Out      io.Writer                       // where the bootstrap admin key is printed
	Logger   *slog.Logger
	Registry prometheus.Registerer
}

// Service is the edge of one process: it owns the API keys and
// idempotency records, the rate limiter and the fault rules, installs the
// middleware and interceptors on the process's servers and serves its own
// admin API. It is a lifecycle service.
type Service struct {
	cfg      Config
	deps     Deps
	logger   *slog.Logger
	contract *Contract
	keys     *KeyStore
	idem     *IdempotencyStore
	faults   *Faults
	shed     *shedder
	metrics  *metrics
	authn    *Authenticator
	limiter  RateLimiter
	redis    *RedisLimiter
	cancel   context.CancelFunc

	grpcMethods map[string]grpcMethod
	oip         map[string]Operation
	readLimit   *classLimit
	writeLimit  *classLimit
}

// New builds the gateway and registers its admin routes; Starting
// connects it to its stores and installs the edge.
func New(cfg Config, deps Deps) (*Service, error) {
	contract, err := ParseContract(api.OpenAPIYAML())
	if err != nil {
		return nil, err
	}
	var rules []FaultRule
	if cfg.Faults.Rules != "" {
		if rules, err = parseRules(cfg.Faults.Rules); err != nil {
			return nil, fmt.Errorf("faults.rules: %w", err)
		}
	}
	s := &Service{cfg: cfg, deps: deps, logger: deps.Logger, contract: contract,
		keys: NewKeyStore(deps.DB), idem: NewIdempotencyStore(deps.DB, cfg.Idempotency.TTL),
		faults: NewFaults(cfg.Faults.Enabled, rules), shed: newShedder(cfg.Limits.MaxInFlight), limiter: NewLocalLimiter(), grpcMethods: grpcMethods(), oip: OIPRoutes(),
		readLimit:  newClassLimit(ClassRead, cfg.RateLimit.ReadRate, cfg.RateLimit.ReadBurst),
		writeLimit: newClassLimit(ClassWrite, cfg.RateLimit.WriteRate, cfg.RateLimit.WriteBurst)}
	s.metrics = newMetrics(deps.Registry, s.faults)
	newHTTP(s).register(deps.Host.Mux())
	return s, nil
}

// Contract returns the parsed OpenAPI document.
func (s *Service) Contract() *Contract { return s.contract }

// Keys returns the API key store.
func (s *Service) Keys() *KeyStore { return s.keys }

// Starting migrates the gateway's tables, prepares credentials (HMAC
// secret, JWKS, bootstrap admin key), connects to Redis when configured,
// and installs the edge on the servers.
func (s *Service) Starting(ctx context.Context) error {
	if err := s.deps.DB.Migrate(ctx, migrations.FS, "gateway_db_version"); err != nil {
		return err
	}
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	verifier, err := s.verifier(ctx, bg)
	if err != nil {
		return err
	}
	s.authn = &Authenticator{disabled: s.cfg.Auth.Disabled, verifier: verifier, keys: s.keys, cache: newCredCache(s.cfg.Auth.CacheTTL)}
	if err := s.connectRedis(ctx); err != nil {
		return err
	}
	if err := s.bootstrap(ctx); err != nil {
		return err
	}
	if s.cfg.Auth.Disabled {
		s.logger.Warn("authentication is disabled: every request is the anonymous principal with every scope (--auth.disabled)")
	}
	s.deps.Host.SetEdge(server.Edge{Route: s.routeHandler, Unmatched: http.HandlerFunc(s.unmatched), Unary: s.unary, Stream: s.stream})
	return nil
}

func (s *Service) verifier(ctx, bg context.Context) (*Verifier, error) {
	a := s.cfg.Auth
	secret := []byte(a.HMACSecret)
	if len(secret) == 0 && a.JWKSURL == "" {
		var err error
		if secret, err = LoadSecret(s.deps.DataDir, true); err != nil {
			return nil, err
		}
	}
	if a.JWKSURL == "" {
		return NewVerifier(secret, nil, a.Issuer, a.Audience, a.Leeway), nil
	}
	jwks, err := NewJWKS(bg, a.JWKSURL, a.JWKSRefresh)
	if err != nil {
		return nil, err
	}
	if _, err := jwks.Storage().KeyReadAll(ctx); err != nil {
		return nil, fmt.Errorf("jwks %s: %w", a.JWKSURL, err)
	}
	return NewVerifier(secret, jwks, a.Issuer, a.Audience, a.Leeway), nil
}

func (s *Service) connectRedis(ctx context.Context) error {
	if s.cfg.RateLimit.RedisURL == "" {
		return nil
	}
	rl, err := NewRedisLimiter(s.cfg.RateLimit.RedisURL, s.cfg.RateLimit.RedisPrefix)
	if err != nil {
		return err
	}
	if err := rl.Ping(ctx); err != nil {
		_ = rl.Close()
		return err
	}
	s.redis, s.limiter = rl, rl
	return nil
}

// bootstrap creates an admin key on a database without any key and prints
// it once; only its hash is stored.
func (s *Service) bootstrap(ctx context.Context) error {
	if s.cfg.Auth.Disabled {
		return nil
	}
	n, err := s.keys.Count(ctx)
	if err != nil || n > 0 {
		return err
	}
	k, err := s.keys.Create(ctx, BootstrapKeyName, []string{ScopeAdmin}, "plinth serve")
	if err != nil {
		return err
	}
	s.logger.Info("created the bootstrap admin API key (printed once on stdout)", "key_id", k.ID)
	if s.deps.Out != nil {
		fmt.Fprintf(s.deps.Out, bootstrapBanner, k.Key)
	}
	return nil
}

const bootstrapBanner = `
==================================================================
 Plinth created an admin API key for this database. It is shown
 only now (only its hash is stored). Keep it safe:

   export PLINTH_TOKEN=%s

 Make more keys with: plinth apikeys create --name NAME --scopes ...
==================================================================

`

// Running deletes expired idempotency records every ten minutes.
func (s *Service) Running(ctx context.Context) error {
	t := time.NewTicker(idempotencyPurgeBatchTime)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if n, err := s.idem.Purge(ctx); err != nil {
				s.logger.WarnContext(ctx, "purge idempotency keys", "err", err)
			} else if n > 0 {
				s.logger.DebugContext(ctx, "purged idempotency keys", "count", n)
			}
		}
	}
}

// Stopping stops the JWKS refresh and closes Redis.
func (s *Service) Stopping(context.Context) error {
	if s.cancel != nil {
		s.cancel()
	}
	if s.redis != nil {
		return s.redis.Close()
	}
	return nil
}

// CheckReady is nil once the edge is installed.
func (s *Service) CheckReady(context.Context) error {
	if s.authn == nil {
		return errors.New("gateway: starting")
	}
	return nil
}

// principalOf returns the caller of a request that passed the edge.
func principalOf(r *http.Request) auth.Principal { return auth.From(r.Context()) }
