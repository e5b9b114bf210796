package iforest

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
	Kind        = "iforest"
	KindVersion = 1
)

// nodeBytes is the encoded size of one node.
const nodeBytes = 13

// ErrFormat is wrapped by every error about a malformed payload.
var ErrFormat = errors.New("iforest: bad payload")

// Save writes m as a Plinth artifact. It sets h.Kind, h.KindVersion and
// h.Task ("anomaly"), and fills h.Schema with one float field per input when
// it is empty; a non-empty schema must name the model's inputs in order.
func (m *Model) Save(w io.Writer, h artifact.Header) error {
	h.Kind, h.KindVersion, h.Task = Kind, KindVersion, "anomaly"
	if len(h.Schema) == 0 {
		for _, n := range m.Names {
			h.Schema = append(h.Schema, artifact.Field{Name: n, Type: "float"})
		}
	}
	if err := h.CheckNames(m.Names, ErrFormat); err != nil {
		return err
	}
	if err := artifact.Write(w, h, m.payload()); err != nil {
		return fmt.Errorf("iforest: save: %w", err)
	}
	return nil
}

// payload encodes m: sample size uint32, threshold float64, inputs uint32
// and their names (uint16 length + bytes), trees uint32, then per tree its
// node count uint32 and nodes (feature int32, value float32, left int32
// relative to the tree, nanLeft uint8).
func (m *Model) payload() []byte {
	le := binary.LittleEndian
	b := le.AppendUint32(nil, uint32(m.SampleSize))
	b = le.AppendUint64(b, math.Float64bits(m.Threshold))
	b = le.AppendUint32(b, uint32(len(m.Names)))
	for _, n := range m.Names {
		b = le.AppendUint16(b, uint16(len(n)))
		b = append(b, n...)
	}
	b = le.AppendUint32(b, uint32(len(m.roots)))
	for t, root := range m.roots {
		end := int32(len(m.nodes))
		if t+1 < len(m.roots) {
			end = m.roots[t+1]
		}
		b = le.AppendUint32(b, uint32(end-root))
		for _, nd := range m.nodes[root:end] {
			b = le.AppendUint32(b, uint32(nd.feature))
			b = le.AppendUint32(b, math.Float32bits(nd.value))
			left := nd.left
			if nd.feature >= 0 {
				left -= root
			}
			b = le.AppendUint32(b, uint32(left))
			var f byte
			if nd.nanLeft {
				f = 1
			}
			b = append(b, f)
		}
	}
	return b
}

// Load reads a model saved by Save. It treats r as untrusted: every count is
// bounded by the bytes present, every child index must point forward inside
// its tree (so scoring always terminates), and a bad artifact is an error,
// never a panic. The loaded model scores on one goroutine; see SetWorkers.
func Load(r io.Reader) (*Model, artifact.Header, error) {
	h, payload, err := artifact.ReadKind(r, artifact.Limits{}, Kind, KindVersion, ErrFormat)
	if err != nil {
		return nil, h, fmt.Errorf("iforest: load: %w", err)
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

// SetWorkers sets the number of goroutines Score uses (at least one). Call it
// before sharing the model between goroutines.
func (m *Model) SetWorkers(n int) { m.workers = max(1, n) }

// decode parses a payload written by Model.payload.
func decode(b []byte) (*Model, error) {
	d := binenc.NewDecoder(b, ErrFormat)
	m := &Model{SampleSize: int(d.U32()), Threshold: d.F64(), workers: 1}
	nIn := int(d.U32())
	if d.Err() == nil && nIn > d.Len()/2 {
		return nil, fmt.Errorf("%w: %d inputs in %d bytes", ErrFormat, nIn, len(b))
	}
	for j := 0; j < nIn && d.Err() == nil; j++ {
		m.Names = append(m.Names, d.Str())
	}
	nTrees := int(d.U32())
	if d.Err() == nil && nTrees > d.Len()/(4+nodeBytes) {
		return nil, fmt.Errorf("%w: %d trees in %d bytes", ErrFormat, nTrees, len(b))
	}
	for t := 0; t < nTrees && d.Err() == nil; t++ {
		if err := m.decodeTree(d, nIn); err != nil {
			return nil, err
		}
	}
	if err := d.Finish(); err != nil {
		return nil, err
	}
	if nIn == 0 || nTrees == 0 || m.SampleSize < 2 || math.IsNaN(m.Threshold) {
		return nil, fmt.Errorf("%w: %d inputs, %d trees, sample size %d, threshold %v", ErrFormat, nIn, nTrees, m.SampleSize, m.Threshold)
	}
	return m, nil
}

// decodeTree appends one tree's nodes, checking every index.
func (m *Model) decodeTree(d *binenc.Decoder, nIn int) error {
	count := int(d.U32())
	if d.Err() != nil || count == 0 || count > d.Len()/nodeBytes {
		return fmt.Errorf("%w: tree of %d nodes in %d bytes", ErrFormat, count, d.Len())
	}
	root := int32(len(m.nodes))
	m.roots = append(m.roots, root)
	for k := 0; k < count; k++ {
		nd := node{feature: int32(d.U32()), value: math.Float32frombits(d.U32()), left: int32(d.U32()), nanLeft: d.U8() == 1}
		if err := checkNode(nd, k, count, nIn); err != nil {
			return err
		}
		if nd.feature >= 0 {
			nd.left += root
		}
		m.nodes = append(m.nodes, nd)
	}
	return d.Err()
}

func checkNode(nd node, k, count, nIn int) error {
	if nd.feature < 0 {
		if nd.feature != -1 || !(nd.value >= 0) || math.IsInf(float64(nd.value), 0) {
			return fmt.Errorf("%w: leaf %d: feature %d, path length %v", ErrFormat, k, nd.feature, nd.value)
		}
		return nil
	}
	if int(nd.feature) >= nIn || nd.value != nd.value {
		return fmt.Errorf("%w: node %d: feature %d of %d, threshold %v", ErrFormat, k, nd.feature, nIn, nd.value)
	}
	if int(nd.left) <= k || int(nd.left)+1 >= count {
		return fmt.Errorf("%w: node %d: children at %d of %d nodes", ErrFormat, k, nd.left, count)
	}
	return nil
}
