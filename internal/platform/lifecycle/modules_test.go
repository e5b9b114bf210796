package lifecycle

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recorder logs lifecycle calls across services in order.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	r.events = append(r.events, s)
	r.mu.Unlock()
}

func (r *recorder) get() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...)
}

type drainSvc struct {
	Funcs
	drain func()
}

func (d drainSvc) Drain(context.Context) error { d.drain(); return nil }

func table(t *testing.T, rec *recorder, failRun, failStart string) *Modules {
	t.Helper()
	m := NewModules()
	mod := func(name string, deps ...string) {
		f := Funcs{
			StartFn: func(context.Context) error {
				rec.add("start " + name)
				if name == failStart {
					return errors.New("boom")
				}
				return nil
			},
			RunFn: func(ctx context.Context) error {
				if name == failRun {
					return errors.New("disk gone")
				}
				<-ctx.Done()
				return nil
			},
			StopFn: func(context.Context) error { rec.add("stop " + name); return nil },
		}
		var svc Service = f
		if name == "server" {
			svc = drainSvc{f, func() { rec.add("drain server") }}
		}
		if err := m.Add(Module{Name: name, Deps: deps, Target: name != "db", Init: func(context.Context) (Service, error) { return svc, nil }}); err != nil {
			t.Fatal(err)
		}
	}
	mod("server")
	mod("db")
	mod("registry", "db", "server")
	mod("inference", "registry", "server")
	return m
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestClosure(t *testing.T) {
	m := table(t, &recorder{}, "", "")
	tests := []struct {
		targets []string
		want    []string
		wantErr string
	}{
		{[]string{"inference"}, []string{"db", "server", "registry", "inference"}, ""},
		{[]string{"registry"}, []string{"db", "server", "registry"}, ""},
		{[]string{"server", "registry"}, []string{"db", "server", "registry"}, ""},
		{[]string{"nope"}, nil, `unknown target "nope"`},
	}
	for _, tt := range tests {
		got, err := m.Closure(tt.targets)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Closure(%v) error = %v, want %q", tt.targets, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Closure(%v) (-want +got):\n%s", tt.targets, diff)
		}
	}
}

func TestCycle(t *testing.T) {
	m := NewModules()
	_ = m.Add(Module{Name: "a", Deps: []string{"b"}, Target: true})
	_ = m.Add(Module{Name: "b", Deps: []string{"a"}})
	if _, err := m.Closure([]string{"a"}); err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Errorf("got %v, want a cycle error", err)
	}
	if err := m.Add(Module{Name: "a"}); err == nil {
		t.Error("adding a module twice: got nil error")
	}
}

func TestRunStopsInReverseAfterDrain(t *testing.T) {
	rec := &recorder{}
	mgr, err := NewManager(table(t, rec, "", ""), []string{"inference"}, discard())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- mgr.Run(ctx, 5*time.Second) }()
	waitReady(t, mgr)
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := []string{
		"start db", "start server", "start registry", "start inference",
		"drain server",
		"stop inference", "stop registry", "stop server", "stop db",
	}
	if diff := cmp.Diff(want, rec.get()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if err := mgr.CheckReady(context.Background()); !errors.Is(err, ErrNotReady) {
		t.Errorf("CheckReady after stop = %v, want ErrNotReady", err)
	}
}

func TestFailingServiceStopsAllAndIsNamed(t *testing.T) {
	rec := &recorder{}
	mgr, _ := NewManager(table(t, rec, "registry", ""), []string{"inference"}, discard())
	err := mgr.Run(context.Background(), 5*time.Second)
	if err == nil || !strings.Contains(err.Error(), "module registry failed: disk gone") {
		t.Fatalf("Run = %v, want failure naming registry", err)
	}
	got := rec.get()
	if got[len(got)-1] != "stop db" {
		t.Errorf("last event = %q, want stop db (all stopped): %v", got[len(got)-1], got)
	}
}

func TestStartFailureStopsStarted(t *testing.T) {
	rec := &recorder{}
	mgr, _ := NewManager(table(t, rec, "", "registry"), []string{"inference"}, discard())
	err := mgr.Run(context.Background(), 5*time.Second)
	if err == nil || !strings.Contains(err.Error(), "start module registry: boom") {
		t.Fatalf("Run = %v, want start failure naming registry", err)
	}
	want := []string{"start db", "start server", "start registry", "stop registry", "drain server", "stop server", "stop db"}
	if diff := cmp.Diff(want, rec.get()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestReadinessAggregates(t *testing.T) {
	m := NewModules()
	ready := make(chan struct{})
	_ = m.Add(Module{Name: "slow", Target: true, Init: func(context.Context) (Service, error) {
		return Funcs{ReadyFn: func(context.Context) error {
			select {
			case <-ready:
				return nil
			default:
				return errors.New("warming up")
			}
		}}, nil
	}})
	mgr, _ := NewManager(m, []string{"slow"}, discard())
	if err := mgr.CheckReady(context.Background()); err == nil {
		t.Error("CheckReady before start = nil, want error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- mgr.Run(ctx, time.Second) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := mgr.CheckReady(context.Background())
		if err != nil && strings.Contains(err.Error(), "slow: warming up") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("CheckReady = %v, want slow: warming up", err)
		}
		time.Sleep(time.Millisecond)
	}
	close(ready)
	waitReady(t, mgr)
	cancel()
	<-errc
}

func waitReady(t *testing.T, mgr *Manager) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for mgr.CheckReady(context.Background()) != nil {
		if time.Now().After(deadline) {
			t.Fatalf("not ready: %v", mgr.CheckReady(context.Background()))
		}
		time.Sleep(time.Millisecond)
	}
}

func TestAfterOrdersOnlyWhenPresent(t *testing.T) {
	m := NewModules()
	_ = m.Add(Module{Name: "registry", Target: true})
	_ = m.Add(Module{Name: "registry-api", After: []string{"registry"}})
	_ = m.Add(Module{Name: "inference", Target: true, Deps: []string{"registry-api"}})
	_ = m.Add(Module{Name: "all", Target: true, Deps: []string{"inference", "registry"}})
	tests := []struct {
		targets []string
		want    []string
	}{
		// Alone, inference reaches a remote registry: registry is not pulled in.
		{[]string{"inference"}, []string{"registry-api", "inference"}},
		// Together, the API module starts after the local registry.
		{[]string{"all"}, []string{"registry", "registry-api", "inference", "all"}},
	}
	for _, tt := range tests {
		got, err := m.Closure(tt.targets)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Closure(%v) (-want +got):\n%s", tt.targets, diff)
		}
	}
}
