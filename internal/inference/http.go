package inference

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/plinthai/plinth/internal/platform/httpx"
	"github.com/plinthai/plinth/internal/platform/problem"
)

// Header names and values the handlers use, in canonical form so lookups
// and sets allocate nothing.
const (
	headerInferLen = "Inference-Header-Content-Length"
	contentJSON    = "application/json"
	contentBinary  = "application/octet-stream"
)

// HTTP serves Plinth's /v1 predict and the Open Inference Protocol over
// REST. It maps errors to status codes: /v1 answers problem documents,
// /v2 the protocol's {"error": "…"}.
type HTTP struct {
	s           *Service
	logger      *slog.Logger
	version     string
	routeHeader string
	jsonCT      []string
	binCT       []string
}

// NewHTTP returns the handlers of s; version is the server version /v2
// reports.
func NewHTTP(s *Service, version string, logger *slog.Logger) *HTTP {
	return &HTTP{
		s: s, logger: logger, version: version, routeHeader: http.CanonicalHeaderKey(s.cfg.RouteHeader),
		jsonCT: []string{contentJSON}, binCT: []string{contentBinary},
	}
}

// Register adds the routes to mux. net/http patterns cannot mix a wildcard
// and a literal in one segment, so /v1/models/{name}:predict is matched as
// one segment and split at its last colon.
func (h *HTTP) Register(mux httpx.Router) {
	mux.HandleFunc("POST /v1/models/{model}", h.v1)
	mux.HandleFunc("GET /v2", h.serverMetadata)
	mux.HandleFunc("GET /v2/{$}", h.serverMetadata)
	mux.HandleFunc("GET /v2/health/live", h.live)
	mux.HandleFunc("GET /v2/health/ready", h.ready)
	mux.HandleFunc("GET /v2/models", h.list)
	mux.HandleFunc("GET /v2/models/{name}", h.modelMetadata)
	mux.HandleFunc("GET /v2/models/{name}/versions/{version}", h.modelMetadata)
	mux.HandleFunc("GET /v2/models/{name}/ready", h.modelReady)
	mux.HandleFunc("GET /v2/models/{name}/versions/{version}/ready", h.modelReady)
	mux.HandleFunc("POST /v2/models/{name}/infer", h.infer)
	mux.HandleFunc("POST /v2/models/{name}/versions/{version}/infer", h.infer)
	mux.HandleFunc("/v2/", h.notFound)
}

// v1 serves POST /v1/models/{name}:predict.
func (h *HTTP) v1(w http.ResponseWriter, r *http.Request) {
	nameop := r.PathValue("model")
	i := strings.LastIndexByte(nameop, ':')
	if i < 0 || nameop[i+1:] != "predict" {
		problem.Write(w, r, problem.Wrap(problem.ErrNotFound, "unknown operation %q: the model operation is :predict", nameop))
		return
	}
	s := h.s
	e, err := s.entry(nameop[:i])
	if err != nil {
		problem.Write(w, r, err)
		return
	}
	c := s.getCall()
	defer s.putCall(c)
	if err := h.readBody(r, c); err != nil {
		problem.Write(w, r, err)
		return
	}
	if err := c.decodeV1(c.body); err != nil {
		problem.Write(w, r, err)
		return
	}
	c.key = h.key(r, e.name, c.ent)
	ctx := r.Context()
	res, err := s.predict(ctx, e, c, s.fillV1(ctx))
	if err != nil {
		h.fail(ctx, e.name, err)
		problem.Write(w, r, err)
		return
	}
	c.resp = s.appendV1(c.resp[:0], c, res)
	w.Header()["Content-Type"] = h.jsonCT
	_, _ = w.Write(c.resp)
}

// infer serves POST /v2/models/{name}[/versions/{version}]/infer, with JSON
// or binary tensors.
func (h *HTTP) infer(w http.ResponseWriter, r *http.Request) {
	s := h.s
	e, err := s.entry(r.PathValue("name"))
	if err != nil {
		h.oipError(w, err)
		return
	}
	c := s.getCall()
	defer s.putCall(c)
	if c.pin, err = parseVersion(r.PathValue("version")); err != nil {
		h.oipError(w, err)
		return
	}
	if err := h.readBody(r, c); err != nil {
		h.oipError(w, err)
		return
	}
	fill, err := h.decodeInfer(r, c)
	if err != nil {
		h.oipError(w, err)
		return
	}
	c.key = h.key(r, e.name, nil)
	ctx := r.Context()
	res, err := s.predict(ctx, e, c, fill)
	if err != nil {
		h.fail(ctx, e.name, err)
		h.oipError(w, err)
		return
	}
	var outs [4]oipOutput
	resp, jsonLen, bin := s.appendInferJSON(c.resp[:0], c, res.l, selectOutputs(outs[:0], c, res.l))
	c.resp = resp
	if bin {
		w.Header()["Content-Type"] = h.binCT
		w.Header()[headerInferLen] = []string{strconv.Itoa(jsonLen)}
	} else {
		w.Header()["Content-Type"] = h.jsonCT
	}
	_, _ = w.Write(resp)
}

