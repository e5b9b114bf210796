package main

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestHoldOut(t *testing.T) {
	train := make([]row, 1003)
	for j := range train {
		train[j] = row{user: int32(j % 17), item: int32(j), rating: 1}
	}
	fit, val := holdOut(train)
	if len(val) != 100 || len(fit) != 903 {
		t.Fatalf("sizes %d/%d, want 903/100", len(fit), len(val))
	}
	// Fit keeps the training order; fit and val partition the rows.
	seen := map[int32]bool{}
	for j, x := range fit {
		if j > 0 && x.item <= fit[j-1].item {
			t.Fatalf("fit out of training order at %d", j)
		}
		seen[x.item] = true
	}
	for _, x := range val {
		if seen[x.item] {
			t.Fatalf("item %d in both parts", x.item)
		}
		seen[x.item] = true
	}
	if len(seen) != len(train) {
		t.Fatalf("%d rows covered, want %d", len(seen), len(train))
	}
	fit2, val2 := holdOut(train)
	if !slices.Equal(fit, fit2) || !slices.Equal(val, val2) {
		t.Fatal("holdOut is not deterministic")
	}
}

// TestTuneSGD checks that the grid covers every setting in grid order and
// that the chosen one has the lowest mean validation RMSE.
func TestTuneSGD(t *testing.T) {
	var train []row
	for u := range int32(30) {
		for i := range int32(20) {
			if (u+i)%3 != 0 {
				train = append(train, row{user: u, item: i, rating: float64(1 + (u*7+i*3)%5)})
			}
		}
	}
	d := dataset{name: "tiny", numUsers: 30, numItems: 20, train: train}
	grid := sgdGrid{Orders: []string{"user", "shuffle"}, InitStds: []float64{0.01, 0.1},
		BiasInits: []string{"zero", "baseline"}, Updates: []string{"simultaneous", "sequential"}}
	trials, best, err := tuneSGD(d, grid, []uint64{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(trials) != 16 {
		t.Fatalf("got %d trials, want 16", len(trials))
	}
	for j, tr := range trials {
		want := sgdSetting{Order: grid.Orders[j/8], BiasInit: grid.BiasInits[j/4%2], Update: grid.Updates[j/2%2], InitStd: grid.InitStds[j%2]}
		if tr.sgdSetting != want {
			t.Errorf("trial %d: got setting %+v, want %+v", j, tr.sgdSetting, want)
		}
		if len(tr.RMSE) != 2 {
			t.Errorf("trial %d: got %d seeds scored, want 2", j, len(tr.RMSE))
		}
		if tr.Mean < best.Mean {
			t.Errorf("trial %d mean %.6f beats the chosen %.6f", j, tr.Mean, best.Mean)
		}
	}
	// Every choice changes the trained model, so no two trials may tie.
	for j := range trials {
		for k := j + 1; k < len(trials); k++ {
			if trials[j].Mean == trials[k].Mean {
				t.Errorf("trials %d and %d: same mean %.9f, want each setting to change training", j, k, trials[j].Mean)
			}
		}
	}
}

// TestParseFixesGrid checks that a fixing flag narrows its choice to one
// value and that unknown words are refused.
func TestParseFixesGrid(t *testing.T) {
	tests := []struct {
		args    []string
		want    sgdGrid
		wantErr bool
	}{
		{[]string{"--datasets", "x", "--order", "shuffle", "--init-std", "0.05", "--bias-init", "baseline", "--update", "sequential"},
			sgdGrid{Orders: []string{"shuffle"}, InitStds: []float64{0.05}, BiasInits: []string{"baseline"}, Updates: []string{"sequential"}}, false},
		{[]string{"--datasets", "x", "--init-grid", "0.03,0.07", "--order-grid", "user", "--update-grid", "simultaneous"},
			sgdGrid{Orders: []string{"user"}, InitStds: []float64{0.03, 0.07}, BiasInits: []string{"zero", "baseline"}, Updates: []string{"simultaneous"}}, false},
		{[]string{"--datasets", "x", "--bias-init", "mean"}, sgdGrid{}, true},
		{[]string{"--datasets", "x", "--update-grid", "simultaneous,later"}, sgdGrid{}, true},
		{[]string{"--datasets", "x", "--init-grid", "0.1,-1"}, sgdGrid{}, true},
	}
	for _, tt := range tests {
		o, err := parse(tt.args)
		if (err != nil) != tt.wantErr {
			t.Errorf("parse(%q): got error %v, want error %v", tt.args, err, tt.wantErr)
			continue
		}
		if diff := cmp.Diff(tt.want, o.grid); err == nil && diff != "" {
			t.Errorf("parse(%q): grid (-want +got):\n%s", tt.args, diff)
		}
	}
}
