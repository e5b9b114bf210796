package main

import (
	"bufio"
	"compress/gzip"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/plinthai/plinth/ml/frame"
)

// split is one data set's train and test rows, encoded for one learner.
type split struct {
	Name                  string
	Train, Test           *frame.Frame
	YTrain, YTest         []float64
	Encoding, Description string
}

// table is a CSV file as strings.
type table struct {
	head []string
	rows [][]string
}

// readTable reads a gzip CSV; with header false the columns are named c0….
func readTable(path string, header bool) (*table, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	gz, err := gzip.NewReader(bufio.NewReader(fh))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	recs, err := csv.NewReader(gz).ReadAll()
	if err != nil || len(recs) == 0 {
		return nil, fmt.Errorf("%s: read csv: %v", path, err)
	}
	t := &table{rows: recs}
	if header {
		t.head, t.rows = recs[0], recs[1:]
		t.head[0] = strings.TrimPrefix(t.head[0], "\ufeff")
	} else {
		for j := range recs[0] {
			t.head = append(t.head, fmt.Sprintf("c%d", j))
		}
	}
	return t, nil
}

func (t *table) col(name string) int { return slices.Index(t.head, name) }

// encoder turns table rows into a frame: numeric columns as they are,
// categorical ones one-hot or as ordinal codes, with the vocabulary taken
// from the training rows (unseen values: all-zero one-hot, code = size).
type encoder struct {
	t           *table
	numeric     []string
	categorical []string
	oneHot      bool
	vocab       map[string][]string
}

func (e *encoder) fit(train []int) {
	e.vocab = map[string][]string{}
	for _, c := range e.categorical {
		j := e.t.col(c)
		seen := map[string]bool{}
		for _, i := range train {
			seen[e.t.rows[i][j]] = true
		}
		v := make([]string, 0, len(seen))
		for s := range seen {
			v = append(v, s)
		}
		sort.Strings(v)
		e.vocab[c] = v
	}
}

func (e *encoder) encode(rows []int) (*frame.Frame, error) {
	var names []string
	var cols [][]float32
	for _, c := range e.numeric {
		j := e.t.col(c)
		col := make([]float32, len(rows))
		for k, i := range rows {
			v, err := strconv.ParseFloat(e.t.rows[i][j], 32)
			if err != nil {
				return nil, fmt.Errorf("column %s row %d: %w", c, i, err)
			}
			col[k] = float32(v)
		}
		names, cols = append(names, c), append(cols, col)
	}
	for _, c := range e.categorical {
		n, cs := e.encodeCategory(c, rows)
		names, cols = append(names, n...), append(cols, cs...)
	}
	return frame.New(names, cols)
}

func (e *encoder) encodeCategory(c string, rows []int) ([]string, [][]float32) {
	j, vocab := e.t.col(c), e.vocab[c]
	if !e.oneHot {
		col := make([]float32, len(rows))
		for k, i := range rows {
			code, ok := slices.BinarySearch(vocab, e.t.rows[i][j])
			if !ok {
				code = len(vocab)
			}
			col[k] = float32(code)
		}
		return []string{c}, [][]float32{col}
	}
	names := make([]string, len(vocab))
	cols := make([][]float32, len(vocab))
	for v := range vocab {
		names[v] = c + "=" + vocab[v]
		cols[v] = make([]float32, len(rows))
	}
	for k, i := range rows {
		if code, ok := slices.BinarySearch(vocab, e.t.rows[i][j]); ok {
			cols[code][k] = 1
		}
	}
	return names, cols
}

// labels parses a 0/1 label column (or the positive string pos).
func labels(t *table, name, pos string, rows []int) []float64 {
	j := t.col(name)
	y := make([]float64, len(rows))
	for k, i := range rows {
		s := t.rows[i][j]
		if s == pos || (pos == "" && s == "1") {
			y[k] = 1
		}
	}
	return y
}

func without(all []string, drop ...string) []string {
	var out []string
	for _, s := range all {
		if !slices.Contains(drop, s) {
			out = append(out, s)
		}
	}
	return out
}

func rangeInts(lo, hi int) []int {
	out := make([]int, 0, hi-lo)
	for i := lo; i < hi; i++ {
		out = append(out, i)
	}
	return out
}

