package metrics

import (
	"errors"
	"math"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

// Expected values below were computed by hand and match scikit-learn 1.2's
// roc_auc_score, average_precision_score and log_loss on the same inputs.
func TestROCAUC(t *testing.T) {
	tests := []struct {
		name     string
		y, score []float64
		want     float64
	}{
		{"perfect", []float64{0, 0, 1, 1}, []float64{0.1, 0.2, 0.8, 0.9}, 1},
		{"inverted", []float64{1, 1, 0, 0}, []float64{0.1, 0.2, 0.8, 0.9}, 0},
		{"sklearn doc", []float64{0, 0, 1, 1}, []float64{0.1, 0.4, 0.35, 0.8}, 0.75},
		{"all tied", []float64{0, 1, 0, 1}, []float64{0.5, 0.5, 0.5, 0.5}, 0.5},
		// pairs (pos,neg): (0.8,0.8) tie=.5, (0.8,0.3)=1, (0.3,0.8)=0, (0.3,0.3) tie=.5 → 2/4
		{"ties across classes", []float64{1, 0, 1, 0}, []float64{0.8, 0.8, 0.3, 0.3}, 0.5},
		{"partial ties", []float64{0, 1, 1, 0, 1}, []float64{0.2, 0.6, 0.6, 0.6, 0.9}, 5.0 / 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ROCAUC(tt.y, tt.score)
			if err != nil {
				t.Fatal(err)
			}
			if !near(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAveragePrecision(t *testing.T) {
	tests := []struct {
		name     string
		y, score []float64
		want     float64
	}{
		// sklearn doc example: 0.8333…
		{"sklearn doc", []float64{0, 0, 1, 1}, []float64{0.1, 0.4, 0.35, 0.8}, 0.8333333333333333},
		{"perfect", []float64{0, 1, 1}, []float64{0.1, 0.7, 0.9}, 1},
		{"all tied", []float64{0, 1, 0, 1}, []float64{0.5, 0.5, 0.5, 0.5}, 0.5},
		// thresholds 0.9: tp1 seen1 R=.5 P=1; 0.6: tp2 seen3 R=1 P=2/3 → .5 + .5*2/3
		{"tie group", []float64{1, 1, 0}, []float64{0.9, 0.6, 0.6}, 0.5 + 0.5*2.0/3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := AveragePrecision(tt.y, tt.score)
			if err != nil {
				t.Fatal(err)
			}
			if !near(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLogLoss(t *testing.T) {
	got, err := LogLoss([]float64{1, 0}, []float64{0.9, 0.2})
	if err != nil {
		t.Fatal(err)
	}
	want := -(math.Log(0.9) + math.Log(0.8)) / 2
	if !near(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got, _ := LogLoss([]float64{1}, []float64{0}); math.IsInf(got, 0) {
		t.Errorf("got %v for p=0, want a finite clipped loss", got)
	}
}

func TestConfusion(t *testing.T) {
	y := []float64{1, 1, 0, 0, 1}
	p := []float64{0.9, 0.4, 0.6, 0.1, 0.5}
	c, err := Confusion(y, p, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	if c != (ConfusionCounts{TP: 2, FP: 1, TN: 1, FN: 1}) {
		t.Errorf("got %+v", c)
	}
	acc, _ := Accuracy(y, p, 0.5)
	if !near(acc, 0.6) {
		t.Errorf("accuracy got %v, want 0.6", acc)
	}
	prec, rec, _ := PrecisionRecall(y, p, 0.5)
	if !near(prec, 2.0/3) || !near(rec, 2.0/3) {
		t.Errorf("precision, recall got %v, %v, want 2/3, 2/3", prec, rec)
	}
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		name string
		f    func() error
	}{
		{"empty", func() error { _, err := ROCAUC(nil, nil); return err }},
		{"mismatch", func() error { _, err := ROCAUC([]float64{0, 1}, []float64{1}); return err }},
		{"one class", func() error { _, err := ROCAUC([]float64{1, 1}, []float64{0.1, 0.2}); return err }},
		{"label not 0/1", func() error { _, err := AveragePrecision([]float64{2}, []float64{0.1}); return err }},
		{"no positives", func() error { _, err := AveragePrecision([]float64{0}, []float64{0.1}); return err }},
		{"NaN score", func() error { _, err := LogLoss([]float64{0}, []float64{math.NaN()}); return err }},
		{"NaN target", func() error { _, err := RMSE([]float64{math.NaN()}, []float64{1}); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.f(); !errors.Is(err, ErrInput) {
				t.Errorf("got %v, want ErrInput", err)
			}
		})
	}
}

func TestRegression(t *testing.T) {
	y := []float64{1, 2, 3}
	p := []float64{1, 3, 5}
	rmse, _ := RMSE(y, p)
	if !near(rmse, math.Sqrt(5.0/3)) {
		t.Errorf("RMSE got %v", rmse)
	}
	mae, _ := MAE(y, p)
	if !near(mae, 1) {
		t.Errorf("MAE got %v, want 1", mae)
	}
}
