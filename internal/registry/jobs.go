package registry

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/plinthai/plinth/internal/platform/outbox"
	"github.com/plinthai/plinth/internal/platform/problem"
	"github.com/plinthai/plinth/internal/wire"
)

// Job statuses. A job moves through them as the trainer reports:
//
//	          SubmitJob         UpdateJob(running)          UpdateJob(succeeded, version)
//	(none) ──────────► queued ──────────────────► running ─────────────────────────► succeeded
//	                     │                        │  ▲ UpdateJob(running): a progress
//	                     │                        │  └─┘ report or a redelivered attempt
//	                     │ CancelJob              ├── UpdateJob(failed) ─────────────► failed
//	                     └────────────────────────┴── CancelJob ───────────────────► cancelled
//
// succeeded, failed and cancelled are final: a later UpdateJob fails with
// ErrJobFinished, which is how a worker learns that its job was cancelled.
const (
	JobQueued    = "queued"
	JobRunning   = "running"
	JobSucceeded = "succeeded"
	JobFailed    = "failed"
	JobCancelled = "cancelled"
)

// Job event types on MODELS, models.<model>.job_<status>; job_progress
// carries progress reports (and, unlike the others, writes no audit row).
const (
	EventJobQueued    = "job_" + JobQueued
	EventJobRunning   = "job_" + JobRunning
	EventJobProgress  = "job_progress"
	EventJobSucceeded = "job_" + JobSucceeded
	EventJobFailed    = "job_" + JobFailed
	EventJobCancelled = "job_" + JobCancelled
)

// Algorithms a job may name: the learners of ml/.
var Algorithms = []string{"gbdt", "linear", "iforest", "mf.sgd", "mf.als"}

