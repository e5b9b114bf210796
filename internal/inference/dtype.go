package inference

import (
	"encoding/binary"
	"math"
)

// dtype is an Open Inference Protocol tensor datatype.
type dtype uint8

// The protocol's datatypes; dtInvalid is the zero value.
const (
	dtInvalid dtype = iota
	dtBool
	dtUint8
	dtUint16
	dtUint32
	dtUint64
	dtInt8
	dtInt16
	dtInt32
	dtInt64
	dtFP16
	dtFP32
	dtFP64
	dtBytes
	dtBF16
)

// dtNames is indexed by dtype.
var dtNames = [...]string{"", "BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16", "FP32", "FP64", "BYTES", "BF16"}

// dtSizes is the element size in bytes (0 for BYTES, which is variable).
var dtSizes = [...]int{0, 1, 1, 2, 4, 8, 1, 2, 4, 8, 2, 4, 8, 0, 2}

// String returns the protocol's name of d.
func (d dtype) String() string { return dtNames[d] }

// size is the byte size of one element, 0 for BYTES and invalid.
func (d dtype) size() int { return dtSizes[d] }

// integer reports whether d holds integers (BOOL included).
func (d dtype) integer() bool { return d >= dtBool && d <= dtInt64 }

// parseDtype maps a datatype name to its dtype, dtInvalid when unknown.
// It does not allocate.
func parseDtype(b []byte) dtype {
	for i := 1; i < len(dtNames); i++ {
		if string(b) == dtNames[i] {
			return dtype(i)
		}
	}
	return dtInvalid
}

// intRange is the inclusive range of an integer datatype.
func (d dtype) intRange() (lo, hi float64) {
	switch d {
	case dtBool:
		return 0, 1
	case dtUint8:
		return 0, math.MaxUint8
	case dtUint16:
		return 0, math.MaxUint16
	case dtUint32:
		return 0, math.MaxUint32
	case dtUint64:
		return 0, math.MaxUint64
	case dtInt8:
		return math.MinInt8, math.MaxInt8
	case dtInt16:
		return math.MinInt16, math.MaxInt16
	case dtInt32:
		return math.MinInt32, math.MaxInt32
	default:
		return math.MinInt64, math.MaxInt64
	}
}

// decodeLE appends the n little-endian elements of datatype d in raw to dst
// as float32 (the models' input type). The caller checked that
// len(raw) == n*d.size() and that d is numeric.
func decodeLE(dst []float32, d dtype, raw []byte) []float32 {
	sz := d.size()
	for i := 0; i+sz <= len(raw); i += sz {
		dst = append(dst, leValue(d, raw[i:i+sz]))
	}
	return dst
}

func leValue(d dtype, b []byte) float32 {
	switch d {
	case dtBool, dtUint8:
		return float32(b[0])
	case dtInt8:
		return float32(int8(b[0]))
	case dtUint16:
		return float32(binary.LittleEndian.Uint16(b))
	case dtInt16:
		return float32(int16(binary.LittleEndian.Uint16(b)))
	case dtUint32:
		return float32(binary.LittleEndian.Uint32(b))
	case dtInt32:
		return float32(int32(binary.LittleEndian.Uint32(b)))
	case dtUint64:
		return float32(binary.LittleEndian.Uint64(b))
	case dtInt64:
		return float32(int64(binary.LittleEndian.Uint64(b)))
	case dtFP16:
		return halfToFloat(binary.LittleEndian.Uint16(b))
	case dtBF16:
		return math.Float32frombits(uint32(binary.LittleEndian.Uint16(b)) << 16)
	case dtFP32:
		return math.Float32frombits(binary.LittleEndian.Uint32(b))
	default:
		return float32(math.Float64frombits(binary.LittleEndian.Uint64(b)))
	}
}

// halfToFloat converts an IEEE 754 half-precision value.
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | frac<<13)
	case exp == 0 && frac == 0:
		return math.Float32frombits(sign)
	case exp == 0:
		f := float32(frac) / 1024 / 16384
		if sign != 0 {
			return -f
		}
		return f
	}
	return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
}
