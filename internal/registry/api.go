package registry

import (
	"context"
	"io"
	"time"
)

// API is the model registry's contract, implemented by Service in process
// and by the gRPC client across processes. Errors wrap the kinds of package
// problem: ErrInvalid (with the field named), ErrNotFound, ErrConflict,
// ErrPrecondition, ErrTooLarge and ErrUnprocessable.
type API interface {
	CreateModel(ctx context.Context, req CreateModelRequest) (Model, error)
	GetModel(ctx context.Context, name string) (Model, error)
	// ListModels returns models in name order, a page at a time; an empty
	// next token means the last page.
	ListModels(ctx context.Context, pageSize int, pageToken string) (models []Model, next string, err error)

	// UploadArtifact stores r under its sha256 if it matches wantSHA256
	// (when not empty) and is within the size limit; otherwise nothing is
	// stored.
	UploadArtifact(ctx context.Context, r io.Reader, wantSHA256 string) (Artifact, error)
	// OpenArtifact streams an artifact; the caller closes it.
	OpenArtifact(ctx context.Context, sha256 string) (io.ReadCloser, Artifact, error)

	CreateVersion(ctx context.Context, req CreateVersionRequest) (Version, error)
	GetVersion(ctx context.Context, model string, version int64) (Version, error)
	ListVersions(ctx context.Context, model string, includeArchived bool) ([]Version, error)
	// UpdateVersion merges metrics and tags into a version and optionally
	// replaces its description.
	UpdateVersion(ctx context.Context, req UpdateVersionRequest) (Version, error)
	// ArchiveVersion retires a version; an aliased version cannot be
	// archived (ErrConflict).
	ArchiveVersion(ctx context.Context, model string, version int64) (Version, error)

	// SetAlias points an alias at a version. IfMatch "" moves it
	// unconditionally, "0" only creates it, and a revision moves it only if
	// it is at that revision (ErrPrecondition otherwise).
	SetAlias(ctx context.Context, req SetAliasRequest) (Alias, error)
	GetAlias(ctx context.Context, model, alias string) (Alias, error)
	DeleteAlias(ctx context.Context, model, alias, ifMatch string) error

	// SetTraffic sets how the model's live traffic splits between its
	// champion and challenger aliases.
	SetTraffic(ctx context.Context, model string, t Traffic) (Model, error)

	// ListAudit returns audit entries with id > afterID in id order.
	ListAudit(ctx context.Context, model string, afterID int64, limit int) ([]AuditEntry, error)

	// SubmitJob records a training job and queues it on JOBS in one
	// transaction. A repeated ID for the same model returns the first job.
	SubmitJob(ctx context.Context, req SubmitJobRequest) (Job, error)
	GetJob(ctx context.Context, id string) (Job, error)
	// ListJobs returns jobs newest first.
	ListJobs(ctx context.Context, req ListJobsRequest) ([]Job, error)
	// CancelJob cancels a queued or running job; ErrJobFinished when it
	// succeeded or failed already.
	CancelJob(ctx context.Context, id string) (Job, error)
	// UpdateJob is the worker's report: start, progress, success, failure.
	// ErrJobFinished tells the worker to stop (the job was cancelled).
	UpdateJob(ctx context.Context, req UpdateJobRequest) (Job, error)

	// SetGatePolicy replaces a model's validation gate policy.
	SetGatePolicy(ctx context.Context, p GatePolicy) (GatePolicy, error)
	// GetGatePolicy returns the model's policy, the zero one if none is set.
	GetGatePolicy(ctx context.Context, model string) (GatePolicy, error)
	// EvaluateGate evaluates a version against the policy and the current
	// champion and records the outcome; a failed gate is not an error.
	EvaluateGate(ctx context.Context, model string, version int64) (GateRecord, error)
	// GetGateRecord returns a version's latest gate record.
	GetGateRecord(ctx context.Context, model string, version int64) (GateRecord, error)
}

// Version statuses.
const (
	StatusActive   = "active"
	StatusArchived = "archived"
)

// Artifact formats a version may carry.
const (
	FormatPlinth  = "plinth"       // ml/artifact files
	FormatXGBoost = "xgboost-json" // XGBoost save_model JSON
	FormatRemote  = "remote"       // URI names an Open Inference Protocol server
)

