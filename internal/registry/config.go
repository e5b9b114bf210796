package registry

import (
	"errors"

	"github.com/spf13/pflag"
)

// DefaultMaxArtifactBytes bounds one uploaded artifact.
const DefaultMaxArtifactBytes = 1 << 30

// Config is the registry's configuration.
type Config struct {
	MaxArtifactBytes int64 `yaml:"max-artifact-bytes"`
	// Addr is the gRPC address of the registry for processes that do not
	// run the registry target themselves.
	Addr string `yaml:"addr"`
}

// RegisterFlags registers the registry.* flags.
func (c *Config) RegisterFlags(fs *pflag.FlagSet) {
	fs.StringVar(&c.Addr, "registry.addr", "", "gRPC address (host:port) of the registry, for processes that do not run the registry target")
	fs.Int64Var(&c.MaxArtifactBytes, "registry.max-artifact-bytes", DefaultMaxArtifactBytes, "largest artifact accepted, in bytes (larger uploads get 413)")
}

// Validate reports every problem in the config.
func (c *Config) Validate() error {
	var errs []error
	if c.MaxArtifactBytes <= 0 {
		errs = append(errs, errors.New("registry.max-artifact-bytes: must be positive"))
	}
	return errors.Join(errs...)
}
