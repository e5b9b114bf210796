package linear

import (
	"testing"

	"github.com/plinthai/plinth/internal/tabular"
	"github.com/plinthai/plinth/internal/testdata"
	"github.com/plinthai/plinth/ml/metrics"
)

// taiwan loads the Taiwan credit-default split the benchmarks use (a
// seeded random 80/20).
func taiwan(t testing.TB) *tabular.Set {
	t.Helper()
	testdata.Dataset(t, "taiwan-credit-default")
	set, err := tabular.Load(testdata.DatasetsDir(), "taiwan-credit-default")
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func float64s(y []float32) []float64 {
	out := make([]float64, len(y))
	for i, v := range y {
		out[i] = float64(v)
	}
	return out
}

// TestQualityTaiwan fits on a seeded random 80 % of the Taiwan credit-default
// data and checks the held-out ROC-AUC against a floor set below what was
// measured (0.714 here).
func TestQualityTaiwan(t *testing.T) {
	set := taiwan(t)
	yte := float64s(set.Test.Y)
	m, err := Fit(set.Train.X, float64s(set.Train.Y), Config{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	p, err := m.PredictProba(set.Test.X, nil)
	if err != nil {
		t.Fatal(err)
	}
	auc, err := metrics.ROCAUC(yte, p)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("taiwan ROC-AUC %.4f after %d iterations", auc, m.Iter)
	if floor := 0.70; auc < floor {
		t.Errorf("ROC-AUC: got %.4f, want ≥ %.2f", auc, floor)
	}
}

func BenchmarkFitTaiwan(b *testing.B) {
	set := taiwan(b)
	f, y := set.Train.X, float64s(set.Train.Y)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Fit(f, y, Config{}); err != nil {
			b.Fatal(err)
		}
	}
}
