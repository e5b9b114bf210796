package gbdt

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/plinthai/plinth/ml/artifact"
	"github.com/plinthai/plinth/ml/frame"
)

// A multiclass model holds one single-output model per class (in
// Model.classes), each the sum of its own trees onto its own base margin;
// they share the feature schema. Class probabilities are the softmax of
// the class margins, computed as XGBoost computes it.

// TaskMulticlass is the artifact task of a multiclass model.
const TaskMulticlass = "multiclass"

// NumClass returns the number of classes of a multiclass model, 1 for
// the others.
func (m *Model) NumClass() int {
	if m.classes == nil {
		return 1
	}
	return len(m.classes)
}

// newMultiModel returns an empty k-class model.
func newMultiModel(objective string, k int, base float32, names []string, schema []artifact.Field) *Model {
	m := newModel(objective, names, schema)
	m.classes = make([]*Model, k)
	for c := range m.classes {
		m.classes[c] = &Model{objective: objective, names: m.names, namesGiven: m.namesGiven, schema: m.schema, baseMargin: base}
	}
	return m
}

// PredictRowClasses scores one row for every class into dst (grown only
// if its capacity is under NumClass) and returns it: the class
// probabilities for OutputValue, the class margins for OutputMargin. For
// a single-output model it returns the one value PredictRow gives. With
// a large enough dst it allocates nothing.
func (m *Model) PredictRowClasses(row []float32, dst []float64, out Output) ([]float64, error) {
	if len(row) != len(m.names) {
		return dst, m.checkWidth(len(row))
	}
	if m.classes == nil {
		v, err := m.PredictRow(row, out)
		return append(dst[:0], v), err
	}
	dst = dst[:0]
	for _, c := range m.classes {
		dst = append(dst, float64(c.margin(row)))
	}
	if out == OutputValue {
		softmax(dst)
	}
	return dst, nil
}

// argmaxClass returns the likeliest class of a row: the first class of
// the largest margin.
func (m *Model) argmaxClass(row []float32) int {
	best, bestM := 0, float32(math.Inf(-1))
	for k, c := range m.classes {
		if s := c.margin(row); s > bestM {
			best, bestM = k, s
		}
	}
	return best
}

// softmax turns margins into probabilities in place as XGBoost does: the
// exponentials in float32 after subtracting the largest, summed in
// float64, divided in float32.
func softmax(v []float64) {
	wmax := float32(math.Inf(-1))
	for _, x := range v {
		wmax = max(wmax, float32(x))
	}
	var sum float64
	for i, x := range v {
		e := float32(math.Exp(float64(float32(x) - wmax)))
		v[i] = float64(e)
		sum += float64(e)
	}
	for i, e := range v {
		v[i] = float64(float32(e) / float32(sum))
	}
}

// PredictFrameClasses scores every row of x for every class into dst
// (grown as needed), row by row: dst[i*NumClass()+k] is row i's value for
// class k, a probability for OutputValue, a margin for OutputMargin.
func (m *Model) PredictFrameClasses(x *frame.Frame, dst []float64, out Output) ([]float64, error) {
	if m.classes == nil {
		return m.PredictFrame(x, dst, out)
	}
	if err := m.checkFrame(x); err != nil {
		return dst, err
	}
	k, n := len(m.classes), x.NumRows()
	dst = append(dst[:0], make([]float64, n*k)...)
	per := make([]float64, n)
	for c, cm := range m.classes {
		var err error
		if per, err = cm.PredictFrame(x, per, OutputMargin); err != nil {
			return dst, err
		}
		for i, v := range per {
			dst[i*k+c] = v
		}
	}
	if out == OutputValue {
		for i := range n {
			softmax(dst[i*k : (i+1)*k])
		}
	}
	return dst, nil
}

// predictFrameArgmax writes each row's likeliest class into dst.
func (m *Model) predictFrameArgmax(x *frame.Frame, dst []float64) ([]float64, error) {
	all, err := m.PredictFrameClasses(x, nil, OutputMargin)
	if err != nil {
		return dst, err
	}
	k, n := len(m.classes), x.NumRows()
	dst = append(dst[:0], make([]float64, n)...)
	for i := range n {
		row := all[i*k : (i+1)*k]
		best := 0
		for c, v := range row {
			if float32(v) > float32(row[best]) {
				best = c
			}
		}
		dst[i] = float64(best)
	}
	return dst, nil
}

// checkClassLabels verifies labels are whole numbers in [0, k).
func checkClassLabels(y []float32, k int) error {
	for i, v := range y {
		if v < 0 || v >= float32(k) || v != float32(math.Trunc(float64(v))) {
			return fmt.Errorf("%w: label %d is %v, want a class 0 … %d", ErrInput, i, v, k-1)
		}
	}
	return nil
}

