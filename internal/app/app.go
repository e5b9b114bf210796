// Package app is the plinth binary's body: its commands, its configuration,
// the dependency table of its targets and their wiring. One process runs
// any subset of targets; `plinth serve` runs them all on embedded defaults.
package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/plinthai/plinth/internal/features"
	"github.com/plinthai/plinth/internal/gateway"
	"github.com/plinthai/plinth/internal/inference"
	"github.com/plinthai/plinth/internal/ingest"
	"github.com/plinthai/plinth/internal/monitor"
	"github.com/plinthai/plinth/internal/platform/blob"
	"github.com/plinthai/plinth/internal/platform/bus"
	"github.com/plinthai/plinth/internal/platform/lifecycle"
	"github.com/plinthai/plinth/internal/platform/outbox"
	"github.com/plinthai/plinth/internal/platform/server"
	"github.com/plinthai/plinth/internal/platform/sqlstore"
	"github.com/plinthai/plinth/internal/registry"
	"github.com/plinthai/plinth/internal/rollout"
	"github.com/plinthai/plinth/internal/trainer"
	"github.com/plinthai/plinth/internal/wire"
)

// Version is the build's version, set with -ldflags "-X .../internal/app.Version=v1.2.3".
var Version = ""

// BuildVersion returns Version, or the module version recorded in the build.
func BuildVersion() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// App is one plinth process: the modules its targets need, wired together.
type App struct {
	cfg      Config
	logger   *slog.Logger
	levels   *slog.LevelVar
	registry *prometheus.Registry
	manager  *lifecycle.Manager

	server *server.Server
	bus    *bus.Bus
	db     *sqlstore.DB
	blobs  *blob.Store
	relay  *outbox.Relay
	redis  *redis.Client // nil without --redis.url

	// trainingSets builds point-in-time training sets (the feature
	// store's); nil until it is wired.
	trainingSets trainer.TrainingSets
	// monitorAPI and featuresAPI are the monitor and the feature store as
	// dependents see them: the local service, a client of one in another
	// process (--monitor.addr, --features.addr), or nil for none.
	monitorAPI  monitor.API
	featuresAPI features.API

	// simClock is the shared simulated event clock of --clock.* (nil: off).
	simClock func() time.Time

	// The credential for calls to other targets, built on first use.
	credOnce sync.Once
	cred     *serviceToken
	credErr  error

	// Registry is the registry service once the registry module started.
	Registry *registry.Service
	// registryAPI is the registry as dependents see it: Registry, or a
	// client of a registry in another process.
	registryAPI registry.API
	// Monitor is the monitor service once the monitor module started; it
	// is the rollout saga's verdict source in one process.
	Monitor *monitor.Service
	// Gateway is the edge once the gateway module started.
	Gateway *gateway.Service
	// Clock, when set before Run, is the time of the services that stamp
	// or window events by time (ingest, features, inference's prediction
	// log, monitor), so that a replay can run a recorded stream in
	// accelerated time; nil is time.Now.
	Clock func() time.Time
	// Stdout receives what a person must see once, such as the bootstrap
	// admin key; nil discards it. Set it before Run.
	Stdout io.Writer
	// Rollout is the rollout controller once its module started.
	Rollout *rollout.Service
	// Inference is the inference service once its module is initialised.
	Inference *inference.Service
	// Ingest is the ingest service once the ingest module started.
	Ingest *ingest.Service
	// Features is the feature store once the features module started.
	Features *features.Service
	// EventClock is the clock of event time for the modules that compare
	// event times with now: ingest's age bounds, the feature store's
	// windows and the monitor's retrain ranges. nil is the simulated clock
	// of --clock.* when set, else the wall clock; replays in accelerated
	// time in one process (the demos) set it before Run.
	EventClock func() time.Time
}

// New prepares a process for cfg; Run starts it.
func New(cfg Config, logger *slog.Logger, levels *slog.LevelVar, reg *prometheus.Registry) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	a := &App{cfg: cfg, logger: logger, levels: levels, registry: reg, simClock: cfg.Clock.Func(nil)}
	mgr, err := lifecycle.NewManager(a.table(), cfg.Targets, logger)
	if err != nil {
		return nil, err
	}
	a.manager = mgr
	return a, nil
}

