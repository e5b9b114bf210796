package main

import (
	"math/rand/v2"
)

// valTrial is one (order, init spread) setting scored on the validation
// split (Plinth only; the test rows are never used to choose).
type valTrial struct {
	Order   string    `json:"order"`
	InitStd float64   `json:"init_std"`
	Seeds   []uint64  `json:"seeds"`
	RMSE    []float64 `json:"val_rmse"`
	Mean    float64   `json:"val_rmse_mean"`
}

// valSplitSeed seeds the validation holdout. Fixed, not chosen by its result.
const valSplitSeed = 7

// valFraction is the share of the training rows held out for validation.
const valFraction = 10

// holdOut carves a validation set from train only: a uniformly random
// len/valFraction rows (Fisher–Yates on row indices with math/rand/v2
// PCG(valSplitSeed, valSplitSeed), the first len/valFraction shuffled
// indices, rounded down) are validation; the rest stay training rows in
// their original relative order, so the by-user visiting order is the
// training file's order minus the held-out rows.
func holdOut(train []row) (fit, val []row) {
	idx := make([]int, len(train))
	for j := range idx {
		idx[j] = j
	}
	rng := rand.New(rand.NewPCG(valSplitSeed, valSplitSeed))
	for j := len(idx) - 1; j > 0; j-- {
		k := int(rng.Uint64N(uint64(j + 1)))
		idx[j], idx[k] = idx[k], idx[j]
	}
	nVal := len(train) / valFraction
	held := make([]bool, len(train))
	for _, j := range idx[:nVal] {
		held[j] = true
		val = append(val, train[j])
	}
	for j, x := range train {
		if !held[j] {
			fit = append(fit, x)
		}
	}
	return fit, val
}

// tuneSGD trains Plinth on the training part minus the validation rows for
// every order in orderGrid, every spread in stdGrid and every seed, and
// returns the trials and the setting with the lowest mean validation RMSE
// (the first in grid order on a tie: orders in the order given, then
// spreads).
func tuneSGD(d dataset, orderGrid []string, stdGrid []float64, seeds []uint64) ([]valTrial, valTrial, error) {
	fit, val := holdOut(d.train)
	v := dataset{name: d.name + " validation", numUsers: d.numUsers, numItems: d.numItems, train: fit, test: val}
	var trials []valTrial
	best := 0
	for _, order := range orderGrid {
		for _, std := range stdGrid {
			runs, err := runPlinthSGD(v, seeds, order, std)
			if err != nil {
				return nil, valTrial{}, err
			}
			t := valTrial{Order: order, InitStd: std, Seeds: seeds}
			for _, r := range runs {
				t.RMSE = append(t.RMSE, r.RMSE)
			}
			t.Mean, _ = meanRuns(runs)
			trials = append(trials, t)
			if t.Mean < trials[best].Mean {
				best = len(trials) - 1
			}
		}
	}
	return trials, trials[best], nil
}
