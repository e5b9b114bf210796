package main

import (
	"bufio"
	"cmp"
	"compress/gzip"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/plinthai/plinth/ml/mf"
)

// row is one interaction with 0-based ids; time is 0 where the data set has
// none (ML-1M here).
type row struct {
	user, item int32
	rating     float64
	time       int64
}

// dataset is a train/test pair over one id space.
type dataset struct {
	name               string
	numUsers, numItems int
	train, test        []row
}

// readRows reads a gzipped file of separator-delimited user, item, rating
// [, time] rows with 1-based ids, skipping header lines that do not parse.
func readRows(path, sep string) ([]row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var rows []row
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		fs := strings.Split(sc.Text(), sep)
		if len(fs) < 3 {
			return nil, fmt.Errorf("read %s: line %q has %d fields", path, sc.Text(), len(fs))
		}
		u, errU := strconv.Atoi(fs[0])
		i, errI := strconv.Atoi(fs[1])
		r, errR := strconv.ParseFloat(fs[2], 64)
		if errU != nil || errI != nil || errR != nil {
			if len(rows) == 0 {
				continue // header
			}
			return nil, fmt.Errorf("read %s: bad line %q", path, sc.Text())
		}
		x := row{user: int32(u - 1), item: int32(i - 1), rating: r}
		if len(fs) > 3 {
			x.time, _ = strconv.ParseInt(fs[3], 10, 64)
		}
		rows = append(rows, x)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return rows, nil
}

// extent returns one more than the largest user and item ids in rows.
func extent(rows ...[]row) (nu, ni int) {
	for _, rs := range rows {
		for _, x := range rs {
			nu, ni = max(nu, int(x.user)+1), max(ni, int(x.item)+1)
		}
	}
	return nu, ni
}

// ml100kU1 is MovieLens-100K's official u1.base / u1.test split.
func ml100kU1(dir string) (dataset, error) {
	train, err := readRows(filepath.Join(dir, "ml-100k", "u1.base.gz"), "\t")
	if err != nil {
		return dataset{}, err
	}
	test, err := readRows(filepath.Join(dir, "ml-100k", "u1.test.gz"), "\t")
	if err != nil {
		return dataset{}, err
	}
	nu, ni := extent(train, test)
	return dataset{name: "ml-100k u1", numUsers: nu, numItems: ni, train: train, test: test}, nil
}

// ml1mSplitSeed seeds the fixed ML-1M 80/20 split.
const ml1mSplitSeed = 42

// ml1mRandom is ML-1M's ratings split 80/20 at random: rows in file order,
// shuffled by Fisher–Yates with math/rand/v2 PCG(42, 42) (j from n-1 down to
// 1, swap with Uint64N(j+1)); the first 20% (rounded down) of the shuffled
// rows are the test set, the rest train.
func ml1mRandom(dir string) (dataset, error) {
	rows, err := readRows(filepath.Join(dir, "ml-1m", "ratings_uir.tsv.gz"), "\t")
	if err != nil {
		return dataset{}, err
	}
	rng := rand.New(rand.NewPCG(ml1mSplitSeed, ml1mSplitSeed))
	for j := len(rows) - 1; j > 0; j-- {
		k := int(rng.Uint64N(uint64(j + 1)))
		rows[j], rows[k] = rows[k], rows[j]
	}
	nTest := len(rows) / 5
	nu, ni := extent(rows)
	return dataset{name: "ml-1m random 80/20", numUsers: nu, numItems: ni, train: rows[nTest:], test: rows[:nTest]}, nil
}

// leaveLastOut splits rows per user: each user's last interaction by
// (time, item) goes to test, the rest to train.
func leaveLastOut(rows []row) (train, test []row) {
	byUser := map[int32][]row{}
	for _, x := range rows {
		byUser[x.user] = append(byUser[x.user], x)
	}
	users := slices.Sorted(func(yield func(int32) bool) {
		for u := range byUser {
			if !yield(u) {
				return
			}
		}
	})
	for _, u := range users {
		rs := byUser[u]
		slices.SortFunc(rs, func(a, b row) int {
			return cmp.Or(cmp.Compare(a.time, b.time), cmp.Compare(a.item, b.item))
		})
		train = append(train, rs[:len(rs)-1]...)
		test = append(test, rs[len(rs)-1])
	}
	return train, test
}

// ratings converts rows to mf.Ratings over nu users and ni items.
func ratings(rows []row, nu, ni int) mf.Ratings {
	r := mf.Ratings{NumUsers: nu, NumItems: ni,
		Users: make([]int32, len(rows)), Items: make([]int32, len(rows)), Values: make([]float64, len(rows))}
	for j, x := range rows {
		r.Users[j], r.Items[j], r.Values[j] = x.user, x.item, x.rating
	}
	return r
}
