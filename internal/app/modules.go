package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/plinthai/plinth/internal/features"
	featuresclient "github.com/plinthai/plinth/internal/features/client"
	"github.com/plinthai/plinth/internal/gateway"
	"github.com/plinthai/plinth/internal/inference"
	"github.com/plinthai/plinth/internal/ingest"
	"github.com/plinthai/plinth/internal/monitor"
	monitorclient "github.com/plinthai/plinth/internal/monitor/client"
	"github.com/plinthai/plinth/internal/platform/blob"
	"github.com/plinthai/plinth/internal/platform/bus"
	"github.com/plinthai/plinth/internal/platform/kv"
	"github.com/plinthai/plinth/internal/platform/lifecycle"
	"github.com/plinthai/plinth/internal/platform/outbox"
	"github.com/plinthai/plinth/internal/platform/server"
	"github.com/plinthai/plinth/internal/platform/sqlstore"
	"github.com/plinthai/plinth/internal/platform/telemetry"
	"github.com/plinthai/plinth/internal/registry"
	registryclient "github.com/plinthai/plinth/internal/registry/client"
	"github.com/plinthai/plinth/internal/rollout"
	"github.com/plinthai/plinth/internal/trainer"
)

// Module and target names.
const (
	ModuleServer = "server"
	ModuleBus    = "bus"
	ModuleDB     = "db"
	ModuleBlob   = "blob"
	ModuleOutbox = "outbox"
	// ModuleRegistryAPI hands dependents a registry.API: the local service
	// when the registry target runs in this process, a gRPC client of
	// --registry.addr otherwise.
	ModuleRegistryAPI = "registry-api"
	// ModuleMonitorAPI and ModuleFeaturesAPI do the same for the monitor
	// (--monitor.addr) and the feature store (--features.addr); without
	// either, dependents run without it.
	ModuleMonitorAPI  = "monitor-api"
	ModuleFeaturesAPI = "features-api"

	TargetGateway   = "gateway"
	TargetRegistry  = "registry"
	TargetMonitor   = "monitor"
	TargetRollout   = "rollout"
	TargetTrainer   = "trainer"
	TargetInference = "inference"
	ModuleRedis     = "redis"
	TargetIngest    = "ingest"
	TargetFeatures  = "features"
	TargetAll       = "all"
)

// table is the one dependency table of the process. Targets are what users
// name with --target; the rest are building blocks they pull in.
func (a *App) table() *lifecycle.Modules {
	m := lifecycle.NewModules()
	for _, mod := range []lifecycle.Module{
		{Name: ModuleServer, Init: a.initServer},
		{Name: ModuleBus, Init: a.initBus},
		{Name: ModuleDB, Init: a.initDB},
		{Name: ModuleBlob, Init: a.initBlob},
		{Name: ModuleOutbox, Deps: []string{ModuleDB, ModuleBus}, Init: a.initOutbox},
		{Name: TargetGateway, Target: true, Deps: []string{ModuleServer, ModuleDB}, Init: a.initGateway},
		{Name: TargetRegistry, Target: true, Deps: []string{TargetGateway, ModuleServer, ModuleDB, ModuleBlob, ModuleOutbox}, Init: a.initRegistry},
		{Name: ModuleRegistryAPI, After: []string{TargetRegistry}, Init: a.initRegistryAPI},
		{Name: TargetMonitor, Target: true, Deps: []string{TargetGateway, ModuleServer, ModuleBus, ModuleRegistryAPI}, Init: a.initMonitor},
		{Name: ModuleMonitorAPI, After: []string{TargetMonitor}, Init: a.initMonitorAPI},
		{Name: TargetRollout, Target: true, Deps: []string{TargetGateway, ModuleServer, ModuleDB, ModuleOutbox, ModuleRegistryAPI, ModuleMonitorAPI},
			Init: a.initRollout},
		// The trainer serves nothing, but its process still needs probes and /metrics.
		{Name: TargetTrainer, Target: true, Deps: []string{ModuleServer, ModuleBus, ModuleRegistryAPI, ModuleFeaturesAPI}, After: []string{TargetRollout},
			Init: a.initTrainer},
		{Name: TargetIngest, Target: true, Deps: []string{TargetGateway, ModuleServer, ModuleBus}, Init: a.initIngest},
		{Name: ModuleRedis, Init: a.initRedis},
		{Name: TargetFeatures, Target: true, Deps: []string{TargetGateway, ModuleServer, ModuleBus, ModuleBlob, ModuleRedis}, Init: a.initFeatures},
		{Name: ModuleFeaturesAPI, After: []string{TargetFeatures}, Init: a.initFeaturesAPI},
		{Name: TargetInference, Target: true, Deps: []string{TargetGateway, ModuleServer, ModuleBus, ModuleRegistryAPI, ModuleFeaturesAPI},
			Init: a.initInference},
		{Name: TargetAll, Target: true, Deps: []string{TargetGateway, TargetRegistry, TargetMonitor, TargetRollout, TargetTrainer, TargetInference,
			TargetIngest, TargetFeatures}},
	} {
		if err := m.Add(mod); err != nil {
			panic(err) // the table is static: a duplicate is a programming error caught by every test
		}
	}
	return m
}

