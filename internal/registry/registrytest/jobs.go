package registrytest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/plinthai/plinth/internal/platform/problem"
	"github.com/plinthai/plinth/internal/registry"
	"github.com/plinthai/plinth/internal/wire"
)

func fileJob(t *testing.T, api registry.API, model, id string) registry.Job {
	t.Helper()
	data := upload(t, api, []byte("x,y\n1,0\n2,1\n"))
	return must(api.SubmitJob(context.Background(), registry.SubmitJobRequest{ID: id, Model: model, Algorithm: "gbdt",
		Params: map[string]string{"num_rounds": "5"}, Data: wire.TrainData{FileSHA256: data.SHA256, Label: "y"}}))(t)
}

func testJobs(t *testing.T, api registry.API) {
	ctx := context.Background()
	must(api.CreateModel(ctx, registry.CreateModelRequest{Name: "jobs"}))(t)
	j := fileJob(t, api, "jobs", "")
	if j.ID == "" || j.Status != registry.JobQueued || j.Data.Split != registry.SplitTime || j.Data.Holdout != registry.DefaultHoldout {
		t.Errorf("submitted job = %+v", j)
	}
	if got := must(api.GetJob(ctx, j.ID))(t); !cmp.Equal(j, got) {
		t.Errorf("GetJob (-submitted +got):\n%s", cmp.Diff(j, got))
	}
	again := must(api.SubmitJob(ctx, registry.SubmitJobRequest{ID: j.ID, Model: "jobs", Algorithm: "linear",
		Data: wire.TrainData{View: "v", From: j.CreatedAt, To: j.CreatedAt.Add(1)}}))(t)
	if !cmp.Equal(j, again) {
		t.Errorf("resubmitting id %s changed the job (-first +again):\n%s", j.ID, cmp.Diff(j, again))
	}
	steps := []struct {
		req  registry.UpdateJobRequest
		want registry.Job
	}{
		{registry.UpdateJobRequest{Status: registry.JobRunning, Attempt: 1, Message: "loading"},
			registry.Job{Status: registry.JobRunning, Attempts: 1, Message: "loading"}},
		{registry.UpdateJobRequest{Status: registry.JobRunning, Attempt: 1, Progress: 0.5, Message: "training"},
			registry.Job{Status: registry.JobRunning, Attempts: 1, Progress: 0.5, Message: "training"}},
		{registry.UpdateJobRequest{Status: registry.JobRunning, Attempt: 2, Error: "blob timeout"},
			registry.Job{Status: registry.JobRunning, Attempts: 2, Error: "blob timeout"}},
		{registry.UpdateJobRequest{Status: registry.JobSucceeded, Attempt: 2, Version: 7},
			registry.Job{Status: registry.JobSucceeded, Attempts: 2, Progress: 1, Version: 7}},
	}
	for i, st := range steps {
		st.req.ID = j.ID
		got := must(api.UpdateJob(ctx, st.req))(t)
		pick := registry.Job{Status: got.Status, Attempts: got.Attempts, Progress: got.Progress, Message: got.Message,
			Error: got.Error, Version: got.Version}
		if diff := cmp.Diff(st.want, pick); diff != "" {
			t.Errorf("step %d %+v (-want +got):\n%s", i, st.req, diff)
		}
	}
	_, err := api.UpdateJob(ctx, registry.UpdateJobRequest{ID: j.ID, Status: registry.JobRunning})
	wantErr(t, "update a finished job", err, problem.ErrConflict, "")
	_, err = api.CancelJob(ctx, j.ID)
	wantErr(t, "cancel a succeeded job", err, problem.ErrConflict, "")

	bad := []struct {
		name  string
		req   registry.SubmitJobRequest
		kind  error
		field string
	}{
		{"unknown model", registry.SubmitJobRequest{Model: "nope", Algorithm: "gbdt", Data: j.Data}, problem.ErrNotFound, ""},
		{"bad algorithm", registry.SubmitJobRequest{Model: "jobs", Algorithm: "svm", Data: j.Data}, problem.ErrInvalid, "algorithm"},
		{"no data", registry.SubmitJobRequest{Model: "jobs", Algorithm: "gbdt"}, problem.ErrInvalid, "data"},
		{"bad holdout", registry.SubmitJobRequest{Model: "jobs", Algorithm: "gbdt",
			Data: wire.TrainData{FileSHA256: j.Data.FileSHA256, Holdout: 1.5}}, problem.ErrInvalid, "data.holdout"},
		{"view without range", registry.SubmitJobRequest{Model: "jobs", Algorithm: "gbdt", Data: wire.TrainData{View: "v"}}, problem.ErrInvalid, "data.from"},
		{"bad id", registry.SubmitJobRequest{ID: "a b", Model: "jobs", Algorithm: "gbdt", Data: j.Data}, problem.ErrInvalid, "id"},
	}
	for _, tt := range bad {
		_, err := api.SubmitJob(ctx, tt.req)
		wantErr(t, tt.name, err, tt.kind, tt.field)
	}
	_, err = api.GetJob(ctx, "job-missing")
	wantErr(t, "unknown job", err, problem.ErrNotFound, "")
	second := fileJob(t, api, "jobs", "second")
	list := must(api.ListJobs(ctx, registry.ListJobsRequest{Model: "jobs"}))(t)
	if len(list) != 2 || list[0].ID != second.ID {
		t.Errorf("ListJobs = %d jobs, first %q; want 2, newest (%s) first", len(list), firstID(list), second.ID)
	}
	if q := must(api.ListJobs(ctx, registry.ListJobsRequest{Status: registry.JobQueued}))(t); len(q) != 1 || q[0].ID != "second" {
		t.Errorf("queued jobs = %+v, want only %q", q, "second")
	}
}

