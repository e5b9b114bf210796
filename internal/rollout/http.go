package rollout

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/plinthai/plinth/internal/platform/httpx"
	"github.com/plinthai/plinth/internal/platform/problem"
)

// HTTP is the rollout service's REST transport under /v1.
type HTTP struct {
	svc    *Service
	logger *slog.Logger
}

// NewHTTP returns the REST transport over svc.
func NewHTTP(svc *Service, logger *slog.Logger) *HTTP { return &HTTP{svc: svc, logger: logger} }

// Register adds the rollout routes to mux.
func (h *HTTP) Register(mux httpx.Router) {
	mux.HandleFunc("POST /v1/models/{model}/rollouts", h.start)
	mux.HandleFunc("GET /v1/models/{model}/rollouts", h.list)
	mux.HandleFunc("GET /v1/rollouts/{id}", h.get)
	mux.HandleFunc("GET /v1/rollouts/{id}/steps", h.steps)
	mux.HandleFunc("POST /v1/rollouts/{id}/abort", h.abort)
}

func (h *HTTP) fail(w http.ResponseWriter, r *http.Request, err error) {
	if problem.Status(err) >= 500 {
		h.logger.ErrorContext(r.Context(), "rollout request failed", "route", r.Pattern, "err", err)
	}
	problem.Write(w, r, err)
}

// startBody is POST /v1/models/{model}/rollouts; step_timeout is a Go
// duration ("30m"). Auto asks for StartAuto: the configured policy,
// idempotent per version.
type startBody struct {
	Version     int64     `json:"version"`
	CanarySteps []float64 `json:"canary_steps,omitempty"`
	MinSamples  int       `json:"min_samples,omitempty"`
	StepTimeout string    `json:"step_timeout,omitempty"`
	OnTimeout   string    `json:"on_timeout,omitempty"`
	Auto        bool      `json:"auto,omitempty"`
	JobID       string    `json:"job_id,omitempty"`
}

func (h *HTTP) start(w http.ResponseWriter, r *http.Request) {
	var b startBody
	if err := httpx.DecodeJSON(r, &b, httpx.DefaultMaxJSONBytes); err != nil {
		h.fail(w, r, err)
		return
	}
	if b.Auto {
		h.startAuto(w, r, b)
		return
	}
	req := StartRequest{Model: r.PathValue("model"), Version: b.Version, CanarySteps: b.CanarySteps,
		MinSamples: b.MinSamples, OnTimeout: b.OnTimeout}
	if b.StepTimeout != "" {
		d, err := time.ParseDuration(b.StepTimeout)
		if err != nil {
			h.fail(w, r, problem.Field("step_timeout", "%q is not a duration such as 30m", b.StepTimeout))
			return
		}
		req.StepTimeout = d
	}
	ro, err := h.svc.Start(r.Context(), req)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/rollouts/"+ro.ID)
	httpx.WriteJSON(w, http.StatusAccepted, ro)
}

// startAuto answers an automatic start with the version's newest rollout.
func (h *HTTP) startAuto(w http.ResponseWriter, r *http.Request, b startBody) {
	if b.CanarySteps != nil || b.MinSamples != 0 || b.StepTimeout != "" || b.OnTimeout != "" {
		h.fail(w, r, problem.Field("auto", "an automatic rollout takes the configured policy: leave canary_steps, min_samples, step_timeout and on_timeout out"))
		return
	}
	ro, err := h.svc.StartAutoRollout(r.Context(), r.PathValue("model"), b.Version, b.JobID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/rollouts/"+ro.ID)
	httpx.WriteJSON(w, http.StatusAccepted, ro)
}

func (h *HTTP) list(w http.ResponseWriter, r *http.Request) {
	rs, err := h.svc.List(r.Context(), r.PathValue("model"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if rs == nil {
		rs = []Rollout{}
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"rollouts": rs})
}

func (h *HTTP) get(w http.ResponseWriter, r *http.Request) {
	ro, err := h.svc.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, ro)
}

func (h *HTTP) steps(w http.ResponseWriter, r *http.Request) {
	if _, err := h.svc.Get(r.Context(), r.PathValue("id")); err != nil {
		h.fail(w, r, err)
		return
	}
	steps, err := h.svc.Steps(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if steps == nil {
		steps = []Step{} // a pending saga has logged nothing yet
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"steps": steps})
}

func (h *HTTP) abort(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Reason string `json:"reason"`
	}
	if err := httpx.DecodeJSON(r, &b, httpx.DefaultMaxJSONBytes); err != nil {
		h.fail(w, r, err)
		return
	}
	ro, err := h.svc.Abort(r.Context(), r.PathValue("id"), b.Reason)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, ro)
}
