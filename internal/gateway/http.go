package gateway

import (
	"net/http"

	"github.com/plinthai/plinth/internal/platform/httpx"
	"github.com/plinthai/plinth/internal/platform/server"
)

// httpAPI is the gateway's own REST transport: the contract, status, API
// keys and fault rules. It maps errors to problem documents and nothing
// else; the edge has already checked credentials and scopes.
type httpAPI struct{ s *Service }

func newHTTP(s *Service) *httpAPI { return &httpAPI{s: s} }

func (h *httpAPI) register(mux *server.Mux) {
	mux.HandleFunc("GET /v1/openapi.json", h.openAPI)
	mux.HandleFunc("GET /v1/status", h.status)
	mux.HandleFunc("POST /v1/apikeys", h.createKey)
	mux.HandleFunc("GET /v1/apikeys", h.listKeys)
	mux.HandleFunc("DELETE /v1/apikeys/{id}", h.revokeKey)
	mux.HandleFunc("GET /v1/faults", h.getFaults)
	mux.HandleFunc("PUT /v1/faults", h.setFaults)
	mux.HandleFunc("DELETE /v1/faults", h.clearFaults)
}

func (h *httpAPI) openAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(h.s.contract.JSON())
}

// Status is the answer of GET /v1/status.
type Status struct {
	Version string   `json:"version"`
	Ready   bool     `json:"ready"`
	Reason  string   `json:"reason,omitempty"`
	Subject string   `json:"subject"`
	Scopes  []string `json:"scopes"`
}

func (h *httpAPI) status(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	st := Status{Version: h.s.deps.Version, Ready: true, Subject: p.Subject, Scopes: p.Scopes}
	if st.Scopes == nil {
		st.Scopes = []string{}
	}
	if h.s.deps.Ready != nil {
		if err := h.s.deps.Ready(r.Context()); err != nil {
			st.Ready, st.Reason = false, err.Error()
		}
	}
	httpx.WriteJSON(w, http.StatusOK, st)
}

// CreateAPIKeyRequest is the body of POST /v1/apikeys.
type CreateAPIKeyRequest struct {
	Name   string   `json:"name"`
	Scopes []string `json:"scopes"`
}

func (h *httpAPI) createKey(w http.ResponseWriter, r *http.Request) {
	var req CreateAPIKeyRequest
	if err := httpx.DecodeJSON(r, &req, httpx.DefaultMaxJSONBytes); err != nil {
		h.s.fail(w, r, err)
		return
	}
	k, err := h.s.keys.Create(r.Context(), req.Name, req.Scopes, principalOf(r).Subject)
	if err != nil {
		h.s.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusCreated, k)
}

func (h *httpAPI) listKeys(w http.ResponseWriter, r *http.Request) {
	all, err := httpx.QueryBool(r, "include_revoked")
	if err != nil {
		h.s.fail(w, r, err)
		return
	}
	keys, err := h.s.keys.List(r.Context(), all)
	if err != nil {
		h.s.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"keys": keys})
}

func (h *httpAPI) revokeKey(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := h.s.keys.Revoke(r.Context(), id); err != nil {
		h.s.fail(w, r, err)
		return
	}
	h.s.authn.forget(apiKeySubject(id))
	w.WriteHeader(http.StatusNoContent)
}

// FaultRules is the body of GET and PUT /v1/faults.
type FaultRules struct {
	Enabled bool        `json:"enabled"`
	Rules   []FaultRule `json:"rules"`
}

func (h *httpAPI) getFaults(w http.ResponseWriter, _ *http.Request) {
	httpx.WriteJSON(w, http.StatusOK, FaultRules{Enabled: h.s.faults.Enabled(), Rules: h.s.faults.Rules()})
}

func (h *httpAPI) setFaults(w http.ResponseWriter, r *http.Request) {
	var req FaultRules
	if err := httpx.DecodeJSON(r, &req, httpx.DefaultMaxJSONBytes); err != nil {
		h.s.fail(w, r, err)
		return
	}
	if req.Rules == nil {
		req.Rules = []FaultRule{}
	}
	if err := h.s.faults.Set(req.Rules); err != nil {
		h.s.fail(w, r, err)
		return
	}
	h.s.logger.WarnContext(r.Context(), "fault rules replaced", "rules", len(req.Rules), "by", principalOf(r).Subject)
	h.getFaults(w, r)
}

func (h *httpAPI) clearFaults(w http.ResponseWriter, r *http.Request) {
	if h.s.faults.Enabled() {
		// Set only fails when injection is off, and then no rule is in force.
		_ = h.s.faults.Set([]FaultRule{})
	}
	h.s.logger.InfoContext(r.Context(), "fault rules cleared", "by", principalOf(r).Subject)
	w.WriteHeader(http.StatusNoContent)
}
