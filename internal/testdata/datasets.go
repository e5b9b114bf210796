// Package testdata locates the real data sets that tests and benchmarks use.
// They live outside the repository (../shared/datasets beside the checkout, or
// wherever PLINTH_DATASETS points) and are never committed: some, such as
// MovieLens, may not be redistributed.
package testdata

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// EnvDatasets names the variable that overrides the data set directory.
const EnvDatasets = "PLINTH_DATASETS"

// DatasetsDir returns the shared data set directory, or "" if it is absent.
func DatasetsDir() string {
	if d := os.Getenv(EnvDatasets); d != "" {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			return d
		}
		return ""
	}
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return ""
	}
	// file is <repo>/internal/testdata/datasets.go.
	d := filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "datasets")
	if fi, err := os.Stat(d); err == nil && fi.IsDir() {
		return filepath.Clean(d)
	}
	return ""
}

// Dataset returns the path of name (a file or folder) inside the shared data
// set directory, skipping the test with a clear message when it is absent.
func Dataset(tb testing.TB, name string) string {
	tb.Helper()
	dir := DatasetsDir()
	if dir == "" {
		tb.Skipf("shared data sets not found (../shared/datasets beside the checkout, or set %s): skipping test that needs %s", EnvDatasets, name)
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("data set %s not found in %s: skipping", name, dir)
	}
	return p
}