// Model is a named model and its current aliases.
type Model struct {
	Name          string            `json:"name"`
	Description   string            `json:"description,omitempty"`
	Tags          map[string]string `json:"tags,omitempty"`
	LatestVersion int64             `json:"latest_version"`
	Aliases       map[string]int64  `json:"aliases,omitempty"`
	Traffic       Traffic           `json:"traffic"`
	CreatedAt     time.Time         `json:"created_at"`
	UpdatedAt     time.Time         `json:"updated_at"`
	CreatedBy     string            `json:"created_by,omitempty"`
}

// Traffic is a model's split of live traffic. With ChallengerPercent p > 0
// and a challenger alias, p percent of requests (sticky by entity key) are
// answered by the challenger; with Shadow, the challenger also scores the
// champion's requests without answering them. The zero value sends
// everything to the champion.
type Traffic struct {
	ChallengerPercent float64 `json:"challenger_percent"`
	Shadow            bool    `json:"shadow"`
}

// Lineage says where a version came from.
type Lineage struct {
	Dataset       string            `json:"dataset,omitempty"`
	ParentVersion int64             `json:"parent_version,omitempty"`
	Params        map[string]string `json:"params,omitempty"`
	CodeVersion   string            `json:"code_version,omitempty"`
	JobID         string            `json:"job_id,omitempty"`
}

// Version is one numbered version of a model.
type Version struct {
	Model          string             `json:"model"`
	Version        int64              `json:"version"`
	Description    string             `json:"description,omitempty"`
	ArtifactSHA256 string             `json:"artifact_sha256,omitempty"`
	ArtifactSize   int64              `json:"artifact_size,omitempty"`
	Format         string             `json:"format"`
	URI            string             `json:"uri,omitempty"`
	Metrics        map[string]float64 `json:"metrics,omitempty"`
	Tags           map[string]string  `json:"tags,omitempty"`
	Lineage        Lineage            `json:"lineage"`
	Status         string             `json:"status"`
	CreatedAt      time.Time          `json:"created_at"`
	CreatedBy      string             `json:"created_by,omitempty"`
}

// Alias is a movable name for a version. Revision increases on every move
// and is the alias's ETag.
type Alias struct {
	Model     string    `json:"model"`
	Name      string    `json:"name"`
	Version   int64     `json:"version"`
	Revision  int64     `json:"revision"`
	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy string    `json:"updated_by,omitempty"`
}

// Artifact identifies stored artifact bytes.
type Artifact struct {
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// AuditEntry records one change: who, what, when.
type AuditEntry struct {
	ID      int64     `json:"id"`
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`
	Action  string    `json:"action"`
	Model   string    `json:"model"`
	Version int64     `json:"version,omitempty"`
	Detail  string    `json:"detail,omitempty"`
}

// CreateModelRequest creates a model.
type CreateModelRequest struct {
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
}

// CreateVersionRequest registers a new version of a model. Format defaults
// to FormatPlinth; a remote version names its server in URI instead of an
// artifact.
type CreateVersionRequest struct {
	Model          string             `json:"model"`
	Description    string             `json:"description,omitempty"`
	ArtifactSHA256 string             `json:"artifact_sha256,omitempty"`
	Format         string             `json:"format,omitempty"`
	URI            string             `json:"uri,omitempty"`
	Metrics        map[string]float64 `json:"metrics,omitempty"`
	Tags           map[string]string  `json:"tags,omitempty"`
	Lineage        Lineage            `json:"lineage"`
}

// UpdateVersionRequest merges metrics and tags into a version.
type UpdateVersionRequest struct {
	Model       string             `json:"model"`
	Version     int64              `json:"version"`
	Metrics     map[string]float64 `json:"metrics,omitempty"`
	Tags        map[string]string  `json:"tags,omitempty"`
	Description *string            `json:"description,omitempty"`
}

// SetAliasRequest moves an alias.
type SetAliasRequest struct {
	Model   string `json:"model"`
	Alias   string `json:"alias"`
	Version int64  `json:"version"`
	IfMatch string `json:"if_match,omitempty"`
	// Force moves champion past a missing or failed gate; it needs the
	// admin scope and a Reason, and both are audited.
	Force  bool   `json:"force,omitempty"`
	Reason string `json:"reason,omitempty"`
}
