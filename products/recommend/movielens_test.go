package recommend

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/plinthai/plinth/internal/testdata"
)

func uData(t *testing.T) []byte {
	t.Helper()
	f, err := os.Open(testdata.Dataset(t, "ml-100k/u.data.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, _ := gzip.NewReader(f)
	b, err := io.ReadAll(gz)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func zipOf(t *testing.T, name string, data []byte) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create(name)
	_, _ = w.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDownloadML100K(t *testing.T) {
	data := uData(t)
	good := zipOf(t, "ml-100k/u.data", data)
	bad := zipOf(t, "ml-100k/u.data", append(bytes.Clone(data[:len(data)-2]), '9', '\n'))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "bad.zip") {
			_, _ = w.Write(bad)
			return
		}
		_, _ = w.Write(good)
	}))
	defer srv.Close()
	dir := t.TempDir()
	if _, err := DownloadML100K(context.Background(), srv.Client(), srv.URL+"/bad.zip", dir); !errors.Is(err, ErrChecksum) {
		t.Fatalf("altered archive: got %v, want ErrChecksum", err)
	}
	path, err := DownloadML100K(context.Background(), srv.Client(), srv.URL+"/ml-100k.zip", dir)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(path)
	defer f.Close()
	rs, err := LoadRatings(f)
	if err != nil || len(rs) != 100000 {
		t.Fatalf("LoadRatings = %d ratings, %v; want 100000", len(rs), err)
	}
	for i := 1; i < len(rs); i++ {
		if rs[i].Time.Before(rs[i-1].Time) {
			t.Fatalf("rating %d out of time order", i)
		}
	}
}

func TestLoadRatingsRejects(t *testing.T) {
	for _, in := range []string{"1\t2\t3\n", "1\t2\tx\t5\n", "1\t2\t9\t5\n"} {
		if _, err := LoadRatings(strings.NewReader(in)); err == nil {
			t.Errorf("LoadRatings(%q) = nil error", in)
		}
	}
}

func TestLoadML100K(t *testing.T) {
	path := testdata.Dataset(t, SharedML100K)
	var terms strings.Builder
	rs, source, err := LoadML100K(context.Background(), "", t.TempDir(), &terms)
	if err != nil || len(rs) != 100000 || source != path || terms.Len() != 0 {
		t.Fatalf("LoadML100K = %d ratings from %q, %v (terms shown: %q); want 100000 from %s without download", len(rs), source, err, terms.String(), path)
	}
	if rs[0].Item <= 0 || rs[0].User == "" || rs[0].Time.After(rs[len(rs)-1].Time) {
		t.Errorf("first rating %+v", rs[0])
	}
}
