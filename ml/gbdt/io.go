package gbdt

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/plinthai/plinth/ml/artifact"
)

// Artifact kind and payload version written by Save.
const (
	Kind         = "gbdt"
	KindVersion  = 1
	payloadMagic = "PGBT"
	multiMagic   = "PGBM"
	nodeBytes    = 16 // value, feature, left, gain: four 32-bit words
	maxObjective = 64
)

// Save writes the model as a Plinth artifact. Kind, KindVersion, Task and
// Schema of h are set from the model; the caller's Params, Metrics, Lineage
// and Reference are kept, and training parameters are added to Params.
func (m *Model) Save(w io.Writer, h artifact.Header) error {
	h.Kind, h.KindVersion, h.Task, h.Schema = Kind, KindVersion, m.Task(), m.Schema()
	if len(m.params) > 0 {
		merged := make(map[string]string, len(m.params)+len(h.Params))
		for k, v := range m.params {
			merged[k] = v
		}
		for k, v := range h.Params {
			merged[k] = v
		}
		h.Params = merged
	}
	if err := artifact.Write(w, h, m.encode()); err != nil {
		return fmt.Errorf("gbdt: save: %w", err)
	}
	return nil
}

// Load reads a model saved by Save, within the artifact limits lim (zero
// means artifact.DefaultLimits). The file is untrusted: every count is
// checked against the bytes present before anything is allocated, and
// every node is checked (features in range, children after parents inside
// their tree), so a loaded model cannot fault or loop at predict time.
func Load(r io.Reader, lim artifact.Limits) (*Model, artifact.Header, error) {
	h, payload, err := artifact.ReadKind(r, lim, Kind, KindVersion, ErrFormat)
	if err != nil {
		return nil, h, fmt.Errorf("gbdt: load: %w", err)
	}
	m, err := decode(payload, h.Schema)
	if err != nil {
		return nil, h, err
	}
	m.params = h.Params
	m.seal()
	return m, h, nil
}

// encode renders the trees as the version-1 payload:
//
//	"PGBT" | objective (u8 length, bytes) | base margin f32 | features u32 |
//	trees u32 | nodes u32 | roots u32×trees | nodes (value f32, feature u32,
//	left i32, gain f32)×nodes | best round u32
func (m *Model) encode() []byte {
	if m.classes != nil {
		return m.encodeMulti()
	}
	le := binary.LittleEndian
	b := make([]byte, 0, 32+len(m.objective)+4*len(m.roots)+nodeBytes*len(m.nodes))
	b = append(b, payloadMagic...)
	b = append(b, byte(len(m.objective)))
	b = append(b, m.objective...)
	b = le.AppendUint32(b, math.Float32bits(m.baseMargin))
	b = le.AppendUint32(b, uint32(len(m.names)))
	b = le.AppendUint32(b, uint32(len(m.roots)))
	b = le.AppendUint32(b, uint32(len(m.nodes)))
	for _, r := range m.roots {
		b = le.AppendUint32(b, uint32(r))
	}
	for i, n := range m.nodes {
		v := n.value
		if n.isLeaf() {
			v = m.out[i]
		}
		b = le.AppendUint32(b, math.Float32bits(v))
		b = le.AppendUint32(b, n.feature)
		b = le.AppendUint32(b, uint32(n.left))
		b = le.AppendUint32(b, math.Float32bits(m.nodeGain[i]))
	}
	return le.AppendUint32(b, uint32(m.bestRound))
}

// reader is a bounds-checked little-endian cursor over a payload.
type reader struct {
	b   []byte
	err error
}

