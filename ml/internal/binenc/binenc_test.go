package binenc

import (
	"errors"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var errFormat = errors.New("bad payload")

func TestRoundTrip(t *testing.T) {
	b := AppendU32(nil, 3)
	b = AppendF64(b, 1.5)
	b = AppendF32(b, -2)
	b = AppendStr(b, "amount")
	b = append(b, 7)
	b = AppendF64(AppendF64(b, 0.25), 4)
	b = AppendU32(AppendU32(b, 1), 2)
	d := NewDecoder(b, errFormat)
	got := []any{d.U32(), d.F64(), d.F32(), d.Str(), d.U8(), d.F64s(2, "xs"), d.I32s(2, 5, "ids")}
	want := []any{uint32(3), 1.5, float32(-2), "amount", byte(7), []float64{0.25, 4}, []int32{1, 2}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if err := d.Finish(); err != nil {
		t.Error(err)
	}
}

func TestFailures(t *testing.T) {
	tests := []struct {
		name string
		read func(*Decoder)
		data []byte
	}{
		{"truncated", func(d *Decoder) { d.F64() }, []byte{1, 2, 3}},
		{"huge count", func(d *Decoder) { d.Count(8, "rows") }, AppendU32(nil, math.MaxUint32)},
		{"non-finite", func(d *Decoder) { d.F64s(1, "xs") }, AppendF64(nil, math.NaN())},
		{"over limit", func(d *Decoder) { d.I32s(1, 3, "ids") }, AppendU32(nil, 4)},
		{"trailing", func(d *Decoder) { d.U8() }, []byte{1, 2}},
		{"huge n", func(d *Decoder) { d.F64s(math.MaxUint64, "xs") }, nil},
	}
	for _, tt := range tests {
		d := NewDecoder(tt.data, errFormat)
		tt.read(d)
		if err := d.Finish(); !errors.Is(err, errFormat) {
			t.Errorf("%s: got %v, want an error wrapping the sentinel", tt.name, err)
		}
		if d.U32() != 0 || d.Str() != "" {
			t.Errorf("%s: reads after a failure must return zero values", tt.name)
		}
	}
}
