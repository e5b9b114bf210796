package trainer

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/plinthai/plinth/ml/frame"
)

// Defaults for Config.
const (
	DefaultWorkers         = 1
	DefaultMaxAttempts     = 5
	DefaultRetryBackoff    = 5 * time.Second
	DefaultRetryBackoffMax = 5 * time.Minute
	DefaultHeartbeat       = 10 * time.Second
	DefaultLatencySamples  = 2000
)

// Config is the trainer's configuration.
type Config struct {
	// Workers is how many jobs this process trains at once.
	Workers int `yaml:"workers"`
	// MaxAttempts bounds deliveries of one job before it fails for good.
	MaxAttempts int `yaml:"max-attempts"`
	// RetryBackoff is the delay before the second delivery after a
	// transient failure; it doubles each time up to RetryBackoffMax.
	RetryBackoff    time.Duration `yaml:"retry-backoff"`
	RetryBackoffMax time.Duration `yaml:"retry-backoff-max"`
	// Heartbeat is how often a worker tells JetStream it is still working
	// (the message's ack wait is three heartbeats) and checks whether its
	// job was cancelled.
	Heartbeat time.Duration `yaml:"heartbeat"`
	// LatencySamples is the number of single-row predictions timed for the
	// candidate's p99 latency.
	LatencySamples int `yaml:"latency-samples"`
	// MaxCSVCells bounds rows × columns of a data file.
	MaxCSVCells int `yaml:"max-csv-cells"`
	// CodeVersion is recorded in lineage (the build's version).
	CodeVersion string `yaml:"-"`
}

// RegisterFlags registers the trainer.* flags.
func (c *Config) RegisterFlags(fs *pflag.FlagSet) {
	fs.IntVar(&c.Workers, "trainer.workers", DefaultWorkers, "training jobs run at once by this process")
	fs.IntVar(&c.MaxAttempts, "trainer.max-attempts", DefaultMaxAttempts, "deliveries of a job before a transient failure fails it for good")
	fs.DurationVar(&c.RetryBackoff, "trainer.retry-backoff", DefaultRetryBackoff, "delay before redelivering a job after a transient failure; doubles per attempt")
	fs.DurationVar(&c.RetryBackoffMax, "trainer.retry-backoff-max", DefaultRetryBackoffMax, "largest delay between deliveries of a job")
	fs.DurationVar(&c.Heartbeat, "trainer.heartbeat", DefaultHeartbeat, "how often a worker extends its job's ack deadline and checks for cancellation")
	fs.IntVar(&c.LatencySamples, "trainer.latency-samples", DefaultLatencySamples, "single-row predictions timed for the candidate's p99 latency")
	fs.IntVar(&c.MaxCSVCells, "trainer.max-csv-cells", frame.DefaultMaxCSVCells, "largest data file accepted, in rows × columns")
}

// Validate reports every problem in the config.
func (c *Config) Validate() error {
	var errs []error
	positive := func(name string, v int) {
		if v <= 0 {
			errs = append(errs, fmt.Errorf("trainer.%s: must be positive, got %d", name, v))
		}
	}
	positive("workers", c.Workers)
	positive("max-attempts", c.MaxAttempts)
	positive("latency-samples", c.LatencySamples)
	positive("max-csv-cells", c.MaxCSVCells)
	if c.RetryBackoff <= 0 || c.RetryBackoffMax < c.RetryBackoff {
		errs = append(errs, errors.New("trainer.retry-backoff: must be positive and at most trainer.retry-backoff-max"))
	}
	if c.Heartbeat <= 0 {
		errs = append(errs, errors.New("trainer.heartbeat: must be positive"))
	}
	return errors.Join(errs...)
}

// backoff is the delay before delivery attempt+1.
func (c *Config) backoff(attempt int) time.Duration {
	d := c.RetryBackoff
	for i := 1; i < attempt && d < c.RetryBackoffMax; i++ {
		d *= 2
	}
	return min(d, c.RetryBackoffMax)
}
