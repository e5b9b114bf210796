package frame

import "fmt"

// Columns returns the named columns in the order given, without copying,
// so a model can read a frame whose columns are in any order. A missing
// name, or a column of the wrong length, is an error naming it.
func (f *Frame) Columns(names []string) ([][]float32, error) {
	if f == nil {
		return nil, fmt.Errorf("%w: nil frame", ErrShape)
	}
	cols := make([][]float32, len(names))
	for j, name := range names {
		k := f.Index(name)
		if k < 0 {
			return nil, fmt.Errorf("frame has no column %q", name)
		}
		if len(f.Cols[k]) != f.NumRows() {
			return nil, fmt.Errorf("%w: column %q has %d rows, want %d", ErrShape, name, len(f.Cols[k]), f.NumRows())
		}
		cols[j] = f.Cols[k]
	}
	return cols, nil
}