// Each init reads only its own module's config and the services built by
// its dependencies, and calls New with explicit arguments.

func (a *App) initServer(context.Context) (lifecycle.Service, error) {
	a.server = server.New(a.cfg.Server, a.logger.With("module", ModuleServer), a.registry, a.ready, a.levels,
		server.WithTracing(telemetry.TracingEnabled(os.Getenv)))
	return a.server, nil
}

func (a *App) initBus(context.Context) (lifecycle.Service, error) {
	logger := a.logger.With("module", ModuleBus)
	return lifecycle.Funcs{
		StartFn: func(ctx context.Context) error {
			b, err := bus.Open(ctx, a.cfg.NATS, a.cfg.DataDir, logger)
			if err != nil {
				return err
			}
			a.bus = b
			return b.EnsureStreams(ctx)
		},
		StopFn:  func(context.Context) error { return closeIf(a.bus) },
		ReadyFn: func(ctx context.Context) error { return a.bus.Ready(ctx) },
	}, nil
}

func (a *App) initDB(context.Context) (lifecycle.Service, error) {
	return lifecycle.Funcs{
		StartFn: func(ctx context.Context) error {
			db, err := sqlstore.Open(ctx, a.cfg.DB, a.cfg.DataDir)
			a.db = db
			return err
		},
		StopFn:  func(context.Context) error { return closeIf(a.db) },
		ReadyFn: func(ctx context.Context) error { return a.db.Ready(ctx) },
	}, nil
}

func (a *App) initBlob(context.Context) (lifecycle.Service, error) {
	return lifecycle.Funcs{
		StartFn: func(ctx context.Context) error {
			s, err := blob.Open(ctx, a.cfg.Blob, a.cfg.DataDir)
			a.blobs = s
			return err
		},
		StopFn:  func(context.Context) error { return closeIf(a.blobs) },
		ReadyFn: func(ctx context.Context) error { return a.blobs.Ready(ctx) },
	}, nil
}

func (a *App) initOutbox(ctx context.Context) (lifecycle.Service, error) {
	if err := outbox.Migrate(ctx, a.db); err != nil {
		return nil, err
	}
	relay, err := outbox.NewRelay(a.db, a.bus, a.cfg.Outbox, a.logger.With("module", ModuleOutbox), a.registry)
	if err != nil {
		return nil, err
	}
	a.relay = relay
	return lifecycle.Funcs{RunFn: relay.Run}, nil
}

// initGateway builds the edge; its Starting installs it on the servers,
// so every target that serves the public API depends on it.
func (a *App) initGateway(context.Context) (lifecycle.Service, error) {
	svc, err := gateway.New(a.cfg.Gateway, gateway.Deps{
		DB: a.db, Host: a.server, DataDir: a.cfg.DataDir, Version: BuildVersion(), Ready: a.ready,
		Out: a.Stdout, Logger: a.logger.With("module", TargetGateway), Registry: a.registry,
	})
	if err != nil {
		return nil, fmt.Errorf("new gateway: %w", err)
	}
	a.Gateway = svc
	return svc, nil
}

