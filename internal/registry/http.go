package registry

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/plinthai/plinth/internal/platform/httpx"
	"github.com/plinthai/plinth/internal/platform/problem"
)

// SHA256Header declares an uploaded artifact's checksum as hex.
// RFC 9530's Content-Digest: sha-256=:<base64>: is accepted too.
const SHA256Header = "X-Plinth-Sha256"

// HTTP is the registry's REST transport under /v1. It maps errors to
// problem documents and nothing else.
type HTTP struct {
	api         API
	maxArtifact int64
	logger      *slog.Logger
}

// NewHTTP returns the REST transport over api. maxArtifactBytes lets it
// refuse an upload whose declared Content-Length is over the limit before
// reading it; the API enforces the limit on the stream regardless.
func NewHTTP(api API, maxArtifactBytes int64, logger *slog.Logger) *HTTP {
	return &HTTP{api: api, maxArtifact: maxArtifactBytes, logger: logger}
}

// Register adds the registry's routes to mux.
func (h *HTTP) Register(mux httpx.Router) {
	mux.HandleFunc("POST /v1/models", h.createModel)
	mux.HandleFunc("GET /v1/models", h.listModels)
	mux.HandleFunc("GET /v1/models/{model}", byName(h, "model", h.api.GetModel))
	mux.HandleFunc("POST /v1/artifacts", h.uploadArtifact)
	mux.HandleFunc("GET /v1/artifacts/{sha256}", h.downloadArtifact)
	mux.HandleFunc("POST /v1/models/{model}/versions", h.createVersion)
	mux.HandleFunc("GET /v1/models/{model}/versions", h.listVersions)
	mux.HandleFunc("GET /v1/models/{model}/versions/{version}", byVersion(h, h.api.GetVersion))
	mux.HandleFunc("PATCH /v1/models/{model}/versions/{version}", h.updateVersion)
	mux.HandleFunc("POST /v1/models/{model}/versions/{version}/archive", byVersion(h, h.api.ArchiveVersion))
	mux.HandleFunc("GET /v1/models/{model}/versions/{version}/artifact", h.versionArtifact)
	mux.HandleFunc("PUT /v1/models/{model}/aliases/{alias}", h.setAlias)
	mux.HandleFunc("GET /v1/models/{model}/aliases/{alias}", h.getAlias)
	mux.HandleFunc("DELETE /v1/models/{model}/aliases/{alias}", h.deleteAlias)
	mux.HandleFunc("PUT /v1/models/{model}/traffic", h.setTraffic)
	mux.HandleFunc("GET /v1/audit", h.listAudit)
	h.registerJobs(mux)
}

// byName is a handler for a call on one path value (a model's name, a
// job's id): 200 with its answer as JSON, or the problem.
func byName[T any](h *HTTP, key string, call func(ctx context.Context, name string) (T, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := call(r.Context(), r.PathValue(key))
		h.answer(w, r, v, err)
	}
}

// byVersion is a handler for a call on the path's model and version.
func byVersion[T any](h *HTTP, call func(ctx context.Context, model string, version int64) (T, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n, ok := h.version(w, r)
		if !ok {
			return
		}
		v, err := call(r.Context(), r.PathValue("model"), n)
		h.answer(w, r, v, err)
	}
}

// answer writes v as JSON with 200, or err as a problem.
func (h *HTTP) answer(w http.ResponseWriter, r *http.Request, v any, err error) {
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, v)
}

func (h *HTTP) fail(w http.ResponseWriter, r *http.Request, err error) {
	if problem.Status(err) >= 500 {
		h.logger.ErrorContext(r.Context(), "registry request failed", "route", r.Pattern, "err", err)
	}
	problem.Write(w, r, err)
}

func (h *HTTP) createModel(w http.ResponseWriter, r *http.Request) {
	var req CreateModelRequest
	if err := httpx.DecodeJSON(r, &req, httpx.DefaultMaxJSONBytes); err != nil {
		h.fail(w, r, err)
		return
	}
	m, err := h.api.CreateModel(r.Context(), req)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/models/"+m.Name)
	httpx.WriteJSON(w, http.StatusCreated, m)
}

