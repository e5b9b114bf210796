package main

import (
	"slices"
	"testing"
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

// TestTuneSGD checks that the grid covers every (order, spread) pair in
// order and that the chosen one has the lowest mean validation RMSE.
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
	orders, stds := []string{"user", "shuffle"}, []float64{0.01, 0.1}
	trials, best, err := tuneSGD(d, orders, stds, []uint64{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(trials) != 4 {
		t.Fatalf("got %d trials, want 4", len(trials))
	}
	for j, tr := range trials {
		if want := orders[j/2]; tr.Order != want {
			t.Errorf("trial %d order: got %q, want %q", j, tr.Order, want)
		}
		if want := stds[j%2]; tr.InitStd != want {
			t.Errorf("trial %d init std: got %v, want %v", j, tr.InitStd, want)
		}
		if len(tr.RMSE) != 2 {
			t.Errorf("trial %d: got %d seeds scored, want 2", j, len(tr.RMSE))
		}
		if tr.Mean < best.Mean {
			t.Errorf("trial %d mean %.6f beats the chosen %.6f", j, tr.Mean, best.Mean)
		}
	}
}
