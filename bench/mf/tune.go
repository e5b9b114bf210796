package main

import (
	"math/rand/v2"
	"runtime"
	"sync"
)

// sgdSetting is one value of each free choice of the SGD procedure: the
// choices the issue leaves open (it fixes factors, epochs, lr and reg), all
// chosen on validation. Each field takes the word the peer takes too.
type sgdSetting struct {
	Order    string  `json:"order"`     // key of orders
	InitStd  float64 `json:"init_std"`  // factor init spread σ
	BiasInit string  `json:"bias_init"` // key of biasInits
	Update   string  `json:"update"`    // key of updates
}

// sgdGrid lists the candidates for each free choice.
type sgdGrid struct {
	Orders    []string
	InitStds  []float64
	BiasInits []string
	Updates   []string
}

// settings returns every combination of g: orders outermost, then bias
// inits, updates and spreads, so that on a tie the first candidate of each
// list (Surprise's, in the default grid) wins.
func (g sgdGrid) settings() []sgdSetting {
	var out []sgdSetting
	for _, o := range g.Orders {
		for _, b := range g.BiasInits {
			for _, u := range g.Updates {
				for _, s := range g.InitStds {
					out = append(out, sgdSetting{Order: o, InitStd: s, BiasInit: b, Update: u})
				}
			}
		}
	}
	return out
}

// valTrial is one setting scored on the validation split (Plinth only; the
// test rows are never used to choose).
type valTrial struct {
	sgdSetting
	Seeds []uint64  `json:"seeds"`
	RMSE  []float64 `json:"val_rmse"`
	Mean  float64   `json:"val_rmse_mean"`
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
// every setting of grid and every seed, and returns the trials in
// grid.settings() order and the one with the lowest mean validation RMSE
// (the first on a tie). Settings run on GOMAXPROCS workers; each training
// is deterministic, so the result does not depend on the number of workers.
func tuneSGD(d dataset, grid sgdGrid, seeds []uint64) ([]valTrial, valTrial, error) {
	fit, val := holdOut(d.train)
	v := dataset{name: d.name + " validation", numUsers: d.numUsers, numItems: d.numItems, train: fit, test: val}
	settings := grid.settings()
	trials := make([]valTrial, len(settings))
	errs := make([]error, len(settings))
	next := make(chan int)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for j := range next {
				trials[j], errs[j] = scoreSetting(v, settings[j], seeds)
			}
		})
	}
	for j := range settings {
		next <- j
	}
	close(next)
	wg.Wait()
	best := 0
	for j := range trials {
		if errs[j] != nil {
			return nil, valTrial{}, errs[j]
		}
		if trials[j].Mean < trials[best].Mean {
			best = j
		}
	}
	return trials, trials[best], nil
}

// scoreSetting trains on v.train once per seed and scores v.test.
func scoreSetting(v dataset, s sgdSetting, seeds []uint64) (valTrial, error) {
	runs, err := runPlinthSGD(v, seeds, s)
	if err != nil {
		return valTrial{}, err
	}
	t := valTrial{sgdSetting: s, Seeds: seeds}
	for _, r := range runs {
		t.RMSE = append(t.RMSE, r.RMSE)
	}
	t.Mean, _ = meanRuns(runs)
	return t, nil
}
