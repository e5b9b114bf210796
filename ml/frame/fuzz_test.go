package frame

import (
	"bytes"
	"testing"
)

func FuzzReadCSV(f *testing.F) {
	f.Add([]byte("a,b,c\n1,x,0.5\n2,,NA\n"))
	f.Add([]byte("\uFEFFk\r\nb\r\n"))
	f.Add(gz(f, "a,b\n1,2\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, enc, err := ReadCSV(bytes.NewReader(data), CSVOptions{MaxCells: 10_000})
		if err != nil {
			return
		}
		if fr.NumCols() != len(enc.Fields()) {
			t.Errorf("frame has %d columns, encoder %d", fr.NumCols(), len(enc.Fields()))
		}
	})
}