func (r *reader) take(n int) []byte {
	if r.err != nil || n < 0 || n > len(r.b) {
		if r.err == nil {
			r.err = fmt.Errorf("%w: payload truncated", ErrFormat)
		}
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) u32() uint32 {
	if b := r.take(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

// encodeMulti renders a multiclass model:
//
//	"PGBM" | objective (u8 length, bytes) | classes u32 |
//	(payload length u32, single-output payload as encode writes it)×classes |
//	best round u32
func (m *Model) encodeMulti() []byte {
	le := binary.LittleEndian
	b := append([]byte(multiMagic), byte(len(m.objective)))
	b = append(b, m.objective...)
	b = le.AppendUint32(b, uint32(len(m.classes)))
	for _, c := range m.classes {
		sub := c.encode()
		b = le.AppendUint32(b, uint32(len(sub)))
		b = append(b, sub...)
	}
	return le.AppendUint32(b, uint32(m.bestRound))
}

// decodeMulti parses and validates a multiclass payload.
func decodeMulti(p []byte, schema []artifact.Field) (*Model, error) {
	r := &reader{b: p[len(multiMagic):]}
	objLen := r.take(1)
	if objLen == nil {
		return nil, r.err
	}
	obj := string(r.take(int(objLen[0])))
	k := int(r.u32())
	if r.err != nil {
		return nil, r.err
	}
	if !isMulti(obj) || k < 2 || k > maxClasses || uint64(k)*8 > uint64(len(r.b)) {
		return nil, fmt.Errorf("%w: multiclass payload: objective %q with %d classes", ErrFormat, obj, k)
	}
	m := &Model{objective: obj, namesGiven: true, schema: schema, classes: make([]*Model, k)}
	for _, f := range schema {
		m.names = append(m.names, f.Name)
	}
	for c := range m.classes {
		sub := r.take(int(r.u32()))
		if r.err != nil {
			return nil, r.err
		}
		cm, err := decodeSingle(sub, schema)
		if err != nil {
			return nil, fmt.Errorf("class %d: %w", c, err)
		}
		if cm.objective != obj {
			return nil, fmt.Errorf("%w: class %d: objective %q inside a %q model", ErrFormat, c, cm.objective, obj)
		}
		m.classes[c] = cm
	}
	m.bestRound = int(r.u32())
	if r.err != nil {
		return nil, r.err
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the last class", ErrFormat, len(r.b))
	}
	return m, nil
}

// decode parses and validates a payload against the schema.
func decode(p []byte, schema []artifact.Field) (*Model, error) {
	if len(p) >= len(multiMagic) && string(p[:len(multiMagic)]) == multiMagic {
		return decodeMulti(p, schema)
	}
	m, err := decodeSingle(p, schema)
	if err == nil && isMulti(m.objective) {
		return nil, fmt.Errorf("%w: %s payload without its classes", ErrFormat, m.objective)
	}
	return m, err
}

// decodeSingle parses and validates a single-output payload.
func decodeSingle(p []byte, schema []artifact.Field) (*Model, error) {
	r := &reader{b: p}
	if string(r.take(len(payloadMagic))) != payloadMagic {
		return nil, fmt.Errorf("%w: payload magic", ErrFormat)
	}
	objLen := r.take(1)
	if objLen == nil {
		return nil, r.err
	}
	obj := string(r.take(int(objLen[0])))
	base := math.Float32frombits(r.u32())
	nf, nt, nn := int(r.u32()), int(r.u32()), int(r.u32())
	if r.err != nil {
		return nil, r.err
	}
	if nf != len(schema) {
		return nil, fmt.Errorf("%w: payload has %d features, schema %d", ErrFormat, nf, len(schema))
	}
	if uint64(nt)*4+uint64(nn)*nodeBytes+4 != uint64(len(r.b)) {
		return nil, fmt.Errorf("%w: %d trees and %d nodes do not fit %d payload bytes", ErrFormat, nt, nn, len(r.b))
	}
	m := &Model{objective: obj, baseMargin: base, namesGiven: true, schema: schema,
		roots: make([]int32, nt), nodes: make([]node, nn), nodeGain: make([]float32, nn), out: make([]float32, nn)}
	for _, f := range schema {
		m.names = append(m.names, f.Name)
	}
	for k := range m.roots {
		m.roots[k] = int32(r.u32())
	}
	for i := range m.nodes {
		m.nodes[i] = node{value: math.Float32frombits(r.u32()), feature: r.u32(), left: int32(r.u32())}
		m.nodeGain[i] = math.Float32frombits(r.u32())
		if m.nodes[i].isLeaf() {
			m.out[i], m.nodes[i].value = m.nodes[i].value, float32(math.Inf(1))
		}
	}
	m.bestRound = int(r.u32())
	if err := m.check(); err != nil {
		return nil, err
	}
	return m, nil
}

// check verifies the forest's invariants and computes tree depths: a known
// objective; roots start at 0 and increase; each split's feature is in
// range, its threshold is not NaN and its children lie after it inside its
// own tree; each leaf points at itself and holds a finite value.
func (m *Model) check() error {
	if !knownObjective(m.objective) {
		return fmt.Errorf("%w: objective %q", ErrFormat, m.objective)
	}
	if math.IsNaN(float64(m.baseMargin)) || math.IsInf(float64(m.baseMargin), 0) {
		return fmt.Errorf("%w: base margin %v", ErrFormat, m.baseMargin)
	}
	if len(m.names) == 0 || len(m.names) > maxFeatures {
		return fmt.Errorf("%w: %d features, want 1..%d", ErrFormat, len(m.names), maxFeatures)
	}
	m.depth = make([]int32, 0, len(m.roots))
	for k, root := range m.roots {
		end := int32(len(m.nodes))
		if k+1 < len(m.roots) {
			end = m.roots[k+1]
		}
		if (k == 0 && root != 0) || root >= end || root < 0 || end > int32(len(m.nodes)) {
			return fmt.Errorf("%w: tree %d spans nodes [%d, %d)", ErrFormat, k, root, end)
		}
		if err := m.checkTree(k, root, end); err != nil {
			return err
		}
		m.depth = append(m.depth, treeDepth(m.nodes[root:end], root))
	}
	if len(m.roots) == 0 && len(m.nodes) != 0 {
		return fmt.Errorf("%w: %d nodes but no trees", ErrFormat, len(m.nodes))
	}
	return nil
}

// checkTree checks the nodes [root, end) of tree k.
func (m *Model) checkTree(k int, root, end int32) error {
	nf := uint32(len(m.names))
	for i := root; i < end; i++ {
		n := m.nodes[i]
		if n.isLeaf() {
			if n != leafNode(i) || math.IsNaN(float64(m.out[i])) || math.IsInf(float64(m.out[i]), 0) {
				return fmt.Errorf("%w: tree %d: bad leaf node %d", ErrFormat, k, i-root)
			}
			continue
		}
		if n.feature&featureMask >= nf || n.feature&^(featureMask|defaultLeftBit) != 0 {
			return fmt.Errorf("%w: tree %d node %d: feature %d of %d", ErrFormat, k, i-root, n.feature&featureMask, nf)
		}
		if n.left <= i || n.left >= end-1 || math.IsNaN(float64(n.value)) {
			return fmt.Errorf("%w: tree %d node %d: children %d, %d outside (%d, %d)", ErrFormat, k, i-root, n.left-root, n.left+1-root, i-root, end-root)
		}
	}
	return nil
}

// knownObjective reports whether predictions for obj can be computed.
func knownObjective(obj string) bool {
	return slices.Contains([]string{ObjectiveBinaryLogistic, ObjectiveSquaredError, ObjectiveSoftprob, ObjectiveSoftmax,
		"reg:logistic", "binary:logitraw", "reg:linear", "reg:pseudohubererror", "reg:absoluteerror"}, obj)
}
