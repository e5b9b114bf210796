package iforest

import (
	"fmt"
	"math"
	"sync"

	"github.com/plinthai/plinth/ml/frame"
)

// scoreBlock is the number of rows scored tree by tree together: a tree's
// nodes stay in cache while the block's rows run through it.
const scoreBlock = 256

// NumTrees returns the number of trees.
func (m *Model) NumTrees() int { return len(m.roots) }

// IsAnomaly reports whether score is at or above m.Threshold.
func (m *Model) IsAnomaly(score float64) bool { return score >= m.Threshold }

// Score writes the anomaly score of every row of x into dst (grown as
// needed) and returns it. Columns are matched by name, so x may hold extra
// columns in any order; a missing column is an error. Beyond dst it
// allocates one slice of column headers per call, nothing per row.
func (m *Model) Score(x *frame.Frame, dst []float64) ([]float64, error) {
	cols, err := m.columns(x)
	if err != nil {
		return nil, err
	}
	n := x.NumRows()
	if cap(dst) < n {
		dst = make([]float64, n)
	}
	dst = dst[:n]
	blocks := (n + scoreBlock - 1) / scoreBlock
	workers := max(1, min(m.workers, blocks))
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := w; b < blocks; b += workers {
				m.scoreRange(cols, dst, b*scoreBlock, min((b+1)*scoreBlock, n))
			}
		}()
	}
	wg.Wait()
	return dst, nil
}

// scoreRange scores rows [lo, hi) of cols into dst.
func (m *Model) scoreRange(cols [][]float32, dst []float64, lo, hi int) {
	out := dst[lo:hi]
	clear(out)
	for _, root := range m.roots {
		for k := range out {
			out[k] += m.pathLength(root, cols, lo+k)
		}
	}
	norm := m.norm()
	for k, h := range out {
		out[k] = math.Exp2(-h * norm)
	}
}

// norm is 1 / (T · c(ψ)); the score is 2^(−Σh · norm).
func (m *Model) norm() float64 {
	c := averagePath(m.SampleSize)
	if c == 0 {
		c = 1
	}
	return 1 / (float64(len(m.roots)) * c)
}

// pathLength runs row i down the tree at root.
func (m *Model) pathLength(root int32, cols [][]float32, i int) float64 {
	nodes := m.nodes
	at := root
	for {
		nd := &nodes[at]
		if nd.feature < 0 {
			return float64(nd.value)
		}
		v := cols[nd.feature][i]
		switch {
		case v < nd.value:
			at = nd.left
		case v >= nd.value:
			at = nd.left + 1
		case nd.nanLeft:
			at = nd.left
		default:
			at = nd.left + 1
		}
	}
}

// ScoreRow returns the anomaly score of one row given in the order of Names.
// It does not allocate.
func (m *Model) ScoreRow(row []float32) (float64, error) {
	if len(row) != len(m.Names) {
		return 0, fmt.Errorf("%w: row has %d values, model wants %d", ErrInput, len(row), len(m.Names))
	}
	var h float64
	for _, root := range m.roots {
		at := root
		for m.nodes[at].feature >= 0 {
			nd := &m.nodes[at]
			v := row[nd.feature]
			if v < nd.value || (v != v && nd.nanLeft) {
				at = nd.left
			} else {
				at = nd.left + 1
			}
		}
		h += float64(m.nodes[at].value)
	}
	return math.Exp2(-h * m.norm()), nil
}

// columns returns x's columns in the model's order.
func (m *Model) columns(x *frame.Frame) ([][]float32, error) {
	cols, err := x.Columns(m.Names)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInput, err)
	}
	return cols, nil
}
