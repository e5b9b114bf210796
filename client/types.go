package client

import "time"

// Model is a registered model with its latest version and aliases.
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

// ModelPage is one page of ListModels; NextPageToken is empty on the last.
type ModelPage struct {
	Models        []Model `json:"models"`
	NextPageToken string  `json:"next_page_token"`
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

// CreateVersionRequest registers a version: an uploaded artifact (by its
// SHA-256) or, with Format "remote", the URI of an Open Inference Protocol
// server.
type CreateVersionRequest struct {
	Description    string             `json:"description,omitempty"`
	ArtifactSHA256 string             `json:"artifact_sha256,omitempty"`
	Format         string             `json:"format,omitempty"`
	URI            string             `json:"uri,omitempty"`
	Metrics        map[string]float64 `json:"metrics,omitempty"`
	Tags           map[string]string  `json:"tags,omitempty"`
	Lineage        *Lineage           `json:"lineage,omitempty"`
}

// Alias is a movable name for a version; Revision is its ETag.
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

// AuditEntry records one change.
type AuditEntry struct {
	ID      int64     `json:"id"`
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`
	Action  string    `json:"action"`
	Model   string    `json:"model"`
	Version int64     `json:"version,omitempty"`
	Detail  string    `json:"detail,omitempty"`
}

// APIKey describes a service account's key (never its secret).
type APIKey struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Scopes    []string   `json:"scopes"`
	CreatedAt time.Time  `json:"created_at"`
	CreatedBy string     `json:"created_by"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// CreatedAPIKey is a new key with its secret, which the server shows once.
type CreatedAPIKey struct {
	APIKey
	Key string `json:"key"`
}

// Status is the server's version, readiness and the caller's identity.
type Status struct {
	Version string   `json:"version"`
	Ready   bool     `json:"ready"`
	Reason  string   `json:"reason,omitempty"`
	Subject string   `json:"subject"`
	Scopes  []string `json:"scopes"`
}
