// Package tabular loads the tabular data sets that Plinth's learners are
// measured on, split the way the benchmarks split them, so that the
// quality-floor tests in ml/ and the peer benchmarks in bench/ train and
// score on exactly the same rows. It also makes the documented
// synthetic data set.
//
// The data live outside the repository (see internal/testdata); loaders
// take the data set directory and return an error naming the missing file.
package tabular

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"

	"github.com/plinthai/plinth/ml/frame"
)

// Split is one side (train or test) of a data set: features and 0/1 labels.
type Split struct {
	X *frame.Frame
	Y []float32
}

// Set is a data set split into train and test.
type Set struct {
	Name        string
	Train, Test Split
}

// Names lists the shared data sets, in benchmark order.
var Names = []string{"creditcard-ulb-sample", "vehicle-claim-fraud", "taiwan-credit-default", "elec2"}

// spec says how to read and split one data set.
type spec struct {
	file  string
	label string
	drop  []string
	opt   frame.CSVOptions
	split func(f *frame.Frame) (train, test []int, err error)
}

func specs() map[string]spec {
	return map[string]spec{
		"creditcard-ulb-sample": {file: "creditcard-ulb-sample/creditcard_sample.csv.gz", label: "Class",
			split: sortedPrefix("Time", 0.8)},
		"vehicle-claim-fraud": {file: "vehicle-claim-fraud/fraud_oracle.csv.gz", label: "FraudFound_P",
			drop: []string{"PolicyNumber"}, split: byYear},
		"taiwan-credit-default": {file: "taiwan-credit-default/UCI_Credit_Card.csv.gz", label: "Y",
			drop: []string{"ID"}, split: randomSplit(42, 0.8)},
		"elec2": {file: "elec2/elecNormNew.csv.gz", label: "class",
			opt: frame.CSVOptions{NoHeader: true, Names: []string{"date", "day", "period", "nswprice",
				"nswdemand", "vicprice", "vicdemand", "transfer", "class"}},
			split: sortedPrefix("", 0.8)},
	}
}

// Load reads the named data set from dir (the shared data set directory)
// and splits it:
//   - creditcard-ulb-sample: stable sort by Time, first 80 % train;
//   - vehicle-claim-fraud: years 1994–95 train, 1996 test (PolicyNumber, a
//     row id, dropped; categories coded in sorted order);
//   - taiwan-credit-default: a seeded random 80/20 (PCG seed 42; ID dropped);
//   - elec2: first 80 % in file (time) order; class UP is 1.
func Load(dir, name string) (*Set, error) {
	sp, ok := specs()[name]
	if !ok {
		return nil, fmt.Errorf("tabular: unknown data set %q, want one of %v", name, Names)
	}
	fh, err := os.Open(filepath.Join(dir, sp.file))
	if err != nil {
		return nil, fmt.Errorf("tabular: %s: %w", name, err)
	}
	defer fh.Close()
	f, _, err := frame.ReadCSV(fh, sp.opt)
	if err != nil {
		return nil, fmt.Errorf("tabular: %s: %w", name, err)
	}
	tr, te, err := sp.split(f)
	if err != nil {
		return nil, fmt.Errorf("tabular: %s: %w", name, err)
	}
	set := &Set{Name: name}
	if set.Train, err = take(f, tr, sp.label, sp.drop); err != nil {
		return nil, err
	}
	if set.Test, err = take(f, te, sp.label, sp.drop); err != nil {
		return nil, err
	}
	return set, nil
}

// take returns the given rows with the label split off and drop removed.
func take(f *frame.Frame, rows []int, label string, drop []string) (Split, error) {
	sub, err := f.Take(rows)
	if err != nil {
		return Split{}, err
	}
	y, err := sub.Column(label)
	if err != nil {
		return Split{}, err
	}
	x, err := sub.Drop(append([]string{label}, drop...)...)
	return Split{X: x, Y: y}, err
}

// sortedPrefix orders rows by a column (file order when col is ""), stably,
// and puts the first frac in train.
func sortedPrefix(col string, frac float64) func(*frame.Frame) ([]int, []int, error) {
	return func(f *frame.Frame) ([]int, []int, error) {
		idx := make([]int, f.NumRows())
		for i := range idx {
			idx[i] = i
		}
		if col != "" {
			c, err := f.Column(col)
			if err != nil {
				return nil, nil, err
			}
			slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(c[a], c[b]) })
		}
		k := int(float64(len(idx)) * frac)
		return idx[:k], idx[k:], nil
	}
}

// byYear trains on 1994–95 and tests on 1996.
func byYear(f *frame.Frame) ([]int, []int, error) {
	year, err := f.Column("Year")
	if err != nil {
		return nil, nil, err
	}
	var tr, te []int
	for i, y := range year {
		if y == 1996 {
			te = append(te, i)
		} else {
			tr = append(tr, i)
		}
	}
	return tr, te, nil
}

// randomSplit shuffles rows with a seeded PCG and puts the first frac in train.
func randomSplit(seed uint64, frac float64) func(*frame.Frame) ([]int, []int, error) {
	return func(f *frame.Frame) ([]int, []int, error) {
		r := rand.New(rand.NewPCG(seed, seed))
		idx := r.Perm(f.NumRows())
		k := int(float64(len(idx)) * frac)
		tr, te := idx[:k], idx[k:]
		slices.Sort(tr)
		slices.Sort(te)
		return tr, te, nil
	}
}

// Synthetic returns the documented synthetic binary data set: n rows of nf
// ≥ 4 features, each standard normal with 2 % missing (NaN), and label
// 1 when 1.5·x0 − x1·x2 + sin(3·x3) + 0.5·x4·[nf > 4] + N(0, 0.5²) > 0
// (a missing term counts 0.7). Rows are independent; the first 80 % are
// train. The same seed gives the same data.
func Synthetic(n, nf int, seed uint64) *Set {
	r := rand.New(rand.NewPCG(seed, 1))
	cols := make([][]float32, nf)
	names := make([]string, nf)
	for j := range cols {
		names[j] = fmt.Sprintf("x%d", j)
		cols[j] = make([]float32, n)
	}
	y := make([]float32, n)
	for i := range n {
		for j := range cols {
			v := float32(r.NormFloat64())
			if r.IntN(50) == 0 {
				v = float32(math.NaN())
			}
			cols[j][i] = v
		}
		y[i] = syntheticLabel(cols, i, r.NormFloat64())
	}
	f, _ := frame.New(names, cols)
	k := n * 8 / 10
	tr, _ := f.Slice(0, k)
	te, _ := f.Slice(k, n)
	return &Set{Name: fmt.Sprintf("synthetic-%dx%d", n, nf),
		Train: Split{X: tr, Y: y[:k]}, Test: Split{X: te, Y: y[k:]}}
}

// syntheticLabel applies the labelling rule to row i.
func syntheticLabel(cols [][]float32, i int, noise float64) float32 {
	v := func(j int) float64 {
		if j >= len(cols) {
			return 0
		}
		x := float64(cols[j][i])
		if math.IsNaN(x) {
			return 0.7
		}
		return x
	}
	z := 1.5*v(0) - v(1)*v(2) + math.Sin(3*v(3)) + 0.5*v(4) + 0.5*noise
	if z > 0 {
		return 1
	}
	return 0
}
