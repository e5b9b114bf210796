package monitor

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"time"

	"github.com/spf13/pflag"
)

// Defaults of the monitor flags. The window is Buckets × BucketWidth: one
// hour in one-minute buckets.
const (
	DefaultRulesFile       = ""
	DefaultBucketWidth     = time.Minute
	DefaultBuckets         = 60
	DefaultLateness        = time.Hour
	DefaultJoinWindow      = 5 * time.Minute
	DefaultMaxPending      = 100_000
	DefaultMaxPairs        = 100_000
	DefaultEvalInterval    = 15 * time.Second
	DefaultWebhookURL      = ""
	DefaultWebhookRetries  = 3
	DefaultWebhookBackoff  = 500 * time.Millisecond
	DefaultRetrainCooldown = 6 * time.Hour
	DefaultInstance        = "default"
)

// Config is the monitor's configuration (flags --monitor.*).
type Config struct {
	// RulesFile is the YAML file of SLO, drift, canary and retrain rules
	// per model; empty uses built-in defaults (metrics and verdicts, no
	// alerts and no retraining).
	RulesFile string `yaml:"rules-file"`
	// BucketWidth and Buckets shape the rolling window of every model
	// version: Buckets buckets of BucketWidth each, by prediction time.
	BucketWidth time.Duration `yaml:"bucket-width"`
	Buckets     int           `yaml:"buckets"`
	// Lateness is how long after a prediction its label is still joined;
	// older labels are counted and dropped.
	Lateness time.Duration `yaml:"lateness"`
	// JoinWindow is the ± interval around a label's event time within which
	// a prediction for the same entity is joined to it.
	JoinWindow time.Duration `yaml:"join-window"`
	// MaxPending caps predictions waiting for a label (and, apart, labels
	// waiting for their prediction); the oldest are evicted and counted.
	MaxPending int `yaml:"max-pending"`
	// MaxPairs caps the joined (score, label) pairs kept per model version
	// across the window; past it each bucket keeps a uniform sample.
	MaxPairs int `yaml:"max-pairs"`
	// EvalInterval is how often rules are evaluated.
	EvalInterval time.Duration `yaml:"eval-interval"`
	// WebhookURL receives every alert as a JSON POST; empty only logs.
	WebhookURL     string        `yaml:"webhook-url"`
	WebhookRetries int           `yaml:"webhook-retries"`
	WebhookBackoff time.Duration `yaml:"webhook-backoff"`
	// RetrainCooldown is the least time between two retrain requests of a
	// model; it also names the job id's period, so replicas agree.
	RetrainCooldown time.Duration `yaml:"retrain-cooldown"`
	// Models limits this replica to some models (partitioning by model);
	// empty watches every model.
	Models []string `yaml:"models"`
	// Instance names this replica's stream consumers.
	Instance string `yaml:"instance"`
	// Addr is the gRPC address of the monitor for processes that do not
	// run the monitor target (the rollout controller asks it for
	// verdicts).
	Addr string `yaml:"addr"`
}

// RegisterFlags registers the monitor.* flags with the defaults above.
func (c *Config) RegisterFlags(fs *pflag.FlagSet) {
	fs.StringVar(&c.RulesFile, "monitor.rules-file", DefaultRulesFile, "YAML file of SLO, drift, canary and retrain rules per model (empty: metrics and verdicts on built-in defaults only)")
	fs.DurationVar(&c.BucketWidth, "monitor.bucket-width", DefaultBucketWidth, "width of one bucket of the rolling window")
	fs.IntVar(&c.Buckets, "monitor.buckets", DefaultBuckets, "buckets in the rolling window (window = buckets × bucket-width)")
	fs.DurationVar(&c.Lateness, "monitor.lateness", DefaultLateness, "how long after a prediction its label is still joined")
	fs.DurationVar(&c.JoinWindow, "monitor.join-window", DefaultJoinWindow, "± interval around a label's event time for joining by entity")
	fs.IntVar(&c.MaxPending, "monitor.max-pending", DefaultMaxPending, "predictions (and, apart, labels) kept waiting for a join; the oldest are evicted")
	fs.IntVar(&c.MaxPairs, "monitor.max-pairs", DefaultMaxPairs, "joined (score, label) pairs kept per model version for AUC and AUPRC")
	fs.DurationVar(&c.EvalInterval, "monitor.eval-interval", DefaultEvalInterval, "how often SLO and drift rules are evaluated")
	fs.StringVar(&c.WebhookURL, "monitor.webhook-url", DefaultWebhookURL, "URL that receives alerts as JSON POSTs (empty: log only)")
	fs.IntVar(&c.WebhookRetries, "monitor.webhook-retries", DefaultWebhookRetries, "retries of a failed webhook POST")
	fs.DurationVar(&c.WebhookBackoff, "monitor.webhook-backoff", DefaultWebhookBackoff, "first pause between webhook retries, doubled each time")
	fs.DurationVar(&c.RetrainCooldown, "monitor.retrain-cooldown", DefaultRetrainCooldown, "least time between two retrain requests of one model")
	fs.StringSliceVar(&c.Models, "monitor.models", nil, "models this replica watches, comma-separated (empty: all)")
	fs.StringVar(&c.Instance, "monitor.instance", DefaultInstance, "name of this replica, for its stream consumers (unique per replica)")
	fs.StringVar(&c.Addr, "monitor.addr", "", "gRPC address (host:port) of the monitor, for processes that do not run the monitor target (rollout verdicts)")
}

// Window returns the length of the rolling window.
func (c *Config) Window() time.Duration { return time.Duration(c.Buckets) * c.BucketWidth }

var instanceRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// Validate reports every problem of c at once.
func (c *Config) Validate() error {
	var errs []error
	positive := func(name string, d time.Duration) {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("monitor.%s: must be positive, got %s", name, d))
		}
	}
	positive("bucket-width", c.BucketWidth)
	positive("lateness", c.Lateness)
	positive("join-window", c.JoinWindow)
	positive("eval-interval", c.EvalInterval)
	positive("webhook-backoff", c.WebhookBackoff)
	positive("retrain-cooldown", c.RetrainCooldown)
	if c.Buckets < 1 || c.Buckets > 10_000 {
		errs = append(errs, fmt.Errorf("monitor.buckets: want 1 to 10000, got %d", c.Buckets))
	}
	if c.MaxPending < 1 {
		errs = append(errs, fmt.Errorf("monitor.max-pending: must be positive, got %d", c.MaxPending))
	}
	if c.MaxPairs < c.Buckets {
		errs = append(errs, fmt.Errorf("monitor.max-pairs: must be at least monitor.buckets (%d), got %d", c.Buckets, c.MaxPairs))
	}
	if c.WebhookRetries < 0 {
		errs = append(errs, fmt.Errorf("monitor.webhook-retries: must not be negative, got %d", c.WebhookRetries))
	}
	if c.WebhookURL != "" {
		if u, err := url.Parse(c.WebhookURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("monitor.webhook-url: %q must be an http or https URL", c.WebhookURL))
		}
	}
	if !instanceRE.MatchString(c.Instance) {
		errs = append(errs, fmt.Errorf("monitor.instance: %q must be 1 to 32 letters, digits, '_' or '-'", c.Instance))
	}
	return errors.Join(errs...)
}
