// Package dataset fetches public data sets for the products: a download is
// accepted only when its size and sha256 match the published file, and it
// reaches its final name only then, so a partial or altered file never
// passes for the data set.
package dataset

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
)

// ErrChecksum means downloaded bytes are not the expected file.
var ErrChecksum = errors.New("dataset: downloaded file does not match its checksum")

// Download fetches url into dir/name unless a file with the expected size
// and sha256 is there already. The bytes go to a temporary file first and
// are renamed into place only after their size and sha256 match, so a
// partial or altered download never looks like the data set. It returns
// the file's path.
func Download(ctx context.Context, client *http.Client, url, dir, name, wantSHA256 string, wantSize int64) (string, error) {
	path := filepath.Join(dir, name)
	if ok, err := Verify(path, wantSHA256, wantSize); err == nil && ok {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create %s: %w", dir, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", fmt.Errorf("download %s: %w", url, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("download %s: %w (no network? copy the file to %s by hand)", url, err, path)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("download %s: HTTP %d", url, resp.StatusCode)
	}
	tmp, err := os.CreateTemp(dir, name+".part-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	sum := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, sum), io.LimitReader(resp.Body, wantSize+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("download %s: %w", url, err)
	}
	if got := hex.EncodeToString(sum.Sum(nil)); n != wantSize || got != wantSHA256 {
		return "", fmt.Errorf("%w: got %d bytes with sha256 %s, want %d bytes with %s", ErrChecksum, n, got, wantSize, wantSHA256)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", err
	}
	return path, nil
}

// Verify reports whether path holds exactly the expected bytes: the sha256
// and, when wantSize ≥ 0, the size.
func Verify(path, wantSHA256 string, wantSize int64) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	sum := sha256.New()
	n, err := io.Copy(sum, f)
	if err != nil {
		return false, err
	}
	return (wantSize < 0 || n == wantSize) && hex.EncodeToString(sum.Sum(nil)) == wantSHA256, nil
}
