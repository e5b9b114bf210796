package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/plinthai/plinth/ml/frame"
	"github.com/plinthai/plinth/ml/gbdt"
)

// Spans in half-hours.
const (
	day  = 48
	week = 7 * day
)

// protocol is when predictions start and how models are retrained, in
// half-hours.
type protocol struct {
	Warmup   int `json:"warmup"`   // predictions start after Warmup
	Every    int `json:"every"`    // scheduled retrain period
	Lookback int `json:"lookback"` // each training set spans the last Lookback
}

// elec2Protocol is the issue's: predict after four weeks, retrain weekly
// on the last eight weeks.
var elec2Protocol = protocol{Warmup: 4 * week, Every: week, Lookback: 8 * week}

// inputs are elec2's eight attributes, in file order.
var inputs = []string{"date", "day", "period", "nswprice", "nswdemand", "vicprice", "vicdemand", "transfer"}

// dataset is elec2 in time order: x[i] the attributes of half-hour i,
// y[i] 1 when the class is UP.
type dataset struct {
	x [][8]float64
	y []float64
}

// load reads elecNormNew.csv.gz, keeping the first limit rows (0: all).
func load(path string, limit int) (*dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	d := &dataset{}
	sc := bufio.NewScanner(zr)
	for sc.Scan() && (limit == 0 || len(d.y) < limit) {
		parts := strings.Split(strings.TrimSpace(sc.Text()), ",")
		if len(parts) != 9 {
			return nil, fmt.Errorf("%s row %d: %d columns, want 9", path, len(d.y)+1, len(parts))
		}
		var row [8]float64
		for j := range row {
			if row[j], err = strconv.ParseFloat(parts[j], 64); err != nil {
				return nil, fmt.Errorf("%s row %d: %w", path, len(d.y)+1, err)
			}
		}
		d.x = append(d.x, row)
		d.y = append(d.y, boolf(parts[8] == "UP"))
	}
	return d, sc.Err()
}

func boolf(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// featureNames are the columns of the view "market" (full) and, without
// the price windows, of "market_labels"; offline computes the same.
func featureNames(full bool) []string {
	names := append([]string{}, inputs...)
	names = append(names, "up_recent_0", "up_recent_1", "up_recent_2", "up_recent_3", "up_mean_24h")
	if full {
		names = append(names, "nswprice_recent_0", "nswprice_recent_1", "nswprice_mean_24h", "vicprice_mean_24h")
	}
	return names
}

// features computes the view's features of half-hour i offline: the row's
// inputs, the labels of earlier half-hours within 24 hours, and (full)
// the price windows over the 48 half-hours ending with i.
func (d *dataset) features(i int, full bool) []float32 {
	out := make([]float32, 0, 17)
	for _, v := range d.x[i] {
		out = append(out, float32(v))
	}
	for k := 1; k <= 4; k++ {
		out = append(out, d.at(i-k, -1))
	}
	out = append(out, float32(d.mean(i-day, i, -1)))
	if full {
		out = append(out, float32(d.x[i][3]), d.at(i-1, 3), float32(d.mean(i-day+1, i+1, 3)), float32(d.mean(i-day+1, i+1, 5)))
	}
	return out
}

// at is column col of row i (col -1: the label), NaN before the start.
func (d *dataset) at(i, col int) float32 {
	switch {
	case i < 0:
		return float32(math.NaN())
	case col < 0:
		return float32(d.y[i])
	}
	return float32(d.x[i][col])
}

// mean of column col (-1: the label) over rows [lo, hi), clipped at 0.
func (d *dataset) mean(lo, hi, col int) float64 {
	lo = max(lo, 0)
	if hi <= lo {
		return math.NaN()
	}
	s := 0.0
	for i := lo; i < hi; i++ {
		s += float64(d.at(i, col))
	}
	return s / float64(hi-lo)
}

// gbdtParams are the loop's and the offline run's: 100 rounds, depth 6, eta 0.1.
func gbdtParams() gbdt.Params {
	p := gbdt.DefaultParams()
	p.Objective = gbdt.ObjectiveBinaryLogistic
	p.NumRounds, p.MaxDepth, p.LearningRate = 100, 6, 0.1
	return p
}

// offline is Plinth's offline equivalent of the loop: ml/gbdt retrained
// on p's schedule, predicting each half-hour after warm-up.
// It returns the prequential accuracy.
func offline(ctx context.Context, d *dataset, p protocol, full bool) (float64, error) {
	names := featureNames(full)
	correct, n := 0, 0
	for start := p.Warmup; start < len(d.y); start += p.Every {
		m, err := fit(ctx, d, names, max(0, start-p.Lookback), start, full)
		if err != nil {
			return 0, err
		}
		for i := start; i < min(start+p.Every, len(d.y)); i++ {
			p, err := m.PredictRow(d.features(i, full), gbdt.OutputValue)
			if err != nil {
				return 0, err
			}
			if boolf(p >= 0.5) == d.y[i] {
				correct++
			}
			n++
		}
	}
	return float64(correct) / float64(n), nil
}

func fit(ctx context.Context, d *dataset, names []string, lo, hi int, full bool) (*gbdt.Model, error) {
	cols := make([][]float32, len(names))
	y := make([]float32, 0, hi-lo)
	for i := lo; i < hi; i++ {
		for j, v := range d.features(i, full) {
			cols[j] = append(cols[j], v)
		}
		y = append(y, float32(d.y[i]))
	}
	x, err := frame.New(names, cols)
	if err != nil {
		return nil, err
	}
	return gbdt.Train(ctx, gbdt.Data{X: x, Y: y}, nil, gbdtParams())
}
