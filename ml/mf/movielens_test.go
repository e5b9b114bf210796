package mf

import (
	"bufio"
	"compress/gzip"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/plinthai/plinth/internal/testdata"
)

// ml100kSize is the number of users and items in MovieLens-100K.
const ml100kUsers, ml100kItems = 943, 1682

// interaction is one MovieLens row with 0-based ids.
type interaction struct {
	user, item int32
	rating     float64
	time       int64
}

// readML100K reads a gzipped MovieLens-100K file (user, item, rating, time,
// tab-separated, 1-based ids) from the shared data sets, skipping the test
// when they are absent.
func readML100K(t testing.TB, name string) []interaction {
	t.Helper()
	f, err := os.Open(testdata.Dataset(t, "ml-100k/"+name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	var rows []interaction
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		fs := strings.Split(sc.Text(), "\t")
		if len(fs) != 4 {
			t.Fatalf("%s: line %q has %d fields, want 4", name, sc.Text(), len(fs))
		}
		u, _ := strconv.Atoi(fs[0])
		i, _ := strconv.Atoi(fs[1])
		r, _ := strconv.ParseFloat(fs[2], 64)
		ts, _ := strconv.ParseInt(fs[3], 10, 64)
		rows = append(rows, interaction{int32(u - 1), int32(i - 1), r, ts})
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return rows
}

// toRatings converts rows to Ratings over all ML-100K users and items.
func toRatings(rows []interaction) Ratings {
	r := Ratings{NumUsers: ml100kUsers, NumItems: ml100kItems}
	for _, x := range rows {
		r.Users = append(r.Users, x.user)
		r.Items = append(r.Items, x.item)
		r.Values = append(r.Values, x.rating)
	}
	return r
}
