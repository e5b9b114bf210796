package gateway

import (
	"context"
	"encoding/hex"
	"io"
	"net/http"

	"github.com/plinthai/plinth/internal/platform/auth"
	"github.com/plinthai/plinth/internal/platform/problem"
)

// idempotent serves a mutating request that carries an Idempotency-Key:
// the first request runs and its response is stored with a hash of the
// request; a replay gets the stored response with Idempotent-Replayed:
// true; the same key for a different request gets 422, and a duplicate
// while the first runs gets 409. A 5xx answer is not stored, so the client
// may retry with the same key.
func (s *Service) idempotent(w http.ResponseWriter, r *http.Request, op Operation, p auth.Principal, next http.Handler) {
	key := r.Header.Get(IdempotencyKeyHeader)
	if err := CheckIdempotencyKey(key); err != nil {
		problem.Write(w, r, err)
		return
	}
	rec, claimed, err := s.idem.claim(r.Context(), p.Subject, key, s.timeout(op)+pendingGrace)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !claimed {
		s.replay(w, r, rec)
		return
	}
	s.metrics.idempotency.WithLabelValues("first").Inc()
	s.runAndStore(w, r, p.Subject, key, next)
}

// replay answers a request whose key is known.
func (s *Service) replay(w http.ResponseWriter, r *http.Request, rec idemRecord) {
	if rec.State == idemStatePending {
		s.metrics.idempotency.WithLabelValues("conflict").Inc()
		w.Header().Set("Retry-After", "1")
		problem.Write(w, r, ErrIdempotencyInFlight)
		return
	}
	sum, err := hashBody(r, requestHasher(r))
	if err != nil {
		problem.Write(w, r, err)
		return
	}
	if sum != rec.Hash {
		s.metrics.idempotency.WithLabelValues("mismatch").Inc()
		problem.Write(w, r, ErrIdempotencyMismatch)
		return
	}
	s.metrics.idempotency.WithLabelValues("replayed").Inc()
	for k, vs := range rec.Headers {
		w.Header()[k] = vs
	}
	w.Header().Set(IdempotentReplayedHeader, "true")
	w.WriteHeader(rec.Status)
	_, _ = w.Write(rec.Body)
}

// runAndStore runs the handler with the body hashed as it is read and the
// response captured, then stores both (or releases the key on a 5xx or a
// panic).
func (s *Service) runAndStore(w http.ResponseWriter, r *http.Request, principal, key string, next http.Handler) {
	h := requestHasher(r)
	if r.Body != nil {
		r.Body = teeBody{Reader: teeReader(r.Body, h), Closer: r.Body}
	}
	cw := &captureWriter{ResponseWriter: w, max: s.cfg.Idempotency.MaxStoredBytes}
	store := context.WithoutCancel(r.Context())
	stored := false
	defer func() {
		if !stored {
			if err := s.idem.release(store, principal, key); err != nil {
				s.logger.WarnContext(store, "release idempotency key", "err", err)
			}
		}
	}()
	next.ServeHTTP(cw, r)
	if cw.status == 0 {
		cw.status = http.StatusOK
	}
	if cw.status >= 500 {
		return
	}
	// Whatever the handler left unread still counts: drain it through the tee.
	if r.Body != nil {
		if _, err := io.Copy(io.Discard, io.LimitReader(r.Body, maxHashedStreamBytes)); err != nil {
			return
		}
	}
	sum := hex.EncodeToString(h.Sum(nil))
	body := cw.body
	if cw.truncated {
		body = nil
	}
	if err := s.idem.complete(store, principal, key, sum, cw.status, replayHeaders(w.Header()), body); err != nil {
		s.logger.ErrorContext(store, "store idempotent response", "err", err)
		return
	}
	stored = true
}

// fail answers an unexpected error (logged) as a problem.
func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	if problem.Status(err) >= 500 {
		s.logger.ErrorContext(r.Context(), "gateway request failed", "route", r.Pattern, "err", err)
	}
	problem.Write(w, r, err)
}
