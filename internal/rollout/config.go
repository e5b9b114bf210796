package rollout

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/pflag"
)

// Defaults for Config.
const (
	DefaultLeaseTTL    = 15 * time.Second
	DefaultTick        = time.Second
	DefaultMinSamples  = 500
	DefaultStepTimeout = 30 * time.Minute
	DefaultOnTimeout   = OnTimeoutRollback
)

// DefaultCanarySteps are the challenger's traffic percentages by default.
var DefaultCanarySteps = []float64{5, 25, 50}

// Config is the rollout controller's configuration.
type Config struct {
	// LeaseTTL is how long the active controller's lease lasts unrenewed;
	// a passive replica takes over after it.
	LeaseTTL time.Duration `yaml:"lease-ttl"`
	// Tick is how often the controller advances its sagas (and renews its
	// lease); it must be well under LeaseTTL.
	Tick time.Duration `yaml:"tick"`
	// Defaults for a rollout's policy.
	CanarySteps []float64     `yaml:"canary-steps"`
	MinSamples  int           `yaml:"min-samples"`
	StepTimeout time.Duration `yaml:"step-timeout"`
	OnTimeout   string        `yaml:"on-timeout"`
	// Holder names this controller in the lease; empty means host-pid-random.
	Holder string `yaml:"holder"`
	// URL is the REST base URL of the rollout controller for processes
	// that do not run the rollout target (trainers start automatic
	// rollouts through it).
	URL string `yaml:"url"`
}

// RegisterFlags registers the rollout.* flags.
func (c *Config) RegisterFlags(fs *pflag.FlagSet) {
	fs.DurationVar(&c.LeaseTTL, "rollout.lease-ttl", DefaultLeaseTTL, "how long the active controller's lease lasts unrenewed before a passive replica takes over")
	fs.DurationVar(&c.Tick, "rollout.tick", DefaultTick, "how often the active controller advances rollouts and renews its lease")
	fs.Float64SliceVar(&c.CanarySteps, "rollout.canary-steps", DefaultCanarySteps, "default challenger traffic percentages, in order")
	fs.IntVar(&c.MinSamples, "rollout.min-samples", DefaultMinSamples, "default least joined samples per arm for a promote verdict to count")
	fs.DurationVar(&c.StepTimeout, "rollout.step-timeout", DefaultStepTimeout, "default time a canary step waits for a verdict")
	fs.StringVar(&c.OnTimeout, "rollout.on-timeout", DefaultOnTimeout, "default action when a canary step times out: promote or rollback")
	fs.StringVar(&c.Holder, "rollout.holder", "", "this controller's name in the lease (default host-pid-random)")
	fs.StringVar(&c.URL, "rollout.url", "", "REST base URL (http://host:port) of the rollout controller, for processes that do not run the rollout target (automatic rollouts of trainers)")
}

// Validate reports every problem in the config.
func (c *Config) Validate() error {
	var errs []error
	if c.LeaseTTL <= 0 || c.Tick <= 0 || c.Tick*2 > c.LeaseTTL {
		errs = append(errs, fmt.Errorf("rollout.tick (%s) must be positive and at most half of rollout.lease-ttl (%s)", c.Tick, c.LeaseTTL))
	}
	if err := checkPolicy(Policy{CanarySteps: c.CanarySteps, MinSamples: c.MinSamples, StepTimeout: c.StepTimeout, OnTimeout: c.OnTimeout}); err != nil {
		errs = append(errs, fmt.Errorf("rollout defaults: %w", err))
	}
	return errors.Join(errs...)
}
