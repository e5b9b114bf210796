// Package kv connects to Redis, the shared key-value store of a scaled
// deployment (online features, shared rate limits). The embedded default
// is no Redis at all: an empty --redis.url means each service uses its
// in-process alternative.
package kv

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/pflag"
)

// DefaultURL is the default of --redis.url: empty, no Redis.
const DefaultURL = ""

// pingTimeout bounds the first round trip of Open.
const pingTimeout = 5 * time.Second

// Config selects the Redis server.
type Config struct {
	// URL is redis://[user:password@]host:port/db (rediss:// for TLS), or
	// empty for none.
	URL string `yaml:"url"`
}

// RegisterFlags registers --redis.url on fs.
func (c *Config) RegisterFlags(fs *pflag.FlagSet) {
	fs.StringVar(&c.URL, "redis.url", DefaultURL, "Redis URL (redis://host:6379/0) for shared online features and limits; empty uses in-process stores")
}

// Validate reports a malformed URL.
func (c *Config) Validate() error {
	if c.URL == "" {
		return nil
	}
	if _, err := redis.ParseURL(c.URL); err != nil {
		return fmt.Errorf("redis.url: %w", err)
	}
	return nil
}

// ErrNoURL means Open was called with an empty URL.
var ErrNoURL = errors.New("redis.url is empty")

// Open connects to cfg.URL and checks the server answers within 5 s. The
// client is safe for concurrent use; the caller closes it.
func Open(ctx context.Context, cfg Config) (*redis.Client, error) {
	if cfg.URL == "" {
		return nil, ErrNoURL
	}
	opts, err := redis.ParseURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("redis.url: %w", err)
	}
	c := redis.NewClient(opts)
	pctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if err := c.Ping(pctx).Err(); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("connect to redis %s: %w", opts.Addr, err)
	}
	return c, nil
}
