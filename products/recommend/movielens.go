// Package recommend is Plinth's movie-recommendation product: MovieLens
// ratings as an event stream, each user's recent items as a feature,
// matrix factorization trained on a schedule or on demand, top-k unseen
// items served, and later ratings as the feedback that scores them.
//
// The product's declarations (spec/, embedded; see Spec) are the
// ratings stream, the user view whose recent_items feature keeps each
// user's 32 latest items, the monitor's rules (live HR@10, decay, canary,
// retrain template), the gate and the first model's training spec
// (implicit ALS). Replay drives the ratings into the platform in time
// order, recommending at each returning user's visit and sending what the
// user rated to FEEDBACK; Reissue is the demo's drift, a block of new
// titles that takes over the most watched ones.
//
// MovieLens may not be redistributed, so the product never ships it: the
// demo reads it from the shared data sets, or downloads it from GroupLens
// after showing its terms, and accepts the download only when its ratings
// file matches the published checksum.
package recommend

import (
	"archive/zip"
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/plinthai/plinth/internal/dataset"
)

// MovieLens 100K as GroupLens publishes it.
const (
	ML100KURL = "https://files.grouplens.org/datasets/movielens/ml-100k.zip"
	// ML100KRatingsSHA256 is the sha256 of ml-100k/u.data.
	ML100KRatingsSHA256 = "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490"
	// maxArchive bounds the download (the archive is about 5 MB).
	maxArchive = 64 << 20
	// Terms is shown before downloading.
	Terms = `MovieLens 100K (GroupLens Research, University of Minnesota). Research use only: no endorsement
by the University of Minnesota or GroupLens may be stated or implied; publications must cite
F. M. Harper and J. A. Konstan, "The MovieLens Datasets: History and Context", ACM TiiS 5(4), 2015;
the data may not be redistributed; no commercial use without permission. Full terms:
https://files.grouplens.org/datasets/movielens/ml-100k-README.txt`
)

// ErrChecksum means the downloaded ratings are not MovieLens 100K's.
var ErrChecksum = errors.New("recommend: ratings file does not match its published checksum")

// Rating is one rating event, as the product's EVENTS stream carries it.
// Item ids are integers (MovieLens numbers its movies), so the feature
// store can keep a user's recent items as numbers.
type Rating struct {
	User   string    `json:"user"`
	Item   int64     `json:"item"`
	Rating float64   `json:"rating"`
	Time   time.Time `json:"time"`
}

// ID is the event id of a rating: a user rates an item once.
func (r Rating) ID() string { return r.User + "/" + strconv.FormatInt(r.Item, 10) }

// DownloadML100K fetches the archive from url, extracts u.data to
// dir/u.data after checking its sha256, and returns that path. A verified
// copy already in dir is used as it is.
func DownloadML100K(ctx context.Context, client *http.Client, url, dir string) (string, error) {
	path := filepath.Join(dir, "u.data")
	if ok, _ := dataset.Verify(path, ML100KRatingsSHA256, -1); ok {
		return path, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("download %s: %w (no network? put u.data in %s by hand)", url, err, dir)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("download %s: HTTP %d", url, resp.StatusCode)
	}
	archive, err := io.ReadAll(io.LimitReader(resp.Body, maxArchive+1))
	if err != nil {
		return "", fmt.Errorf("download %s: %w", url, err)
	}
	if len(archive) > maxArchive {
		return "", fmt.Errorf("download %s: larger than %d bytes", url, maxArchive)
	}
	data, err := extract(archive, "ml-100k/u.data")
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != ML100KRatingsSHA256 {
		return "", ErrChecksum
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	tmp := path + ".part"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return "", err
	}
	return path, os.Rename(tmp, path)
}

func extract(archive []byte, name string) ([]byte, error) {
	zr, err := zip.NewReader(strings.NewReader(string(archive)), int64(len(archive)))
	if err != nil {
		return nil, fmt.Errorf("open MovieLens archive: %w", err)
	}
	for _, f := range zr.File {
		if f.Name != name {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return io.ReadAll(io.LimitReader(rc, maxArchive))
	}
	return nil, fmt.Errorf("MovieLens archive has no %s", name)
}

// LoadRatings reads MovieLens ratings (user \t item \t rating \t unix time,
// gzip-compressed or plain) and returns them in time order (stable, so
// equal times keep file order). Every malformed line is an error naming it.
func LoadRatings(r io.Reader) ([]Rating, error) {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, err
		}
		br = bufio.NewReader(gz)
	}
	var out []Rating
	sc := bufio.NewScanner(br)
	for line := 1; sc.Scan(); line++ {
		f := strings.Split(strings.TrimSpace(sc.Text()), "\t")
		if len(f) == 1 && f[0] == "" {
			continue
		}
		if len(f) != 4 {
			return nil, fmt.Errorf("ratings line %d: want 4 tab-separated fields, got %d", line, len(f))
		}
		item, err0 := strconv.ParseInt(f[1], 10, 64)
		v, err1 := strconv.ParseFloat(f[2], 64)
		ts, err2 := strconv.ParseInt(f[3], 10, 64)
		if err := errors.Join(err0, err1, err2); err != nil || f[0] == "" || item < 0 || v < 0.5 || v > 5 {
			return nil, fmt.Errorf("ratings line %d: bad user, item, rating or time: %q", line, sc.Text())
		}
		out = append(out, Rating{User: f[0], Item: item, Rating: v, Time: time.Unix(ts, 0).UTC()})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	slices.SortStableFunc(out, func(a, b Rating) int { return a.Time.Compare(b.Time) })
	return out, nil
}
