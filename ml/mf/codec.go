package mf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/plinthai/plinth/ml/internal/binenc"
	"io"
	"math"

	"github.com/plinthai/plinth/ml/artifact"
)

// KindVersion is the payload encoding version Save writes and Load reads.
const KindVersion = 1

// ErrFormat is wrapped when a payload is not a valid mf model.
var ErrFormat = errors.New("mf: bad model payload")

// Payload layout, version 1 (little-endian):
//
//	u32 users, u32 items, u32 factors, u8 binarize
//	f64 mean, min rating, max rating, lr, reg, alpha
//	f64 × users, f64 × items          biases (explicit kind only)
//	f64 × users·factors, f64 × items·factors
//	u32 nnz, u32 × (users+1) row starts, u32 × nnz items   (seen pairs)

// Save writes m as a Plinth artifact with header h, setting h.Kind,
// h.KindVersion and, when empty, h.Task to "ranking". The caller owns w.
func (m *Model) Save(w io.Writer, h artifact.Header) error {
	h.Kind, h.KindVersion = m.kind, KindVersion
	if h.Task == "" {
		h.Task = "ranking"
	}
	if err := artifact.Write(w, h, m.marshal()); err != nil {
		return fmt.Errorf("save %s model: %w", m.kind, err)
	}
	return nil
}

// Load reads a model saved by Save. The input is untrusted: lengths are
// checked against the payload before anything is allocated, and any
// inconsistency is an error (wrapping ErrFormat or an artifact error),
// never a panic.
func Load(r io.Reader) (*Model, artifact.Header, error) {
	h, payload, err := artifact.Read(r, artifact.Limits{})
	if err != nil {
		return nil, h, fmt.Errorf("load mf model: %w", err)
	}
	if h.Kind != KindSGD && h.Kind != KindALS {
		return nil, h, fmt.Errorf("load mf model: %w: kind %q, want %q or %q", ErrFormat, h.Kind, KindSGD, KindALS)
	}
	if h.KindVersion != KindVersion {
		return nil, h, fmt.Errorf("load mf model: %w: kind version %d, want %d", ErrFormat, h.KindVersion, KindVersion)
	}
	m, err := unmarshal(h.Kind, payload)
	if err != nil {
		return nil, h, fmt.Errorf("load %s model: %w", h.Kind, err)
	}
	return m, h, nil
}

func (m *Model) marshal() []byte {
	b := make([]byte, 0, 64+8*(len(m.userF)+len(m.itemF)+len(m.userBias)+len(m.itemBias))+4*(len(m.seen.start)+len(m.seen.idx)))
	b = binary.LittleEndian.AppendUint32(b, uint32(m.numUsers))
	b = binary.LittleEndian.AppendUint32(b, uint32(m.numItems))
	b = binary.LittleEndian.AppendUint32(b, uint32(m.factors))
	var bin byte
	if m.hp.binarize {
		bin = 1
	}
	b = append(b, bin)
	for _, v := range []float64{m.mean, m.minR, m.maxR, m.hp.lr, m.hp.reg, m.hp.alpha} {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	for _, xs := range [][]float64{m.userBias, m.itemBias, m.userF, m.itemF} {
		for _, v := range xs {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		}
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(len(m.seen.idx)))
	for _, xs := range [][]int32{m.seen.start, m.seen.idx} {
		for _, v := range xs {
			b = binary.LittleEndian.AppendUint32(b, uint32(v))
		}
	}
	return b
}

func unmarshal(kind string, payload []byte) (*Model, error) {
	d := binenc.NewDecoder(payload, ErrFormat)
	m := &Model{kind: kind}
	if err := m.decodeShape(d); err != nil {
		return nil, err
	}
	nu, ni, k := uint64(m.numUsers), uint64(m.numItems), uint64(m.factors)
	if kind == KindSGD {
		m.userBias = d.F64s(nu, "user biases")
		m.itemBias = d.F64s(ni, "item biases")
	}
	m.userF = d.F64s(nu*k, "user factors")
	m.itemF = d.F64s(ni*k, "item factors")
	nnz := d.U32()
	m.seen.start = d.I32s(nu+1, nnz, "seen row starts")
	m.seen.idx = d.I32s(uint64(nnz), uint32(m.numItems-1), "seen items")
	if err := d.Finish(); err != nil {
		return nil, err
	}
	if kind == KindALS {
		m.itemGram = gram(m.itemF, m.factors, m.hp.reg)
	}
	return m, m.seen.check()
}

// decodeShape reads the sizes and scalars and checks them.
func (m *Model) decodeShape(d *binenc.Decoder) error {
	nu, ni, k := d.U32(), d.U32(), d.U32()
	bin := d.Bytes(1)
	s := d.F64s(6, "scalars")
	if d.Err() != nil {
		return d.Err()
	}
	if nu == 0 || ni == 0 || nu > maxEntities || ni > maxEntities || k == 0 || k > maxFactors {
		return fmt.Errorf("%w: %d users, %d items, %d factors", ErrFormat, nu, ni, k)
	}
	if bin[0] > 1 {
		return fmt.Errorf("%w: binarize flag %d", ErrFormat, bin[0])
	}
	m.numUsers, m.numItems, m.factors = int(nu), int(ni), int(k)
	m.hp.binarize = bin[0] == 1
	m.mean, m.minR, m.maxR = s[0], s[1], s[2]
	m.hp.lr, m.hp.reg, m.hp.alpha = s[3], s[4], s[5]
	if m.kind == KindSGD && m.minR > m.maxR {
		return fmt.Errorf("%w: rating range [%v, %v]", ErrFormat, m.minR, m.maxR)
	}
	if m.hp.lr < 0 || m.hp.reg < 0 || m.hp.alpha < 0 {
		return fmt.Errorf("%w: negative hyper-parameter", ErrFormat)
	}
	return nil
}

// check verifies the csr invariants: starts from 0 to len(idx), never
// decreasing, and each row's columns strictly increasing.
func (c *csr) check() error {
	if c.start[0] != 0 || int(c.start[len(c.start)-1]) != len(c.idx) {
		return fmt.Errorf("%w: seen row starts do not span the items", ErrFormat)
	}
	for r := range c.nrows() {
		lo, hi := c.start[r], c.start[r+1]
		if hi < lo {
			return fmt.Errorf("%w: seen row %d starts after it ends", ErrFormat, r)
		}
		for j := lo + 1; j < hi; j++ {
			if c.idx[j] <= c.idx[j-1] {
				return fmt.Errorf("%w: seen row %d not strictly increasing", ErrFormat, r)
			}
		}
	}
	return nil
}