// Job is a training job and where it stands.
type Job struct {
	ID        string            `json:"id"`
	Model     string            `json:"model"`
	Algorithm string            `json:"algorithm"`
	Params    map[string]string `json:"params,omitempty"`
	Data      wire.TrainData    `json:"data"`
	Reason    string            `json:"reason,omitempty"`
	Status    string            `json:"status"`
	// Progress is the share done, in [0, 1]; Message says what is going on.
	Progress float64 `json:"progress"`
	Message  string  `json:"message,omitempty"`
	// Error is the last attempt's error; Attempts counts deliveries.
	Error    string `json:"error,omitempty"`
	Attempts int    `json:"attempts"`
	// Version is the version the job registered, once it succeeded.
	Version   int64     `json:"version,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	CreatedBy string    `json:"created_by,omitempty"`
}

// Final reports whether the job can change no more.
func (j Job) Final() bool {
	return j.Status == JobSucceeded || j.Status == JobFailed || j.Status == JobCancelled
}

// TrainJob returns the work-queue message of the job.
func (j Job) TrainJob() wire.TrainJob {
	return wire.TrainJob{ID: j.ID, Model: j.Model, Algorithm: j.Algorithm, Params: j.Params, Data: j.Data,
		Reason: j.Reason, RequestedBy: j.CreatedBy, At: j.CreatedAt}
}

// SubmitJobRequest asks for a training job. ID is optional: a caller that
// names one may submit again safely, and gets the first job back.
type SubmitJobRequest struct {
	ID        string            `json:"id,omitempty"`
	Model     string            `json:"model"`
	Algorithm string            `json:"algorithm"`
	Params    map[string]string `json:"params,omitempty"`
	Data      wire.TrainData    `json:"data"`
	Reason    string            `json:"reason,omitempty"`
}

// ListJobsRequest filters jobs; empty fields match all. Limit 0 means 100.
type ListJobsRequest struct {
	Model  string `json:"model,omitempty"`
	Status string `json:"status,omitempty"`
	Limit  int    `json:"limit,omitempty"`
}

// UpdateJobRequest is a worker's report. Status is running (a start, a
// new attempt or progress), succeeded (with Version), or failed (with
// Error). Attempt is the delivery count of the message being worked on.
type UpdateJobRequest struct {
	ID       string  `json:"id"`
	Status   string  `json:"status"`
	Progress float64 `json:"progress,omitempty"`
	Message  string  `json:"message,omitempty"`
	Error    string  `json:"error,omitempty"`
	Attempt  int     `json:"attempt,omitempty"`
	Version  int64   `json:"version,omitempty"`
}

var jobIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

func checkJobID(field, id string) error {
	if !jobIDRE.MatchString(id) {
		return problem.Field(field, "%q must match [A-Za-z0-9][A-Za-z0-9._-]{0,127}", id)
	}
	return nil
}

func newJobID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return "job-" + hex.EncodeToString(b[:])
}

func (s *Service) checkSubmit(req *SubmitJobRequest) error {
	if req.ID == "" {
		req.ID = newJobID()
	}
	d := &req.Data
	if d.Split == "" {
		d.Split = SplitTime
	}
	if d.Holdout == 0 {
		d.Holdout = DefaultHoldout
	}
	errs := []error{checkJobID("id", req.ID), checkName("model", req.Model), checkTags("params", req.Params),
		checkText("reason", req.Reason, maxKeyLen), checkAlgorithm(req.Algorithm), checkTrainData(*d)}
	return firstErr(errors.Join(errs...))
}

func checkAlgorithm(a string) error {
	for _, known := range Algorithms {
		if a == known {
			return nil
		}
	}
	return problem.Field("algorithm", "%q is not one of %v", a, Algorithms)
}

// Data split policies and the default holdout share.
const (
	SplitTime      = "time"
	SplitRandom    = "random"
	DefaultHoldout = 0.2
)

func checkTrainData(d wire.TrainData) error {
	switch {
	case (d.FileSHA256 == "") == (d.View == ""):
		return problem.Field("data", "name either file_sha256 or view")
	case d.FileSHA256 != "":
		if err := checkSHA("data.file_sha256", d.FileSHA256); err != nil {
			return err
		}
	case d.From.IsZero() || d.To.IsZero() || !d.From.Before(d.To):
		return problem.Field("data.from", "a feature-view job needs a time range with from before to")
	}
	if d.Split != SplitTime && d.Split != SplitRandom {
		return problem.Field("data.split", "%q is not time or random", d.Split)
	}
	if !(d.Holdout > 0 && d.Holdout < 1) {
		return problem.Field("data.holdout", "must be in (0, 1), got %v", d.Holdout)
	}
	return checkText("data.label", d.Label, maxKeyLen)
}

// SubmitJob implements API: the job row, its audit entry, its job_queued
// event and the TrainJob message on JOBS are written in one transaction,
// so a job is queued if and only if it is recorded. Submitting an existing
// ID for the same model returns that job unchanged.
func (s *Service) SubmitJob(ctx context.Context, req SubmitJobRequest) (Job, error) {
	if err := s.checkSubmit(&req); err != nil {
		return Job{}, err
	}
	ev := s.event(ctx, EventJobQueued, req.Model)
	j := Job{ID: req.ID, Model: req.Model, Algorithm: req.Algorithm, Params: req.Params, Data: req.Data,
		Reason: req.Reason, Status: JobQueued, CreatedAt: ev.At, UpdatedAt: ev.At, CreatedBy: ev.Actor}
	var existing *Job
	err := s.change(ctx, "submit_job", func(tx *sql.Tx) error {
		if old, err := getJob(ctx, tx, j.ID); err == nil {
			existing = &old
			return nil
		} else if !errors.Is(err, ErrJobNotFound) {
			return err
		}
		if _, err := getModel(ctx, tx, j.Model); err != nil {
			return err
		}
		if err := insertJob(ctx, tx, j); err != nil {
			return err
		}
		body, err := json.Marshal(j.TrainJob())
		if err != nil {
			return fmt.Errorf("encode train job: %w", err)
		}
		if _, err := outbox.Enqueue(ctx, tx, wire.TrainJobSubject(j.Model), body, map[string]string{"Plinth-Job-Id": j.ID}); err != nil {
			return fmt.Errorf("queue job %s: %w", j.ID, err)
		}
		return s.record(ctx, tx, s.jobEvent(ev, j), map[string]string{"job_id": j.ID, "algorithm": j.Algorithm})
	})
	if err != nil || existing == nil {
		return j, err
	}
	if existing.Model != req.Model {
		return Job{}, problem.FieldKind(problem.ErrConflict, "id", "job %s exists for model %q", req.ID, existing.Model)
	}
	return *existing, nil
}

func (s *Service) jobEvent(ev Event, j Job) Event {
	ev.Job = &JobRef{ID: j.ID, Status: j.Status, Progress: j.Progress, Message: j.Message, Error: j.Error, Attempts: j.Attempts}
	ev.Version = j.Version
	return ev
}

// GetJob implements API.
func (s *Service) GetJob(ctx context.Context, id string) (Job, error) {
	if err := checkJobID("id", id); err != nil {
		return Job{}, err
	}
	return getJob(ctx, s.db, id)
}

// ListJobs implements API: newest first.
func (s *Service) ListJobs(ctx context.Context, req ListJobsRequest) ([]Job, error) {
	if req.Model != "" {
		if err := checkName("model", req.Model); err != nil {
			return nil, err
		}
	}
	if req.Limit < 0 || req.Limit > maxAuditLimit {
		return nil, problem.Field("limit", "must be between 0 and %d", maxAuditLimit)
	}
	if req.Limit == 0 {
		req.Limit = defaultAuditLimit
	}
	return listJobs(ctx, s.db, req)
}

// CancelJob implements API. A queued or running job becomes cancelled (the
// worker notices at its next report and stops); cancelling a cancelled job
// returns it; a succeeded or failed one is ErrJobFinished.
func (s *Service) CancelJob(ctx context.Context, id string) (Job, error) {
	if err := checkJobID("id", id); err != nil {
		return Job{}, err
	}
	return s.transitionJob(ctx, "cancel_job", id, func(j *Job) (bool, error) {
		if j.Status == JobCancelled {
			return false, nil
		}
		if j.Final() {
			return false, fmt.Errorf("job %s is %s: %w", j.ID, j.Status, ErrJobFinished)
		}
		j.Status = JobCancelled
		return true, nil
	})
}

// UpdateJob implements API (see the job state diagram).
func (s *Service) UpdateJob(ctx context.Context, req UpdateJobRequest) (Job, error) {
	if err := s.checkUpdate(req); err != nil {
		return Job{}, err
	}
	return s.transitionJob(ctx, "update_job", req.ID, func(j *Job) (bool, error) {
		if j.Final() {
			return false, fmt.Errorf("job %s is %s: %w", j.ID, j.Status, ErrJobFinished)
		}
		return true, applyUpdate(j, req)
	})
}

func (s *Service) checkUpdate(req UpdateJobRequest) error {
	errs := []error{checkJobID("id", req.ID), checkText("message", req.Message, maxValueLen),
		checkText("error", req.Error, maxValueLen)}
	if !(req.Progress >= 0 && req.Progress <= 1) {
		errs = append(errs, problem.Field("progress", "must be in [0, 1], got %v", req.Progress))
	}
	switch req.Status {
	case JobRunning, JobFailed:
	case JobSucceeded:
		errs = append(errs, checkVersion("version", req.Version))
	default:
		errs = append(errs, problem.Field("status", "%q is not running, succeeded or failed", req.Status))
	}
	return firstErr(errors.Join(errs...))
}

func applyUpdate(j *Job, req UpdateJobRequest) error {
	if req.Status == JobSucceeded && j.Status != JobRunning {
		return problem.FieldKind(problem.ErrConflict, "status", "job %s is %s, not running", j.ID, j.Status)
	}
	j.Status, j.Message = req.Status, req.Message
	j.Attempts = max(j.Attempts, req.Attempt, 1)
	if req.Error != "" || req.Status == JobFailed {
		j.Error = req.Error
	}
	switch req.Status {
	case JobRunning:
		j.Progress = req.Progress
	case JobSucceeded:
		j.Progress, j.Version, j.Error = 1, req.Version, ""
	}
	return nil
}

// transitionJob loads a job under the transaction, lets change decide and
// mutate, and writes it with its event (an audit row too, unless the
// change is a progress report of a running job).
func (s *Service) transitionJob(ctx context.Context, op, id string, change func(*Job) (bool, error)) (Job, error) {
	var j Job
	err := s.change(ctx, op, func(tx *sql.Tx) error {
		var err error
		if j, err = getJob(ctx, tx, id); err != nil {
			return err
		}
		before := j
		changed, err := change(&j)
		if err != nil || !changed {
			return err
		}
		j.UpdatedAt = s.now()
		if err := updateJob(ctx, tx, j); err != nil {
			return err
		}
		return s.recordJob(ctx, tx, before, j)
	})
	return j, err
}

func (s *Service) recordJob(ctx context.Context, tx *sql.Tx, before, j Job) error {
	typ := "job_" + j.Status
	progress := before.Status == JobRunning && j.Status == JobRunning && j.Attempts == before.Attempts
	if progress {
		typ = EventJobProgress
	}
	ev := s.jobEvent(s.event(ctx, typ, j.Model), j)
	if progress {
		return s.publish(ctx, tx, ev)
	}
	return s.record(ctx, tx, ev, map[string]any{"job_id": j.ID, "from": before.Status, "to": j.Status,
		"attempts": j.Attempts, "error": j.Error})
}
