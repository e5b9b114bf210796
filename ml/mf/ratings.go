package mf

import (
	"errors"
	"fmt"
	"math"
)

// ErrInput is wrapped by every error caused by the caller's data or
// configuration.
var ErrInput = errors.New("mf: bad input")

// ErrUnknown is wrapped when a user or item index is outside the model.
var ErrUnknown = errors.New("mf: unknown user or item")

// maxEntities bounds NumUsers and NumItems so indices fit in int32.
const maxEntities = math.MaxInt32

// Ratings holds user–item interactions in columnar form: row j says user
// Users[j] gave item Items[j] the value Values[j]. Users index 0..NumUsers-1
// and items 0..NumItems-1; an entity with no rows is allowed (it keeps zero
// factors). For implicit feedback Values are interaction strengths (counts,
// ratings or 1). The learners never modify a Ratings.
type Ratings struct {
	NumUsers, NumItems int
	Users, Items       []int32
	Values             []float64
}

// Len returns the number of interactions.
func (r *Ratings) Len() int { return len(r.Values) }

// Validate reports the first problem that would make r unusable: no rows,
// mismatched column lengths, an index out of range or a non-finite value.
func (r *Ratings) Validate() error {
	if r.NumUsers <= 0 || r.NumItems <= 0 || r.NumUsers > maxEntities || r.NumItems > maxEntities {
		return fmt.Errorf("%w: %d users and %d items, want 1..%d of each", ErrInput, r.NumUsers, r.NumItems, maxEntities)
	}
	if len(r.Values) == 0 {
		return fmt.Errorf("%w: no ratings", ErrInput)
	}
	if len(r.Users) != len(r.Values) || len(r.Items) != len(r.Values) {
		return fmt.Errorf("%w: %d users, %d items and %d values per column, want equal", ErrInput, len(r.Users), len(r.Items), len(r.Values))
	}
	for j, v := range r.Values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%w: rating %d is %v", ErrInput, j, v)
		}
		if u := r.Users[j]; u < 0 || int(u) >= r.NumUsers {
			return fmt.Errorf("%w: rating %d has user %d, want 0..%d", ErrInput, j, u, r.NumUsers-1)
		}
		if i := r.Items[j]; i < 0 || int(i) >= r.NumItems {
			return fmt.Errorf("%w: rating %d has item %d, want 0..%d", ErrInput, j, i, r.NumItems-1)
		}
	}
	return nil
}

// csr is a sparse matrix in compressed sparse row form. Row r holds columns
// idx[start[r]:start[r+1]] in strictly increasing order, with values val at
// the same positions (val may be nil when only the pattern matters).
type csr struct {
	start []int32
	idx   []int32
	val   []float64
}

// row returns the columns and values of row r.
func (c *csr) row(r int) ([]int32, []float64) {
	lo, hi := c.start[r], c.start[r+1]
	if c.val == nil {
		return c.idx[lo:hi], nil
	}
	return c.idx[lo:hi], c.val[lo:hi]
}

// nrows returns the number of rows.
func (c *csr) nrows() int { return len(c.start) - 1 }

// buildCSR builds the n-row matrix with entries (rows[j], cols[j], vals[j]),
// summing the values of repeated (row, col) pairs. It sorts by two stable
// counting passes (by column, then by row), so it runs in linear time.
func buildCSR(n, ncols int, rows, cols []int32, vals []float64) csr {
	byCol := countingOrder(ncols, cols, nil)
	order := countingOrder(n, rows, byCol)
	c := csr{start: make([]int32, n+1), idx: make([]int32, 0, len(order)), val: make([]float64, 0, len(order))}
	for r, j := 0, 0; r < n; r++ {
		for ; j < len(order) && int(rows[order[j]]) == r; j++ {
			o := order[j]
			if k := len(c.idx); k > int(c.start[r]) && c.idx[k-1] == cols[o] {
				c.val[k-1] += vals[o]
				continue
			}
			c.idx = append(c.idx, cols[o])
			c.val = append(c.val, vals[o])
		}
		c.start[r+1] = int32(len(c.idx))
	}
	return c
}

// countingOrder returns the positions of keys stably sorted by key in
// 0..n-1, visiting positions in the order given by within (or 0..len-1).
func countingOrder(n int, keys []int32, within []int32) []int32 {
	next := make([]int32, n+1)
	for _, k := range keys {
		next[k+1]++
	}
	for k := range n {
		next[k+1] += next[k]
	}
	out := make([]int32, len(keys))
	place := func(j int32) {
		k := keys[j]
		out[next[k]] = j
		next[k]++
	}
	if within == nil {
		for j := range keys {
			place(int32(j))
		}
		return out
	}
	for _, j := range within {
		place(j)
	}
	return out
}

// transpose returns the ncols-row transpose of c.
func (c *csr) transpose(ncols int) csr {
	rows := make([]int32, len(c.idx))
	for r := range c.nrows() {
		for j := c.start[r]; j < c.start[r+1]; j++ {
			rows[j] = int32(r)
		}
	}
	return buildCSR(ncols, c.nrows(), c.idx, rows, c.val)
}