func (h *HTTP) listModels(w http.ResponseWriter, r *http.Request) {
	size, err := httpx.QueryCount(r, "page_size", maxPageSize)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	models, next, err := h.api.ListModels(r.Context(), size, r.URL.Query().Get("page_token"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if models == nil {
		models = []Model{}
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"models": models, "next_page_token": next})
}

// declaredSHA reads the declared checksum from X-Plinth-Sha256 or
// Content-Digest.
func declaredSHA(r *http.Request) (string, error) {
	if v := r.Header.Get(SHA256Header); v != "" {
		return strings.ToLower(strings.TrimSpace(v)), nil
	}
	for _, part := range strings.Split(r.Header.Get("Content-Digest"), ",") {
		alg, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || !strings.EqualFold(alg, "sha-256") {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(strings.Trim(val, ":"))
		if err != nil || len(raw) != 32 {
			return "", problem.Field("Content-Digest", "sha-256 value is not a base64 SHA-256 digest")
		}
		return hex.EncodeToString(raw), nil
	}
	return "", nil
}

func (h *HTTP) uploadArtifact(w http.ResponseWriter, r *http.Request) {
	sha, err := declaredSHA(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if r.ContentLength > 0 {
		// Refuse a declared oversize body before reading it; the service
		// still enforces the limit on the stream itself.
		if max := h.maxArtifact; max > 0 && r.ContentLength > max {
			h.fail(w, r, problem.FieldKind(problem.ErrTooLarge, "artifact", "larger than the limit of %d bytes", max))
			return
		}
	}
	a, err := h.api.UploadArtifact(r.Context(), r.Body, sha)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/artifacts/"+a.SHA256)
	httpx.WriteJSON(w, http.StatusCreated, a)
}

func (h *HTTP) downloadArtifact(w http.ResponseWriter, r *http.Request) {
	h.stream(w, r, r.PathValue("sha256"))
}

func (h *HTTP) stream(w http.ResponseWriter, r *http.Request, sha string) {
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Trim(match, `"`) == sha {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	rc, a, err := h.api.OpenArtifact(r.Context(), sha)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(a.Size, 10))
	w.Header().Set("ETag", `"`+a.SHA256+`"`)
	w.Header().Set(SHA256Header, a.SHA256)
	if _, err := io.Copy(w, rc); err != nil {
		h.logger.WarnContext(r.Context(), "artifact download interrupted", "sha256", sha, "err", err)
	}
}

func (h *HTTP) createVersion(w http.ResponseWriter, r *http.Request) {
	var req CreateVersionRequest
	if err := httpx.DecodeJSON(r, &req, httpx.DefaultMaxJSONBytes); err != nil {
		h.fail(w, r, err)
		return
	}
	if req.Model != "" && req.Model != r.PathValue("model") {
		h.fail(w, r, problem.Field("model", "body names model %q but the path names %q", req.Model, r.PathValue("model")))
		return
	}
	req.Model = r.PathValue("model")
	v, err := h.api.CreateVersion(r.Context(), req)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/models/"+v.Model+"/versions/"+strconv.FormatInt(v.Version, 10))
	httpx.WriteJSON(w, http.StatusCreated, v)
}

func (h *HTTP) listVersions(w http.ResponseWriter, r *http.Request) {
	all, err := httpx.QueryBool(r, "include_archived")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	vs, err := h.api.ListVersions(r.Context(), r.PathValue("model"), all)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if vs == nil {
		vs = []Version{}
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"versions": vs})
}

func (h *HTTP) version(w http.ResponseWriter, r *http.Request) (int64, bool) {
	v, err := httpx.PathInt(r, "version")
	if err != nil {
		h.fail(w, r, err)
		return 0, false
	}
	return v, true
}

func (h *HTTP) updateVersion(w http.ResponseWriter, r *http.Request) {
	n, ok := h.version(w, r)
	if !ok {
		return
	}
	var req UpdateVersionRequest
	if err := httpx.DecodeJSON(r, &req, httpx.DefaultMaxJSONBytes); err != nil {
		h.fail(w, r, err)
		return
	}
	req.Model, req.Version = r.PathValue("model"), n
	v, err := h.api.UpdateVersion(r.Context(), req)
	h.answer(w, r, v, err)
}

func (h *HTTP) versionArtifact(w http.ResponseWriter, r *http.Request) {
	n, ok := h.version(w, r)
	if !ok {
		return
	}
	v, err := h.api.GetVersion(r.Context(), r.PathValue("model"), n)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if v.ArtifactSHA256 == "" {
		h.fail(w, r, problem.Wrap(problem.ErrNotFound, "version %d of %q is %s and has no artifact", n, v.Model, v.Format))
		return
	}
	h.stream(w, r, v.ArtifactSHA256)
}

type setAliasBody struct {
	Version int64  `json:"version"`
	Force   bool   `json:"force,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

func (h *HTTP) setAlias(w http.ResponseWriter, r *http.Request) {
	var body setAliasBody
	if err := httpx.DecodeJSON(r, &body, httpx.DefaultMaxJSONBytes); err != nil {
		h.fail(w, r, err)
		return
	}
	ifMatch := r.Header.Get("If-Match")
	if r.Header.Get("If-None-Match") == "*" {
		ifMatch = "0"
	}
	a, err := h.api.SetAlias(r.Context(), SetAliasRequest{Model: r.PathValue("model"), Alias: r.PathValue("alias"),
		Version: body.Version, IfMatch: ifMatch, Force: body.Force, Reason: body.Reason})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", httpx.ETag(a.Revision))
	httpx.WriteJSON(w, http.StatusOK, a)
}

func (h *HTTP) getAlias(w http.ResponseWriter, r *http.Request) {
	a, err := h.api.GetAlias(r.Context(), r.PathValue("model"), r.PathValue("alias"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", httpx.ETag(a.Revision))
	httpx.WriteJSON(w, http.StatusOK, a)
}

func (h *HTTP) deleteAlias(w http.ResponseWriter, r *http.Request) {
	err := h.api.DeleteAlias(r.Context(), r.PathValue("model"), r.PathValue("alias"), r.Header.Get("If-Match"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *HTTP) setTraffic(w http.ResponseWriter, r *http.Request) {
	var t Traffic
	if err := httpx.DecodeJSON(r, &t, httpx.DefaultMaxJSONBytes); err != nil {
		h.fail(w, r, err)
		return
	}
	m, err := h.api.SetTraffic(r.Context(), r.PathValue("model"), t)
	h.answer(w, r, m, err)
}

func (h *HTTP) listAudit(w http.ResponseWriter, r *http.Request) {
	after, err1 := httpx.QueryInt(r, "after_id", 0)
	limit, err2 := httpx.QueryCount(r, "limit", maxAuditLimit)
	if err := errors.Join(err1, err2); err != nil {
		h.fail(w, r, firstErr(err))
		return
	}
	entries, err := h.api.ListAudit(r.Context(), r.URL.Query().Get("model"), after, limit)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if entries == nil {
		entries = []AuditEntry{}
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"entries": entries})
}
