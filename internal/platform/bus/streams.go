package bus

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Names of the contract streams, before any prefix.
const (
	StreamEvents      = "EVENTS"
	StreamFeedback    = "FEEDBACK"
	StreamPredictions = "PREDICTIONS"
	StreamModels      = "MODELS"
	StreamJobs        = "JOBS"
)

// Windows and ages of the contract streams.
const (
	// EventsDuplicateWindow is how long EVENTS remembers a message id.
	EventsDuplicateWindow = 2 * time.Minute
	// ModelsDuplicateWindow is how long MODELS remembers a message id; the
	// outbox relay republishes with the same id after a crash and relies on
	// this window to make that a no-op.
	ModelsDuplicateWindow = 24 * time.Hour
	// PredictionsMaxAge is how long prediction logs are kept.
	PredictionsMaxAge = 7 * 24 * time.Hour
)

// PullExpiry is the pull request expiry that consumers should pass
// (jetstream.PullExpiry(PullExpiry)): the client's default of 30 s lets an
// in-process consumer stall for that long now and then (nats-io/nats.go#1622).
const PullExpiry = 5 * time.Second

// StreamConfigs returns the contract streams without prefix. The result is a
// fresh slice that the caller may change.
func StreamConfigs() []jetstream.StreamConfig {
	return []jetstream.StreamConfig{
		{
			Name: StreamEvents, Subjects: []string{"events.>"}, Description: "ingested domain events",
			Retention: jetstream.LimitsPolicy, Storage: jetstream.FileStorage, Duplicates: EventsDuplicateWindow,
		},
		{
			Name: StreamFeedback, Subjects: []string{"feedback.>"}, Description: "ground-truth labels",
			Retention: jetstream.LimitsPolicy, Storage: jetstream.FileStorage,
		},
		{
			Name: StreamPredictions, Subjects: []string{"predictions.>"}, Description: "prediction logs",
			Retention: jetstream.LimitsPolicy, Storage: jetstream.FileStorage, MaxAge: PredictionsMaxAge,
		},
		{
			Name: StreamModels, Subjects: []string{"models.>"}, Description: "registry and rollout events",
			Retention: jetstream.LimitsPolicy, Storage: jetstream.FileStorage, Duplicates: ModelsDuplicateWindow,
		},
		{
			Name: StreamJobs, Subjects: []string{"jobs.>"}, Description: "training job queue",
			Retention: jetstream.WorkQueuePolicy, Storage: jetstream.FileStorage,
		},
	}
}

// Stream returns the name of stream name under the configured prefix.
func (b *Bus) Stream(name string) string {
	if b.cfg.StreamPrefix == "" {
		return name
	}
	return b.cfg.StreamPrefix + "_" + name
}

// Subject returns subject s under the configured prefix. It works for
// wildcard subjects too ("models.>").
func (b *Bus) Subject(s string) string {
	if b.cfg.StreamPrefix == "" {
		return s
	}
	return b.cfg.StreamPrefix + "." + s
}

// EnsureStreams creates the contract streams, or updates them to the
// contract configuration where they exist. It is idempotent and safe to call
// from several processes at once. It fails where the server refuses an
// update (for example a change of retention policy).
func (b *Bus) EnsureStreams(ctx context.Context) error {
	for _, cfg := range StreamConfigs() {
		cfg.Name = b.Stream(cfg.Name)
		for i, s := range cfg.Subjects {
			cfg.Subjects[i] = b.Subject(s)
		}
		if _, err := b.js.CreateOrUpdateStream(ctx, cfg); err != nil {
			return fmt.Errorf("ensure stream %q: %w", cfg.Name, err)
		}
	}
	return nil
}
