// Package frame holds Plinth's columnar data frame: named float32 columns of
// equal length, with NaN marking a missing value. Learners in ml/ read frames;
// loaders fill them: ReadCSV reads plain or gzip CSV with typed columns, and
// an Encoder (its schema stored in a model's artifact.Field list) codes
// categories the same way at training and at serving.
//
// A Frame is not safe for concurrent mutation; concurrent reads are safe.
package frame

import (
	"errors"
	"fmt"
)

// ErrShape is returned when columns or labels do not have matching lengths.
var ErrShape = errors.New("frame: shape mismatch")

// Frame is a set of named float32 columns of equal length. Column j holds
// Cols[j][i] for row i. Missing values are NaN.
type Frame struct {
	Names []string
	Cols  [][]float32
}

// New returns a frame over the given columns; it does not copy them.
func New(names []string, cols [][]float32) (*Frame, error) {
	if len(names) != len(cols) {
		return nil, fmt.Errorf("%w: %d names for %d columns", ErrShape, len(names), len(cols))
	}
	for j := 1; j < len(cols); j++ {
		if len(cols[j]) != len(cols[0]) {
			return nil, fmt.Errorf("%w: column %q has %d rows, column %q has %d",
				ErrShape, names[j], len(cols[j]), names[0], len(cols[0]))
		}
	}
	return &Frame{Names: names, Cols: cols}, nil
}

// NumRows returns the number of rows.
func (f *Frame) NumRows() int {
	if len(f.Cols) == 0 {
		return 0
	}
	return len(f.Cols[0])
}

// NumCols returns the number of columns.
func (f *Frame) NumCols() int { return len(f.Cols) }

// Row copies row i into dst (grown as needed) and returns it.
func (f *Frame) Row(i int, dst []float32) []float32 {
	dst = dst[:0]
	for _, c := range f.Cols {
		dst = append(dst, c[i])
	}
	return dst
}

// Index returns the position of the named column, or -1.
func (f *Frame) Index(name string) int {
	for j, n := range f.Names {
		if n == name {
			return j
		}
	}
	return -1
}
