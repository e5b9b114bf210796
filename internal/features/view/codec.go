package view

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// codecVersion starts every encoded state.
const codecVersion = 1

// ErrCorrupt means encoded state does not fit the view: corrupt bytes, or
// state written under a different declaration of the view.
var ErrCorrupt = errors.New("corrupt or foreign feature state")

// AppendState appends the binary encoding of s to dst. Only non-empty
// slots are written. Equal states encode to equal bytes.
func (v *View) AppendState(dst []byte, s *State) []byte {
	dst = append(dst, codecVersion)
	dst = binary.AppendVarint(dst, s.Watermark)
	dst = binary.AppendUvarint(dst, uint64(len(s.seen)))
	for _, e := range s.seen {
		dst = binary.LittleEndian.AppendUint64(dst, e.id)
		dst = binary.AppendVarint(dst, e.t)
	}
	for _, ring := range s.rings {
		n := 0
		for _, sl := range ring {
			if sl.bucket != emptyBucket {
				n++
			}
		}
		dst = binary.AppendUvarint(dst, uint64(n))
		for i, sl := range ring {
			if sl.bucket == emptyBucket {
				continue
			}
			dst = binary.AppendUvarint(dst, uint64(i))
			dst = binary.AppendVarint(dst, sl.bucket)
			for k := range sl.acc {
				dst = appendAcc(dst, &sl.acc[k])
			}
		}
	}
	return dst
}

func appendAcc(dst []byte, a *acc) []byte {
	dst = binary.AppendVarint(dst, a.n)
	dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(a.sum))
	dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(a.val))
	dst = binary.AppendVarint(dst, a.t)
	dst = binary.AppendUvarint(dst, a.seq)
	switch {
	case a.hll == nil:
		dst = append(dst, 0)
	case a.hll.dense != nil:
		dst = append(dst, 2)
		dst = append(dst, a.hll.dense...)
	default:
		dst = append(dst, 1)
		dst = binary.AppendUvarint(dst, uint64(len(a.hll.sparse)))
		for _, e := range a.hll.sparse {
			dst = binary.LittleEndian.AppendUint32(dst, e)
		}
	}
	dst = binary.AppendUvarint(dst, uint64(len(a.tail)))
	for _, p := range a.tail {
		dst = binary.AppendVarint(dst, p.t)
		dst = binary.AppendUvarint(dst, p.seq)
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(p.v))
	}
	return dst
}

// decoder reads the encoding, remembering the first error.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = ErrCorrupt
	}
	d.b = nil
}

func (d *decoder) varint() int64 {
	x, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return x
}

func (d *decoder) uvarint(limit uint64) uint64 {
	x, n := binary.Uvarint(d.b)
	if n <= 0 || x > limit {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return x
}

func (d *decoder) bytes(n int) []byte {
	if len(d.b) < n {
		d.fail()
		return make([]byte, n)
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

func (d *decoder) u64() uint64 { return binary.LittleEndian.Uint64(d.bytes(8)) }

// DecodeState decodes state encoded by AppendState for this view. It
// fails with ErrCorrupt, never panics, on bytes that do not fit.
func (v *View) DecodeState(b []byte) (*State, error) {
	d := &decoder{b: b}
	if len(b) == 0 || b[0] != codecVersion {
		return nil, fmt.Errorf("view %q: %w: unknown version", v.Name, ErrCorrupt)
	}
	d.b = d.b[1:]
	s := v.NewState()
	s.Watermark = d.varint()
	nSeen := d.uvarint(uint64(len(d.b)))
	s.seen = make([]seen, 0, nSeen)
	for range nSeen {
		s.seen = append(s.seen, seen{id: d.u64(), t: d.varint()})
	}
	for wi := range v.windows {
		v.decodeRing(d, s, wi)
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail()
	}
	if d.err != nil {
		return nil, fmt.Errorf("view %q: %w", v.Name, d.err)
	}
	return s, nil
}

func (v *View) decodeRing(d *decoder, s *State, wi int) {
	w := &v.windows[wi]
	n := d.uvarint(uint64(w.slots))
	for range n {
		i := d.uvarint(uint64(w.slots - 1))
		sl := &s.rings[wi][i]
		sl.reset(d.varint(), len(w.feats))
		if sl.bucket == emptyBucket {
			d.fail()
		}
		for k, fi := range w.feats {
			decodeAcc(d, &sl.acc[k], v.feats[fi].n)
		}
	}
}

func decodeAcc(d *decoder, a *acc, tailMax int) {
	a.n = d.varint()
	a.sum = math.Float64frombits(d.u64())
	a.val = math.Float64frombits(d.u64())
	a.t = d.varint()
	a.seq = d.uvarint(math.MaxUint64)
	switch kind := d.bytes(1)[0]; kind {
	case 0:
	case 1:
		n := d.uvarint(sparseMax)
		a.hll = &HLL{sparse: make([]uint32, n)}
		for i := range a.hll.sparse {
			e := binary.LittleEndian.Uint32(d.bytes(4))
			if e>>8 >= hllM || (i > 0 && e>>8 <= a.hll.sparse[i-1]>>8) {
				d.fail()
			}
			a.hll.sparse[i] = e
		}
	case 2:
		a.hll = &HLL{dense: append([]uint8(nil), d.bytes(hllM)...)}
	default:
		d.fail()
	}
	n := d.uvarint(uint64(tailMax))
	for range n {
		a.tail = append(a.tail, point{t: d.varint(), seq: d.uvarint(math.MaxUint64), v: math.Float64frombits(d.u64())})
	}
}