// softmaxGradients fills gps[c][r] for rows [lo, hi) from the row-major
// class margins (k per row): g = p_c − [y = c], h = max(2·p_c·(1−p_c),
// 1e-16), in float32, XGBoost's softmax gradient.
func softmaxGradients(y []float32, margin []float64, gps [][]gpair, lo, hi int) {
	k := len(gps)
	p := make([]float64, k)
	for r := lo; r < hi; r++ {
		copy(p, margin[r*k:(r+1)*k])
		softmax(p)
		label := int(y[r])
		for c := range k {
			pc := float32(p[c])
			g := pc
			if c == label {
				g = pc - 1
			}
			gps[c][r] = gpair{g, max(2*pc*(1-pc), 1e-16)}
		}
	}
}

// trainMulti is Train for a multiclass objective: every round computes the
// softmax gradients of all classes, then grows one tree per class on its
// class's gradients.
func trainMulti(ctx context.Context, train Data, valid *Data, p Params) (*Model, error) {
	t, err := newMultiTrainer(train, valid, p)
	if err != nil {
		return nil, err
	}
	defer t.pool.close()
	for round := range p.NumRounds {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("gbdt: train: round %d: %w", round, err)
		}
		t.multiRound()
		if t.valid != nil && t.valid.observe(t.model, p.EarlyStoppingRounds) {
			break
		}
	}
	t.finishValid()
	t.model.seal()
	return t.model, nil
}

// newMultiTrainer validates the input and bins the features.
func newMultiTrainer(train Data, valid *Data, p Params) (*trainer, error) {
	t, err := newTrainer(train, valid, p)
	if err != nil {
		return nil, err
	}
	k := p.NumClass
	t.classMargin = make([]float64, t.n*k)
	for i := range t.classMargin {
		t.classMargin[i] = p.BaseScore
	}
	t.classGP = make([][]gpair, k)
	for c := range t.classGP {
		t.classGP[c] = make([]gpair, t.n)
	}
	return t, nil
}

// multiRound adds one tree per class.
func (t *trainer) multiRound() {
	const block = 4096
	t.pool.run((t.n+block-1)/block, func(b int) {
		softmaxGradients(t.y, t.classMargin, t.classGP, b*block, min((b+1)*block, t.n))
	})
	k := len(t.classGP)
	for c, gp := range t.classGP {
		rows := t.sampleRows()
		t.g.grow(rows, gp, t.sampleFeatures(), nil)
		t.model.classes[c].appendTree(t.g.nodes)
		if len(rows) < t.n {
			t.addByTraversal(c, k)
		} else {
			t.addLeaves(c, k)
		}
	}
}

// addLeaves adds the newest tree's leaves to class c's margins (stride k).
func (t *trainer) addLeaves(c, k int) {
	var pieces []piece
	for i := range t.g.leaves {
		seg := &t.g.leaves[i]
		for lo := seg.lo; lo < seg.hi; lo += leafChunk {
			pieces = append(pieces, piece{seg: seg, lo: lo, hi: min(lo+leafChunk, seg.hi)})
		}
	}
	t.pool.run(len(pieces), func(i int) {
		pc := &pieces[i]
		seg := pc.seg
		rows := t.g.rows[pc.lo:pc.hi]
		if !seg.pair {
			for _, r := range rows {
				t.classMargin[int(r)*k+c] += float64(seg.value)
			}
			return
		}
		v := [2]float32{seg.right, seg.value}
		col := t.g.colBins[seg.feature]
		missing, dl := uint8(t.g.bn.nbins(seg.feature)), b2i(seg.defaultLeft)
		for _, r := range rows {
			t.classMargin[int(r)*k+c] += float64(v[goesLeft(col[r], seg.bin, missing, dl)&1])
		}
	})
}

// addByTraversal adds the newest tree to class c's margins by walking it
// on every binned row; used when rows were subsampled.
func (t *trainer) addByTraversal(c, k int) {
	nodes, nf, bins := t.g.nodes, t.g.nf, t.g.bins
	const block = 16384
	t.pool.run((t.n+block-1)/block, func(b int) {
		for r := b * block; r < min((b+1)*block, t.n); r++ {
			leaf := binnedLeaf(nodes, t.g.bn, bins[r*nf:(r+1)*nf])
			t.classMargin[r*k+c] += float64(nodes[leaf].value)
		}
	})
}

// multiMetric scores the row-major class margins (k per row) of labels y.
func multiMetric(metric string, y []float64, margin []float32, k int) float64 {
	p := make([]float64, k)
	var loss float64
	for i, label := range y {
		for c := range k {
			p[c] = float64(margin[i*k+c])
		}
		if metric == MetricMError {
			if slices.Index(p, slices.Max(p)) != int(label) {
				loss++
			}
			continue
		}
		softmax(p)
		loss -= math.Log(max(p[int(label)], 1e-15))
	}
	return loss / float64(len(y))
}
