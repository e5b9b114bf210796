package frame

import (
	"fmt"
	"slices"
)

// Column returns the named column (not a copy), or an error naming the
// columns that exist.
func (f *Frame) Column(name string) ([]float32, error) {
	j := f.Index(name)
	if j < 0 {
		return nil, fmt.Errorf("%w: no column %q in %v", ErrShape, name, f.Names)
	}
	return f.Cols[j], nil
}

// Drop returns a frame without the named columns. The result shares column
// storage with f.
func (f *Frame) Drop(names ...string) (*Frame, error) {
	for _, n := range names {
		if f.Index(n) < 0 {
			return nil, fmt.Errorf("%w: drop: no column %q in %v", ErrShape, n, f.Names)
		}
	}
	out := &Frame{}
	for j, n := range f.Names {
		if !slices.Contains(names, n) {
			out.Names = append(out.Names, n)
			out.Cols = append(out.Cols, f.Cols[j])
		}
	}
	return out, nil
}

// Take returns a new frame holding rows[i] of f as its row i, copying the
// values. Every index must be in [0, NumRows).
func (f *Frame) Take(rows []int) (*Frame, error) {
	n := f.NumRows()
	for _, r := range rows {
		if r < 0 || r >= n {
			return nil, fmt.Errorf("%w: take: row %d of %d", ErrShape, r, n)
		}
	}
	out := &Frame{Names: slices.Clone(f.Names), Cols: make([][]float32, len(f.Cols))}
	for j, c := range f.Cols {
		dst := make([]float32, len(rows))
		for i, r := range rows {
			dst[i] = c[r]
		}
		out.Cols[j] = dst
	}
	return out, nil
}

// Slice returns rows [lo, hi) of f, sharing storage with f.
func (f *Frame) Slice(lo, hi int) (*Frame, error) {
	if lo < 0 || hi < lo || hi > f.NumRows() {
		return nil, fmt.Errorf("%w: slice [%d, %d) of %d rows", ErrShape, lo, hi, f.NumRows())
	}
	out := &Frame{Names: slices.Clone(f.Names), Cols: make([][]float32, len(f.Cols))}
	for j, c := range f.Cols {
		out.Cols[j] = c[lo:hi:hi]
	}
	return out, nil
}
