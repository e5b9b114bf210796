package ingest

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/pflag"
)

// Defaults of the ingest flags.
const (
	DefaultStreamsFile    = ""
	DefaultMaxBodyBytes   = 4 << 20
	DefaultMaxBatch       = 1000
	DefaultMaxEventBytes  = 64 << 10
	DefaultMaxEventAge    = 7 * 24 * time.Hour
	DefaultMaxFutureSkew  = 5 * time.Minute
	DefaultPublishTimeout = 5 * time.Second
	DefaultMaxInFlight    = 50000
	DefaultRetryAfter     = time.Second
)

// Config is the ingest service's configuration.
type Config struct {
	// StreamsFile is a YAML file, or a directory of *.yaml files, declaring
	// the streams. Empty declares none.
	StreamsFile string `yaml:"streams-file"`
	// MaxBodyBytes bounds a request body (413 beyond).
	MaxBodyBytes int64 `yaml:"max-body-bytes"`
	// MaxBatch bounds the events of one request (413 beyond).
	MaxBatch int `yaml:"max-batch"`
	// MaxEventBytes bounds one event; a larger one is rejected by index.
	MaxEventBytes int `yaml:"max-event-bytes"`
	// MaxEventAge rejects events whose time is further in the past; 0
	// accepts any past time (for backfills).
	MaxEventAge time.Duration `yaml:"max-event-age"`
	// MaxFutureSkew rejects events whose time is further in the future.
	MaxFutureSkew time.Duration `yaml:"max-future-skew"`
	// PublishTimeout bounds the wait for JetStream's acknowledgements.
	PublishTimeout time.Duration `yaml:"publish-timeout"`
	// MaxInFlight bounds the events being published at once across
	// requests; a request that would pass it is refused with 429.
	MaxInFlight int `yaml:"max-in-flight"`
	// RetryAfter is the Retry-After advice when the bus is busy.
	RetryAfter time.Duration `yaml:"retry-after"`
}

// RegisterFlags registers the ingest.* flags.
func (c *Config) RegisterFlags(fs *pflag.FlagSet) {
	fs.StringVar(&c.StreamsFile, "ingest.streams-file", DefaultStreamsFile, "YAML file or directory of *.yaml files declaring the event streams and their schemas; empty declares none")
	fs.Int64Var(&c.MaxBodyBytes, "ingest.max-body-bytes", DefaultMaxBodyBytes, "largest request body accepted, in bytes (413 beyond)")
	fs.IntVar(&c.MaxBatch, "ingest.max-batch", DefaultMaxBatch, "most events in one request (413 beyond)")
	fs.IntVar(&c.MaxEventBytes, "ingest.max-event-bytes", DefaultMaxEventBytes, "largest single event, in bytes (that event is rejected)")
	fs.DurationVar(&c.MaxEventAge, "ingest.max-event-age", DefaultMaxEventAge, "reject events whose time is older than this; 0 accepts any past time (backfills)")
	fs.DurationVar(&c.MaxFutureSkew, "ingest.max-future-skew", DefaultMaxFutureSkew, "reject events whose time is further than this in the future")
	fs.DurationVar(&c.PublishTimeout, "ingest.publish-timeout", DefaultPublishTimeout, "how long to wait for JetStream to persist a request's events before answering 503")
	fs.IntVar(&c.MaxInFlight, "ingest.max-in-flight", DefaultMaxInFlight, "most events being published at once; beyond it requests get 429 with Retry-After")
	fs.DurationVar(&c.RetryAfter, "ingest.retry-after", DefaultRetryAfter, "Retry-After advised on 429 and 503")
}

// Validate reports every problem in the config.
func (c *Config) Validate() error {
	var errs []error
	positive := func(name string, ok bool) {
		if !ok {
			errs = append(errs, fmt.Errorf("ingest.%s: must be positive", name))
		}
	}
	positive("max-body-bytes", c.MaxBodyBytes > 0)
	positive("max-batch", c.MaxBatch > 0)
	positive("max-event-bytes", c.MaxEventBytes > 0)
	positive("max-future-skew", c.MaxFutureSkew > 0)
	positive("publish-timeout", c.PublishTimeout > 0)
	positive("max-in-flight", c.MaxInFlight > 0)
	positive("retry-after", c.RetryAfter > 0)
	if c.MaxEventAge < 0 {
		errs = append(errs, errors.New("ingest.max-event-age: must not be negative"))
	}
	if c.MaxInFlight > 0 && c.MaxBatch > c.MaxInFlight {
		errs = append(errs, fmt.Errorf("ingest.max-batch: %d is more than ingest.max-in-flight %d, so a full batch could never pass", c.MaxBatch, c.MaxInFlight))
	}
	return errors.Join(errs...)
}

// DefaultConfig returns the configuration the flags default to.
func DefaultConfig() Config {
	return Config{
		MaxBodyBytes: DefaultMaxBodyBytes, MaxBatch: DefaultMaxBatch, MaxEventBytes: DefaultMaxEventBytes,
		MaxEventAge: DefaultMaxEventAge, MaxFutureSkew: DefaultMaxFutureSkew, PublishTimeout: DefaultPublishTimeout,
		MaxInFlight: DefaultMaxInFlight, RetryAfter: DefaultRetryAfter,
	}
}
