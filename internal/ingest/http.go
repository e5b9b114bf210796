package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/plinthai/plinth/internal/platform/httpx"
	"github.com/plinthai/plinth/internal/platform/problem"
)

// Media types of NDJSON bodies; anything else JSON-like is one event or an array.
var ndjsonTypes = map[string]bool{"application/x-ndjson": true, "application/ndjson": true, "application/jsonl": true, "application/jsonlines": true}

// HTTP is the ingest REST transport under /v1. It maps errors to status
// codes and nothing else.
type HTTP struct {
	api        API
	cfg        Config
	retryAfter time.Duration
	logger     *slog.Logger
	scratch    sync.Pool // of *scratch
}

// scratch is the memory of one request: its body and the events that
// alias it. The service has copied the events to the bus connection when
// it answers, so the next request may reuse it.
type scratch struct {
	body   bytes.Buffer
	events [][]byte
}

// maxPooledBody bounds the buffers kept for reuse: a rare huge body is
// left to the collector.
const maxPooledBody = 1 << 20

// NewHTTP returns the REST transport over api, with the body and batch
// limits of cfg.
func NewHTTP(api API, cfg Config, logger *slog.Logger) *HTTP {
	return &HTTP{api: api, cfg: cfg, retryAfter: cfg.RetryAfter, logger: logger}
}

// Register adds the routes to mux; POST /v1/models/{model}/feedback when
// the API takes labels (the Service does).
func (h *HTTP) Register(mux httpx.Router) {
	mux.HandleFunc("POST /v1/events/{stream}", h.ingest)
	if f, ok := h.api.(feedbackAPI); ok {
		mux.HandleFunc("POST /v1/models/{model}/feedback", func(w http.ResponseWriter, r *http.Request) { h.feedback(w, r, f) })
	}
}

// feedbackAPI takes labels (Service.Feedback).
type feedbackAPI interface {
	Feedback(ctx context.Context, model string, labels [][]byte) (Result, error)
}

// feedback is POST /v1/models/{model}/feedback: one label, a JSON array or
// NDJSON, answered like an events batch.
func (h *HTTP) feedback(w http.ResponseWriter, r *http.Request, api feedbackAPI) {
	ndjson, err := bodyFormat(r.Header.Get("Content-Type"))
	if err != nil {
		problem.Write(w, r, err)
		return
	}
	var buf bytes.Buffer
	body, err := readBody(w, r, h.cfg.MaxBodyBytes, &buf)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			err = problem.FieldKind(problem.ErrTooLarge, "body", "larger than %d bytes", h.cfg.MaxBodyBytes)
		}
		h.fail(w, r, err)
		return
	}
	labels, single, err := SplitBody(body, ndjson, h.cfg.MaxBatch)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	res, err := api.Feedback(r.Context(), r.PathValue("model"), labels)
	h.answer(w, r, res, single, err)
}

// batchProblem is a problem document that also reports every event.
type batchProblem struct {
	problem.Details
	Result
}

func (h *HTTP) ingest(w http.ResponseWriter, r *http.Request) {
	ndjson, err := bodyFormat(r.Header.Get("Content-Type"))
	if err != nil {
		problem.Write(w, r, err)
		return
	}
	sc, _ := h.scratch.Get().(*scratch)
	if sc == nil {
		sc = &scratch{}
	}
	defer h.release(sc)
	body, err := readBody(w, r, h.cfg.MaxBodyBytes, &sc.body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			err = problem.FieldKind(problem.ErrTooLarge, "body", "larger than %d bytes", h.cfg.MaxBodyBytes)
		}
		h.fail(w, r, err)
		return
	}
	events, single, err := splitBody(body, ndjson, h.cfg.MaxBatch, sc.events[:0])
	if err != nil {
		h.fail(w, r, err)
		return
	}
	sc.events = events
	res, err := h.api.Ingest(r.Context(), r.PathValue("stream"), events)
	h.answer(w, r, res, single, err)
}

func (h *HTTP) release(sc *scratch) {
	if sc.body.Cap() > maxPooledBody {
		return
	}
	sc.body.Reset()
	clear(sc.events)
	h.scratch.Put(sc)
}

// readBody reads the whole body, at most max bytes, into buf, grown first
// to Content-Length when the client sent it.
func readBody(w http.ResponseWriter, r *http.Request, max int64, buf *bytes.Buffer) ([]byte, error) {
	if n := r.ContentLength; n > 0 && n <= max {
		buf.Grow(int(n) + 1)
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, max))
	return buf.Bytes(), err
}

func bodyFormat(ct string) (ndjson bool, err error) {
	if ct == "" {
		return false, nil
	}
	mt, _, perr := mime.ParseMediaType(ct)
	switch {
	case perr != nil:
	case ndjsonTypes[mt]:
		return true, nil
	case mt == "application/json":
		return false, nil
	}
	return false, problem.Field("Content-Type", "want application/json or application/x-ndjson, got %q", ct)
}

func (h *HTTP) answer(w http.ResponseWriter, r *http.Request, res Result, single bool, err error) {
	switch {
	case errors.Is(err, ErrOverloaded):
		h.writeBatch(w, r, http.StatusTooManyRequests, res, err)
	case errors.Is(err, ErrBusy):
		h.writeBatch(w, r, http.StatusServiceUnavailable, res, err)
	case err != nil:
		h.fail(w, r, err)
	case single && len(res.Rejected) == 1:
		rej := res.Rejected[0]
		problem.Write(w, r, problem.Field(rej.Field, "%s", rej.Reason))
	case res.Accepted == 0 && len(res.Rejected) > 0:
		rej := res.Rejected[0]
		h.writeBatch(w, r, http.StatusBadRequest, res, problem.Field(fmt.Sprintf("[%d].%s", rej.Index, rej.Field), "%s", rej.Reason))
	default:
		httpx.WriteJSON(w, http.StatusOK, res)
	}
}

// writeBatch sends a problem document with the per-event report; for 429
// and 503 it advises Retry-After.
func (h *HTTP) writeBatch(w http.ResponseWriter, r *http.Request, status int, res Result, err error) {
	slug := problem.Slug(err)
	if status == http.StatusTooManyRequests {
		slug = "too-many-requests"
	}
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(h.retryAfter.Round(time.Second)/time.Second))))
	}
	d := problem.Details{
		Type: problem.TypePrefix + slug, Title: http.StatusText(status), Status: status,
		Detail: err.Error(), Instance: r.URL.Path, Field: problem.FieldOf(err), RequestID: w.Header().Get("X-Request-Id"),
	}
	var fe *problem.FieldError
	if errors.As(err, &fe) {
		d.Detail = fe.Reason
	}
	w.Header().Set("Content-Type", problem.ContentType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(batchProblem{Details: d, Result: res})
}

func (h *HTTP) fail(w http.ResponseWriter, r *http.Request, err error) {
	if problem.Status(err) >= 500 {
		h.logger.ErrorContext(r.Context(), "ingest request failed", "route", r.Pattern, "err", err)
	}
	problem.Write(w, r, err)
}