// loadSplits returns the four tabular data sets with the agreed splits.
// oneHot selects the vehicle-claim encoding (one-hot for the linear model,
// ordinal codes for the isolation forest).
func loadSplits(dir string, oneHot bool) ([]split, error) {
	loaders := []func(string, bool) (split, error){creditcard, vehicle, taiwan, elec2}
	var out []split
	for _, load := range loaders {
		s, err := load(dir, oneHot)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func build(name, desc string, e *encoder, label, pos string, train, test []int) (split, error) {
	e.fit(train)
	tr, err := e.encode(train)
	if err != nil {
		return split{}, fmt.Errorf("%s: %w", name, err)
	}
	te, err := e.encode(test)
	if err != nil {
		return split{}, fmt.Errorf("%s: %w", name, err)
	}
	enc := "numeric"
	if len(e.categorical) > 0 {
		enc = map[bool]string{true: "one-hot", false: "ordinal"}[e.oneHot]
	}
	return split{Name: name, Train: tr, Test: te, YTrain: labels(e.t, label, pos, train),
		YTest: labels(e.t, label, pos, test), Encoding: enc, Description: desc}, nil
}

func creditcard(dir string, _ bool) (split, error) {
	t, err := readTable(filepath.Join(dir, "creditcard-ulb-sample/creditcard_sample.csv.gz"), true)
	if err != nil {
		return split{}, err
	}
	tj := t.col("Time")
	idx := rangeInts(0, len(t.rows))
	sort.SliceStable(idx, func(a, b int) bool {
		x, _ := strconv.ParseFloat(t.rows[idx[a]][tj], 64)
		y, _ := strconv.ParseFloat(t.rows[idx[b]][tj], 64)
		return x < y
	})
	n := len(idx) * 8 / 10
	e := &encoder{t: t, numeric: without(t.head, "Class")}
	return build("creditcard-ulb-sample", "sorted by Time, first 80 % train", e, "Class", "", idx[:n], idx[n:])
}

func vehicle(dir string, oneHot bool) (split, error) {
	t, err := readTable(filepath.Join(dir, "vehicle-claim-fraud/fraud_oracle.csv.gz"), true)
	if err != nil {
		return split{}, err
	}
	numeric := []string{"WeekOfMonth", "WeekOfMonthClaimed", "Age", "RepNumber", "Deductible", "DriverRating"}
	cat := without(t.head, append(numeric, "FraudFound_P", "PolicyNumber", "Year")...)
	var train, test []int
	yj := t.col("Year")
	for i, r := range t.rows {
		if r[yj] == "1996" {
			test = append(test, i)
		} else {
			train = append(train, i)
		}
	}
	e := &encoder{t: t, numeric: numeric, categorical: cat, oneHot: oneHot}
	return build("vehicle-claim-fraud", "train 1994–95, test 1996; PolicyNumber and Year dropped", e, "FraudFound_P", "", train, test)
}

func taiwan(dir string, _ bool) (split, error) {
	t, err := readTable(filepath.Join(dir, "taiwan-credit-default/UCI_Credit_Card.csv.gz"), true)
	if err != nil {
		return split{}, err
	}
	perm := rand.New(rand.NewPCG(42, 0)).Perm(len(t.rows))
	n := len(perm) / 5
	e := &encoder{t: t, numeric: without(t.head, "ID", "Y")}
	return build("taiwan-credit-default", "random 80/20 (Go math/rand/v2 PCG(42,0) permutation, first 20 % test); ID dropped", e, "Y", "", perm[n:], perm[:n])
}

func elec2(dir string, _ bool) (split, error) {
	t, err := readTable(filepath.Join(dir, "elec2/elecNormNew.csv.gz"), false)
	if err != nil {
		return split{}, err
	}
	n := len(t.rows) * 8 / 10
	e := &encoder{t: t, numeric: t.head[:8]}
	return build("elec2", "first 80 % in time order train; label UP = 1", e, "c8", "UP", rangeInts(0, n), rangeInts(n, len(t.rows)))
}

// writeCSV writes f's columns and y as a headerless CSV (label last), the
// exact float32 values, for the Python peer.
func writeCSV(path string, f *frame.Frame, y []float64) error {
	fh, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(fh, 1<<20)
	var b []byte
	for i := 0; i < f.NumRows(); i++ {
		b = b[:0]
		for _, c := range f.Cols {
			b = strconv.AppendFloat(b, float64(c[i]), 'g', -1, 32)
			b = append(b, ',')
		}
		b = strconv.AppendFloat(b, y[i], 'g', -1, 64)
		b = append(b, '\n')
		w.Write(b)
	}
	if err := w.Flush(); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}