// Run starts every module and blocks until ctx is cancelled (a clean stop
// returns nil) or a module fails.
func (a *App) Run(ctx context.Context) error {
	a.logger.Info("starting plinth", "version", BuildVersion(), "targets", a.cfg.Targets, "modules", a.manager.Order(), "data_dir", a.cfg.DataDir)
	err := a.manager.Run(ctx, a.cfg.ShutdownTimeout)
	if err != nil {
		a.logger.Error("plinth stopped with an error", "err", err)
		return err
	}
	a.logger.Info("plinth stopped")
	return nil
}

// eventNow is the clock of event time: EventClock, else the simulated
// clock of --clock.*, else the process clock. (Clock moves every
// time-keeping service, EventClock only the event-time comparisons; the
// two replays in this repository use one each.)
func (a *App) eventNow() time.Time {
	if a.EventClock != nil {
		return a.EventClock()
	}
	if a.simClock != nil {
		return a.simClock()
	}
	return a.now()
}

// now is the process clock: Clock, or time.Now.
func (a *App) now() time.Time {
	if a.Clock != nil {
		return a.Clock()
	}
	return time.Now()
}

func (a *App) ready(ctx context.Context) error { return a.manager.CheckReady(ctx) }

// Ready reports whether every module is ready.
func (a *App) Ready(ctx context.Context) error { return a.ready(ctx) }

// Bus returns the process's bus once the bus module started (nil before):
// in-process producers, such as a replay publishing FEEDBACK, use it.
func (a *App) Bus() *bus.Bus { return a.bus }

// HTTPAddr returns the bound HTTP address ("" before the server started).
func (a *App) HTTPAddr() string {
	if a.server == nil {
		return ""
	}
	return a.server.HTTPAddr()
}

// GRPCAddr returns the bound gRPC address ("" before the server started).
func (a *App) GRPCAddr() string {
	if a.server == nil {
		return ""
	}
	return a.server.GRPCAddr()
}

// Main runs the plinth command line with args (without the program name)
// and extra commands, and returns the process exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, extra ...*cobra.Command) int {
	if err := Execute(ctx, args, os.Environ(), stdout, stderr, extra...); err != nil {
		fmt.Fprintln(stderr, "plinth:", err)
		return 1
	}
	return 0
}

// WaitFeatures blocks until the feature view has applied every event of its
// source stream published so far, or ctx ends. Replays use it to predict
// on features that include the event just ingested.
func (a *App) WaitFeatures(ctx context.Context, viewName string) error {
	if a.Features == nil {
		return fmt.Errorf("wait for view %q: the features target does not run in this process", viewName)
	}
	v, err := a.Features.View(viewName)
	if err != nil {
		return err
	}
	st, err := a.bus.JetStream().Stream(ctx, a.bus.Stream(bus.StreamEvents))
	if err != nil {
		return fmt.Errorf("wait for view %q: %w", viewName, err)
	}
	last, err := st.GetLastMsgForSubject(ctx, a.bus.Subject(wire.EventSubject(v.Source)))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("wait for view %q: %w", viewName, err)
	}
	for {
		pos, _, err := a.Features.Store().Position(ctx, v)
		if err != nil || pos >= last.Sequence {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
}

// PublishFeedback publishes ground-truth labels to FEEDBACK, each
// deduplicated by its id, and blocks until JetStream persisted them all.
func (a *App) PublishFeedback(ctx context.Context, fbs ...wire.Feedback) error {
	if a.bus == nil {
		return errors.New("publish feedback: the bus is not open")
	}
	js := a.bus.JetStream()
	futures := make([]jetstream.PubAckFuture, 0, len(fbs))
	for _, fb := range fbs {
		data, err := json.Marshal(fb)
		if err != nil {
			return fmt.Errorf("encode feedback %s: %w", fb.ID, err)
		}
		f, err := js.PublishAsync(a.bus.Subject(wire.FeedbackSubject(fb.Model)), data, jetstream.WithMsgID(fb.ID))
		if err != nil {
			return fmt.Errorf("publish feedback %s: %w", fb.ID, err)
		}
		futures = append(futures, f)
	}
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return fmt.Errorf("publish feedback: %w", err)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
