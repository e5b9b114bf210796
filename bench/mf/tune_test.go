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
