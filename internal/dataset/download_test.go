package dataset

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

func TestDownloadVerifies(t *testing.T) {
	data := bytes.Repeat([]byte("Time,V1,Class\n0,1.5,0\n"), 1000)
	sum := sha256.Sum256(data)
	sha := hex.EncodeToString(sum[:])
	var hits int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		if r.URL.Path == "/bad" {
			_, _ = w.Write(append(bytes.Clone(data[:len(data)-1]), 'X'))
			return
		}
		_, _ = w.Write(data)
	}))
	defer srv.Close()
	dir := t.TempDir()
	ctx := context.Background()

	_, err := Download(ctx, srv.Client(), srv.URL+"/bad", dir, "cc.csv", sha, int64(len(data)))
	if !errors.Is(err, ErrChecksum) {
		t.Fatalf("altered download: got %v, want ErrChecksum", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("altered download left files behind: %v", entries)
	}
	path, err := Download(ctx, srv.Client(), srv.URL+"/good", dir, "cc.csv", sha, int64(len(data)))
	if err != nil || path != filepath.Join(dir, "cc.csv") {
		t.Fatalf("Download = %q, %v", path, err)
	}
	if _, err := Download(ctx, srv.Client(), srv.URL+"/good", dir, "cc.csv", sha, int64(len(data))); err != nil || hits != 2 {
		t.Errorf("second Download: err %v after %d requests, want a verified local copy and no new request", err, hits)
	}
}
