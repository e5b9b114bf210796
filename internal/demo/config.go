package demo

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/plinthai/plinth/internal/app"
	"github.com/plinthai/plinth/internal/platform/config"
)

// ConfigFile is the platform configuration the demo runs on, written into
// the data directory so that `plinth serve --config.file` can run the same
// platform on it later.
const ConfigFile = "plinth.yaml"

// tuning is the demo's platform configuration over the defaults: local
// ports, the product's declarations, and windows, canary and retries sized
// for seconds rather than hours.
func tuning(dataDir, specDir string) map[string]string {
	return map[string]string{
		"data.dir":                        dataDir,
		"server.http-addr":                "127.0.0.1:0",
		"server.grpc-addr":                "127.0.0.1:0",
		"ingest.streams-file":             filepath.Join(specDir, "streams.yaml"),
		"features.views-file":             filepath.Join(specDir, "views.yaml"),
		"features.offline-flush-interval": "200ms",
		"monitor.rules-file":              filepath.Join(specDir, "rules.yaml"),
		"monitor.bucket-width":            "1s",
		"monitor.buckets":                 "12",
		"monitor.lateness":                "30s",
		"monitor.eval-interval":           "500ms",
		"monitor.retrain-cooldown":        "30s",
		"rollout.tick":                    "100ms",
		"rollout.canary-steps":            "25,50",
		"rollout.min-samples":             "120",
		"rollout.step-timeout":            "45s",
		"rollout.on-timeout":              "rollback",
		"trainer.heartbeat":               "1s",
		"trainer.retry-backoff":           "1s",
		"trainer.latency-samples":         "500",
		"inference.log-sample-rate":       "1",
		"inference.log-features":          "full",
		"outbox.poll-interval":            "100ms",
	}
}

// platformConfig returns the App configuration for dataDir and writes it
// to dataDir/plinth.yaml.
func platformConfig(dataDir, specDir string) (app.Config, error) {
	var cfg app.Config
	fs := pflag.NewFlagSet("demo", pflag.ContinueOnError)
	cfg.RegisterFlags(fs)
	for k, v := range tuning(dataDir, specDir) {
		if err := fs.Set(k, v); err != nil {
			return cfg, fmt.Errorf("demo configuration %s=%s: %w", k, v, err)
		}
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("demo configuration: %w", err)
	}
	b, err := config.Dump(fs)
	if err != nil {
		return cfg, err
	}
	if err := os.WriteFile(filepath.Join(dataDir, ConfigFile), b, 0o644); err != nil {
		return cfg, fmt.Errorf("write %s: %w", ConfigFile, err)
	}
	return cfg, nil
}
