package gbdt

import (
	"fmt"
	"math"

	"github.com/plinthai/plinth/ml/frame"
)

// Output selects what a prediction returns.
type Output int

const (
	// OutputValue is the objective's prediction: a probability for
	// binary:logistic, the value itself for regression.
	OutputValue Output = iota
	// OutputMargin is the raw score: base margin plus the sum of leaves.
	OutputMargin
)

// predictBlock is how many rows PredictFrame transposes at a time.
const predictBlock = 64

// PredictRow scores one row, given in feature order (NaN = missing). It
// allocates nothing and is safe for concurrent use. A row of the wrong
// width is an error naming both widths. A multiclass model returns its
// likeliest class for OutputValue (see PredictRowClasses for every
// class's value) and has no single margin.
func (m *Model) PredictRow(row []float32, out Output) (float64, error) {
	if len(row) != len(m.names) {
		return 0, m.checkWidth(len(row))
	}
	if m.classes != nil {
		if out == OutputMargin {
			return 0, fmt.Errorf("%w: a %d-class model has one margin per class: use PredictRowClasses", ErrInput, len(m.classes))
		}
		return float64(m.argmaxClass(row)), nil
	}
	s := m.margin(row)
	if out == OutputMargin {
		return float64(s), nil
	}
	return float64(m.transform(s)), nil
}

// finite reports whether every value of row is finite: such rows take the
// short step, where no NaN needs its default side and no +Inf can step
// off a leaf.
func finite(row []float32) bool {
	for _, x := range row {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return false
		}
	}
	return true
}

// margin sums the base margin and every tree's leaf in float32, in tree
// order, as XGBoost's CPU predictor does.
func (m *Model) margin(row []float32) float32 {
	if finite(row) {
		return m.marginFinite(row)
	}
	return m.marginMissing(row)
}

// marginFinite is margin for a row of finite values. Eight trees are walked
// together, level by level: their walks are independent, so the CPU
// overlaps their loads instead of waiting on one chain (with four, a
// single row still waited on load latency; more than eight would not fit
// the registers). The last trees go four at a time, then one by one. The
// leaves are still added one tree at a time, in order.
func (m *Model) marginFinite(row []float32) float32 {
	nodes, roots, depth, out := m.nodes, m.roots, m.depth[:len(m.roots)], m.out
	s := m.baseMargin
	t := 0
	for ; t+8 <= len(roots); t += 8 {
		// Reslicing checks the bounds once, not per tree, sparing registers.
		r, dt := roots[t:t+8:t+8], depth[t:t+8:t+8]
		a, b, c, d, e, f, g, h := r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]
		for range max(dt[0], dt[1], dt[2], dt[3], dt[4], dt[5], dt[6], dt[7]) {
			a = stepFinite(&nodes[a], row)
			b = stepFinite(&nodes[b], row)
			c = stepFinite(&nodes[c], row)
			d = stepFinite(&nodes[d], row)
			e = stepFinite(&nodes[e], row)
			f = stepFinite(&nodes[f], row)
			g = stepFinite(&nodes[g], row)
			h = stepFinite(&nodes[h], row)
		}
		s += out[a]
		s += out[b]
		s += out[c]
		s += out[d]
		s += out[e]
		s += out[f]
		s += out[g]
		s += out[h]
	}
	for ; t+4 <= len(roots); t += 4 {
		r, dt := roots[t:t+4:t+4], depth[t:t+4:t+4]
		a, b, c, d := r[0], r[1], r[2], r[3]
		for range max(dt[0], dt[1], dt[2], dt[3]) {
			a = stepFinite(&nodes[a], row)
			b = stepFinite(&nodes[b], row)
			c = stepFinite(&nodes[c], row)
			d = stepFinite(&nodes[d], row)
		}
		s += out[a]
		s += out[b]
		s += out[c]
		s += out[d]
	}
	for ; t < len(roots); t++ {
		s += m.tree(t, row)
	}
	return s
}