func (a *App) initRegistry(context.Context) (lifecycle.Service, error) {
	logger := a.logger.With("module", TargetRegistry)
	svc, err := registry.New(a.cfg.Registry, a.db, a.blobs, a.relay, logger, a.registry)
	if err != nil {
		return nil, fmt.Errorf("new registry: %w", err)
	}
	registry.NewHTTP(svc, a.cfg.Registry.MaxArtifactBytes, logger).Register(a.server.Mux())
	registry.NewGRPC(svc).Register(a.server.GRPC())
	a.Registry = svc
	return svc, nil
}

func (a *App) initRegistryAPI(context.Context) (lifecycle.Service, error) {
	if a.Registry != nil {
		a.registryAPI = a.Registry
		return nil, nil
	}
	if a.cfg.Registry.Addr == "" {
		return nil, fmt.Errorf("--registry.addr is required when the registry target does not run in this process")
	}
	r, err := a.dial(TargetRegistry, a.cfg.Registry.Addr)
	if err != nil {
		return nil, err
	}
	a.registryAPI = registryclient.New(r.conn)
	return r.service(), nil
}

// initMonitorAPI hands the rollout controller its verdicts: the monitor in
// this process, or the one at --monitor.addr; with neither, canary steps
// advance on their timeout policy only.
func (a *App) initMonitorAPI(context.Context) (lifecycle.Service, error) {
	if a.Monitor != nil {
		a.monitorAPI = a.Monitor
		return nil, nil
	}
	if a.cfg.Monitor.Addr == "" {
		return nil, nil
	}
	r, err := a.dial(TargetMonitor, a.cfg.Monitor.Addr)
	if err != nil {
		return nil, err
	}
	a.monitorAPI = monitorclient.New(r.conn)
	return r.service(), nil
}

// initFeaturesAPI hands inference its lookups and the trainer its
// training sets: the feature store in this process, or the one at
// --features.addr; with neither, predict-by-entity answers 400 and
// feature-view jobs fail with a clear error.
func (a *App) initFeaturesAPI(context.Context) (lifecycle.Service, error) {
	if a.Features != nil {
		a.featuresAPI = a.Features
		return nil, nil
	}
	if a.cfg.Features.Addr == "" {
		return nil, nil
	}
	r, err := a.dial(TargetFeatures, a.cfg.Features.Addr)
	if err != nil {
		return nil, err
	}
	a.featuresAPI = featuresclient.New(r.conn)
	return r.service(), nil
}

func (a *App) initMonitor(context.Context) (lifecycle.Service, error) {
	logger := a.logger.With("module", TargetMonitor)
	opts := []monitor.Option{monitor.WithJobs(a.registryAPI)}
	if a.Clock != nil {
		opts = append(opts, monitor.WithClock(a.now))
	}
	if a.EventClock != nil || a.simClock != nil {
		// Retrain ranges are in event time: a job's labels were stamped
		// by the simulated clock (--clock.*) when one is shared.
		opts = append(opts, monitor.WithEventClock(a.eventNow))
	}
	svc, err := monitor.New(a.cfg.Monitor, a.bus, a.registryAPI, logger, a.registry, opts...)
	if err != nil {
		return nil, fmt.Errorf("new monitor: %w", err)
	}
	monitor.NewHTTP(svc, logger).Register(a.server.Mux())
	monitor.NewGRPC(svc).Register(a.server.GRPC())
	a.Monitor = svc
	return svc, nil
}

// initRollout builds the rollout controller over the registry. Verdicts
// come from the monitor (see initMonitorAPI).
func (a *App) initRollout(context.Context) (lifecycle.Service, error) {
	logger := a.logger.With("module", TargetRollout)
	var verdicts rollout.Verdicts
	if a.monitorAPI != nil {
		verdicts = a.monitorAPI
	}
	svc, err := rollout.New(a.cfg.Rollout, a.db, a.registryAPI, verdicts, a.relay, logger)
	if err != nil {
		return nil, fmt.Errorf("new rollout: %w", err)
	}
	rollout.NewHTTP(svc, logger).Register(a.server.Mux())
	a.Rollout = svc
	return svc, nil
}

