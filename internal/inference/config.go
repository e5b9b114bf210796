package inference

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/pflag"
)

// Defaults for Config.
const (
	DefaultMaxBodyBytes     = 4 << 20
	DefaultMaxArtifactBytes = 1 << 30
	DefaultBatchMaxSize     = 32
	DefaultBatchMaxDelay    = time.Millisecond
	DefaultRouteHeader      = "X-Plinth-Route-Key"
	DefaultLogSampleRate    = 1.0
	DefaultLogFeatures      = LogFeaturesHash
	DefaultLogQueue         = 4096
	DefaultLogLinger        = 50 * time.Millisecond
	DefaultShadowQueue      = 1024
	DefaultPinnedVersions   = 4
	DefaultLoadTimeout      = 2 * time.Minute
)

// What a prediction log carries of the inputs.
const (
	LogFeaturesFull = "full" // every feature by name
	LogFeaturesHash = "hash" // a hash of the row
	LogFeaturesNone = "none" // nothing
)

// Config is the inference service's configuration (flags inference.*).
type Config struct {
	MaxBodyBytes     int64         `yaml:"max-body-bytes"`
	MaxArtifactBytes int64         `yaml:"max-artifact-bytes"`
	Batching         bool          `yaml:"batching"`
	BatchMaxSize     int           `yaml:"batch-max-size"`
	BatchMaxDelay    time.Duration `yaml:"batch-max-delay"`
	RouteHeader      string        `yaml:"route-header"`
	LogSampleRate    float64       `yaml:"log-sample-rate"`
	LogFeatures      string        `yaml:"log-features"`
	LogQueue         int           `yaml:"log-queue"`
	LogLinger        time.Duration `yaml:"log-linger"`
	ShadowQueue      int           `yaml:"shadow-queue"`
	PinnedVersions   int           `yaml:"pinned-versions"`
	LoadTimeout      time.Duration `yaml:"load-timeout"`
}

// RegisterFlags registers the inference.* flags with their defaults.
func (c *Config) RegisterFlags(fs *pflag.FlagSet) {
	fs.Int64Var(&c.MaxBodyBytes, "inference.max-body-bytes", DefaultMaxBodyBytes, "largest prediction request body accepted (larger gets 413)")
	fs.Int64Var(&c.MaxArtifactBytes, "inference.max-artifact-bytes", DefaultMaxArtifactBytes, "largest model artifact loaded")
	fs.BoolVar(&c.Batching, "inference.batching", false, "coalesce concurrent requests into batches for every model (a model's tag inference.batching=on|off overrides)")
	fs.IntVar(&c.BatchMaxSize, "inference.batch-max-size", DefaultBatchMaxSize, "most rows in one batch")
	fs.DurationVar(&c.BatchMaxDelay, "inference.batch-max-delay", DefaultBatchMaxDelay, "longest a batch waits for more requests while others are in flight")
	fs.StringVar(&c.RouteHeader, "inference.route-header", DefaultRouteHeader, "request header whose value assigns a request to the champion or the challenger, sticky (the entity key wins when there is one)")
	fs.Float64Var(&c.LogSampleRate, "inference.log-sample-rate", DefaultLogSampleRate, "share of predictions published to PREDICTIONS, 0 to 1")
	fs.StringVar(&c.LogFeatures, "inference.log-features", DefaultLogFeatures, "what prediction logs carry of the inputs: full, hash or none")
	fs.IntVar(&c.LogQueue, "inference.log-queue", DefaultLogQueue, "prediction logs waiting for the bus; past this they are dropped and counted")
	fs.DurationVar(&c.LogLinger, "inference.log-linger", DefaultLogLinger, "longest a prediction log waits for others to share its publish (0: publish what is queued at once)")
	fs.IntVar(&c.ShadowQueue, "inference.shadow-queue", DefaultShadowQueue, "shadow predictions waiting to run; past this they are dropped and counted")
	fs.IntVar(&c.PinnedVersions, "inference.pinned-versions", DefaultPinnedVersions, "versions kept loaded per model for requests that pin one, beside champion and challenger")
	fs.DurationVar(&c.LoadTimeout, "inference.load-timeout", DefaultLoadTimeout, "time allowed to fetch and load one model version")
}

// Validate reports every problem in the config.
func (c *Config) Validate() error {
	var errs []error
	positive := []struct {
		name string
		v    int64
	}{
		{"inference.max-body-bytes", c.MaxBodyBytes}, {"inference.max-artifact-bytes", c.MaxArtifactBytes},
		{"inference.batch-max-size", int64(c.BatchMaxSize)}, {"inference.log-queue", int64(c.LogQueue)},
		{"inference.shadow-queue", int64(c.ShadowQueue)}, {"inference.load-timeout", int64(c.LoadTimeout)},
	}
	for _, p := range positive {
		if p.v <= 0 {
			errs = append(errs, fmt.Errorf("%s: must be positive, got %d", p.name, p.v))
		}
	}
	if c.BatchMaxDelay < 0 {
		errs = append(errs, errors.New("inference.batch-max-delay: must not be negative"))
	}
	if c.LogLinger < 0 {
		errs = append(errs, errors.New("inference.log-linger: must not be negative"))
	}
	if c.PinnedVersions < 0 {
		errs = append(errs, errors.New("inference.pinned-versions: must not be negative"))
	}
	if c.LogSampleRate < 0 || c.LogSampleRate > 1 {
		errs = append(errs, fmt.Errorf("inference.log-sample-rate: want 0 to 1, got %g", c.LogSampleRate))
	}
	switch c.LogFeatures {
	case LogFeaturesFull, LogFeaturesHash, LogFeaturesNone:
	default:
		errs = append(errs, fmt.Errorf("inference.log-features: want full, hash or none, got %q", c.LogFeatures))
	}
	if c.RouteHeader == "" {
		errs = append(errs, errors.New("inference.route-header: must not be empty"))
	}
	return errors.Join(errs...)
}
