package iforest

import (
	"testing"

	"github.com/plinthai/plinth/internal/tabular"
	"github.com/plinthai/plinth/internal/testdata"
	"github.com/plinthai/plinth/ml/metrics"
)

// TestQualityCreditcard fits on the first 80 % (by Time) of the ULB
// credit-card sample and checks the held-out ROC-AUC of the anomaly score
// against the fraud label, with a floor below what was measured (0.922 here).
func TestQualityCreditcard(t *testing.T) {
	testdata.Dataset(t, "creditcard-ulb-sample")
	set, err := tabular.Load(testdata.DatasetsDir(), "creditcard-ulb-sample")
	if err != nil {
		t.Fatal(err)
	}
	train, test := set.Train.X, set.Test.X
	yte := make([]float64, len(set.Test.Y))
	for i, v := range set.Test.Y {
		yte[i] = float64(v)
	}
	var sum float64
	for seed := uint64(1); seed <= 3; seed++ {
		m, err := Fit(train, Config{Seed: seed, Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		s, err := m.Score(test, nil)
		if err != nil {
			t.Fatal(err)
		}
		auc, err := metrics.ROCAUC(yte, s)
		if err != nil {
			t.Fatal(err)
		}
		sum += auc
	}
	auc := sum / 3
	t.Logf("creditcard sample ROC-AUC %.4f (mean of 3 seeds)", auc)
	if floor := 0.89; auc < floor {
		t.Errorf("ROC-AUC: got %.4f, want ≥ %.2f", auc, floor)
	}
}
