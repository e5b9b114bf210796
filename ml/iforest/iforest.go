// Package iforest detects anomalies with an isolation forest (Liu, Ting and
// Zhou, "Isolation Forest", ICDM 2008).
//
// Each tree isolates a random sub-sample (256 rows by default) by splitting
// on a random feature at a uniform random threshold between that feature's
// minimum and maximum in the node, down to depth ⌈log₂ ψ⌉. A row's anomaly
// score is s = 2^(−E[h]/c(ψ)), where h is its path length (plus c(size) at a
// leaf holding several rows) and c(n) the average path length of an
// unsuccessful search in a binary search tree of n keys. Scores lie in
// (0, 1]; higher is more anomalous; scikit-learn's score_samples is −s.
//
// A missing value (NaN) follows, at each split, the side that received more
// of the node's training rows.
//
// Fitting is deterministic for a seed: each tree draws from its own random
// stream, so results do not depend on Config.Workers. A fitted Model is
// immutable and safe for concurrent use.
package iforest

import (
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/plinthai/plinth/ml/frame"
)

// Defaults used when a Config field is zero.
const (
	DefaultNumTrees   = 100
	DefaultSampleSize = 256
	// DefaultThreshold is the score above which a row is an anomaly when no
	// contamination is given (the paper's rule; scikit-learn's "auto").
	DefaultThreshold = 0.5
)

// ErrInput is wrapped by every error caused by the caller's data or
// configuration.
var ErrInput = errors.New("iforest: bad input")

// Config holds the fitting parameters; the zero value is valid.
type Config struct {
	// NumTrees is the number of trees; zero means DefaultNumTrees.
	NumTrees int
	// SampleSize is the sub-sample size ψ per tree; zero means
	// DefaultSampleSize. It is capped at the number of rows.
	SampleSize int
	// Contamination, in (0, 0.5], sets Threshold so that this fraction of
	// the training rows is flagged. Zero means DefaultThreshold.
	Contamination float64
	// Seed selects the random streams.
	Seed uint64
	// Workers is the number of goroutines for fitting and scoring; zero or
	// less means one.
	Workers int
}

func (c Config) withDefaults() (Config, error) {
	if c.NumTrees == 0 {
		c.NumTrees = DefaultNumTrees
	}
	if c.SampleSize == 0 {
		c.SampleSize = DefaultSampleSize
	}
	if c.Workers <= 0 {
		c.Workers = 1
	}
	var errs []error
	if c.NumTrees < 0 || c.NumTrees > 1<<20 {
		errs = append(errs, fmt.Errorf("%w: NumTrees is %d, want 1 to %d", ErrInput, c.NumTrees, 1<<20))
	}
	if c.SampleSize < 0 || c.SampleSize == 1 {
		errs = append(errs, fmt.Errorf("%w: SampleSize is %d, want ≥ 2", ErrInput, c.SampleSize))
	}
	if !(c.Contamination >= 0 && c.Contamination <= 0.5) {
		errs = append(errs, fmt.Errorf("%w: Contamination is %v, want 0 to 0.5", ErrInput, c.Contamination))
	}
	return c, errors.Join(errs...)
}

// Model is a fitted isolation forest.
type Model struct {
	// Names are the input columns a node's feature index refers to.
	Names []string
	// SampleSize is the sub-sample size ψ the trees were grown on.
	SampleSize int
	// Threshold is the score at or above which IsAnomaly reports true.
	Threshold float64
	nodes     []node
	roots     []int32 // index of each tree's root in nodes
	workers   int
}

// node is one tree node. A leaf has feature −1 and holds its path-length
// contribution (depth + c(size)) in value; an internal node sends a row left
// when x < value, right (left+1) otherwise, and NaN as nanLeft says.
type node struct {
	feature int32
	value   float32
	left    int32
	nanLeft bool
}

// Fit grows an isolation forest on the columns of x. It returns an error
// wrapping ErrInput when x is empty or has fewer than 2 rows, holds an
// infinite value, or cfg is invalid.
func Fit(x *frame.Frame, cfg Config) (*Model, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := checkData(x); err != nil {
		return nil, err
	}
	psi := min(cfg.SampleSize, x.NumRows())
	trees := make([][]node, cfg.NumTrees)
	forTrees(cfg.NumTrees, cfg.Workers, func(t int) {
		trees[t] = growTree(x, psi, cfg.Seed, uint64(t))
	})
	m := &Model{Names: append([]string(nil), x.Names...), SampleSize: psi, Threshold: DefaultThreshold, workers: cfg.Workers}
	for _, tr := range trees {
		root := int32(len(m.nodes))
		m.roots = append(m.roots, root)
		for _, nd := range tr {
			if nd.feature >= 0 {
				nd.left += root
			}
			m.nodes = append(m.nodes, nd)
		}
	}
	if cfg.Contamination > 0 {
		s, err := m.Score(x, nil)
		if err != nil {
			return nil, err
		}
		m.Threshold = quantile(s, 1-cfg.Contamination)
	}
	return m, nil
}

func checkData(x *frame.Frame) error {
	if x == nil || x.NumCols() == 0 || x.NumRows() < 2 {
		return fmt.Errorf("%w: need at least 2 rows and 1 column", ErrInput)
	}
	if x.NumCols() > math.MaxInt32 {
		return fmt.Errorf("%w: %d columns", ErrInput, x.NumCols())
	}
	for j, c := range x.Cols {
		if len(c) != x.NumRows() {
			return fmt.Errorf("%w: column %q has %d rows, want %d", ErrInput, x.Names[j], len(c), x.NumRows())
		}
		for i, v := range c {
			if math.IsInf(float64(v), 0) {
				return fmt.Errorf("%w: column %q row %d is infinite", ErrInput, x.Names[j], i)
			}
		}
	}
	return nil
}

// forTrees runs fn(t) for t in [0, n) on workers goroutines.
func forTrees(n, workers int, fn func(t int)) {
	var wg sync.WaitGroup
	for w := 0; w < min(workers, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := w; t < n; t += workers {
				fn(t)
			}
		}()
	}
	wg.Wait()
}

// averagePath is c(n): the average path length of an unsuccessful search in
// a binary search tree of n keys.
func averagePath(n int) float64 {
	switch {
	case n <= 1:
		return 0
	case n == 2:
		return 1
	}
	const euler = 0.5772156649015329
	nf := float64(n)
	return 2*(math.Log(nf-1)+euler) - 2*(nf-1)/nf
}

// quantile returns the q-quantile of s with linear interpolation (NumPy's
// default). It sorts a copy.
func quantile(s []float64, q float64) float64 {
	c := append([]float64(nil), s...)
	sortFloats(c)
	pos := q * float64(len(c)-1)
	lo := int(math.Floor(pos))
	if lo >= len(c)-1 {
		return c[len(c)-1]
	}
	frac := pos - float64(lo)
	return c[lo] + frac*(c[lo+1]-c[lo])
}
