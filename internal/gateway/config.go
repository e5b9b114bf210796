package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/spf13/pflag"

	"github.com/plinthai/plinth/internal/platform/config"
)

// Defaults for Config.
const (
	DefaultIssuer          = "plinth"
	DefaultAudience        = "plinth"
	DefaultLeeway          = 30 * time.Second
	DefaultJWKSRefresh     = time.Hour
	DefaultAuthCacheTTL    = 5 * time.Second
	DefaultReadRate        = 100
	DefaultReadBurst       = 200
	DefaultWriteRate       = 20
	DefaultWriteBurst      = 40
	DefaultRedisPrefix     = "plinth:ratelimit:"
	DefaultIdempotencyTTL  = 24 * time.Hour
	DefaultMaxStoredBytes  = 1 << 20
	DefaultMaxBodyBytes    = 2 << 20
	DefaultMaxHeaderBytes  = 32 << 10
	DefaultRequestTimeout  = 30 * time.Second
	DefaultMaxInFlight     = 1024
	minHMACSecretBytes     = 32
	maxConfiguredFaultRule = 64
)

// Config is the edge's configuration: five flag prefixes, one block each.
type Config struct {
	Auth        AuthConfig        `yaml:"auth"`
	RateLimit   RateLimitConfig   `yaml:"ratelimit"`
	Idempotency IdempotencyConfig `yaml:"idempotency"`
	Faults      FaultsConfig      `yaml:"faults"`
	Limits      LimitsConfig      `yaml:"limits"`
}

// AuthConfig configures authentication (auth.*).
type AuthConfig struct {
	Disabled    bool          `yaml:"disabled"`
	HMACSecret  string        `yaml:"hmac-secret"`
	JWKSURL     string        `yaml:"jwks-url"`
	JWKSRefresh time.Duration `yaml:"jwks-refresh"`
	Issuer      string        `yaml:"issuer"`
	Audience    string        `yaml:"audience"`
	Leeway      time.Duration `yaml:"leeway"`
	CacheTTL    time.Duration `yaml:"cache-ttl"`
	// ServiceToken is the bearer credential this process presents when it
	// calls other targets; empty mints one from the HMAC secret.
	ServiceToken string `yaml:"service-token"`
}

// RateLimitConfig configures rate limits per principal and rate class
// (ratelimit.*).
type RateLimitConfig struct {
	Disabled    bool    `yaml:"disabled"`
	ReadRate    float64 `yaml:"read-rate"`
	ReadBurst   int     `yaml:"read-burst"`
	WriteRate   float64 `yaml:"write-rate"`
	WriteBurst  int     `yaml:"write-burst"`
	RedisURL    string  `yaml:"redis-url"`
	RedisPrefix string  `yaml:"redis-prefix"`
}

// IdempotencyConfig configures Idempotency-Key handling (idempotency.*).
type IdempotencyConfig struct {
	TTL            time.Duration `yaml:"ttl"`
	MaxStoredBytes int           `yaml:"max-stored-bytes"`
}

// FaultsConfig configures fault injection (faults.*).
type FaultsConfig struct {
	Enabled bool   `yaml:"enabled"`
	Rules   string `yaml:"rules"`
}

// LimitsConfig bounds requests (limits.*).
type LimitsConfig struct {
	MaxBodyBytes   int64         `yaml:"max-body-bytes"`
	MaxHeaderBytes int           `yaml:"max-header-bytes"`
	RequestTimeout time.Duration `yaml:"request-timeout"`
	MaxInFlight    int           `yaml:"max-in-flight"`
}

