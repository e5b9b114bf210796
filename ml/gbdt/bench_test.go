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
