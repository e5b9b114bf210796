package main

import "testing"

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	}
	for _, tt := range tests {
		if got := median(append([]float64(nil), tt.in...)); got != tt.want {
			t.Errorf("median(%v): got %v, want %v", tt.in, got, tt.want)
		}
	}
}

// summarise takes the median of the per-pair ratios, which is not the
// ratio of the medians: here the sides' medians are 2 and 2 (ratio 1) but
// the middle pair ratio is 0.5.
func TestSummarise(t *testing.T) {
	r := row{Plinth: quality{ROCAUC: 0.8}, Sklearn: quality{ROCAUC: 0.81}, Pairs: []pair{
		{PlinthS: 1, SklearnS: 2, PlinthCPUS: 1, SklearnCPUS: 1},
		{PlinthS: 2, SklearnS: 4, PlinthCPUS: 2, SklearnCPUS: 1},
		{PlinthS: 3, SklearnS: 1, PlinthCPUS: 3, SklearnCPUS: 1},
	}}
	summarise(&r)
	if r.Plinth.FitS != 2 || r.Sklearn.FitS != 2 {
		t.Errorf("fit s: got %v / %v, want 2 / 2", r.Plinth.FitS, r.Sklearn.FitS)
	}
	if r.FitRatio != 0.5 || r.CPURatio != 2 {
		t.Errorf("ratios: got wall %v cpu %v, want 0.5 and 2", r.FitRatio, r.CPURatio)
	}
	if d := r.AUCDelta + 0.01; d > 1e-12 || d < -1e-12 {
		t.Errorf("AUC delta: got %v, want -0.01", r.AUCDelta)
	}
}

func TestInOrder(t *testing.T) {
	for _, plinthFirst := range []bool{false, true} {
		var got []string
		err := inOrder(plinthFirst, func() error { got = append(got, "peer"); return nil },
			func() error { got = append(got, "plinth"); return nil })
		want := "peer"
		if plinthFirst {
			want = "plinth"
		}
		if err != nil || len(got) != 2 || got[0] != want {
			t.Errorf("plinthFirst %v: got %v, %v, want %s first", plinthFirst, got, err, want)
		}
	}
}
