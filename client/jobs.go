package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Job statuses. queued and running change; the others are final.
const (
	JobQueued    = "queued"
	JobRunning   = "running"
	JobSucceeded = "succeeded"
	JobFailed    = "failed"
	JobCancelled = "cancelled"
)

// TrainData names a job's data: an uploaded CSV file with a header (the
// SHA-256 of an artifact) and its label column, or a feature view over a
// time range. Split ("time" or "random") and Holdout take the server's
// defaults when empty.
type TrainData struct {
	FileSHA256 string    `json:"file_sha256,omitempty"`
	Label      string    `json:"label,omitempty"`
	View       string    `json:"view,omitempty"`
	From       time.Time `json:"from,omitzero"`
	To         time.Time `json:"to,omitzero"`
	Split      string    `json:"split,omitempty"`
	Holdout    float64   `json:"holdout,omitempty"`
}

// SubmitJobRequest asks for a training job. ID is optional: naming one
// makes the submission safe to repeat.
type SubmitJobRequest struct {
	ID        string            `json:"id,omitempty"`
	Algorithm string            `json:"algorithm"`
	Params    map[string]string `json:"params,omitempty"`
	Data      TrainData         `json:"data"`
	Reason    string            `json:"reason,omitempty"`
}

// Job is a training job and where it stands. Progress is in [0, 1];
// Version is the version it registered once it succeeded.
type Job struct {
	ID        string            `json:"id"`
	Model     string            `json:"model"`
	Algorithm string            `json:"algorithm"`
	Params    map[string]string `json:"params,omitempty"`
	Data      TrainData         `json:"data"`
	Reason    string            `json:"reason,omitempty"`
	Status    string            `json:"status"`
	Progress  float64           `json:"progress"`
	Message   string            `json:"message,omitempty"`
	Error     string            `json:"error,omitempty"`
	Attempts  int               `json:"attempts"`
	Version   int64             `json:"version,omitempty"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
	CreatedBy string            `json:"created_by,omitempty"`
}

// Final reports whether the job can change no more.
func (j Job) Final() bool {
	return j.Status == JobSucceeded || j.Status == JobFailed || j.Status == JobCancelled
}

// JobFilter selects jobs; empty fields match all, Limit 0 means 100.
type JobFilter struct {
	Model, Status string
	Limit         int
}

// SubmitJob queues a training job for a model.
func (c *Client) SubmitJob(ctx context.Context, model string, req SubmitJobRequest) (Job, error) {
	var j Job
	_, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/models/" + esc(model) + "/jobs", body: req, out: &j})
	return j, err
}

// GetJob returns a job.
func (c *Client) GetJob(ctx context.Context, id string) (Job, error) {
	var j Job
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/jobs/" + esc(id), out: &j})
	return j, err
}

// ListJobs returns jobs newest first.
func (c *Client) ListJobs(ctx context.Context, f JobFilter) ([]Job, error) {
	var out struct{ Jobs []Job }
	q := url.Values{}
	if f.Model != "" {
		q.Set("model", f.Model)
	}
	if f.Status != "" {
		q.Set("status", f.Status)
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/jobs", query: q, out: &out})
	return out.Jobs, err
}

// CancelJob cancels a queued or running job; a succeeded or failed one is
// a 409 *Error.
func (c *Client) CancelJob(ctx context.Context, id string) (Job, error) {
	var j Job
	_, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/jobs/" + esc(id) + "/cancel", out: &j})
	return j, err
}

// WaitJob polls a job every interval until it is final or ctx ends, and
// calls seen (when not nil) with every state it reads. It returns the
// final job; a failed or cancelled job is not an error of WaitJob.
func (c *Client) WaitJob(ctx context.Context, id string, interval time.Duration, seen func(Job)) (Job, error) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		j, err := c.GetJob(ctx, id)
		if err != nil {
			return j, err
		}
		if seen != nil {
			seen(j)
		}
		if j.Final() {
			return j, nil
		}
		select {
		case <-ctx.Done():
			return j, ctx.Err()
		case <-t.C:
		}
	}
}
