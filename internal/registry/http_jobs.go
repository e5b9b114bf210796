package registry

import (
	"net/http"

	"github.com/plinthai/plinth/internal/platform/httpx"
	"github.com/plinthai/plinth/internal/platform/problem"
)

// registerJobs adds the routes of jobs and gates.
func (h *HTTP) registerJobs(mux httpx.Router) {
	mux.HandleFunc("POST /v1/models/{model}/jobs", h.submitJob)
	mux.HandleFunc("GET /v1/models/{model}/jobs", h.listJobs)
	mux.HandleFunc("GET /v1/jobs", h.listJobs)
	mux.HandleFunc("GET /v1/jobs/{id}", byName(h, "id", h.api.GetJob))
	mux.HandleFunc("POST /v1/jobs/{id}/cancel", byName(h, "id", h.api.CancelJob))
	mux.HandleFunc("PUT /v1/models/{model}/gate", h.setGatePolicy)
	mux.HandleFunc("GET /v1/models/{model}/gate", byName(h, "model", h.api.GetGatePolicy))
	mux.HandleFunc("POST /v1/models/{model}/versions/{version}/gate", byVersion(h, h.api.EvaluateGate))
	mux.HandleFunc("GET /v1/models/{model}/versions/{version}/gate", byVersion(h, h.api.GetGateRecord))
}

func (h *HTTP) submitJob(w http.ResponseWriter, r *http.Request) {
	var req SubmitJobRequest
	if err := httpx.DecodeJSON(r, &req, httpx.DefaultMaxJSONBytes); err != nil {
		h.fail(w, r, err)
		return
	}
	if req.Model != "" && req.Model != r.PathValue("model") {
		h.fail(w, r, problem.Field("model", "body names model %q but the path names %q", req.Model, r.PathValue("model")))
		return
	}
	req.Model = r.PathValue("model")
	j, err := h.api.SubmitJob(r.Context(), req)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/jobs/"+j.ID)
	httpx.WriteJSON(w, http.StatusAccepted, j)
}

func (h *HTTP) listJobs(w http.ResponseWriter, r *http.Request) {
	limit, err := httpx.QueryCount(r, "limit", maxAuditLimit)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	model := r.PathValue("model")
	if model == "" {
		model = r.URL.Query().Get("model")
	}
	jobs, err := h.api.ListJobs(r.Context(), ListJobsRequest{Model: model, Status: r.URL.Query().Get("status"), Limit: limit})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if jobs == nil {
		jobs = []Job{}
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"jobs": jobs})
}

func (h *HTTP) setGatePolicy(w http.ResponseWriter, r *http.Request) {
	var p GatePolicy
	if err := httpx.DecodeJSON(r, &p, httpx.DefaultMaxJSONBytes); err != nil {
		h.fail(w, r, err)
		return
	}
	p.Model = r.PathValue("model")
	out, err := h.api.SetGatePolicy(r.Context(), p)
	h.answer(w, r, out, err)
}