// initTrainer builds the training workers over the registry; automatic
// rollouts go to the rollout controller in this process or the one at
// --rollout.url. Feature-view jobs need the feature store's training sets
// (see initFeaturesAPI).
func (a *App) initTrainer(context.Context) (lifecycle.Service, error) {
	cfg := a.cfg.Trainer
	cfg.CodeVersion = BuildVersion()
	if a.featuresAPI != nil {
		a.trainingSets = featureTrainingSets{a.featuresAPI}
	}
	deps := trainer.Deps{TrainingSets: a.trainingSets}
	switch {
	case a.Rollout != nil:
		deps.Rollouts = a.Rollout
	case a.cfg.Rollout.URL != "":
		r, err := a.remoteRollouts(a.cfg.Rollout.URL)
		if err != nil {
			return nil, err
		}
		deps.Rollouts = r
	}
	if a.trainingSets != nil {
		deps.Labels = trainer.FeedbackLabels{Bus: a.bus}
	}
	svc, err := trainer.New(cfg, a.registryAPI, a.bus, deps, a.logger.With("module", TargetTrainer), a.registry)
	if err != nil {
		return nil, fmt.Errorf("new trainer: %w", err)
	}
	return svc, nil
}

func (a *App) initInference(context.Context) (lifecycle.Service, error) {
	logger := a.logger.With("module", TargetInference)
	// The feature store serves predict-by-entity (see initFeaturesAPI);
	// without it such requests answer 400.
	var store inference.FeatureStore
	if a.featuresAPI != nil {
		store = a.featuresAPI
	}
	svc, err := inference.New(a.cfg.Inference, a.registryAPI, a.bus, store, logger, a.registry, inference.WithClock(a.now))
	if err != nil {
		return nil, fmt.Errorf("new inference: %w", err)
	}
	inference.NewHTTP(svc, BuildVersion(), logger).Register(a.server.Mux())
	inference.NewGRPC(svc, BuildVersion(), logger).Register(a.server.GRPC())
	a.Inference = svc
	return svc, nil
}

func (a *App) initIngest(context.Context) (lifecycle.Service, error) {
	logger := a.logger.With("module", TargetIngest)
	svc, err := ingest.New(a.cfg.Ingest, a.bus, logger, a.registry, a.eventNow)
	if err != nil {
		return nil, fmt.Errorf("new ingest: %w", err)
	}
	ingest.NewHTTP(svc, a.cfg.Ingest, logger).Register(a.server.Mux())
	ingest.NewGRPC(svc, a.cfg.Ingest).Register(a.server.GRPC())
	a.Ingest = svc
	return svc, nil
}

// initRedis connects to --redis.url when it is set; with none, the
// modules that use Redis fall back to their in-process stores.
func (a *App) initRedis(context.Context) (lifecycle.Service, error) {
	if a.cfg.Redis.URL == "" {
		return nil, nil
	}
	return lifecycle.Funcs{
		StartFn: func(ctx context.Context) error {
			c, err := kv.Open(ctx, a.cfg.Redis)
			a.redis = c
			return err
		},
		StopFn:  func(context.Context) error { return closeIf(a.redis) },
		ReadyFn: func(ctx context.Context) error { return a.redis.Ping(ctx).Err() },
	}, nil
}

func (a *App) initFeatures(context.Context) (lifecycle.Service, error) {
	logger := a.logger.With("module", TargetFeatures)
	deps := features.Deps{Bus: a.bus, Blobs: a.blobs, SnapshotDir: filepath.Join(a.cfg.DataDir, "features"), Now: a.eventNow}
	if a.redis != nil {
		deps.Redis = a.redis
	}
	svc, err := features.New(a.cfg.Features, deps, logger, a.registry)
	if err != nil {
		return nil, fmt.Errorf("new features: %w", err)
	}
	features.NewHTTP(svc, logger).Register(a.server.Mux())
	features.NewGRPC(svc).Register(a.server.GRPC())
	a.Features = svc
	return svc, nil
}

// closeIf closes c if it was opened.
func closeIf[T interface{ Close() error }](c T) error {
	var zero T
	if any(c) == any(zero) {
		return nil
	}
	return c.Close()
}
