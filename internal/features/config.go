package features

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/pflag"
)

// Defaults of the features flags.
const (
	DefaultViewsFile          = ""
	DefaultSnapshotInterval   = time.Minute
	DefaultBatchSize          = 512
	DefaultAckWait            = 30 * time.Second
	DefaultOfflineFlush       = 2 * time.Second
	DefaultOfflineFlushEvents = 20000
	DefaultMaxLookupEntities  = 1000
	DefaultMaxLabels          = 100000
	DefaultRedisPrefix        = "plinth:"
)

// Config is the features service's configuration.
type Config struct {
	// ViewsFile is a YAML file, or a directory of *.yaml files, declaring
	// the views. Empty declares none.
	ViewsFile string `yaml:"views-file"`
	// SnapshotInterval is how often the embedded store snapshots to disk.
	SnapshotInterval time.Duration `yaml:"snapshot-interval"`
	// BatchSize is the most events applied to the store at once.
	BatchSize int `yaml:"batch-size"`
	// AckWait is how long JetStream waits for an acknowledgement before
	// redelivering; it must exceed OfflineFlush.
	AckWait time.Duration `yaml:"ack-wait"`
	// OfflineFlush is the longest an event waits in memory before its
	// offline segment is written (and the event acknowledged).
	OfflineFlush time.Duration `yaml:"offline-flush-interval"`
	// OfflineFlushEvents writes the segments sooner once this many events wait.
	OfflineFlushEvents int `yaml:"offline-flush-events"`
	// MaxLookupEntities bounds the entities of one lookup (413 beyond).
	MaxLookupEntities int `yaml:"max-lookup-entities"`
	// MaxLabels bounds the labels of one training-set request (413 beyond).
	MaxLabels int `yaml:"max-labels"`
	// RedisPrefix starts the keys of the Redis store.
	RedisPrefix string `yaml:"redis-prefix"`
	// Addr is the gRPC address of the feature store for processes that do
	// not run the features target (inference lookups, training sets).
	Addr string `yaml:"addr"`
}

// RegisterFlags registers the features.* flags.
func (c *Config) RegisterFlags(fs *pflag.FlagSet) {
	fs.StringVar(&c.ViewsFile, "features.views-file", DefaultViewsFile, "YAML file or directory of *.yaml files declaring the feature views; empty declares none")
	fs.DurationVar(&c.SnapshotInterval, "features.snapshot-interval", DefaultSnapshotInterval, "how often the embedded online store snapshots to disk (with an empty --redis.url)")
	fs.IntVar(&c.BatchSize, "features.batch-size", DefaultBatchSize, "most events applied to the online store at once")
	fs.DurationVar(&c.AckWait, "features.ack-wait", DefaultAckWait, "time JetStream waits for the consumer's acknowledgement before redelivering")
	fs.DurationVar(&c.OfflineFlush, "features.offline-flush-interval", DefaultOfflineFlush, "longest time events wait before their offline log segment is written")
	fs.IntVar(&c.OfflineFlushEvents, "features.offline-flush-events", DefaultOfflineFlushEvents, "write offline segments sooner once this many events wait")
	fs.IntVar(&c.MaxLookupEntities, "features.max-lookup-entities", DefaultMaxLookupEntities, "most entities in one lookup (413 beyond)")
	fs.IntVar(&c.MaxLabels, "features.max-labels", DefaultMaxLabels, "most labels in one training-set request (413 beyond)")
	fs.StringVar(&c.RedisPrefix, "features.redis-prefix", DefaultRedisPrefix, "prefix of the online store's Redis keys")
	fs.StringVar(&c.Addr, "features.addr", "", "gRPC address (host:port) of the feature store, for processes that do not run the features target (inference by entity, training sets)")
}

// Validate reports every problem in the config.
func (c *Config) Validate() error {
	var errs []error
	positive := func(name string, ok bool) {
		if !ok {
			errs = append(errs, fmt.Errorf("features.%s: must be positive", name))
		}
	}
	positive("snapshot-interval", c.SnapshotInterval > 0)
	positive("batch-size", c.BatchSize > 0)
	positive("ack-wait", c.AckWait > 0)
	positive("offline-flush-interval", c.OfflineFlush > 0)
	positive("offline-flush-events", c.OfflineFlushEvents > 0)
	positive("max-lookup-entities", c.MaxLookupEntities > 0)
	positive("max-labels", c.MaxLabels > 0)
	if c.AckWait > 0 && c.OfflineFlush >= c.AckWait {
		errs = append(errs, errors.New("features.ack-wait: must exceed features.offline-flush-interval, or every event is redelivered before it is acknowledged"))
	}
	return errors.Join(errs...)
}

// DefaultConfig returns the configuration the flags default to.
func DefaultConfig() Config {
	return Config{
		SnapshotInterval: DefaultSnapshotInterval, BatchSize: DefaultBatchSize, AckWait: DefaultAckWait,
		OfflineFlush: DefaultOfflineFlush, OfflineFlushEvents: DefaultOfflineFlushEvents,
		MaxLookupEntities: DefaultMaxLookupEntities, MaxLabels: DefaultMaxLabels, RedisPrefix: DefaultRedisPrefix,
	}
}
