package fraud

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"testing"

	"github.com/plinthai/plinth/internal/testdata"
)

func sample(t *testing.T) []byte {
	t.Helper()
	f, err := os.Open(testdata.Dataset(t, "creditcard-ulb-sample/creditcard_sample.csv.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(gz)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLoadULBSortedByTime(t *testing.T) {
	u, err := LoadULB(bytes.NewReader(sample(t)))
	if err != nil {
		t.Fatal(err)
	}
	if u.X.NumRows() != 5412 || u.X.NumCols() != 30 || len(u.Y) != 5412 {
		t.Fatalf("got %d rows × %d cols, %d labels; want 5412 × 30", u.X.NumRows(), u.X.NumCols(), len(u.Y))
	}
	times := u.X.Cols[u.X.Index("Time")]
	var frauds float32
	for i := range times {
		if i > 0 && times[i] < times[i-1] {
			t.Fatalf("row %d time %v before row %d time %v", i, times[i], i-1, times[i-1])
		}
		frauds += u.Y[i]
	}
	if frauds != 492 {
		t.Errorf("frauds = %v, want 492", frauds)
	}
	if _, err := LoadULB(bytes.NewReader([]byte("a,b\n1,2\n"))); err == nil {
		t.Error("LoadULB of a foreign table: got nil error")
	}
}
