package features

import (
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/plinthai/plinth/internal/platform/httpx"
	"github.com/plinthai/plinth/internal/platform/problem"
)

// HTTP is the feature store's REST transport under /v1. It maps errors to
// status codes and nothing else. Unknown values (NaN) are JSON nulls.
type HTTP struct {
	api      API
	maxBytes int64
	logger   *slog.Logger
}

// NewHTTP returns the REST transport over api.
func NewHTTP(api API, logger *slog.Logger) *HTTP {
	return &HTTP{api: api, maxBytes: 32 << 20, logger: logger}
}

// Register adds the routes to mux: POST /v1/features/{view}:lookup and
// POST /v1/features/{view}:training-set.
func (h *HTTP) Register(mux httpx.Router) {
	mux.HandleFunc("POST /v1/features/{call}", h.call)
}

// number writes NaN and infinities as null.
type number float64

// MarshalJSON implements json.Marshaler.
func (n number) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

func numbers(xs []float64) []number {
	out := make([]number, len(xs))
	for i, x := range xs {
		out[i] = number(x)
	}
	return out
}

func (h *HTTP) call(w http.ResponseWriter, r *http.Request) {
	name, method, _ := strings.Cut(r.PathValue("call"), ":")
	switch method {
	case "lookup":
		h.lookup(w, r, name)
	case "training-set":
		h.trainingSet(w, r, name)
	default:
		problem.Write(w, r, problem.Wrap(problem.ErrNotFound, "no method %q: use {view}:lookup or {view}:training-set", method))
	}
}

type lookupRequest struct {
	Entities []string `json:"entities"`
}

type lookupResponse struct {
	View     string   `json:"view"`
	Names    []string `json:"names"`
	Entities []string `json:"entities"`
	Values   []number `json:"values"`
	Found    []bool   `json:"found"`
}

func (h *HTTP) lookup(w http.ResponseWriter, r *http.Request, name string) {
	var req lookupRequest
	if err := httpx.DecodeJSON(r, &req, h.maxBytes); err != nil {
		h.fail(w, r, err)
		return
	}
	fv, err := h.api.Lookup(r.Context(), name, req.Entities)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, lookupResponse{View: fv.View, Names: fv.Names, Entities: fv.Entities, Values: numbers(fv.Values), Found: fv.Found})
}

type trainingSetRequest struct {
	Labels []Label `json:"labels"`
}

type trainingSetResponse struct {
	View   string   `json:"view"`
	Names  []string `json:"names"`
	Labels []Label  `json:"labels"`
	Values []number `json:"values"`
}

func (h *HTTP) trainingSet(w http.ResponseWriter, r *http.Request, name string) {
	var req trainingSetRequest
	if err := httpx.DecodeJSON(r, &req, h.maxBytes); err != nil {
		h.fail(w, r, err)
		return
	}
	ts, err := h.api.TrainingSet(r.Context(), name, req.Labels)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, trainingSetResponse{View: ts.View, Names: ts.Names, Labels: ts.Labels, Values: numbers(ts.Values)})
}

func (h *HTTP) fail(w http.ResponseWriter, r *http.Request, err error) {
	if problem.Status(err) >= 500 {
		h.logger.ErrorContext(r.Context(), "features request failed", "route", r.Pattern, "err", err)
	}
	problem.Write(w, r, err)
}
