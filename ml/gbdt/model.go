package gbdt

import (
	"fmt"
	"math"
	"slices"

	"github.com/plinthai/plinth/ml/artifact"
)

// node is one tree node in the flat forest array (12 bytes). A split sends
// x to left when x < value, to left+1 when x >= value, and a NaN to the
// side its default-left bit names. A leaf has the leaf bit set, value +Inf
// and left pointing at itself, and its output in Model.out: a walk of a
// fixed number of steps (the tree's depth) stays put once it reaches a
// leaf, because every finite x < +Inf. That makes the walk free of
// data-dependent branches.
type node struct {
	value   float32 // split threshold; +Inf for a leaf
	feature uint32  // feature index, plus the default-left and leaf bits
	left    int32   // index of the left child (the right child is left+1), or itself for a leaf
}

const (
	defaultLeftBit = 1 << 31
	leafBit        = 1 << 30
	featureMask    = leafBit - 1
)

// isLeaf reports whether n is a leaf.
func (n node) isLeaf() bool { return n.feature&leafBit != 0 }

// Task names, as in an artifact header.
const (
	TaskBinary     = "binary"
	TaskRegression = "regression"
)

// Model is a trained or imported tree ensemble. Its trees live in one flat
// node array; tree k starts at roots[k] and ends where tree k+1 starts.
// A Model is immutable and safe for concurrent use.
type Model struct {
	objective  string
	names      []string
	namesGiven bool // false for imported models whose file names no features
	schema     []artifact.Field
	baseMargin float32
	nodes      []node
	out        []float32 // leaf outputs, parallel to nodes (0 for splits)
	roots      []int32
	depth      []int32   // steps from each tree's root to its deepest leaf
	nodeGain   []float32 // loss reduction of each split node, parallel to nodes
	history    []float64 // validation metric per round, if any
	bestRound  int       // rounds kept (early stopping), 0 if not used
	params     map[string]string
	classes    []*Model // multiclass: one margin model per class; nil otherwise
	compact    *compact // the forest laid out for prediction, or nil (see seal)
}

// NumFeatures returns how many values a row must have.
func (m *Model) NumFeatures() int { return len(m.names) }

// FeatureNames returns a copy of the feature names, in row order.
func (m *Model) FeatureNames() []string { return slices.Clone(m.names) }

// Schema returns a copy of the input schema (types and categories), in row
// order. Features trained without a schema are reported as "float".
func (m *Model) Schema() []artifact.Field {
	out := make([]artifact.Field, len(m.schema))
	for i, f := range m.schema {
		f.Categories = slices.Clone(f.Categories)
		out[i] = f
	}
	return out
}

// NumTrees returns the number of trees (of all classes).
func (m *Model) NumTrees() int {
	n := len(m.roots)
	for _, c := range m.classes {
		n += len(c.roots)
	}
	return n
}

// Objective returns the objective name ("binary:logistic", ...).
func (m *Model) Objective() string { return m.objective }

// Task returns "binary", "multiclass" or "regression".
func (m *Model) Task() string {
	if m.classes != nil {
		return TaskMulticlass
	}
	if isLogistic(m.objective) {
		return TaskBinary
	}
	return TaskRegression
}

// BestRound returns how many rounds early stopping kept, or 0 if it did not run.
func (m *Model) BestRound() int { return m.bestRound }

// ValidHistory returns the validation metric after each round, if a
// validation set was given.
func (m *Model) ValidHistory() []float64 { return slices.Clone(m.history) }

// Importance is one feature's contribution to the model.
type Importance struct {
	Feature string
	// Gain is the total loss reduction of the feature's splits.
	Gain float64
	// Splits is how many splits use the feature.
	Splits int
}

// Importance returns the gain importance of every feature, in row order.
// Imported XGBoost models report the gain their files record, if any.
func (m *Model) Importance() []Importance {
	out := make([]Importance, len(m.names))
	for f, n := range m.names {
		out[f].Feature = n
	}
	for _, sub := range append([]*Model{m}, m.classes...) {
		for i, n := range sub.nodes {
			if !n.isLeaf() {
				f := n.feature & featureMask
				out[f].Gain += float64(sub.nodeGain[i])
				out[f].Splits++
			}
		}
	}
	return out
}

// isLogistic reports whether the objective's output is sigmoid(margin).
func isLogistic(obj string) bool {
	return obj == ObjectiveBinaryLogistic || obj == "reg:logistic"
}

// transform maps a margin to the objective's prediction, in float32 as
// XGBoost computes it.
func (m *Model) transform(margin float32) float32 {
	if isLogistic(m.objective) {
		return float32(1 / (1 + math.Exp(-float64(margin))))
	}
	return margin
}

// appendTree adds a grown tree (children adjacent, indices tree-local).
func (m *Model) appendTree(t []tnode) {
	base := int32(len(m.nodes))
	m.roots = append(m.roots, base)
	for i, n := range t {
		if n.feature < 0 {
			m.addLeaf(n.value, base+int32(i))
			continue
		}
		m.addSplit(n.threshold, uint32(n.feature), n.defaultLeft, base+n.left, float32(n.gain))
	}
	m.depth = append(m.depth, treeDepth(m.nodes[base:], base))
}

// leafNode is the node of a leaf at index at.
func leafNode(at int32) node {
	return node{value: float32(math.Inf(1)), feature: leafBit, left: at}
}

// addLeaf appends a leaf with output v; at must be its index.
func (m *Model) addLeaf(v float32, at int32) {
	m.nodes = append(m.nodes, leafNode(at))
	m.out = append(m.out, v)
	m.nodeGain = append(m.nodeGain, 0)
}

// addSplit appends a split node.
func (m *Model) addSplit(threshold float32, feature uint32, defaultLeft bool, left int32, gain float32) {
	if defaultLeft {
		feature |= defaultLeftBit
	}
	m.nodes = append(m.nodes, node{value: threshold, feature: feature, left: left})
	m.out = append(m.out, 0)
	m.nodeGain = append(m.nodeGain, gain)
}

// treeDepth returns the depth of the tree whose nodes (at index base on)
// are given; children always come after their parent.
func treeDepth(nodes []node, base int32) int32 {
	d := make([]int32, len(nodes))
	var deepest int32
	for i, n := range nodes {
		if n.isLeaf() {
			deepest = max(deepest, d[i])
			continue
		}
		l := n.left - base
		d[l], d[l+1] = d[i]+1, d[i]+1
	}
	return deepest
}

// seal finishes a model whose trees are all in place: it lays the forest
// out for prediction (see compact), in every class of a multiclass model.
// A model's trees must not change after seal.
func (m *Model) seal() {
	for _, c := range m.classes {
		c.seal()
	}
	m.compact = newCompact(m)
}

// truncate keeps the first k rounds' trees.
func (m *Model) truncate(k int) {
	for _, c := range m.classes {
		c.truncate(k)
	}
	if k >= len(m.roots) {
		return
	}
	m.nodes = m.nodes[:m.roots[k]]
	m.nodeGain = m.nodeGain[:m.roots[k]]
	m.out = m.out[:m.roots[k]]
	m.roots = m.roots[:k]
	m.depth = m.depth[:k]
}

// checkWidth returns an error unless a row has exactly NumFeatures values.
func (m *Model) checkWidth(got int) error {
	if got != len(m.names) {
		return fmt.Errorf("%w: row has %d features, model was trained on %d (%v)", ErrInput, got, len(m.names), m.names)
	}
	return nil
}
