package gateway

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"time"

	"github.com/plinthai/plinth/internal/platform/problem"
	"github.com/plinthai/plinth/internal/platform/sqlstore"
)

// Idempotency headers.
const (
	IdempotencyKeyHeader      = "Idempotency-Key"
	IdempotentReplayedHeader  = "Idempotent-Replayed"
	maxIdempotencyKeyBytes    = 255
	idemStatePending          = "pending"
	idemStateDone             = "done"
	pendingGrace              = time.Minute
	maxHashedStreamBytes      = 8 << 30
	idempotencyPurgeBatchTime = 10 * time.Minute
)

// notReplayed are response headers that describe one exchange, not the
// result, so a replay does not repeat them.
var notReplayed = map[string]bool{"X-Request-Id": true, "Retry-After": true, headerRateLimit: true,
	headerRatePolicy: true, "Date": true, "Content-Length": true}

// CheckIdempotencyKey accepts 1 to 255 bytes of visible ASCII.
func CheckIdempotencyKey(key string) error {
	if key == "" || len(key) > maxIdempotencyKeyBytes {
		return problem.Field(IdempotencyKeyHeader, "must be 1 to %d bytes", maxIdempotencyKeyBytes)
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; c < '!' || c > '~' {
			return problem.Field(IdempotencyKeyHeader, "must be visible ASCII without spaces")
		}
	}
	return nil
}

// idemRecord is one stored key.
type idemRecord struct {
	State     string
	Hash      string
	Status    int
	Headers   http.Header
	Body      []byte
	CreatedAt time.Time
}

// IdempotencyStore keeps Idempotency-Key records in SQL. A key belongs to
// one principal, so two callers never see each other's responses. It is
// safe for concurrent use (and across processes sharing the database).
type IdempotencyStore struct {
	db  *sqlstore.DB
	ttl time.Duration
}

// NewIdempotencyStore returns a store keeping keys for ttl.
func NewIdempotencyStore(db *sqlstore.DB, ttl time.Duration) *IdempotencyStore {
	return &IdempotencyStore{db: db, ttl: ttl}
}

// claim inserts a pending record. When the key exists it returns the
// record instead; an expired record, or a pending one older than stale
// (its process died), is replaced.
func (s *IdempotencyStore) claim(ctx context.Context, principal, key string, stale time.Duration) (idemRecord, bool, error) {
	for attempt := 0; ; attempt++ {
		now := time.Now()
		res, err := s.db.ExecContext(ctx, `INSERT INTO gateway_idempotency (principal, idem_key, state, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
			principal, key, idemStatePending, now.UnixMicro())
		if err != nil {
			return idemRecord{}, false, fmt.Errorf("claim idempotency key: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return idemRecord{}, true, nil
		}
		rec, err := s.get(ctx, principal, key)
		if errors.Is(err, sql.ErrNoRows) && attempt < 2 {
			continue // deleted in between
		}
		if err != nil {
			return idemRecord{}, false, err
		}
		age := now.Sub(rec.CreatedAt)
		if attempt < 2 && (age > s.ttl || (rec.State == idemStatePending && age > stale)) {
			if _, err := s.db.ExecContext(ctx, `DELETE FROM gateway_idempotency WHERE principal = $1 AND idem_key = $2 AND created_at = $3`,
				principal, key, rec.CreatedAt.UnixMicro()); err != nil {
				return idemRecord{}, false, fmt.Errorf("expire idempotency key: %w", err)
			}
			continue
		}
		return rec, false, nil
	}
}

func (s *IdempotencyStore) get(ctx context.Context, principal, key string) (idemRecord, error) {
	var rec idemRecord
	var headers string
	var created int64
	err := s.db.QueryRowContext(ctx, `SELECT state, request_hash, status, headers, body, created_at FROM gateway_idempotency WHERE principal = $1 AND idem_key = $2`,
		principal, key).Scan(&rec.State, &rec.Hash, &rec.Status, &headers, &rec.Body, &created)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return rec, err
		}
		return rec, fmt.Errorf("read idempotency key: %w", err)
	}
	rec.CreatedAt = time.UnixMicro(created)
	if err := json.Unmarshal([]byte(headers), &rec.Headers); err != nil {
		return rec, fmt.Errorf("read idempotency key headers: %w", err)
	}
	return rec, nil
}

// complete stores the response of a claimed key.
func (s *IdempotencyStore) complete(ctx context.Context, principal, key, reqHash string, status int, headers http.Header, body []byte) error {
	h, err := json.Marshal(headers)
	if err != nil {
		return fmt.Errorf("store idempotent response: %w", err)
	}
	_, err = s.db.ExecContext(ctx, `UPDATE gateway_idempotency SET state = $1, request_hash = $2, status = $3, headers = $4, body = $5 WHERE principal = $6 AND idem_key = $7`,
		idemStateDone, reqHash, status, string(h), body, principal, key)
	if err != nil {
		return fmt.Errorf("store idempotent response: %w", err)
	}
	return nil
}

// release forgets a claimed key (the request failed in a way worth
// retrying).
func (s *IdempotencyStore) release(ctx context.Context, principal, key string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM gateway_idempotency WHERE principal = $1 AND idem_key = $2 AND state = $3`, principal, key, idemStatePending)
	if err != nil {
		return fmt.Errorf("release idempotency key: %w", err)
	}
	return nil
}

// Purge deletes records older than the TTL and returns how many.
func (s *IdempotencyStore) Purge(ctx context.Context) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM gateway_idempotency WHERE created_at < $1`, time.Now().Add(-s.ttl).UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("purge idempotency keys: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// requestHasher hashes what makes two requests "the same": method, URI
// and body, read as the handler reads it.
func requestHasher(r *http.Request) hash.Hash {
	h := sha256.New()
	fmt.Fprintf(h, "%s %s\n", r.Method, r.URL.RequestURI())
	return h
}

// hashBody reads the rest of r's body into h (bounded) and returns the sum.
func hashBody(r *http.Request, h hash.Hash) (string, error) {
	if r.Body != nil {
		if _, err := io.Copy(h, io.LimitReader(r.Body, maxHashedStreamBytes)); err != nil {
			return "", problem.Field("body", "read request body: %v", err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// teeBody feeds what the handler reads of a body into a hash.
type teeBody struct {
	io.Reader
	io.Closer
}

func teeReader(r io.Reader, h hash.Hash) io.Reader { return io.TeeReader(r, h) }

// captureWriter passes a response through and keeps a copy of its start.
type captureWriter struct {
	http.ResponseWriter
	status    int
	body      []byte
	max       int
	truncated bool
}

func (c *captureWriter) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *captureWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	if room := c.max - len(c.body); room >= len(b) {
		c.body = append(c.body, b...)
	} else {
		c.truncated = true
	}
	return c.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (c *captureWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// replayHeaders copies the headers worth storing.
func replayHeaders(h http.Header) http.Header {
	out := http.Header{}
	for k, vs := range h {
		if !notReplayed[http.CanonicalHeaderKey(k)] {
			out[k] = vs
		}
	}
	return out
}
