package linear

import (
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/plinthai/plinth/ml/internal/binenc"
	"io"
	"math"

	"github.com/plinthai/plinth/ml/artifact"
)

// Kind and KindVersion identify this package's payload in an artifact.
const (
	Kind        = "linear"
	KindVersion = 1
)

// ErrFormat is wrapped by every error about a malformed payload.
var ErrFormat = errors.New("linear: bad payload")

// Save writes m as a Plinth artifact. It sets h.Kind, h.KindVersion and
// h.Task, and fills h.Schema with one float field per input when it is empty;
// a non-empty schema must name the model's inputs in order.
func (m *Model) Save(w io.Writer, h artifact.Header) error {
	h, err := m.header(h)
	if err != nil {
		return err
	}
	if err := artifact.Write(w, h, m.payload()); err != nil {
		return fmt.Errorf("linear: save: %w", err)
	}
	return nil
}

func (m *Model) header(h artifact.Header) (artifact.Header, error) {
	h.Kind, h.KindVersion, h.Task = Kind, KindVersion, "binary"
	if len(h.Schema) == 0 {
		h.Schema = make([]artifact.Field, len(m.Names))
		for j, n := range m.Names {
			h.Schema[j] = artifact.Field{Name: n, Type: "float"}
		}
	}
	return h, h.CheckNames(m.Names, ErrFormat)
}

// payload encodes m: d uint32, iter uint32, converged uint8, intercept
// float64, then per input a name (uint16 length + bytes), mean, scale, coef.
func (m *Model) payload() []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(len(m.Coef)))
	b = binary.LittleEndian.AppendUint32(b, uint32(m.Iter))
	conv := byte(0)
	if m.Converged {
		conv = 1
	}
	b = append(b, conv)
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(m.Intercept))
	for j, name := range m.Names {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(name)))
		b = append(b, name...)
		for _, v := range [3]float64{m.Mean[j], m.Scale[j], m.Coef[j]} {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		}
	}
	return b
}

// Load reads a model saved by Save. It treats r as untrusted: lengths are
// bounded by the data actually present, and a corrupt, foreign or
// inconsistent artifact is an error, never a panic.
func Load(r io.Reader) (*Model, artifact.Header, error) {
	h, payload, err := artifact.ReadKind(r, artifact.Limits{}, Kind, KindVersion, ErrFormat)
	if err != nil {
		return nil, h, fmt.Errorf("linear: load: %w", err)
	}
	m, err := decode(payload)
	if err != nil {
		return nil, h, err
	}
	if err := h.CheckNames(m.Names, ErrFormat); err != nil {
		return nil, h, err
	}
	return m, h, nil
}

// decode parses a payload written by Model.payload.
func decode(b []byte) (*Model, error) {
	d := binenc.NewDecoder(b, ErrFormat)
	n := int(d.U32())
	iter := d.U32()
	conv := d.U8()
	m := &Model{Intercept: d.F64(), Iter: int(iter), Converged: conv == 1}
	if conv > 1 {
		return nil, fmt.Errorf("%w: converged flag %d", ErrFormat, conv)
	}
	if d.Err() == nil && n > d.Len()/26 {
		return nil, fmt.Errorf("%w: %d inputs in %d bytes", ErrFormat, n, len(b))
	}
	for j := 0; j < n && d.Err() == nil; j++ {
		m.Names = append(m.Names, d.Str())
		m.Mean = append(m.Mean, d.F64())
		m.Scale = append(m.Scale, d.F64())
		m.Coef = append(m.Coef, d.F64())
	}
	if err := d.Finish(); err != nil {
		return nil, err
	}
	return m, m.validate()
}

// validate checks the decoded numbers can be used for prediction.
func (m *Model) validate() error {
	if len(m.Coef) == 0 {
		return fmt.Errorf("%w: model has no inputs", ErrFormat)
	}
	if !finite(m.Intercept) {
		return fmt.Errorf("%w: intercept is %v", ErrFormat, m.Intercept)
	}
	for j := range m.Coef {
		if !finite(m.Mean[j]) || !finite(m.Coef[j]) || !finite(m.Scale[j]) || m.Scale[j] <= 0 {
			return fmt.Errorf("%w: input %q has mean %v, scale %v, coef %v", ErrFormat, m.Names[j], m.Mean[j], m.Scale[j], m.Coef[j])
		}
	}
	return nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
