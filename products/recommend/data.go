package recommend

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"

	"github.com/plinthai/plinth/internal/testdata"
)

// SharedML100K is where MovieLens 100K's ratings lie inside the shared
// data set folder.
const SharedML100K = "ml-100k/u.data.gz"

// FindML100K returns the path of MovieLens 100K's ratings in the shared
// data set folder (PLINTH_DATASETS, or ../shared/datasets beside the
// checkout), or "" when they are not there.
func FindML100K() string {
	dir := testdata.DatasetsDir()
	if dir == "" {
		return ""
	}
	p := filepath.Join(dir, SharedML100K)
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// LoadML100K returns MovieLens 100K's ratings in time order, and where it
// read them: from path when it is set; else from the shared data set
// folder; else downloaded from GroupLens into dir, after writing the
// data set's Terms to terms, and accepted only when the ratings match
// their published checksum.
func LoadML100K(ctx context.Context, path, dir string, terms io.Writer) ([]Rating, string, error) {
	if path == "" {
		path = FindML100K()
	}
	if path == "" {
		fmt.Fprintf(terms, "MovieLens 100K is not in the shared data sets; downloading it from %s under its terms:\n%s\n\n", ML100KURL, Terms)
		p, err := DownloadML100K(ctx, http.DefaultClient, ML100KURL, dir)
		if err != nil {
			return nil, "", err
		}
		path = p
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, "", fmt.Errorf("open MovieLens ratings: %w", err)
	}
	defer f.Close()
	rs, err := LoadRatings(f)
	if err != nil {
		return nil, "", fmt.Errorf("read MovieLens ratings %s: %w", path, err)
	}
	return rs, path, nil
}
