package inference

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

	"github.com/plinthai/plinth/internal/platform/problem"
)

// maxDims bounds a tensor's rank; the protocol's models use two.
const maxDims = 8

// tensor is one decoded input tensor. Numeric and BOOL elements are held
// as float32, the models' input type; BYTES elements as byte slices that
// point into the request body or the scanner's arena. Its slices are
// reused across requests.
type tensor struct {
	name    []byte
	dt      dtype
	shape   [maxDims]int64
	ndim    int
	hasData bool
	binSize int64 // parameters.binary_data_size, -1 when absent
	f32     []float32
	strs    [][]byte
	// dataAt and dataEnd mark a JSON data array read before the datatype.
	dataAt, dataEnd int
	// contents holds a gRPC input's encoded contents message(s), read
	// once the datatype is known.
	contents [][]byte
}

func (t *tensor) reset() {
	t.name, t.dt, t.ndim, t.hasData, t.binSize = nil, dtInvalid, 0, false, -1
	t.f32, t.strs = t.f32[:0], t.strs[:0]
	t.dataAt, t.dataEnd = 0, 0
	t.contents = t.contents[:0]
}

// elems is the element count the shape declares.
func (t *tensor) elems() int64 {
	n := int64(1)
	for _, d := range t.shape[:t.ndim] {
		n *= d
	}
	return n
}

// count is how many elements were decoded.
func (t *tensor) count() int {
	if t.dt == dtBytes {
		return len(t.strs)
	}
	return len(t.f32)
}

// field names the tensor in error messages.
func (t *tensor) field() string { return "inputs." + string(t.name) }

// appendShape writes the shape as a JSON array.
func appendShape(b []byte, shape []int64) []byte {
	b = append(b, '[')
	for i, d := range shape {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, d, 10)
	}
	return append(b, ']')
}

// checkShape verifies that the shape is valid and matches the data.
func (t *tensor) checkShape() error {
	if t.ndim == 0 {
		return problem.Field(t.field(), "shape is missing")
	}
	n := int64(1)
	for _, d := range t.shape[:t.ndim] {
		if d < 0 {
			return problem.Field(t.field(), "shape %s has a negative dimension", appendShape(nil, t.shape[:t.ndim]))
		}
		if d > 0 && n > math.MaxInt32/d {
			return problem.Field(t.field(), "shape %s is too large", appendShape(nil, t.shape[:t.ndim]))
		}
		n *= d
	}
	if int64(t.count()) != n {
		return problem.Field(t.field(), "shape %s holds %d elements, data has %d", appendShape(nil, t.shape[:t.ndim]), n, t.count())
	}
	return nil
}

// addNumber appends one JSON number, checking it fits the datatype.
func (t *tensor) addNumber(v float64) error {
	switch {
	case t.dt == dtBytes || t.dt == dtInvalid:
		return problem.Field(t.field(), "datatype %s cannot hold the number %g", t.dt, v)
	case t.dt.integer():
		lo, hi := t.dt.intRange()
		if v != math.Trunc(v) || v < lo || v > hi {
			return problem.Field(t.field(), "%g is not a valid %s", v, t.dt)
		}
	case math.IsInf(v, 0):
		return problem.Field(t.field(), "number out of range for %s", t.dt)
	}
	t.f32 = append(t.f32, float32(v))
	return nil
}

// setRaw decodes binary tensor data (little-endian, row-major; BYTES as
// 4-byte length prefixed elements) of the declared datatype and shape.
func (t *tensor) setRaw(raw []byte) error {
	if t.dt == dtBytes {
		return t.setRawBytes(raw)
	}
	want := t.elems() * int64(t.dt.size())
	if int64(len(raw)) != want {
		return problem.Field(t.field(), "binary data has %d bytes, shape %s of %s needs %d", len(raw), appendShape(nil, t.shape[:t.ndim]), t.dt, want)
	}
	t.f32 = decodeLE(t.f32[:0], t.dt, raw)
	t.hasData = true
	return nil
}

func (t *tensor) setRawBytes(raw []byte) error {
	t.strs = t.strs[:0]
	for len(raw) > 0 {
		if len(raw) < 4 {
			return problem.Field(t.field(), "binary BYTES element is truncated")
		}
		n := binary.LittleEndian.Uint32(raw)
		if uint64(n) > uint64(len(raw)-4) {
			return problem.Field(t.field(), "binary BYTES element of %d bytes overruns the data", n)
		}
		t.strs = append(t.strs, raw[4:4+n:4+n])
		raw = raw[4+n:]
	}
	t.hasData = true
	return nil
}

func (t *tensor) String() string {
	return fmt.Sprintf("%s %s %v", t.name, t.dt, t.shape[:t.ndim])
}
