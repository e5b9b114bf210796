// Package binenc is the little-endian encoding the ml/ learners use for
// their artifact payloads. Decoder treats its input as untrusted: it never
// reads past the end, never allocates more than the bytes that remain can
// hold, and keeps the first error, so a decode function reads field after
// field and checks once.
package binenc

import (
	"encoding/binary"
	"fmt"
	"math"
)

// AppendStr appends s with a uint16 length prefix; longer strings are cut
// at 65,535 bytes.
func AppendStr(b []byte, s string) []byte {
	if len(s) > math.MaxUint16 {
		s = s[:math.MaxUint16]
	}
	b = binary.LittleEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

// AppendF64 appends a float64.
func AppendF64(b []byte, v float64) []byte {
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
}

// AppendF32 appends a float32.
func AppendF32(b []byte, v float32) []byte {
	return binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
}

// AppendU32 appends a uint32.
func AppendU32(b []byte, v uint32) []byte { return binary.LittleEndian.AppendUint32(b, v) }

// Decoder reads values from a payload. After the first failure every read
// returns a zero value and Err reports that failure, wrapped in the
// sentinel given to NewDecoder.
type Decoder struct {
	b        []byte
	off      int
	err      error
	sentinel error
}

// NewDecoder reads b; its errors wrap sentinel (the package's ErrFormat).
func NewDecoder(b []byte, sentinel error) *Decoder { return &Decoder{b: b, sentinel: sentinel} }

// Err returns the first failure, or nil.
func (d *Decoder) Err() error { return d.err }

// Len returns the number of unread bytes.
func (d *Decoder) Len() int { return len(d.b) - d.off }

// Fail records a failure (unless one is recorded already).
func (d *Decoder) Fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", d.sentinel, fmt.Sprintf(format, args...))
	}
}

// Bytes returns the next n bytes (aliasing the input), or nil after
// recording a failure if fewer remain.
func (d *Decoder) Bytes(n uint64) []byte {
	if d.err != nil {
		return nil
	}
	if n > uint64(d.Len()) {
		d.Fail("truncated: %d bytes wanted at offset %d, %d left", n, d.off, d.Len())
		return nil
	}
	v := d.b[d.off : d.off+int(n)]
	d.off += int(n)
	return v
}

// U8 reads a byte.
func (d *Decoder) U8() byte {
	if v := d.Bytes(1); v != nil {
		return v[0]
	}
	return 0
}

// U16 reads a uint16.
func (d *Decoder) U16() uint16 {
	if v := d.Bytes(2); v != nil {
		return binary.LittleEndian.Uint16(v)
	}
	return 0
}

// U32 reads a uint32.
func (d *Decoder) U32() uint32 {
	if v := d.Bytes(4); v != nil {
		return binary.LittleEndian.Uint32(v)
	}
	return 0
}

// F32 reads a float32.
func (d *Decoder) F32() float32 { return math.Float32frombits(d.U32()) }

// F64 reads a float64.
func (d *Decoder) F64() float64 {
	if v := d.Bytes(8); v != nil {
		return math.Float64frombits(binary.LittleEndian.Uint64(v))
	}
	return 0
}

// Str reads a string written by AppendStr.
func (d *Decoder) Str() string { return string(d.Bytes(uint64(d.U16()))) }

// Count reads a uint32 count of items of size bytes each and fails if the
// payload cannot hold that many, so callers may allocate count items.
func (d *Decoder) Count(size int, what string) int {
	n := d.U32()
	if d.err == nil && uint64(n)*uint64(size) > uint64(d.Len()) {
		d.Fail("%s: %d items of %d bytes, only %d bytes left", what, n, size, d.Len())
		return 0
	}
	return int(n)
}

// F64s reads n finite float64 values.
func (d *Decoder) F64s(n uint64, what string) []float64 {
	if n > math.MaxUint64/8 {
		d.Fail("%s: %d values", what, n)
		return nil
	}
	b := d.Bytes(n * 8)
	if b == nil {
		return nil
	}
	out := make([]float64, n)
	for j := range out {
		v := math.Float64frombits(binary.LittleEndian.Uint64(b[8*j:]))
		if math.IsNaN(v) || math.IsInf(v, 0) {
			d.Fail("%s: value %d is %v", what, j, v)
			return nil
		}
		out[j] = v
	}
	return out
}

// I32s reads n uint32 values, each at most limit, as int32.
func (d *Decoder) I32s(n uint64, limit uint32, what string) []int32 {
	if n > math.MaxUint64/4 || limit > math.MaxInt32 {
		d.Fail("%s: %d values, limit %d", what, n, limit)
		return nil
	}
	b := d.Bytes(n * 4)
	if b == nil {
		return nil
	}
	out := make([]int32, n)
	for j := range out {
		v := binary.LittleEndian.Uint32(b[4*j:])
		if v > limit {
			d.Fail("%s: value %d is %d, limit %d", what, j, v, limit)
			return nil
		}
		out[j] = int32(v)
	}
	return out
}

// Finish returns the first failure, or an error if bytes remain unread.
func (d *Decoder) Finish() error {
	if d.err == nil && d.Len() != 0 {
		d.Fail("%d trailing bytes", d.Len())
	}
	return d.err
}
