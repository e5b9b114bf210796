package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/plinthai/plinth/client"
)

// cliRun runs the plinth command line in this process against a server.
type cliRun struct {
	t       *testing.T
	environ []string
}

func (c cliRun) run(args ...string) (string, string, error) {
	c.t.Helper()
	var out, errb bytes.Buffer
	err := Execute(context.Background(), args, c.environ, &out, &errb)
	return out.String(), errb.String(), err
}

func (c cliRun) ok(args ...string) string {
	c.t.Helper()
	out, errs, err := c.run(args...)
	if err != nil {
		c.t.Fatalf("plinth %s: %v\n%s%s", strings.Join(args, " "), err, out, errs)
	}
	return out
}

func (c cliRun) fails(want string, args ...string) {
	c.t.Helper()
	out, _, err := c.run(args...)
	if err == nil || !strings.Contains(err.Error(), want) {
		c.t.Errorf("plinth %s = %v (%s), want an error saying %q", strings.Join(args, " "), err, out, want)
	}
}

// TestCLIDrivesTheRegistryFlow runs the CLI against a running server from
// the bootstrap admin key to an archived version.
func TestCLIDrivesTheRegistryFlow(t *testing.T) {
	cfg := testConfig(t, TargetAll)
	var stdout bytes.Buffer
	a := startAppOut(t, cfg, &stdout)
	admin := regexp.MustCompile(`export PLINTH_TOKEN=(plk_\S+)`).FindStringSubmatch(stdout.String())
	if admin == nil {
		t.Fatalf("no admin key printed on stdout:\n%s", stdout.String())
	}
	addr := "http://" + a.HTTPAddr()
	c := cliRun{t, []string{"PLINTH_ADDR=" + addr, "PLINTH_TOKEN=" + admin[1]}}

	if out := c.ok("status"); !strings.Contains(out, "ready") || !strings.Contains(out, "admin") {
		t.Errorf("status:\n%s", out)
	}
	c.ok("models", "create", "fraud", "--description", "card fraud")
	var models []client.Model
	if err := json.Unmarshal([]byte(c.ok("models", "list", "-o", "json")), &models); err != nil || len(models) != 1 || models[0].Name != "fraud" {
		t.Fatalf("models list -o json = %+v, %v", models, err)
	}
	file := filepath.Join(t.TempDir(), "model.bin")
	if err := os.WriteFile(file, bytes.Repeat([]byte("weights"), 10000), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := c.ok("versions", "create", "fraud", "--artifact", file, "--metric", "auprc=0.81"); !strings.Contains(out, "auprc=0.81") {
		t.Errorf("versions create:\n%s", out)
	}
	if out := c.ok("versions", "list", "fraud"); !strings.Contains(out, "active") {
		t.Errorf("versions list:\n%s", out)
	}
	c.fails("plinth versions gate fraud 1", "aliases", "set", "fraud", "champion", "1")
	if out := c.ok("versions", "gate", "fraud", "1"); !strings.Contains(out, "true") {
		t.Errorf("versions gate:\n%s", out)
	}
	c.ok("aliases", "set", "fraud", "champion", "1")
	var alias client.Alias
	if err := json.Unmarshal([]byte(c.ok("aliases", "get", "fraud", "champion", "-o", "json")), &alias); err != nil || alias.Version != 1 {
		t.Errorf("aliases get = %+v, %v", alias, err)
	}
	c.fails("412", "aliases", "set", "fraud", "champion", "1", "--if-revision", "7")
	c.fails("409", "versions", "archive", "fraud", "1")

	var key client.CreatedAPIKey
	if err := json.Unmarshal([]byte(c.ok("apikeys", "create", "--name", "reader", "--scopes", "models:read", "-o", "json")), &key); err != nil || key.Key == "" {
		t.Fatalf("apikeys create = %+v, %v", key, err)
	}
	reader := cliRun{t, []string{"PLINTH_ADDR=" + addr, "PLINTH_TOKEN=" + key.Key}}
	reader.ok("models", "get", "fraud")
	reader.fails("plinth apikeys create", "models", "create", "other")
	if out := c.ok("apikeys", "list"); !strings.Contains(out, "reader") || !strings.Contains(out, key.ID) {
		t.Errorf("apikeys list:\n%s", out)
	}
	c.ok("apikeys", "revoke", key.ID)
	reader.fails("PLINTH_TOKEN", "models", "list")

	c.ok("aliases", "delete", "fraud", "champion")
	if out := c.ok("versions", "archive", "fraud", "1"); !strings.Contains(out, "archived") {
		t.Errorf("versions archive:\n%s", out)
	}
	tok := strings.TrimSpace(c.ok("token", "--data.dir", cfg.DataDir, "--subject", "dev", "--scopes", "models:read"))
	dev := cliRun{t, []string{"PLINTH_ADDR=" + addr, "PLINTH_TOKEN=" + tok}}
	if out := dev.ok("status"); !strings.Contains(out, "dev") {
		t.Errorf("status with a minted token:\n%s", out)
	}
	cliRun{t, nil}.fails("is `plinth serve` running", "status", "--addr", "http://127.0.0.1:1")
	cliRun{t, []string{"PLINTH_ADDR=" + addr}}.fails("PLINTH_TOKEN", "models", "list")
	c.fails("plinth serve --data.dir", "token", "--data.dir", t.TempDir())
	if out := c.ok("completion", "bash"); !strings.Contains(out, "plinth") {
		t.Error("completion bash printed no script")
	}
	trainWithTheCLI(t, c)
}

// trainWithTheCLI trains versions from a CSV file, gates them, moves
// champion, starts and aborts a rollout, and sees a job and a gate fail.
func trainWithTheCLI(t *testing.T, c cliRun) {
	var csv strings.Builder
	csv.WriteString("x,label\n")
	for i := range 200 {
		fmt.Fprintf(&csv, "%d,%d\n", i%17, (i%17)/9)
	}
	file := filepath.Join(t.TempDir(), "train.csv")
	if err := os.WriteFile(file, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	c.ok("models", "create", "churn")
	if out := c.ok("gate", "set", "churn", "--floor", "auprc=0.5"); !strings.Contains(out, "auprc=0.5") {
		t.Errorf("gate set:\n%s", out)
	}
	var job client.Job
	out := c.ok("train", "churn", "--data", file, "--label", "label", "--param", "num_rounds=5", "--wait", "-o", "json")
	if err := json.Unmarshal([]byte(out), &job); err != nil || job.Status != client.JobSucceeded || job.Version != 1 {
		t.Fatalf("train --wait = %+v, %v, want succeeded with version 1\n%s", job, err, out)
	}
	if out := c.ok("jobs", "list", "--model", "churn"); !strings.Contains(out, job.ID) || !strings.Contains(out, "succeeded") {
		t.Errorf("jobs list:\n%s", out)
	}
	c.fails("409", "jobs", "cancel", job.ID)
	if out := c.ok("versions", "gate", "churn", "1"); !strings.Contains(out, "✓ auprc") {
		t.Errorf("versions gate:\n%s", out)
	}
	c.ok("aliases", "set", "churn", "champion", "1")

	// A second version by its uploaded data's sha256, without waiting.
	out = c.ok("train", "churn", "--data", job.Data.FileSHA256, "--label", "label", "--id", "churn-2", "-o", "json")
	if err := json.Unmarshal([]byte(out), &job); err != nil || job.ID != "churn-2" {
		t.Fatalf("train = %+v, %v\n%s", job, err, out)
	}
	c.ok("jobs", "wait", "churn-2")
	var ro client.Rollout
	if err := json.Unmarshal([]byte(c.ok("rollouts", "start", "churn", "2", "--steps", "10,50", "--step-timeout", "1h", "-o", "json")), &ro); err != nil || ro.Policy.StepTimeout != time.Hour {
		t.Fatalf("rollouts start = %+v, %v", ro, err)
	}
	c.fails("409", "rollouts", "start", "churn", "2")
	if out := c.ok("rollouts", "list", "churn"); !strings.Contains(out, ro.ID) {
		t.Errorf("rollouts list:\n%s", out)
	}
	c.ok("rollouts", "abort", ro.ID, "--reason", "cli test")
	c.ok("rollouts", "get", ro.ID)
	c.ok("rollouts", "steps", ro.ID)

	c.fails("plinth train` again", "train", "churn", "--data", file, "--label", "no_such_column", "--wait")
	c.ok("gate", "set", "churn", "--floor", "auprc=1.01")
	c.fails("failed its gate", "versions", "gate", "churn", "2")
	c.fails("needs a reason", "aliases", "set", "churn", "champion", "2", "--force")
	if out := c.ok("aliases", "set", "churn", "champion", "2", "--force", "--reason", "cli test"); !strings.Contains(out, "champion  2") {
		t.Errorf("forced champion move:\n%s", out)
	}
}
