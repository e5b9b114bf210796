package rollout_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/plinthai/plinth/internal/platform/blob"
	"github.com/plinthai/plinth/internal/platform/outbox"
	"github.com/plinthai/plinth/internal/platform/problem"
	"github.com/plinthai/plinth/internal/platform/sqlstore"
	"github.com/plinthai/plinth/internal/platform/sqlstore/sqltest"
	"github.com/plinthai/plinth/internal/registry"
	"github.com/plinthai/plinth/internal/rollout"
	"github.com/plinthai/plinth/internal/wire"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// clock is a settable clock shared by controllers in a test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// verdicts answers with a scripted sequence, repeating the last answer.
type verdicts struct {
	mu     sync.Mutex
	script []string
	calls  int
}

func (v *verdicts) Verdict(_ context.Context, model string, champion, challenger int64) (wire.CanaryVerdict, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	d := v.script[min(v.calls, len(v.script)-1)]
	v.calls++
	return wire.CanaryVerdict{Model: model, Champion: champion, Challenger: challenger, Decision: d, Reason: "scripted " + d,
		ChampionSamples: 1000, ChallengerSamples: 1000}, nil
}

var testConfig = rollout.Config{LeaseTTL: 10 * time.Second, Tick: time.Second, CanarySteps: []float64{5, 25, 50},
	MinSamples: 100, StepTimeout: time.Minute, OnTimeout: rollout.OnTimeoutRollback}

// setup opens a registry with model "m": champion v1 and a candidate v2
// that passes its gate.
func setup(t *testing.T, db *sqlstore.DB) *registry.Service {
	reg, _ := setupAudited(t, db)
	return reg
}