// marginMissing is marginFinite for a row that may hold NaN or ±Inf.
func (m *Model) marginMissing(row []float32) float32 {
	nodes, roots, depth, out := m.nodes, m.roots, m.depth[:len(m.roots)], m.out
	s := m.baseMargin
	t := 0
	for ; t+4 <= len(roots); t += 4 {
		a, b, c, d := roots[t], roots[t+1], roots[t+2], roots[t+3]
		for range max(depth[t], depth[t+1], depth[t+2], depth[t+3]) {
			a = stepMissing(&nodes[a], row)
			b = stepMissing(&nodes[b], row)
			c = stepMissing(&nodes[c], row)
			d = stepMissing(&nodes[d], row)
		}
		s += out[a]
		s += out[b]
		s += out[c]
		s += out[d]
	}
	for ; t < len(roots); t++ {
		s += m.tree(t, row)
	}
	return s
}

// tree returns the output of tree t for row (any values).
func (m *Model) tree(t int, row []float32) float32 {
	i := m.roots[t]
	for range m.depth[t] {
		i = stepMissing(&m.nodes[i], row)
	}
	return m.out[i]
}

// stepFinite moves from node n to its child for a row of finite values, or
// stays on a leaf (whose threshold is +Inf). It is branch-free: splits are
// close to coin flips, and a branch would mispredict half the time. For a
// finite x and a threshold that is never NaN, x >= value is !(x < value),
// and compiles to one flag-set where the negation cost another step.
func stepFinite(n *node, row []float32) int32 {
	return n.left + b2i(row[n.feature&featureMask] >= n.value)
}

// stepMissing is stepFinite for rows that may hold NaN or ±Inf: a NaN goes
// to the default side, and the leaf bit masks any move off a leaf.
func stepMissing(n *node, row []float32) int32 {
	x := row[n.feature&featureMask]
	right := b2i(!(x < n.value)) &^ (b2i(x != x) & int32(n.feature>>31))
	right &^= int32(n.feature>>30) & 1
	return n.left + right
}

// b2i is 1 for true, 0 for false; it compiles to a flag-set, not a branch.
func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// PredictFrame scores every row of x into dst (grown as needed) and returns
// it. x's columns must be the model's features, in order. It runs on the
// calling goroutine; split the rows to use more cores. Like PredictRow, a
// multiclass model gives each row's likeliest class (PredictFrameClasses
// gives every class's value).
func (m *Model) PredictFrame(x *frame.Frame, dst []float64, out Output) ([]float64, error) {
	if err := m.checkFrame(x); err != nil {
		return dst, err
	}
	if m.classes != nil {
		if out == OutputMargin {
			return dst, fmt.Errorf("%w: a %d-class model has one margin per class: use PredictFrameClasses", ErrInput, len(m.classes))
		}
		return m.predictFrameArgmax(x, dst)
	}
	n, nf := x.NumRows(), x.NumCols()
	dst = append(dst[:0], make([]float64, n)...)
	if m.compact != nil {
		m.predictCompact(x, dst, out)
		return dst, nil
	}
	buf := make([]float32, predictBlock*nf)
	var acc [predictBlock]float32
	for start := 0; start < n; start += predictBlock {
		nb := min(predictBlock, n-start)
		for f, col := range x.Cols {
			for i, v := range col[start : start+nb] {
				buf[i*nf+f] = v
			}
		}
		m.scoreBlock(buf[:nb*nf], nf, acc[:nb])
		for i, s := range acc[:nb] {
			if out == OutputValue {
				s = m.transform(s)
			}
			dst[start+i] = float64(s)
		}
	}
	return dst, nil
}

// predictCompact is PredictFrame on the compact forest: dst has a slot
// per row.
func (m *Model) predictCompact(x *frame.Frame, dst []float64, out Output) {
	c := m.compact
	b := c.newBuf()
	for start := 0; start < len(dst); start += compactBlock {
		nb := min(compactBlock, len(dst)-start)
		c.load(b, x.Cols, start, nb)
		c.scoreBlock(b, nb, m.baseMargin)
		for i := range nb {
			s := b.acc[i/compactGroup][i%compactGroup]
			if out == OutputValue {
				s = m.transform(s)
			}
			dst[start+i] = float64(s)
		}
	}
}

