package gbdt

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/plinthai/plinth/internal/tabular"
	"github.com/plinthai/plinth/internal/testdata"
)

func BenchmarkTrain(b *testing.B) {
	x, y := synthetic(b, 200_000, 30, 1)
	p := DefaultParams()
	p.NumRounds, p.LearningRate, p.Threads = 20, 0.1, 2
	b.ResetTimer()
	for range b.N {
		if _, err := Train(context.Background(), Data{X: x, Y: y}, nil, p); err != nil {
			b.Fatal(err)
		}
	}
}

// trained100 returns a model of 100 depth-6 trees on 30 features.
func trained100(b *testing.B) (*Model, [][]float32) {
	x, y := synthetic(b, 50_000, 30, 2)
	p := DefaultParams()
	p.NumRounds, p.LearningRate, p.Threads = 100, 0.1, 2
	m, err := Train(context.Background(), Data{X: x, Y: y}, nil, p)
	if err != nil {
		b.Fatal(err)
	}
	rows := make([][]float32, 1024)
	for i := range rows {
		rows[i] = x.Row(i, nil)
	}
	return m, rows
}

func BenchmarkPredictRow(b *testing.B) {
	m, rows := trained100(b)
	b.ReportAllocs()
	b.ResetTimer()
	var s float64
	for i := range b.N {
		v, err := m.PredictRow(rows[i&1023], OutputValue)
		if err != nil {
			b.Fatal(err)
		}
		s += v
	}
	_ = s
}

// BenchmarkPredictRow100x6 is the serving path: one finite row per call
// (no NaN, as a request carries) through 100 depth-6 trees on 30
// features, cycling over 512 distinct rows so that branch prediction
// cannot learn one row's walk.
func BenchmarkPredictRow100x6(b *testing.B) {
	x, y := synthetic(b, 50_000, 30, 2)
	p := DefaultParams()
	p.NumRounds, p.LearningRate, p.MaxDepth, p.Threads = 100, 0.1, 6, 2
	m, err := Train(context.Background(), Data{X: x, Y: y}, nil, p)
	if err != nil {
		b.Fatal(err)
	}
	var rows [][]float32
	for i := 0; len(rows) < 512; i++ {
		if r := x.Row(i, nil); finite(r) {
			rows = append(rows, r)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	var s float64
	for i := range b.N {
		v, err := m.PredictRow(rows[i&511], OutputValue)
		if err != nil {
			b.Fatal(err)
		}
		s += v
	}
	_ = s
}

func BenchmarkPredictFrame(b *testing.B) {
	x, y := synthetic(b, 50_000, 30, 2)
	p := DefaultParams()
	p.NumRounds, p.LearningRate, p.Threads = 100, 0.1, 2
	m, err := Train(context.Background(), Data{X: x, Y: y}, nil, p)
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]float64, x.NumRows())
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if dst, err = m.PredictFrame(x, dst, OutputValue); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(x.NumRows()*b.N)/b.Elapsed().Seconds(), "rows/s")
}

func TestPredictRowAllocatesNothing(t *testing.T) {
	x, y := synthetic(t, 2000, 8, 3)
	p := DefaultParams()
	p.NumRounds = 10
	m, err := Train(context.Background(), Data{X: x, Y: y}, nil, p)
	if err != nil {
		t.Fatal(err)
	}
	rows := [][]float32{x.Row(0, nil), x.Row(1, nil)}
	rows[1][0] = float32(math.NaN())
	for _, row := range rows {
		if got := testing.AllocsPerRun(100, func() { m.PredictRow(row, OutputValue) }); got != 0 {
			t.Errorf("PredictRow allocations: got %v, want 0", got)
		}
	}
}

// BenchmarkTrainDatasets trains with bench/gbdt's settings (eta 0.1, depth
// 6, 256 bins, 2 threads, 100 rounds) on each shared data set, for
// profiling the fixed per-node and per-round costs that dominate on small
// data. It skips when the data sets are absent.
func BenchmarkTrainDatasets(b *testing.B) {
	dir := testdata.Dataset(b, "")
	for _, name := range tabular.Names {
		set, err := tabular.Load(dir, name)
		if err != nil {
			b.Fatal(err)
		}
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/threads=%d", name, threads), func(b *testing.B) {
				p := DefaultParams()
				p.NumRounds, p.LearningRate, p.Threads, p.BaseScore = 100, 0.1, threads, 0.5
				for range b.N {
					if _, err := Train(context.Background(), Data{X: set.Train.X, Y: set.Train.Y}, nil, p); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestMarginFiniteEveryTreeCount checks the grouped walk (eight trees, then
// four, then one by one) against walking each tree alone, bit for bit, for
// every forest size up to 21 trees of mixed depths.
func TestMarginFiniteEveryTreeCount(t *testing.T) {
	x, y := synthetic(t, 300, 6, 4)
	p := DefaultParams()
	p.NumRounds, p.MaxDepth, p.MinSplitGain, p.LearningRate = 21, 5, 0.5, 0.5 // the gain floor stops late trees early
	m, err := Train(context.Background(), Data{X: x, Y: y}, nil, p)
	if err != nil {
		t.Fatal(err)
	}
	depths := map[int32]bool{}
	for _, d := range m.depth {
		depths[d] = true
	}
	t.Logf("tree depths %v", m.depth)
	if len(depths) < 2 {
		t.Fatalf("every tree has the same depth (%v): the mixed-depth case is not exercised", depths)
	}
	for k := 1; k <= len(m.roots); k++ {
		c := *m
		c.truncate(k)
		for i := range x.NumRows() {
			row := x.Row(i, nil)
			if !finite(row) {
				continue
			}
			want := c.baseMargin
			for tr := range c.roots {
				want += c.tree(tr, row)
			}
			if got := c.marginFinite(row); math.Float32bits(got) != math.Float32bits(want) {
				t.Fatalf("%d trees, row %d: got %v, want %v", k, i, got, want)
			}
		}
	}
}
