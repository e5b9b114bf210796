package rollout_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/plinthai/plinth/internal/platform/blob"
	"github.com/plinthai/plinth/internal/platform/sqlstore"
	"github.com/plinthai/plinth/internal/registry"
	"github.com/plinthai/plinth/internal/rollout"
	"github.com/plinthai/plinth/internal/wire"
)

// childEnv names the data directory of a controller run as a child
// process of the test binary.
const childEnv = "PLINTH_ROLLOUT_CHILD_DIR"

// runChild runs a registry and a rollout controller on the SQLite
// database in $PLINTH_ROLLOUT_CHILD_DIR until killed. Every verdict says
// promote.
func runChild() int {
	dir := os.Getenv(childEnv)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	db, err := sqlstore.Open(ctx, sqlstore.Config{}, dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer db.Close()
	blobs, err := blob.Open(ctx, blob.Config{}, dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer blobs.Close()
	reg, err := registry.New(registry.Config{MaxArtifactBytes: 1 << 20}, db, blobs, nil, quiet(), prometheus.NewRegistry())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cfg := testConfig
	cfg.Tick, cfg.LeaseTTL = 20*time.Millisecond, 300*time.Millisecond
	svc, err := rollout.New(cfg, db, reg, &verdicts{script: []string{wire.VerdictPromote}}, nil, quiet())
	if err == nil {
		err = svc.Starting(ctx)
	}
	if err == nil {
		err = svc.Running(ctx)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// TestKill9DuringCanaryResumes starts a rollout, then runs the controller
// in a child process and kills it with SIGKILL each time the saga has
// moved, until it completes. Every registry change and every rollout
// event must exist exactly once.
func TestKill9DuringCanaryResumes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlstore.Open(ctx, sqlstore.Config{}, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	reg, after := setupAudited(t, db)
	starter := newController(t, db, reg, nil, &clock{t: time.Now().UTC()}, "starter")
	ro, err := starter.Start(ctx, rollout.StartRequest{Model: "m", Version: 2})
	if err != nil {
		t.Fatal(err)
	}
	kills := 0
	last := ro
	deadline := time.Now().Add(60 * time.Second)
	for !last.Final() {
		if time.Now().After(deadline) {
			t.Fatalf("rollout still %s at step %d after %d kills", last.State, last.StepIndex, kills)
		}
		child := startChild(t, dir)
		waitMoved(t, starter, last, deadline)        // the state after the kill is read below
		if err := child.Process.Kill(); err != nil { // SIGKILL
			t.Fatal(err)
		}
		_ = child.Wait()
		kills++
		if last, err = starter.Get(ctx, ro.ID); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("rollout %s after %d kill -9s", last.State, kills)
	if last.State != rollout.StatePromoted {
		t.Fatalf("rollout ended %s (%s), want promoted", last.State, last.Reason)
	}
	want := []string{"alias_moved challenger 0→2", "traffic_changed 5", "traffic_changed 25", "traffic_changed 50",
		"alias_moved champion 1→2", "traffic_changed 0", "alias_deleted challenger 2→0"}
	if diff := cmp.Diff(want, changeSummary(t, reg, after)); diff != "" {
		t.Errorf("registry changes, each wanted once (-want +got):\n%s", diff)
	}
	events := []string{"pending 0", "validating 0", "canary 5", "canary 25", "canary 50", "promoting 0", "promoted 0"}
	if diff := cmp.Diff(events, rolloutEvents(t, db)); diff != "" {
		t.Errorf("rollout events, each wanted once (-want +got):\n%s", diff)
	}
	if vs, _ := reg.ListVersions(ctx, "m", true); len(vs) != 2 {
		t.Errorf("%d versions, want 2", len(vs))
	}
}

func startChild(t *testing.T, dir string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+dir)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return cmd
}

// waitMoved polls the saga until its state or step differs from prev.
func waitMoved(t *testing.T, svc *rollout.Service, prev rollout.Rollout, deadline time.Time) rollout.Rollout {
	t.Helper()
	for time.Now().Before(deadline) {
		r, err := svc.Get(context.Background(), prev.ID)
		if err != nil {
			t.Fatal(err)
		}
		if r.State != prev.State || r.StepIndex != prev.StepIndex {
			return r
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("rollout did not move from %s step %d", prev.State, prev.StepIndex)
	return prev
}

// changeSummary lists alias and traffic changes after audit id after as
// "alias_moved <alias> <from>→<to>" and "traffic_changed <percent>".
func changeSummary(t *testing.T, reg registry.API, after int64) []string {
	t.Helper()
	entries, err := reg.ListAudit(context.Background(), "m", after, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		var d struct {
			Alias             string
			From, To          int64
			ChallengerPercent float64 `json:"challenger_percent"`
		}
		if err := json.Unmarshal([]byte(e.Detail), &d); err != nil {
			continue
		}
		switch e.Action {
		case registry.EventAliasMoved, registry.EventAliasDeleted:
			out = append(out, fmt.Sprintf("%s %s %d→%d", e.Action, d.Alias, d.From, d.To))
		case registry.EventTrafficChanged:
			out = append(out, fmt.Sprintf("%s %g", e.Action, d.ChallengerPercent))
		}
	}
	return out
}
