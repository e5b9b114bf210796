package outbox

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/pflag"
)

// Defaults of the relay flags.
const (
	DefaultPollInterval = 200 * time.Millisecond
	DefaultBatchSize    = 100
	// maxBatchSize bounds one pass, so one query cannot load the whole table.
	maxBatchSize = 10000
)

// RelayConfig tunes a Relay. Zero fields take the defaults.
type RelayConfig struct {
	// PollInterval is how often the relay looks for rows when nobody calls
	// Notify; it is also the first back-off step after a bus error.
	PollInterval time.Duration `yaml:"poll-interval"`
	// BatchSize is how many rows one pass loads and publishes.
	BatchSize int `yaml:"batch-size"`
}

// RegisterFlags registers --outbox.poll-interval and --outbox.batch-size on
// fs, writing into c.
func (c *RelayConfig) RegisterFlags(fs *pflag.FlagSet) {
	fs.DurationVar(&c.PollInterval, "outbox.poll-interval", DefaultPollInterval,
		"how often the outbox relay polls for unpublished events (commits also wake it at once)")
	fs.IntVar(&c.BatchSize, "outbox.batch-size", DefaultBatchSize,
		"how many outbox events the relay loads per pass")
}

// Validate reports every problem of c at once, joined with errors.Join.
// Zero values are valid (they mean the defaults).
func (c *RelayConfig) Validate() error {
	var errs []error
	if c.PollInterval < 0 {
		errs = append(errs, fmt.Errorf("outbox.poll-interval: %s must not be negative", c.PollInterval))
	}
	if c.BatchSize < 0 || c.BatchSize > maxBatchSize {
		errs = append(errs, fmt.Errorf("outbox.batch-size: %d must be from 1 to %d (0 for the default)", c.BatchSize, maxBatchSize))
	}
	return errors.Join(errs...)
}

func (c RelayConfig) withDefaults() RelayConfig {
	if c.PollInterval == 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatchSize
	}
	return c
}