// setupAudited is setup that also returns the last audit id it wrote.
func setupAudited(t *testing.T, db *sqlstore.DB) (*registry.Service, int64) {
	t.Helper()
	ctx := context.Background()
	blobs, err := blob.Open(ctx, blob.Config{}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = blobs.Close() })
	if err := outbox.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	reg, err := registry.New(registry.Config{MaxArtifactBytes: 1 << 20}, db, blobs, nil, quiet(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Starting(ctx); err != nil {
		t.Fatal(err)
	}
	check := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	check(reg.CreateModel(ctx, registry.CreateModelRequest{Name: "m"}))
	check(reg.SetGatePolicy(ctx, registry.GatePolicy{Model: "m", SkipSchemaCheck: true}))
	for i := range 2 {
		a, err := reg.UploadArtifact(ctx, bytes.NewReader([]byte(fmt.Sprintf("v%d", i+1))), "")
		check(a, err)
		check(reg.CreateVersion(ctx, registry.CreateVersionRequest{Model: "m", ArtifactSHA256: a.SHA256}))
	}
	check(reg.EvaluateGate(ctx, "m", 1))
	check(reg.SetAlias(ctx, registry.SetAliasRequest{Model: "m", Alias: registry.AliasChampion, Version: 1}))
	entries, err := reg.ListAudit(ctx, "m", 0, 1000)
	check(entries, err)
	return reg, entries[len(entries)-1].ID
}

func newController(t *testing.T, db *sqlstore.DB, reg registry.API, v rollout.Verdicts, c *clock, holder string) *rollout.Service {
	t.Helper()
	cfg := testConfig
	cfg.Holder = holder
	svc, err := rollout.New(cfg, db, reg, v, nil, quiet())
	if err != nil {
		t.Fatal(err)
	}
	svc.SetClock(c.now)
	if err := svc.Starting(context.Background()); err != nil {
		t.Fatal(err)
	}
	return svc
}

// registryChanges lists the audited alias and traffic changes of "m" after
// audit id after, as "action detail".
func registryChanges(t *testing.T, reg registry.API, after int64) []string {
	t.Helper()
	entries, err := reg.ListAudit(context.Background(), "m", after, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		switch e.Action {
		case registry.EventAliasMoved, registry.EventAliasDeleted, registry.EventTrafficChanged:
			out = append(out, e.Action+" "+e.Detail)
		}
	}
	return out
}

// rolloutEvents lists the rollout event types in the outbox, in order.
func rolloutEvents(t *testing.T, db *sqlstore.DB) []string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), `SELECT payload FROM outbox WHERE subject LIKE 'models.m.rollout_%' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var body []byte
		var ev rollout.RolloutEvent
		if err := rows.Scan(&body); err != nil || json.Unmarshal(body, &ev) != nil {
			t.Fatalf("outbox row: %v", err)
		}
		out = append(out, fmt.Sprintf("%s %g", ev.State, ev.Percent))
	}
	return out
}

func tick(t *testing.T, svc *rollout.Service) bool {
	t.Helper()
	held, err := svc.Tick(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return held
}

func TestSagaOutcomes(t *testing.T) {
	promoted := []string{"pending 0", "validating 0", "canary 5", "canary 25", "canary 50", "promoting 0", "promoted 0"}
	tests := []struct {
		name      string
		script    []string
		onTimeout string
		ticks     int
		wait      time.Duration // clock moved after each tick
		state     string
		champion  int64
		events    []string
	}{
		{"promote verdicts", []string{wire.VerdictPromote}, rollout.OnTimeoutRollback, 1, 0, rollout.StatePromoted, 2, promoted},
		{"bad candidate", []string{wire.VerdictWait, wire.VerdictPromote, wire.VerdictWait, wire.VerdictRollback}, rollout.OnTimeoutPromote, 4, time.Second,
			rollout.StateRolledBack, 1, []string{"pending 0", "validating 0", "canary 5", "canary 25", "rolling_back 0", "rolled_back 0"}},
		{"timeout rolls back", []string{wire.VerdictWait}, rollout.OnTimeoutRollback, 3, 40 * time.Second,
			rollout.StateRolledBack, 1, []string{"pending 0", "validating 0", "canary 5", "rolling_back 0", "rolled_back 0"}},
		{"timeout promotes", []string{wire.VerdictWait}, rollout.OnTimeoutPromote, 8, 40 * time.Second, rollout.StatePromoted, 2, promoted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			db := sqltest.SQLite(t)
			reg := setup(t, db)
			c := &clock{t: time.Unix(1_700_000_000, 0).UTC()}
			svc := newController(t, db, reg, &verdicts{script: tt.script}, c, "a")
			ro, err := svc.Start(ctx, rollout.StartRequest{Model: "m", Version: 2, OnTimeout: tt.onTimeout})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Start(ctx, rollout.StartRequest{Model: "m", Version: 2}); !errorsIs(err, problem.ErrConflict) {
				t.Errorf("second active rollout: got %v, want a conflict", err)
			}
			for range tt.ticks {
				tick(t, svc)
				c.add(tt.wait)
				if m, _ := reg.GetModel(ctx, "m"); tt.champion == 1 && m.Aliases[registry.AliasChampion] != 1 {
					t.Fatalf("champion moved to %d during a rollout that must roll back", m.Aliases[registry.AliasChampion])
				}
			}
			got, err := svc.Get(ctx, ro.ID)
			if err != nil {
				t.Fatal(err)
			}
			m, _ := reg.GetModel(ctx, "m")
			if got.State != tt.state || m.Aliases[registry.AliasChampion] != tt.champion || m.Aliases[registry.AliasChallenger] != 0 || m.Traffic.ChallengerPercent != 0 {
				t.Errorf("rollout %s (%s), model aliases %v traffic %+v; want %s with champion %d and no canary",
					got.State, got.Reason, m.Aliases, m.Traffic, tt.state, tt.champion)
			}
			if diff := cmp.Diff(tt.events, rolloutEvents(t, db)); diff != "" {
				t.Errorf("rollout events (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGateFailureFailsRollout(t *testing.T) {
	ctx := context.Background()
	db := sqltest.SQLite(t)
	reg, after := setupAudited(t, db)
	if _, err := reg.SetGatePolicy(ctx, registry.GatePolicy{Model: "m", SkipSchemaCheck: true, Floors: map[string]float64{"auprc": 0.9}}); err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Unix(1_700_000_000, 0).UTC()}
	svc := newController(t, db, reg, &verdicts{script: []string{wire.VerdictPromote}}, c, "a")
	ro, err := svc.Start(ctx, rollout.StartRequest{Model: "m", Version: 2})
	if err != nil {
		t.Fatal(err)
	}
	tick(t, svc)
	got, _ := svc.Get(ctx, ro.ID)
	if changes := registryChanges(t, reg, after); got.State != rollout.StateFailed || len(changes) != 0 {
		t.Errorf("rollout %s (%s) with registry changes %v; want failed, nothing changed", got.State, got.Reason, changes)
	}
}

// TestLeaseOneActiveController runs two controllers on one database: only
// the lease holder acts; the other takes over once the lease expires.
func TestLeaseOneActiveController(t *testing.T) {
	ctx := context.Background()
	db := sqltest.SQLite(t)
	reg, after := setupAudited(t, db)
	c := &clock{t: time.Unix(1_700_000_000, 0).UTC()}
	v := &verdicts{script: []string{wire.VerdictWait}}
	a := newController(t, db, reg, v, c, "a")
	b := newController(t, db, reg, v, c, "b")
	ro, err := b.Start(ctx, rollout.StartRequest{Model: "m", Version: 2}) // any replica serves the API
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		who     *rollout.Service
		advance time.Duration
		held    bool
	}{
		{a, 0, true}, {b, 0, false}, {a, 5 * time.Second, true}, {b, 9 * time.Second, false},
		{b, 2 * time.Second, true}, // a stopped renewing 11 s ago: its lease expired
		{a, 0, false}, {b, time.Second, true},
	}
	for i, st := range steps {
		c.add(st.advance)
		if got := tick(t, st.who); got != st.held {
			t.Errorf("step %d: controller %s held the lease = %v, want %v", i, st.who.Holder(), got, st.held)
		}
	}
	got, _ := a.Get(ctx, ro.ID)
	if got.State != rollout.StateCanary || v.calls != 4 {
		t.Errorf("rollout %s after ticks, verdict asked %d times; want canary, asked 4 times (only by holders)", got.State, v.calls)
	}
	if diff := cmp.Diff([]string{`alias_moved {"alias":"challenger","from":0,"to":2}`, `traffic_changed {"challenger_percent":5,"shadow":false}`}, registryChanges(t, reg, after)); diff != "" {
		t.Errorf("registry changes (-want +got):\n%s", diff)
	}
}

func TestAbort(t *testing.T) {
	ctx := context.Background()
	db := sqltest.SQLite(t)
	reg := setup(t, db)
	c := &clock{t: time.Unix(1_700_000_000, 0).UTC()}
	svc := newController(t, db, reg, &verdicts{script: []string{wire.VerdictWait}}, c, "a")
	ro, err := svc.Start(ctx, rollout.StartRequest{Model: "m", Version: 2})
	if err != nil {
		t.Fatal(err)
	}
	tick(t, svc)
	if _, err := svc.Abort(ctx, ro.ID, "manual"); err != nil {
		t.Fatal(err)
	}
	tick(t, svc)
	got, _ := svc.Get(ctx, ro.ID)
	m, _ := reg.GetModel(ctx, "m")
	if got.State != rollout.StateRolledBack || m.Aliases[registry.AliasChampion] != 1 || m.Traffic.ChallengerPercent != 0 || len(m.Aliases) != 1 {
		t.Errorf("after abort: rollout %s, aliases %v, traffic %+v", got.State, m.Aliases, m.Traffic)
	}
}

func errorsIs(err, kind error) bool { return errors.Is(err, kind) }
