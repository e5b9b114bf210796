package frame

import (
	"bytes"
	"compress/gzip"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/plinthai/plinth/internal/testdata"
	"github.com/plinthai/plinth/ml/artifact"
)

var nan = float32(math.NaN())

func gz(t testing.TB, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestReadCSV(t *testing.T) {
	const text = "\uFEFFa,b,c\r\n1,x,0.5\r\n2,,NA\r\n3,y,1e3\r\n"
	wantCols := [][]float32{{1, 2, 3}, {0, nan, 1}, {0.5, nan, 1000}}
	wantFields := []artifact.Field{
		{Name: "a", Type: TypeInt},
		{Name: "b", Type: TypeCategory, Categories: []string{"x", "y"}},
		{Name: "c", Type: TypeFloat},
	}
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"plain", []byte(text)},
		{"gzip", gz(t, text)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, enc, err := ReadCSV(bytes.NewReader(tc.in), CSVOptions{})
			if err != nil {
				t.Fatalf("ReadCSV: %v", err)
			}
			if diff := cmp.Diff(wantCols, f.Cols, cmpopts.EquateNaNs()); diff != "" {
				t.Errorf("columns (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(wantFields, enc.Fields()); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadCSVWithEncoder(t *testing.T) {
	_, enc, err := ReadCSV(strings.NewReader("k,v\nb,1\na,2\n"), CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Columns in another order, an unseen category: coded as in training.
	f, _, err := ReadCSV(strings.NewReader("v,k\n3,a\n4,zz\n5,b\n"), CSVOptions{Encoder: enc})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]float32{{0, nan, 1}, {3, 4, 5}}
	if diff := cmp.Diff(want, f.Cols, cmpopts.EquateNaNs()); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
}

func TestReadCSVErrors(t *testing.T) {
	_, enc, err := ReadCSV(strings.NewReader("k,v\nb,1\n"), CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, in string
		opt      CSVOptions
		want     string
	}{
		{"ragged", "a,b\n1\n", CSVOptions{}, "wrong number of fields"},
		{"no names", "1,2\n", CSVOptions{NoHeader: true}, "no header"},
		{"too big", "a\n1\n2\n3\n", CSVOptions{MaxCells: 2}, "more than 2 cells"},
		{"schema column missing", "k,w\nb,1\n", CSVOptions{Encoder: enc}, `schema column "v"`},
		{"text in numeric", "k,v\nb,oops\n", CSVOptions{Encoder: enc}, `"oops" is not a number`},
		{"empty", "", CSVOptions{}, "header"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ReadCSV(strings.NewReader(tc.in), tc.opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestEncoderRejects(t *testing.T) {
	for _, fields := range [][]artifact.Field{
		{{Name: "a", Type: "complex"}},
		{{Name: "a", Type: TypeCategory, Categories: []string{"x", "x"}}},
	} {
		if _, err := NewEncoder(fields); err == nil {
			t.Errorf("NewEncoder(%v): got nil error, want one", fields)
		}
	}
}

func TestOps(t *testing.T) {
	f, err := New([]string{"a", "b"}, [][]float32{{1, 2, 3}, {4, 5, 6}})
	if err != nil {
		t.Fatal(err)
	}
	tk, err := f.Take([]int{2, 0})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([][]float32{{3, 1}, {6, 4}}, tk.Cols); diff != "" {
		t.Errorf("Take (-want +got):\n%s", diff)
	}
	d, err := f.Drop("a")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"b"}, d.Names); diff != "" {
		t.Errorf("Drop names (-want +got):\n%s", diff)
	}
	s, err := f.Slice(1, 3)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.NumRows(); got != 2 {
		t.Errorf("Slice rows: got %d, want 2", got)
	}
	if _, err := f.Take([]int{3}); err == nil {
		t.Error("Take out of range: got nil error")
	}
	if _, err := f.Column("zz"); err == nil {
		t.Error("Column missing: got nil error")
	}
}

func TestReadSharedDatasets(t *testing.T) {
	p := testdata.Dataset(t, "vehicle-claim-fraud/fraud_oracle.csv.gz")
	fh, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	f, enc, err := ReadCSV(fh, CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f.NumRows(), 15420; got != want {
		t.Errorf("rows: got %d, want %d", got, want)
	}
	if got := enc.Fields()[0]; got.Name != "Month" || got.Type != TypeCategory || len(got.Categories) != 12 {
		t.Errorf("first field: got %+v, want Month, category, 12 months", got)
	}
}
