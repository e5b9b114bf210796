package client

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

func esc(s string) string { return url.PathEscape(s) }

// Status returns the server's version, readiness and who the caller is.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var s Status
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/status", out: &s})
	return s, err
}

// CreateModel creates a model.
func (c *Client) CreateModel(ctx context.Context, name, description string, tags map[string]string) (Model, error) {
	var m Model
	body := map[string]any{"name": name, "description": description, "tags": tags}
	_, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/models", body: body, out: &m})
	return m, err
}

// GetModel returns a model.
func (c *Client) GetModel(ctx context.Context, name string) (Model, error) {
	var m Model
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/models/" + esc(name), out: &m})
	return m, err
}

// ListModels returns a page of models in name order (pageSize 0: the
// server's default).
func (c *Client) ListModels(ctx context.Context, pageSize int, pageToken string) (ModelPage, error) {
	var p ModelPage
	q := url.Values{}
	if pageSize > 0 {
		q.Set("page_size", strconv.Itoa(pageSize))
	}
	if pageToken != "" {
		q.Set("page_token", pageToken)
	}
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/models", query: q, out: &p})
	return p, err
}

// UploadArtifact streams size bytes of r as an artifact whose SHA-256 (hex)
// the server checks; nothing is stored on a mismatch.
func (c *Client) UploadArtifact(ctx context.Context, r io.Reader, size int64, sha256 string) (Artifact, error) {
	var a Artifact
	h := http.Header{}
	h.Set("X-Plinth-Sha256", sha256)
	_, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/artifacts", raw: r, rawLen: size, header: h, out: &a})
	return a, err
}

// DownloadArtifact writes an artifact to w.
func (c *Client) DownloadArtifact(ctx context.Context, sha256 string, w io.Writer) error {
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/artifacts/" + esc(sha256), out: w})
	return err
}

// CreateVersion registers the next version of a model.
func (c *Client) CreateVersion(ctx context.Context, model string, req CreateVersionRequest) (Version, error) {
	var v Version
	_, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/models/" + esc(model) + "/versions", body: req, out: &v})
	return v, err
}

// GetVersion returns one version.
func (c *Client) GetVersion(ctx context.Context, model string, version int64) (Version, error) {
	var v Version
	_, err := c.do(ctx, request{method: http.MethodGet, path: versionPath(model, version), out: &v})
	return v, err
}

func versionPath(model string, version int64) string {
	return "/v1/models/" + esc(model) + "/versions/" + strconv.FormatInt(version, 10)
}

// ListVersions returns a model's versions.
func (c *Client) ListVersions(ctx context.Context, model string, includeArchived bool) ([]Version, error) {
	var out struct{ Versions []Version }
	q := url.Values{}
	if includeArchived {
		q.Set("include_archived", "true")
	}
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/models/" + esc(model) + "/versions", query: q, out: &out})
	return out.Versions, err
}

// ArchiveVersion archives a version.
func (c *Client) ArchiveVersion(ctx context.Context, model string, version int64) (Version, error) {
	var v Version
	_, err := c.do(ctx, request{method: http.MethodPost, path: versionPath(model, version) + "/archive", out: &v})
	return v, err
}

// SetAlias points an alias at a version; ifMatch "" moves it
// unconditionally, a revision moves it only from that revision.
func (c *Client) SetAlias(ctx context.Context, model, alias string, version int64, ifMatch string) (Alias, error) {
	var a Alias
	h := http.Header{}
	if ifMatch != "" {
		h.Set("If-Match", strconv.Quote(ifMatch))
	}
	_, err := c.do(ctx, request{method: http.MethodPut, path: aliasPath(model, alias), body: map[string]int64{"version": version}, header: h, out: &a})
	return a, err
}

// SetTraffic sets how a model's live traffic splits between its champion
// and challenger, and returns the model.
func (c *Client) SetTraffic(ctx context.Context, model string, t Traffic) (Model, error) {
	var m Model
	_, err := c.do(ctx, request{method: http.MethodPut, path: "/v1/models/" + esc(model) + "/traffic", body: t, out: &m})
	return m, err
}

func aliasPath(model, alias string) string {
	return "/v1/models/" + esc(model) + "/aliases/" + esc(alias)
}

// GetAlias reads an alias.
func (c *Client) GetAlias(ctx context.Context, model, alias string) (Alias, error) {
	var a Alias
	_, err := c.do(ctx, request{method: http.MethodGet, path: aliasPath(model, alias), out: &a})
	return a, err
}

// DeleteAlias deletes an alias.
func (c *Client) DeleteAlias(ctx context.Context, model, alias string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: aliasPath(model, alias)})
	return err
}

// ListAudit returns audit entries (of one model when model is not empty)
// with ids after afterID.
func (c *Client) ListAudit(ctx context.Context, model string, afterID int64, limit int) ([]AuditEntry, error) {
	var out struct{ Entries []AuditEntry }
	q := url.Values{}
	if model != "" {
		q.Set("model", model)
	}
	if afterID > 0 {
		q.Set("after_id", strconv.FormatInt(afterID, 10))
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/audit", query: q, out: &out})
	return out.Entries, err
}

// CreateAPIKey creates a key for a service account (admin only); the
// secret in the answer is shown once.
func (c *Client) CreateAPIKey(ctx context.Context, name string, scopes []string) (CreatedAPIKey, error) {
	var k CreatedAPIKey
	_, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/apikeys", body: map[string]any{"name": name, "scopes": scopes}, out: &k})
	return k, err
}

// ListAPIKeys lists keys (admin only).
func (c *Client) ListAPIKeys(ctx context.Context, includeRevoked bool) ([]APIKey, error) {
	var out struct{ Keys []APIKey }
	q := url.Values{}
	if includeRevoked {
		q.Set("include_revoked", "true")
	}
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/apikeys", query: q, out: &out})
	return out.Keys, err
}

// RevokeAPIKey revokes a key at once (admin only).
func (c *Client) RevokeAPIKey(ctx context.Context, id string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: "/v1/apikeys/" + esc(id)})
	return err
}
