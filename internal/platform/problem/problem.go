// Package problem is Plinth's error vocabulary across transports. Domain
// code wraps one of the kind sentinels below (errors.Is finds them), or
// returns a *FieldError for bad input; the transports translate kinds to
// HTTP status codes with application/problem+json bodies (RFC 9457) and to
// gRPC status codes, and the gRPC clients translate back, so a caller sees
// the same error whether the service runs in its process or across the
// network.
package problem

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Kinds of failure. Each maps to one HTTP status and one gRPC code.
var (
	// ErrInvalid means the request is malformed; HTTP 400.
	ErrInvalid = errors.New("invalid argument")
	// ErrNotFound means a named resource does not exist; HTTP 404.
	ErrNotFound = errors.New("not found")
	// ErrConflict means the request conflicts with current state; HTTP 409.
	ErrConflict = errors.New("conflict")
	// ErrPrecondition means an If-Match style precondition failed; HTTP 412.
	ErrPrecondition = errors.New("precondition failed")
	// ErrTooLarge means a body or upload exceeds its limit; HTTP 413.
	ErrTooLarge = errors.New("too large")
	// ErrUnprocessable means well-formed input failed a semantic check,
	// such as a checksum; HTTP 422.
	ErrUnprocessable = errors.New("unprocessable")
	// ErrUnavailable means the service cannot serve now; retry later; HTTP 503.
	ErrUnavailable = errors.New("unavailable")
	// ErrUnauthenticated means credentials are missing or invalid; HTTP 401.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrForbidden means the principal lacks a permission; HTTP 403.
	ErrForbidden = errors.New("forbidden")
	// ErrTimeout means the request ran past its deadline; HTTP 504. An
	// error wrapping context.DeadlineExceeded is of this kind too.
	ErrTimeout = errors.New("timeout")
)

// kind describes one failure kind on every transport.
type kind struct {
	err    error
	status int
	slug   string
}

var kinds = []kind{
	{ErrInvalid, http.StatusBadRequest, "invalid-argument"},
	{ErrNotFound, http.StatusNotFound, "not-found"},
	{ErrConflict, http.StatusConflict, "conflict"},
	{ErrPrecondition, http.StatusPreconditionFailed, "precondition-failed"},
	{ErrTooLarge, http.StatusRequestEntityTooLarge, "too-large"},
	{ErrUnprocessable, http.StatusUnprocessableEntity, "unprocessable"},
	{ErrUnavailable, http.StatusServiceUnavailable, "unavailable"},
	{ErrUnauthenticated, http.StatusUnauthorized, "unauthenticated"},
	{ErrForbidden, http.StatusForbidden, "forbidden"},
	{ErrTimeout, http.StatusGatewayTimeout, "timeout"},
}

// TypePrefix starts every problem type URI; the slug after it is stable.
const TypePrefix = "urn:plinth:problem:"

// FieldError is bad input in one named field. Field uses the wire name,
// with dots and indexes for nesting, such as "lineage.dataset" or
// "events[3].amount".
type FieldError struct {
	Field  string
	Reason string
	Kind   error // one of the kind sentinels; nil means ErrInvalid
}

// Error implements error.
func (e *FieldError) Error() string { return fmt.Sprintf("%s: %s", e.Field, e.Reason) }

// Unwrap returns the kind, so errors.Is(err, ErrInvalid) holds.
func (e *FieldError) Unwrap() error {
	if e.Kind == nil {
		return ErrInvalid
	}
	return e.Kind
}

// Field returns an ErrInvalid FieldError.
func Field(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// FieldKind returns a FieldError of the given kind.
func FieldKind(kind error, field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...), Kind: kind}
}

// Wrap returns an error of the given kind with a message.
func Wrap(kind error, format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), kind)
}

// Status returns the HTTP status for err: the kind's status, or 500 for an
// error of no known kind.
func Status(err error) int {
	if k, ok := kindOf(err); ok {
		return k.status
	}
	return http.StatusInternalServerError
}

// FieldOf returns the field named by the first FieldError in err's chain.
func FieldOf(err error) string {
	err = fromStdlib(err)
	var fe *FieldError
	if errors.As(err, &fe) {
		return fe.Field
	}
	return ""
}

// fromStdlib gives the standard library's errors that are the client's
// doing their kind: a body over http.MaxBytesReader's limit (one sent
// without a declared length) is the body's 413.
func fromStdlib(err error) error {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return FieldKind(ErrTooLarge, "body", "larger than the limit of %d bytes", mb.Limit)
	}
	return err
}

func kindOf(err error) (kind, bool) {
	err = fromStdlib(err)
	if errors.Is(err, context.DeadlineExceeded) {
		err = ErrTimeout
	}
	for _, k := range kinds {
		if errors.Is(err, k.err) {
			return k, true
		}
	}
	return kind{}, false
}

func kindBySlug(slug string) (kind, bool) {
	for _, k := range kinds {
		if k.slug == slug {
			return k, true
		}
	}
	return kind{}, false
}

// Slug returns the stable slug of err's kind ("internal" when none).
func Slug(err error) string {
	if k, ok := kindOf(err); ok {
		return k.slug
	}
	return "internal"
}

// detail is the message a client may see: the error text for known kinds
// without the trailing kind name, a fixed text for internal errors (their
// details go to the log, never to the client).
func detail(err error) string {
	k, ok := kindOf(err)
	if !ok {
		return "internal error"
	}
	err = fromStdlib(err)
	msg := err.Error()
	var fe *FieldError
	if errors.As(err, &fe) {
		return fe.Reason
	}
	return strings.TrimSuffix(msg, ": "+k.err.Error())
}
