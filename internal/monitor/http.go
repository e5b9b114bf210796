package monitor

import (
	"log/slog"
	"net/http"
	"strconv"

	"github.com/plinthai/plinth/internal/platform/httpx"
	"github.com/plinthai/plinth/internal/platform/problem"
)

// HTTP is the monitor's REST transport under /v1. It maps errors to
// problem documents and nothing else.
type HTTP struct {
	api    API
	logger *slog.Logger
}

// NewHTTP returns the REST transport over api.
func NewHTTP(api API, logger *slog.Logger) *HTTP { return &HTTP{api: api, logger: logger} }

// Register adds the monitor's routes to mux:
//
//	GET /v1/models/{model}/monitor                                   live figures per version
//	GET /v1/models/{model}/monitor/verdict?champion=N&challenger=M   canary verdict
func (h *HTTP) Register(mux httpx.Router) {
	mux.HandleFunc("GET /v1/models/{model}/monitor", h.status)
	mux.HandleFunc("GET /v1/models/{model}/monitor/verdict", h.verdict)
}

func (h *HTTP) fail(w http.ResponseWriter, r *http.Request, err error) {
	if problem.Status(err) >= 500 {
		h.logger.ErrorContext(r.Context(), "monitor request failed", "route", r.Pattern, "err", err)
	}
	problem.Write(w, r, err)
}

func (h *HTTP) status(w http.ResponseWriter, r *http.Request) {
	s, err := h.api.Status(r.Context(), r.PathValue("model"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, s)
}

func (h *HTTP) verdict(w http.ResponseWriter, r *http.Request) {
	champion, err := queryVersion(r, "champion")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	challenger, err := queryVersion(r, "challenger")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v, err := h.api.Verdict(r.Context(), r.PathValue("model"), champion, challenger)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, v)
}

func queryVersion(r *http.Request, name string) (int64, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return 0, problem.Field(name, "required")
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, problem.Field(name, "want a version number, got %q", s)
	}
	return v, nil
}