// RegisterFlags registers the auth.*, ratelimit.*, idempotency.*, faults.*
// and limits.* flags.
func (c *Config) RegisterFlags(fs *pflag.FlagSet) {
	a := &c.Auth
	fs.BoolVar(&a.Disabled, "auth.disabled", false, "accept every request as the anonymous principal with all scopes (local experiments only)")
	fs.StringVar(&a.HMACSecret, "auth.hmac-secret", "", "secret for HMAC (HS256) development tokens; empty: generated once per data directory (unless --auth.jwks-url is set)")
	config.MarkSecret(fs, "auth.hmac-secret")
	fs.StringVar(&a.ServiceToken, "auth.service-token", "", "bearer token (API key or JWT) this process presents to other targets; empty: a short-lived token minted from the HMAC secret (required with --auth.jwks-url)")
	config.MarkSecret(fs, "auth.service-token")
	fs.StringVar(&a.JWKSURL, "auth.jwks-url", "", "JWKS URL of the identity provider whose RSA, EC or EdDSA keys sign production tokens")
	fs.DurationVar(&a.JWKSRefresh, "auth.jwks-refresh", DefaultJWKSRefresh, "how often the JWKS is fetched again (unknown key ids also trigger a rate-limited fetch)")
	fs.StringVar(&a.Issuer, "auth.issuer", DefaultIssuer, "required iss claim of tokens")
	fs.StringVar(&a.Audience, "auth.audience", DefaultAudience, "required aud claim of tokens")
	fs.DurationVar(&a.Leeway, "auth.leeway", DefaultLeeway, "clock skew allowed when checking exp and nbf")
	fs.DurationVar(&a.CacheTTL, "auth.cache-ttl", DefaultAuthCacheTTL, "how long a verified credential is remembered (API keys: a key revoked through another process still works there for up to this long; JWTs: never past exp); 0 verifies every request")
	r := &c.RateLimit
	fs.BoolVar(&r.Disabled, "ratelimit.disabled", false, "turn rate limiting off")
	fs.Float64Var(&r.ReadRate, "ratelimit.read-rate", DefaultReadRate, "requests per second per principal for read operations")
	fs.IntVar(&r.ReadBurst, "ratelimit.read-burst", DefaultReadBurst, "burst per principal for read operations")
	fs.Float64Var(&r.WriteRate, "ratelimit.write-rate", DefaultWriteRate, "requests per second per principal for write operations")
	fs.IntVar(&r.WriteBurst, "ratelimit.write-burst", DefaultWriteBurst, "burst per principal for write operations")
	fs.StringVar(&r.RedisURL, "ratelimit.redis-url", "", "share limits across replicas through Redis (redis://host:6379/0); empty: in process")
	fs.StringVar(&r.RedisPrefix, "ratelimit.redis-prefix", DefaultRedisPrefix, "prefix of the Redis keys")
	i := &c.Idempotency
	fs.DurationVar(&i.TTL, "idempotency.ttl", DefaultIdempotencyTTL, "how long an Idempotency-Key and its stored response are kept")
	fs.IntVar(&i.MaxStoredBytes, "idempotency.max-stored-bytes", DefaultMaxStoredBytes, "largest response body stored for replay (larger ones replay status and headers only)")
	f := &c.Faults
	fs.BoolVar(&f.Enabled, "faults.enabled", false, "allow fault injection (rules from --faults.rules or the admin API /v1/faults)")
	fs.StringVar(&f.Rules, "faults.rules", "", `fault rules as JSON, e.g. [{"target":"registry","latency":"50ms","error_rate":0.1}]`)
	l := &c.Limits
	fs.Int64Var(&l.MaxBodyBytes, "limits.max-body-bytes", DefaultMaxBodyBytes, "largest request body under /v1 (streamed uploads have their own limit)")
	fs.IntVar(&l.MaxHeaderBytes, "limits.max-header-bytes", DefaultMaxHeaderBytes, "largest request header block under /v1 (431 beyond)")
	fs.DurationVar(&l.RequestTimeout, "limits.request-timeout", DefaultRequestTimeout, "default per-route timeout (operations may declare their own in the OpenAPI document)")
	fs.IntVar(&l.MaxInFlight, "limits.max-in-flight", DefaultMaxInFlight, "requests served at once under /v1; beyond, 503 with Retry-After")
}

// Validate reports every problem in the config at once.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if s := c.Auth.HMACSecret; s != "" && len(s) < minHMACSecretBytes {
		add("auth.hmac-secret: at least %d bytes", minHMACSecretBytes)
	}
	if u := c.Auth.JWKSURL; u != "" {
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "https" && pu.Scheme != "http") {
			add("auth.jwks-url: %q is not an http(s) URL", u)
		}
	}
	if c.Auth.JWKSRefresh <= 0 {
		add("auth.jwks-refresh: must be positive")
	}
	if c.Auth.Leeway < 0 {
		add("auth.leeway: must not be negative")
	}
	if c.Auth.CacheTTL < 0 {
		add("auth.cache-ttl: must not be negative")
	}
	if c.RateLimit.ReadRate <= 0 || c.RateLimit.WriteRate <= 0 || c.RateLimit.ReadBurst <= 0 || c.RateLimit.WriteBurst <= 0 {
		add("ratelimit.read-rate, read-burst, write-rate, write-burst: must be positive")
	}
	if u := c.RateLimit.RedisURL; u != "" {
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "redis" && pu.Scheme != "rediss") {
			add("ratelimit.redis-url: %q is not a redis:// URL", u)
		}
	}
	if c.Idempotency.TTL <= 0 || c.Idempotency.MaxStoredBytes <= 0 {
		add("idempotency.ttl and idempotency.max-stored-bytes: must be positive")
	}
	errs = append(errs, c.validateFaults())
	if c.Limits.MaxBodyBytes <= 0 || c.Limits.MaxHeaderBytes <= 0 || c.Limits.RequestTimeout <= 0 || c.Limits.MaxInFlight <= 0 {
		add("limits.max-body-bytes, max-header-bytes, request-timeout, max-in-flight: must be positive")
	}
	return errors.Join(errs...)
}

func (c *Config) validateFaults() error {
	if c.Faults.Rules == "" {
		return nil
	}
	if !c.Faults.Enabled {
		return errors.New("faults.rules: set, but fault injection is off (add --faults.enabled)")
	}
	rules, err := parseRules(c.Faults.Rules)
	if err != nil {
		return fmt.Errorf("faults.rules: %w", err)
	}
	if len(rules) > maxConfiguredFaultRule {
		return fmt.Errorf("faults.rules: at most %d rules", maxConfiguredFaultRule)
	}
	return nil
}

func parseRules(s string) ([]FaultRule, error) {
	var rules []FaultRule
	if err := json.Unmarshal([]byte(s), &rules); err != nil {
		return nil, fmt.Errorf("want a JSON array of rules: %w", err)
	}
	for i := range rules {
		if err := rules[i].compile(); err != nil {
			return nil, fmt.Errorf("rule %d: %w", i, err)
		}
	}
	return rules, nil
}
