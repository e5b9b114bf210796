// Package artifact defines Plinth's model file: a versioned, self-describing
// envelope around one model's payload.
//
// Layout (all integers little-endian):
//
//	magic        8 bytes  "PLNTART1"
//	header_len   uint32   length of the JSON header, at most Limits.MaxHeader
//	header       JSON     Header
//	payload_len  uint64   length of the model payload, at most Limits.MaxPayload
//	payload      bytes    the model, in the format its Kind names
//	checksum     32 bytes sha256 of every byte before it
//
// The header says what the model expects (input schema, in order), how it was
// made (params, lineage), how good it was (metrics) and what its training data
// looked like (reference profile, for drift). The payload is opaque here: each
// learner package encodes and decodes its own, keyed by Kind and KindVersion.
//
// Read treats its input as untrusted: every length is bounded before anything
// is allocated, and a truncated or altered file is an error, never a panic.
package artifact

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"
)

// FormatVersion is the envelope version this package writes.
const FormatVersion = 1

const magic = "PLNTART1"

// Default limits for Read.
const (
	DefaultMaxHeader  = 16 << 20 // 16 MiB of JSON header
	DefaultMaxPayload = 1 << 30  // 1 GiB of model
	readChunk         = 64 << 10 // grow payload buffers in steps, never trusting the declared size
)

// Errors returned by Read.
var (
	// ErrFormat means the input is not a Plinth artifact or is corrupt.
	ErrFormat = errors.New("artifact: bad format")
	// ErrTooLarge means a declared length exceeds the reader's limits.
	ErrTooLarge = errors.New("artifact: too large")
	// ErrChecksum means the trailing checksum does not match the content.
	ErrChecksum = errors.New("artifact: checksum mismatch")
)

// Field describes one model input column.
type Field struct {
	Name string `json:"name"`
	// Type is "float", "int", "bool" or "category".
	Type string `json:"type"`
	// Categories lists the values of a categorical column in code order:
	// the value Categories[i] is encoded as float32(i).
	Categories []string `json:"categories,omitempty"`
}

// Lineage records where a model came from.
type Lineage struct {
	Dataset       string `json:"dataset,omitempty"`
	ParentVersion int64  `json:"parent_version,omitempty"`
	CodeVersion   string `json:"code_version,omitempty"`
	JobID         string `json:"job_id,omitempty"`
}

// Header is the self-describing part of an artifact.
type Header struct {
	FormatVersion int `json:"format_version"`
	// Kind names the payload encoding, for example "gbdt", "linear",
	// "iforest", "mf.sgd", "mf.als".
	Kind string `json:"kind"`
	// KindVersion is the payload encoding's own version.
	KindVersion int `json:"kind_version"`
	// Task is "binary", "regression", "multiclass", "anomaly" or "ranking".
	Task      string             `json:"task,omitempty"`
	Schema    []Field            `json:"schema,omitempty"`
	Params    map[string]string  `json:"params,omitempty"`
	Metrics   map[string]float64 `json:"metrics,omitempty"`
	Lineage   Lineage            `json:"lineage,omitzero"`
	Reference json.RawMessage    `json:"reference,omitempty"`
	Created   time.Time          `json:"created,omitzero"`
}

// Limits bound what Read accepts.
type Limits struct {
	MaxHeader  int64
	MaxPayload int64
}

// DefaultLimits are the limits Read uses when given a zero Limits.
var DefaultLimits = Limits{MaxHeader: DefaultMaxHeader, MaxPayload: DefaultMaxPayload}

// Write writes h and payload as one artifact. It sets h.FormatVersion.
func Write(w io.Writer, h Header, payload []byte) error {
	if h.Kind == "" {
		return fmt.Errorf("artifact: write: empty kind")
	}
	h.FormatVersion = FormatVersion
	hdr, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("artifact: encode header: %w", err)
	}
	sum := sha256.New()
	bw := bufio.NewWriter(io.MultiWriter(w, sum))
	var n [8]byte
	bw.WriteString(magic)
	binary.LittleEndian.PutUint32(n[:4], uint32(len(hdr)))
	bw.Write(n[:4])
	bw.Write(hdr)
	binary.LittleEndian.PutUint64(n[:], uint64(len(payload)))
	bw.Write(n[:])
	bw.Write(payload)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("artifact: write: %w", err)
	}
	if _, err := w.Write(sum.Sum(nil)); err != nil {
		return fmt.Errorf("artifact: write checksum: %w", err)
	}
	return nil
}