// decodeInfer decodes a JSON or binary infer body and returns its filler.
func (h *HTTP) decodeInfer(r *http.Request, c *call) (filler, error) {
	c.req.reset()
	jsonLen := -1
	if v := r.Header[headerInferLen]; len(v) > 0 {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 0 {
			return nil, problem.Field(headerInferLen, "want a non-negative integer, got %q", v[0])
		}
		jsonLen = n
	}
	if jsonLen == 0 {
		return fillRaw, nil
	}
	err := c.req.decodeInferJSON(c.body, jsonLen)
	c.id = c.req.id
	return fillOIP, err
}

// parseVersion reads an optional version path segment.
func parseVersion(v string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		return 0, errorf(ErrVersionNotFound, "version %q is not a version number", v)
	}
	return n, nil
}

// key is the routing key: the entity, else the route header, else random.
func (h *HTTP) key(r *http.Request, model string, entity []byte) uint64 {
	if len(entity) > 0 {
		return routeKey(model, entity)
	}
	if v := r.Header[h.routeHeader]; len(v) > 0 && v[0] != "" {
		return routeKey(model, []byte(v[0]))
	}
	return randomKey()
}

// readBody reads the request body into c.body, refusing more than the
// configured maximum with 413.
func (h *HTTP) readBody(r *http.Request, c *call) error {
	limit := h.s.cfg.MaxBodyBytes
	if r.ContentLength > limit {
		return problem.FieldKind(problem.ErrTooLarge, "body", "larger than %d bytes", limit)
	}
	b := c.body[:0]
	if r.ContentLength > 0 && int64(cap(b)) < r.ContentLength {
		b = make([]byte, 0, r.ContentLength)
	}
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Body.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if int64(len(b)) > limit {
			c.body = b[:0]
			return problem.FieldKind(problem.ErrTooLarge, "body", "larger than %d bytes", limit)
		}
		if errors.Is(err, io.EOF) {
			c.body = b
			_ = r.Body.Close() // read to the end: net/http then skips draining it after the handler
			return nil
		}
		if err != nil {
			c.body = b[:0]
			return problem.Field("body", "read: %v", err)
		}
	}
}

// fail logs a model failure; client errors are not logged.
func (h *HTTP) fail(ctx context.Context, model string, err error) {
	if errors.Is(err, ErrModelFailed) {
		h.logger.ErrorContext(ctx, "prediction failed", "model", model, "err", err)
	}
}

// oipError writes the protocol's error shape with the status of err's
// kind.
func (h *HTTP) oipError(w http.ResponseWriter, err error) {
	msg := err.Error()
	if errors.Is(err, ErrModelFailed) {
		msg = "the model failed on this request"
	} else if !problem.IsKind(err) && !errors.Is(err, problem.ErrUnavailable) {
		msg = "internal error"
	}
	writeJSON(w, problem.Status(err), map[string]string{"error": msg})
}

func (h *HTTP) notFound(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusNotFound, map[string]string{"error": "no route " + r.Method + " " + r.URL.Path})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", contentJSON)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (h *HTTP) serverMetadata(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, h.s.ServerMetadata(h.version))
}

func (h *HTTP) live(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]bool{"live": true})
}

func (h *HTTP) ready(w http.ResponseWriter, r *http.Request) {
	if err := h.s.CheckReady(r.Context()); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "server is not ready"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ready": true})
}

func (h *HTTP) list(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string][]string{"models": h.s.ModelNames()})
}

func (h *HTTP) modelMetadata(w http.ResponseWriter, r *http.Request) {
	v, err := parseVersion(r.PathValue("version"))
	if err == nil {
		var md ModelMetadata
		if md, err = h.s.ModelMetadata(r.PathValue("name"), v); err == nil {
			writeJSON(w, http.StatusOK, md)
			return
		}
	}
	h.oipError(w, err)
}

func (h *HTTP) modelReady(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	v, err := parseVersion(r.PathValue("version"))
	if err == nil {
		err = h.s.ModelReady(name, v)
	}
	if err != nil {
		h.oipError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Name  string `json:"name"`
		Ready bool   `json:"ready"`
	}{name, true})
}

// ModelNames lists the served models in name order.
func (s *Service) ModelNames() []string {
	var names []string
	for _, e := range s.models.entries() {
		names = append(names, e.name)
	}
	slices.Sort(names)
	if names == nil {
		names = []string{}
	}
	return names
}