// scoreBlock writes the margins of the row-major rows in buf into acc, two
// rows at a time.
func (m *Model) scoreBlock(buf []float32, nf int, acc []float32) {
	i := 0
	for ; i+1 < len(acc); i += 2 {
		r0, r1 := buf[i*nf:(i+1)*nf], buf[(i+1)*nf:(i+2)*nf]
		if finite(r0) && finite(r1) {
			acc[i], acc[i+1] = m.margin2(r0, r1)
		} else {
			acc[i], acc[i+1] = m.margin2Missing(r0, r1)
		}
	}
	if i < len(acc) {
		acc[i] = m.margin(buf[i*nf : (i+1)*nf])
	}
}

// margin2 is margin for two finite rows at once: eight walks in flight.
func (m *Model) margin2(r0, r1 []float32) (float32, float32) {
	nodes, roots, depth, out := m.nodes, m.roots, m.depth[:len(m.roots)], m.out
	s0, s1 := m.baseMargin, m.baseMargin
	t := 0
	for ; t+4 <= len(roots); t += 4 {
		a, b, c, d := roots[t], roots[t+1], roots[t+2], roots[t+3]
		e, f, g, h := a, b, c, d
		for range max(depth[t], depth[t+1], depth[t+2], depth[t+3]) {
			a = stepFinite(&nodes[a], r0)
			e = stepFinite(&nodes[e], r1)
			b = stepFinite(&nodes[b], r0)
			f = stepFinite(&nodes[f], r1)
			c = stepFinite(&nodes[c], r0)
			g = stepFinite(&nodes[g], r1)
			d = stepFinite(&nodes[d], r0)
			h = stepFinite(&nodes[h], r1)
		}
		s0 += out[a]
		s0 += out[b]
		s0 += out[c]
		s0 += out[d]
		s1 += out[e]
		s1 += out[f]
		s1 += out[g]
		s1 += out[h]
	}
	for ; t < len(roots); t++ {
		i, j := roots[t], roots[t]
		for range depth[t] {
			i = stepFinite(&nodes[i], r0)
			j = stepFinite(&nodes[j], r1)
		}
		s0 += out[i]
		s1 += out[j]
	}
	return s0, s1
}

// margin2Missing is margin2 for rows that may hold NaN or ±Inf.
func (m *Model) margin2Missing(r0, r1 []float32) (float32, float32) {
	nodes, roots, depth, out := m.nodes, m.roots, m.depth[:len(m.roots)], m.out
	s0, s1 := m.baseMargin, m.baseMargin
	t := 0
	for ; t+4 <= len(roots); t += 4 {
		a, b, c, d := roots[t], roots[t+1], roots[t+2], roots[t+3]
		e, f, g, h := a, b, c, d
		for range max(depth[t], depth[t+1], depth[t+2], depth[t+3]) {
			a = stepMissing(&nodes[a], r0)
			e = stepMissing(&nodes[e], r1)
			b = stepMissing(&nodes[b], r0)
			f = stepMissing(&nodes[f], r1)
			c = stepMissing(&nodes[c], r0)
			g = stepMissing(&nodes[g], r1)
			d = stepMissing(&nodes[d], r0)
			h = stepMissing(&nodes[h], r1)
		}
		s0 += out[a]
		s0 += out[b]
		s0 += out[c]
		s0 += out[d]
		s1 += out[e]
		s1 += out[f]
		s1 += out[g]
		s1 += out[h]
	}
	for ; t < len(roots); t++ {
		i, j := roots[t], roots[t]
		for range depth[t] {
			i = stepMissing(&nodes[i], r0)
			j = stepMissing(&nodes[j], r1)
		}
		s0 += out[i]
		s1 += out[j]
	}
	return s0, s1
}

// checkFrame verifies x has the model's features in order.
func (m *Model) checkFrame(x *frame.Frame) error {
	if x == nil {
		return fmt.Errorf("%w: nil frame", ErrInput)
	}
	if err := m.checkWidth(x.NumCols()); err != nil {
		return err
	}
	for j, name := range x.Names {
		if m.namesGiven && name != m.names[j] {
			return fmt.Errorf("%w: column %d is %q, model expects %q (features %v)", ErrInput, j, name, m.names[j], m.names)
		}
	}
	return nil
}
