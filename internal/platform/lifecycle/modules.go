package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// InitFunc builds a module's service. It runs after the module's
// dependencies have started, so it may use what they built. A module with
// nothing to run may return a nil Service.
type InitFunc func(ctx context.Context) (Service, error)

// Module is one entry of the dependency table.
type Module struct {
	Name string
	Deps []string
	// After lists modules this one must start after when they run in the
	// same process, without pulling them in: a client that prefers the
	// local service when its target is here, and dials it otherwise.
	After []string
	Init  InitFunc
	// Target marks modules a user may name with --target; the others are
	// internal building blocks pulled in as dependencies.
	Target bool
}

// Modules is a dependency table. It is built once at start-up and is not
// safe for concurrent mutation.
type Modules struct {
	byName map[string]Module
}

// NewModules returns an empty table.
func NewModules() *Modules { return &Modules{byName: map[string]Module{}} }

// Add registers a module. Adding a name twice is an error.
func (m *Modules) Add(mod Module) error {
	if _, ok := m.byName[mod.Name]; ok {
		return fmt.Errorf("module %q registered twice", mod.Name)
	}
	m.byName[mod.Name] = mod
	return nil
}

// Targets returns the modules users may name, sorted by name.
func (m *Modules) Targets() []Module {
	var out []Module
	for _, mod := range m.byName {
		if mod.Target {
			out = append(out, mod)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Closure returns every module that targets need, each after all of its
// dependencies and after the modules it must follow (Module.After) that
// are in the closure too; ties are broken by name so the order is stable.
func (m *Modules) Closure(targets []string) ([]string, error) {
	needed := map[string]bool{}
	var collect func(name string, from string) error
	collect = func(name, from string) error {
		mod, ok := m.byName[name]
		if !ok {
			if from == "" {
				return fmt.Errorf("unknown target %q (known: %s)", name, strings.Join(m.targetNames(), ", "))
			}
			return fmt.Errorf("module %q depends on unknown module %q", from, name)
		}
		if needed[name] {
			return nil
		}
		needed[name] = true
		for _, d := range mod.Deps {
			if err := collect(d, name); err != nil {
				return err
			}
		}
		return nil
	}
	for _, t := range targets {
		if err := collect(t, ""); err != nil {
			return nil, err
		}
	}
	return m.order(needed, targets)
}

// order sorts the needed modules topologically over Deps and the After
// edges between needed modules, visiting targets in name order.
func (m *Modules) order(needed map[string]bool, targets []string) ([]string, error) {
	var order []string
	state := map[string]int{} // 0 unseen, 1 visiting, 2 done
	var visit func(name string, path []string) error
	visit = func(name string, path []string) error {
		switch state[name] {
		case 1:
			return fmt.Errorf("dependency cycle: %s", strings.Join(append(path, name), " → "))
		case 2:
			return nil
		}
		state[name] = 1
		mod := m.byName[name]
		var before []string
		before = append(before, mod.Deps...)
		for _, a := range mod.After {
			if needed[a] {
				before = append(before, a)
			}
		}
		sort.Strings(before)
		for _, d := range before {
			if err := visit(d, append(path, name)); err != nil {
				return err
			}
		}
		state[name] = 2
		order = append(order, name)
		return nil
	}
	sorted := slices.Clone(targets)
	sort.Strings(sorted)
	for _, t := range sorted {
		if err := visit(t, nil); err != nil {
			return nil, err
		}
	}
	return order, nil
}

func (m *Modules) targetNames() []string {
	var names []string
	for _, t := range m.Targets() {
		names = append(names, t.Name)
	}
	return names
}

// Manager runs the services of a module closure: it starts them one by one
// in dependency order, runs them concurrently, and stops them in reverse
// order when its context is cancelled or any service fails.
type Manager struct {
	logger  *slog.Logger
	modules *Modules
	order   []string

	mu       sync.Mutex
	services map[string]Service
	passed   map[string]bool // modules whose start finished, with or without a service
	stopping bool
}

// NewManager prepares to run the closure of targets.
func NewManager(modules *Modules, targets []string, logger *slog.Logger) (*Manager, error) {
	order, err := modules.Closure(targets)
	if err != nil {
		return nil, err
	}
	return &Manager{logger: logger, modules: modules, order: order, services: map[string]Service{}, passed: map[string]bool{}}, nil
}

// Order returns the start order.
func (m *Manager) Order() []string { return slices.Clone(m.order) }

type exit struct {
	name string
	err  error
}

// Run initialises and starts every module in order, then runs them all and
// blocks until ctx
// is cancelled (a requested stop: Run returns nil if every service stops
// cleanly) or a service fails (Run returns an error naming it). Either way
// it drains and stops all started services in reverse order, giving them
// stopTimeout in all.
func (m *Manager) Run(ctx context.Context, stopTimeout time.Duration) error {
	runCtx, cancelRun := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRun()
	exits := make(chan exit, len(m.order))
	var started []string
	var startErr error
	for _, name := range m.order {
		if ctx.Err() != nil {
			break
		}
		svc, err := m.start(ctx, name)
		if err != nil {
			startErr = err
			break
		}
		if svc != nil {
			started = append(started, name)
		}
	}
	// Every module has finished Starting before any runs, so a module may
	// still register routes and gRPC services on the server during its
	// start, and the server serves only a fully wired process.
	cancels := map[string]context.CancelFunc{}
	done := map[string]chan struct{}{}
	if startErr == nil {
		for _, name := range started {
			svc := m.service(name)
			sctx, cancel := context.WithCancel(runCtx)
			finished := make(chan struct{})
			cancels[name], done[name] = cancel, finished
			go func() {
				defer close(finished)
				exits <- exit{name, svc.Running(sctx)}
			}()
		}
	}
	failure := startErr
	if failure == nil {
		failure = m.wait(ctx, exits)
	}
	stopCtx, cancelStop := context.WithTimeout(context.WithoutCancel(ctx), stopTimeout)
	defer cancelStop()
	return errors.Join(failure, m.stop(stopCtx, started, cancels, done))
}

func (m *Manager) start(ctx context.Context, name string) (Service, error) {
	mod := m.modules.byName[name]
	t0 := time.Now()
	var svc Service
	var err error
	if mod.Init != nil {
		svc, err = mod.Init(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("init module %s: %w", name, err)
	}
	if svc == nil {
		m.mu.Lock()
		m.passed[name] = true
		m.mu.Unlock()
		return nil, nil
	}
	if err := svc.Starting(ctx); err != nil {
		// Starting failed half-way: give the service its Stopping so it
		// can release what it opened.
		_ = svc.Stopping(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("start module %s: %w", name, err)
	}
	m.mu.Lock()
	m.services[name] = svc
	m.passed[name] = true
	m.mu.Unlock()
	m.logger.Debug("module started", "module", name, "took", time.Since(t0))
	return svc, nil
}

// wait returns nil when ctx is cancelled, or the first service failure.
func (m *Manager) wait(ctx context.Context, exits <-chan exit) error {
	select {
	case <-ctx.Done():
		return nil
	case e := <-exits:
		if e.err == nil {
			e.err = errors.New("stopped unexpectedly")
		}
		m.logger.Error("module failed", "module", e.name, "err", e.err)
		return fmt.Errorf("module %s failed: %w", e.name, e.err)
	}
}

func (m *Manager) stop(ctx context.Context, started []string, cancels map[string]context.CancelFunc, done map[string]chan struct{}) error {
	m.mu.Lock()
	m.stopping = true
	m.mu.Unlock()
	var errs []error
	for i := len(started) - 1; i >= 0; i-- {
		if d, ok := m.service(started[i]).(Drainer); ok {
			if err := d.Drain(ctx); err != nil {
				errs = append(errs, fmt.Errorf("drain module %s: %w", started[i], err))
			}
		}
	}
	for i := len(started) - 1; i >= 0; i-- {
		name := started[i]
		if cancel, ran := cancels[name]; ran {
			cancel()
			select {
			case <-done[name]:
			case <-ctx.Done():
				errs = append(errs, fmt.Errorf("module %s did not stop in time", name))
				continue
			}
		}
		if err := m.service(name).Stopping(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop module %s: %w", name, err))
		}
		m.logger.Debug("module stopped", "module", name)
	}
	return errors.Join(errs...)
}

func (m *Manager) service(name string) Service {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.services[name]
}

// CheckReady reports nil when every module has started and is ready, and an
// error naming each one that is not. While stopping it always fails, so
// load balancers move traffic away before anything shuts down.
func (m *Manager) CheckReady(ctx context.Context) error {
	m.mu.Lock()
	stopping := m.stopping
	m.mu.Unlock()
	if stopping {
		return fmt.Errorf("shutting down: %w", ErrNotReady)
	}
	var errs []error
	for _, name := range m.order {
		m.mu.Lock()
		passed, svc := m.passed[name], m.services[name]
		m.mu.Unlock()
		if !passed {
			errs = append(errs, fmt.Errorf("%s: starting: %w", name, ErrNotReady))
			continue
		}
		if svc == nil {
			continue
		}
		if err := svc.CheckReady(ctx); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// SetStopping flips readiness to failing ahead of a stop, so that probes see
// 503 while in-flight work drains.
func (m *Manager) SetStopping() {
	m.mu.Lock()
	m.stopping = true
	m.mu.Unlock()
}
