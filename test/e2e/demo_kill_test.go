package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/pflag"

	"github.com/plinthai/plinth/internal/app"
	"github.com/plinthai/plinth/internal/demo"
	"github.com/plinthai/plinth/internal/gateway"
	"github.com/plinthai/plinth/internal/platform/bus"
	"github.com/plinthai/plinth/internal/platform/sqlstore"
	"github.com/plinthai/plinth/internal/registry"
	"github.com/plinthai/plinth/internal/rollout"
)

// TestDemoKilledDuringCanaryResumes runs `plinth demo fraud` as a child,
// kills it with SIGKILL while the retrain is in its canary, and restarts
// the platform on the same data directory: the rollout saga completes, no
// version is registered twice for one job, and every outbox event reaches
// MODELS exactly once.
func TestDemoKilledDuringCanaryResumes(t *testing.T) {
	dir := t.TempDir()
	killDuringCanary(t, dir)

	port := freePort(t)
	base := "http://127.0.0.1:" + port
	p := startPlinth(t, "serve", "--config.file", filepath.Join(dir, demo.ConfigFile), "--server.http-addr", "127.0.0.1:"+port)
	waitReady(t, base, 30*time.Second)
	token := mintToken(t, dir)

	// Read the saga log the restarted controller writes, in its own store:
	// what survived the kill, not what an API makes of it.
	final := waitSaga(t, dir, 2, 90*time.Second, p)
	t.Logf("after the restart the saga of v2 ended %s: %s", final.State, final.Reason)
	var versions struct{ Versions []registry.Version }
	getJSON(t, base+"/v1/models/fraud/versions", token, &versions)
	byJob := map[string]int64{}
	for _, v := range versions.Versions {
		if prev, ok := byJob[v.Lineage.JobID]; ok {
			t.Errorf("job %s registered v%d and v%d", v.Lineage.JobID, prev, v.Version)
		}
		byJob[v.Lineage.JobID] = v.Version
	}
	if _, err := p.stop(t, 30*time.Second); err != nil {
		t.Fatalf("stop: %v", err)
	}
	checkOutboxDelivered(t, dir, final)
}

// waitSaga polls the saga log until the rollout of version is final.
func waitSaga(t *testing.T, dir string, version int64, timeout time.Duration, p *proc) rollout.Rollout {
	t.Helper()
	ctx := context.Background()
	var cfg app.Config
	fs := pflag.NewFlagSet("check", pflag.ContinueOnError)
	cfg.RegisterFlags(fs)
	db, err := sqlstore.Open(ctx, cfg.DB, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ro rollout.Rollout
	deadline := time.Now().Add(timeout)
	for !ro.Final() {
		if time.Now().After(deadline) {
			t.Fatalf("the canary's saga did not complete after the restart: %+v\n%s", ro, p.log())
		}
		time.Sleep(200 * time.Millisecond)
		err := db.QueryRowContext(ctx, "SELECT id, state, reason FROM rollout_sagas WHERE model = 'fraud' AND version = $1", version).
			Scan(&ro.ID, &ro.State, &ro.Reason)
		if err != nil {
			t.Fatalf("read the saga of v%d: %v", version, err)
		}
	}
	return ro
}

// killDuringCanary runs the demo until its retrain's canary starts, then
// sends SIGKILL.
func killDuringCanary(t *testing.T, dir string) {
	t.Helper()
	cmd := exec.Command(binary, "demo", "fraud", "--data.dir", dir)
	cmd.Env = cleanEnv()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	seen := make(chan struct{})
	var out strings.Builder
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			out.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "rollout of v2: canary") {
				close(seen)
				break
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case <-seen:
	case <-time.After(3 * time.Minute):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("the demo's retrain never reached its canary:\n%s", out.String())
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
}

// checkOutboxDelivered opens the stopped platform's stores: every outbox
// row of MODELS is published, and MODELS holds each exactly once (by message id),
// with the saga's states in order and none twice.
func checkOutboxDelivered(t *testing.T, dir string, ro rollout.Rollout) {
	t.Helper()
	ctx := context.Background()
	var cfg app.Config
	fs := pflag.NewFlagSet("check", pflag.ContinueOnError)
	cfg.RegisterFlags(fs)
	db, err := sqlstore.Open(ctx, cfg.DB, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows, pending int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*), COUNT(*) - COUNT(published_at) FROM outbox WHERE subject LIKE 'models.%'").Scan(&rows, &pending); err != nil {
		t.Fatal(err)
	}
	if pending != 0 {
		t.Errorf("%d of %d outbox rows never published", pending, rows)
	}
	b, err := bus.Open(ctx, cfg.NATS, dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ids, states := readModels(t, b, ro.ID)
	if len(ids) != rows {
		t.Errorf("MODELS holds %d outbox messages, the outbox %d rows", len(ids), rows)
	}
	seen := map[string]bool{}
	for _, s := range states {
		if seen[s] {
			t.Errorf("rollout event %s twice on MODELS: %v", s, states)
		}
		seen[s] = true
	}
	if len(states) == 0 || states[len(states)-1] != eventName(rollout.RolloutEvent{Type: rollout.EventType(ro.State), State: ro.State}) {
		t.Errorf("rollout events on MODELS = %v, want them to end with %s", states, rollout.EventType(ro.State))
	}
}

// readModels returns the distinct outbox message ids on MODELS (failing on
// a repeat) and the rollout's event types (with their step) in order.
func readModels(t *testing.T, b *bus.Bus, rolloutID string) (map[string]bool, []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cons, err := b.JetStream().OrderedConsumer(ctx, b.Stream(bus.StreamModels), jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	var states []string
	for {
		batch, err := cons.Fetch(500, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for msg := range batch.Messages() {
			n++
			id := msg.Headers().Get(jetstream.MsgIDHeader)
			if ids[id] {
				t.Errorf("message %s twice on MODELS", id)
			}
			ids[id] = true
			var ev rollout.RolloutEvent
			if json.Unmarshal(msg.Data(), &ev) == nil && ev.Rollout == rolloutID {
				states = append(states, eventName(ev))
			}
		}
		if n == 0 {
			return ids, states
		}
	}
}

// eventName names a saga event: its type, and its step for canary steps,
// which repeat the type.
func eventName(ev rollout.RolloutEvent) string {
	if ev.State == rollout.StateCanary {
		return fmt.Sprintf("%s/%d", ev.Type, ev.StepIndex)
	}
	return ev.Type
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

func mintToken(t *testing.T, dir string) string {
	t.Helper()
	secret, err := gateway.LoadSecret(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := gateway.MintToken(secret, gateway.DefaultIssuer, gateway.DefaultAudience, "e2e", []string{gateway.ScopeAdmin}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func getJSON(t *testing.T, url, token string, v any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s = %d %s", url, resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}
