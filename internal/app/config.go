package app

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/plinthai/plinth/internal/features"
	"github.com/plinthai/plinth/internal/gateway"
	"github.com/plinthai/plinth/internal/inference"
	"github.com/plinthai/plinth/internal/ingest"
	"github.com/plinthai/plinth/internal/monitor"
	"github.com/plinthai/plinth/internal/platform/blob"
	"github.com/plinthai/plinth/internal/platform/bus"
	"github.com/plinthai/plinth/internal/platform/clock"
	"github.com/plinthai/plinth/internal/platform/kv"
	"github.com/plinthai/plinth/internal/platform/outbox"
	"github.com/plinthai/plinth/internal/platform/server"
	"github.com/plinthai/plinth/internal/platform/sqlstore"
	"github.com/plinthai/plinth/internal/platform/telemetry"
	"github.com/plinthai/plinth/internal/registry"
	"github.com/plinthai/plinth/internal/rollout"
	"github.com/plinthai/plinth/internal/trainer"
)

// Defaults for Config.
const (
	DefaultDataDir         = "./data"
	DefaultShutdownTimeout = 10 * time.Second
)

// Config is the whole process's configuration: the process's own options
// and one block per module. Each block registers its own flags.
type Config struct {
	Targets         []string      `yaml:"target"`
	DataDir         string        `yaml:"data-dir"`
	ShutdownTimeout time.Duration `yaml:"shutdown-timeout"`

	Log      telemetry.LogConfig `yaml:"log"`
	Clock    clock.Config        `yaml:"clock"`
	Server   server.Config       `yaml:"server"`
	NATS     bus.Config          `yaml:"nats"`
	DB       sqlstore.Config     `yaml:"db"`
	Blob     blob.Config         `yaml:"blob"`
	Outbox   outbox.RelayConfig  `yaml:"outbox"`
	Registry registry.Config     `yaml:"registry"`
	Monitor  monitor.Config      `yaml:"monitor"`
	// Gateway holds the edge's blocks: auth, ratelimit, idempotency,
	// faults and limits.
	Gateway   gateway.Config   `yaml:",inline"`
	Trainer   trainer.Config   `yaml:"trainer"`
	Rollout   rollout.Config   `yaml:"rollout"`
	Inference inference.Config `yaml:"inference"`
	Ingest    ingest.Config    `yaml:"ingest"`
	Redis     kv.Config        `yaml:"redis"`
	Features  features.Config  `yaml:"features"`
}

// RegisterFlags registers every option of the process.
func (c *Config) RegisterFlags(fs *pflag.FlagSet) {
	fs.StringSliceVar(&c.Targets, "target", []string{TargetAll}, "targets to run, comma-separated (see --list-targets)")
	fs.StringVar(&c.DataDir, "data.dir", DefaultDataDir, "directory for embedded stores: NATS JetStream files, SQLite database, blobs")
	fs.DurationVar(&c.ShutdownTimeout, "server.shutdown-timeout", DefaultShutdownTimeout, "time allowed to drain in-flight work and stop every module after SIGTERM")
	c.Log.RegisterFlags(fs)
	c.Clock.RegisterFlags(fs)
	c.Server.RegisterFlags(fs)
	c.NATS.RegisterFlags(fs)
	c.DB.RegisterFlags(fs)
	c.Blob.RegisterFlags(fs)
	c.Outbox.RegisterFlags(fs)
	c.Registry.RegisterFlags(fs)
	c.Monitor.RegisterFlags(fs)
	c.Gateway.RegisterFlags(fs)
	c.Trainer.RegisterFlags(fs)
	c.Rollout.RegisterFlags(fs)
	c.Inference.RegisterFlags(fs)
	c.Ingest.RegisterFlags(fs)
	c.Redis.RegisterFlags(fs)
	c.Features.RegisterFlags(fs)
}

// Validate reports every problem in the config at once.
func (c *Config) Validate() error {
	errs := []error{
		c.Log.Validate(), c.Clock.Validate(), c.Server.Validate(), c.NATS.Validate(), c.DB.Validate(),
		c.Blob.Validate(), c.Outbox.Validate(), c.Registry.Validate(), c.Monitor.Validate(), c.Gateway.Validate(),
		c.Trainer.Validate(), c.Rollout.Validate(), c.Inference.Validate(),
		c.Ingest.Validate(), c.Redis.Validate(), c.Features.Validate(),
	}
	if len(c.Targets) == 0 {
		errs = append(errs, errors.New("target: name at least one target"))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("data.dir: must not be empty"))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("server.shutdown-timeout: must be positive, got %s", c.ShutdownTimeout))
	}
	return errors.Join(errs...)
}
