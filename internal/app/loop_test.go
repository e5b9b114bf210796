package app

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/plinthai/plinth/internal/registry"
	"github.com/plinthai/plinth/internal/rollout"
)

// TestTrainGateRollout runs the loop over REST in one process: a training
// job on an uploaded CSV registers a version, its gate passes, and the
// automatic rollout makes it champion (the model has none yet, so no
// canary is needed).
func TestTrainGateRollout(t *testing.T) {
	cfg := testConfig(t, TargetAll)
	cfg.Rollout.Tick = 50 * time.Millisecond
	a := startApp(t, cfg)
	r := newRest(t, a)

	var csv strings.Builder
	csv.WriteString("x,label\n")
	for i := range 200 {
		fmt.Fprintf(&csv, "%d,%d\n", i%17, (i%17)/9)
	}
	sum := sha256.Sum256([]byte(csv.String()))
	sha := hex.EncodeToString(sum[:])
	r.want(201, "POST", "/v1/artifacts", []byte(csv.String()), map[string]string{"Content-Type": "application/octet-stream"})
	r.want(201, "POST", "/v1/models", []byte(`{"name":"loop"}`), nil)
	r.want(200, "PUT", "/v1/models/loop/gate", []byte(`{"floors":{"auprc":0.5},"auto_rollout":true}`), nil)
	var job registry.Job
	body := r.want(202, "POST", "/v1/models/loop/jobs", []byte(`{"algorithm":"gbdt","params":{"num_rounds":"5"},"data":{"file_sha256":"`+sha+`","label":"label"}}`), nil)
	if err := json.Unmarshal(body, &job); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !job.Final() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		_ = json.Unmarshal(r.want(200, "GET", "/v1/jobs/"+job.ID, nil, nil), &job)
	}
	if job.Status != registry.JobSucceeded || job.Version != 1 {
		t.Fatalf("job = %+v, want succeeded with version 1", job)
	}
	var list struct{ Rollouts []rollout.Rollout }
	for time.Now().Before(deadline) {
		_ = json.Unmarshal(r.want(200, "GET", "/v1/models/loop/rollouts", nil, nil), &list)
		if len(list.Rollouts) == 1 && list.Rollouts[0].Final() {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(list.Rollouts) != 1 || list.Rollouts[0].State != rollout.StatePromoted || !list.Rollouts[0].Policy.Auto {
		t.Fatalf("rollouts = %+v, want one automatic rollout, promoted", list.Rollouts)
	}
	var m registry.Model
	_ = json.Unmarshal(r.want(200, "GET", "/v1/models/loop", nil, nil), &m)
	if m.Aliases[registry.AliasChampion] != 1 {
		t.Errorf("aliases = %v, want champion 1", m.Aliases)
	}
	r.problem(409, "version", "POST", "/v1/models/loop/rollouts", []byte(`{"version":1,"canary_steps":[10]}`), nil)
	readTheLoopBack(t, r, job, list.Rollouts[0])
}

// readTheLoopBack reads every job, gate and rollout route once more, so
// the contract check sees each of their answers.
func readTheLoopBack(t *testing.T, r rest, job registry.Job, ro rollout.Rollout) {
	var jobs struct{ Jobs []registry.Job }
	for _, path := range []string{"/v1/jobs", "/v1/jobs?model=loop&limit=5", "/v1/models/loop/jobs?status=succeeded"} {
		if err := json.Unmarshal(r.want(200, "GET", path, nil, nil), &jobs); err != nil || len(jobs.Jobs) != 1 || jobs.Jobs[0].ID != job.ID {
			t.Errorf("GET %s = %+v, %v, want job %s", path, jobs.Jobs, err, job.ID)
		}
	}
	_ = json.Unmarshal(r.want(200, "GET", "/v1/models/loop/jobs?status=failed", nil, nil), &jobs)
	if len(jobs.Jobs) != 0 {
		t.Errorf("failed jobs = %+v, want none", jobs.Jobs)
	}
	r.problem(409, "", "POST", "/v1/jobs/"+job.ID+"/cancel", nil, nil)
	r.problem(404, "", "GET", "/v1/jobs/job-none", nil, nil)
	var p registry.GatePolicy
	if err := json.Unmarshal(r.want(200, "GET", "/v1/models/loop/gate", nil, nil), &p); err != nil || p.Revision != 1 || !p.AutoRollout {
		t.Errorf("gate policy = %+v, %v, want revision 1 with auto_rollout", p, err)
	}
	var rec registry.GateRecord
	if err := json.Unmarshal(r.want(200, "GET", "/v1/models/loop/versions/1/gate", nil, nil), &rec); err != nil || !rec.Passed {
		t.Errorf("gate record = %+v, %v, want passed", rec, err)
	}
	r.want(200, "GET", "/v1/rollouts/"+ro.ID, nil, nil)
	var steps struct{ Steps []rollout.Step }
	if err := json.Unmarshal(r.want(200, "GET", "/v1/rollouts/"+ro.ID+"/steps", nil, nil), &steps); err != nil || len(steps.Steps) == 0 {
		t.Errorf("steps = %+v, %v, want the saga log", steps.Steps, err)
	}
	var aborted rollout.Rollout
	if err := json.Unmarshal(r.want(200, "POST", "/v1/rollouts/"+ro.ID+"/abort", []byte(`{"reason":"too late"}`), nil), &aborted); err != nil || aborted.State != rollout.StatePromoted {
		t.Errorf("abort of a promoted rollout = %+v, %v, want it unchanged", aborted, err)
	}
	r.problem(404, "", "GET", "/v1/rollouts/ro-none/steps", nil, nil)
}