// Marshal returns the artifact bytes for h and payload.
func Marshal(h Header, payload []byte) ([]byte, error) {
	var buf bytes.Buffer
	if err := Write(&buf, h, payload); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Read reads one artifact from r, verifying its checksum. A zero Limits
// means DefaultLimits.
func Read(r io.Reader, lim Limits) (Header, []byte, error) {
	if lim.MaxHeader <= 0 {
		lim.MaxHeader = DefaultMaxHeader
	}
	if lim.MaxPayload <= 0 {
		lim.MaxPayload = DefaultMaxPayload
	}
	sum := sha256.New()
	tr := io.TeeReader(r, sum)
	var h Header
	var fixed [8]byte
	if _, err := io.ReadFull(tr, fixed[:]); err != nil || string(fixed[:]) != magic {
		return h, nil, fmt.Errorf("%w: missing magic", ErrFormat)
	}
	hdr, err := readBlock(tr, 4, lim.MaxHeader, "header")
	if err != nil {
		return h, nil, err
	}
	payload, err := readBlock(tr, 8, lim.MaxPayload, "payload")
	if err != nil {
		return h, nil, err
	}
	if err := checkSum(r, sum); err != nil {
		return h, nil, err
	}
	if err := json.Unmarshal(hdr, &h); err != nil {
		return h, nil, fmt.Errorf("%w: header: %v", ErrFormat, err)
	}
	if h.FormatVersion != FormatVersion {
		return h, nil, fmt.Errorf("%w: format version %d, want %d", ErrFormat, h.FormatVersion, FormatVersion)
	}
	if h.Kind == "" {
		return h, nil, fmt.Errorf("%w: header has no kind", ErrFormat)
	}
	return h, payload, nil
}

// ReadKind is Read of an artifact that must hold kind at kindVersion: a
// learner's Load. Another kind or version is an error wrapping errFormat,
// the learner's own error for foreign or corrupt artifacts.
func ReadKind(r io.Reader, lim Limits, kind string, kindVersion int, errFormat error) (Header, []byte, error) {
	h, payload, err := Read(r, lim)
	if err != nil {
		return h, nil, err
	}
	if h.Kind != kind || h.KindVersion != kindVersion {
		return h, nil, fmt.Errorf("%w: artifact kind %q version %d, want %q version %d", errFormat, h.Kind, h.KindVersion, kind, kindVersion)
	}
	return h, payload, nil
}

// CheckNames reports an error wrapping errFormat unless the header's
// schema names the model's inputs, in order.
func (h Header) CheckNames(names []string, errFormat error) error {
	if len(h.Schema) != len(names) {
		return fmt.Errorf("%w: schema has %d fields, model has %d inputs", errFormat, len(h.Schema), len(names))
	}
	for j, f := range h.Schema {
		if f.Name != names[j] {
			return fmt.Errorf("%w: schema field %d is %q, model input is %q", errFormat, j, f.Name, names[j])
		}
	}
	return nil
}

// Unmarshal reads an artifact from data with the given limits.
func Unmarshal(data []byte, lim Limits) (Header, []byte, error) {
	return Read(bytes.NewReader(data), lim)
}

// readBlock reads a length prefix of size bytes (4 or 8) and then that many
// bytes, refusing lengths over max and growing the buffer only as data
// actually arrives.
func readBlock(r io.Reader, size int, max int64, what string) ([]byte, error) {
	var n [8]byte
	if _, err := io.ReadFull(r, n[:size]); err != nil {
		return nil, fmt.Errorf("%w: %s length: %v", ErrFormat, what, err)
	}
	var length uint64
	if size == 4 {
		length = uint64(binary.LittleEndian.Uint32(n[:4]))
	} else {
		length = binary.LittleEndian.Uint64(n[:])
	}
	if length > uint64(max) {
		return nil, fmt.Errorf("%w: %s of %d bytes, limit %d", ErrTooLarge, what, length, max)
	}
	var buf bytes.Buffer
	buf.Grow(int(min(length, readChunk)))
	got, err := io.CopyN(&buf, r, int64(length))
	if err != nil {
		return nil, fmt.Errorf("%w: %s truncated at %d of %d bytes", ErrFormat, what, got, length)
	}
	return buf.Bytes(), nil
}

func checkSum(r io.Reader, sum hash.Hash) error {
	want := sum.Sum(nil)
	var got [sha256.Size]byte
	if _, err := io.ReadFull(r, got[:]); err != nil {
		return fmt.Errorf("%w: checksum truncated", ErrFormat)
	}
	if !bytes.Equal(got[:], want) {
		return ErrChecksum
	}
	return nil
}
