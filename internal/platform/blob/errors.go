package blob

import "errors"

var (
	// ErrTooLarge is returned by Put when the input exceeds its size limit;
	// nothing is stored.
	ErrTooLarge = errors.New("blob too large")
	// ErrChecksum is returned by Put when the input's SHA-256 differs from
	// the expected one; nothing is stored.
	ErrChecksum = errors.New("blob checksum mismatch")
	// ErrNotFound is returned by Get and GetKey for a missing blob.
	ErrNotFound = errors.New("blob not found")
	// ErrInvalidKey is returned for a malformed hash or key.
	ErrInvalidKey = errors.New("invalid blob key")
)