func firstID(js []registry.Job) string {
	if len(js) == 0 {
		return ""
	}
	return js[0].ID
}

func testJobCancel(t *testing.T, api registry.API) {
	ctx := context.Background()
	must(api.CreateModel(ctx, registry.CreateModelRequest{Name: "cancel"}))(t)
	queued := fileJob(t, api, "cancel", "q1")
	running := fileJob(t, api, "cancel", "r1")
	must(api.UpdateJob(ctx, registry.UpdateJobRequest{ID: running.ID, Status: registry.JobRunning, Attempt: 1}))(t)
	for _, id := range []string{queued.ID, running.ID} {
		if j := must(api.CancelJob(ctx, id))(t); j.Status != registry.JobCancelled {
			t.Errorf("cancelled %s has status %q", id, j.Status)
		}
		if j := must(api.CancelJob(ctx, id))(t); j.Status != registry.JobCancelled {
			t.Errorf("second cancel of %s: status %q", id, j.Status)
		}
	}
	_, err := api.UpdateJob(ctx, registry.UpdateJobRequest{ID: running.ID, Status: registry.JobRunning, Progress: 0.9})
	wantErr(t, "worker report after cancel", err, problem.ErrConflict, "")
}

// testVersionPerJob registers versions for one job id from many goroutines,
// as redelivered jobs do, and wants exactly one version.
func testVersionPerJob(t *testing.T, api registry.API) {
	ctx := context.Background()
	must(api.CreateModel(ctx, registry.CreateModelRequest{Name: "once"}))(t)
	a := upload(t, api, []byte("artifact of job j1"))
	req := registry.CreateVersionRequest{Model: "once", ArtifactSHA256: a.SHA256, Lineage: registry.Lineage{JobID: "j1"}}
	const n = 6
	got := make([]int64, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := api.CreateVersion(ctx, req)
			if err != nil {
				t.Error(err)
			}
			got[i] = v.Version
		}()
	}
	wg.Wait()
	for i, v := range got {
		if v != 1 {
			t.Errorf("create %d for job j1 returned version %d, want 1", i, v)
		}
	}
	other := must(api.CreateVersion(ctx, registry.CreateVersionRequest{Model: "once", ArtifactSHA256: a.SHA256,
		Lineage: registry.Lineage{JobID: "j2"}}))(t)
	plain := must(api.CreateVersion(ctx, registry.CreateVersionRequest{Model: "once", ArtifactSHA256: a.SHA256}))(t)
	if other.Version != 2 || plain.Version != 3 {
		t.Errorf("after job j1: job j2 got version %d, no job got %d; want 2 and 3", other.Version, plain.Version)
	}
	created := 0
	for _, e := range must(api.ListAudit(ctx, "once", 0, 0))(t) {
		if e.Action == registry.EventVersionCreated {
			created++
		}
	}
	if created != 3 {
		t.Errorf("%d version_created audit entries, want 3", created)
	}
}

var ignoreGateTimes = cmpopts.IgnoreFields(registry.GateRecord{}, "EvaluatedAt", "EvaluatedBy", "Checks")

func versionWith(t *testing.T, api registry.API, model string, metrics map[string]float64) int64 {
	t.Helper()
	a := upload(t, api, []byte(fmt.Sprintf("%s %v", model, metrics)))
	return must(api.CreateVersion(context.Background(), registry.CreateVersionRequest{Model: model,
		ArtifactSHA256: a.SHA256, Metrics: metrics}))(t).Version
}
