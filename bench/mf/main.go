// Command mf benchmarks Plinth's matrix factorization against peers, side by
// side in one run, and writes bench/results/mf.json and ials.json:
//
//   - explicit biased MF (ml/mf TrainSGD) against the same SGD loop compiled
//     with numba (bench/peers/numba_mf.py), on ML-100K u1 and ML-1M 80/20;
//   - implicit ALS against popularity and item-kNN on ML-100K leave-last-out.
//
// See bench/mf/README.md for splits, seeds and procedure.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/plinthai/plinth/internal/testdata"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "bench mf:", err)
		os.Exit(1)
	}
}

type options struct {
	datasets, out, python, peer, task string
	order                             string // empty: choose from orderGrid on validation
	orderGrid                         []string
	rounds                            int
	seeds                             []uint64
	initStd                           float64 // negative: choose from initGrid on validation
	initGrid                          []float64
}

func parse(args []string) (options, error) {
	var o options
	var seeds, grid, orderGrid string
	fs := flag.NewFlagSet("mf", flag.ContinueOnError)
	fs.StringVar(&o.datasets, "datasets", testdata.DatasetsDir(), "shared data set folder (or set PLINTH_DATASETS)")
	fs.StringVar(&o.out, "out", "bench/results", "folder for mf.json and ials.json")
	fs.StringVar(&o.python, "python", "/usr/bin/python3", "python interpreter with numba")
	fs.StringVar(&o.peer, "peer", "bench/peers/numba_mf.py", "numba peer script")
	fs.StringVar(&o.task, "task", "all", "sgd, sgd-tune (validation grid only, no test rows), ials or all")
	fs.StringVar(&o.order, "order", "", "SGD visiting order on both sides: user (Surprise's, grouped by user) or shuffle (fresh each epoch); empty: choose it per data set from --order-grid on a validation split of the training part")
	fs.StringVar(&orderGrid, "order-grid", "user,shuffle", "comma-separated orders tried on the validation split")
	fs.IntVar(&o.rounds, "rounds", 5, "side-by-side SGD rounds; CPU times and ratio are the median over rounds")
	fs.StringVar(&seeds, "seeds", "1,2,3", "comma-separated training seeds for the SGD comparison")
	fs.Float64Var(&o.initStd, "init-std", -1, "SGD factor init spread on both sides; negative: choose it per data set from --init-grid on a validation split of the training part")
	fs.StringVar(&grid, "init-grid", "0.01,0.02,0.05,0.1,0.15", "comma-separated init spreads tried on the validation split")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.datasets == "" {
		return o, fmt.Errorf("shared data sets not found: pass --datasets or set %s", testdata.EnvDatasets)
	}
	if o.rounds < 1 {
		return o, fmt.Errorf("rounds %d: want >= 1", o.rounds)
	}
	if _, ok := orders[o.order]; !ok && o.order != "" {
		return o, fmt.Errorf("order %q: want user or shuffle", o.order)
	}
	for _, s := range strings.Split(orderGrid, ",") {
		if _, ok := orders[s]; !ok {
			return o, fmt.Errorf("order %q in --order-grid: want user or shuffle", s)
		}
		o.orderGrid = append(o.orderGrid, s)
	}
	for _, s := range strings.Split(seeds, ",") {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return o, fmt.Errorf("seed %q: %w", s, err)
		}
		o.seeds = append(o.seeds, v)
	}
	for _, s := range strings.Split(grid, ",") {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || !(v >= 0) {
			return o, fmt.Errorf("init spread %q: want a number >= 0", s)
		}
		o.initGrid = append(o.initGrid, v)
	}
	return o, nil
}

func run(args []string) error {
	o, err := parse(args)
	if err != nil {
		return err
	}
	if o.task == "sgd-tune" {
		return tuneOnly(o)
	}
	if o.task == "sgd" || o.task == "all" {
		if err := benchSGD(o); err != nil {
			return err
		}
	}
	if o.task == "ials" || o.task == "all" {
		if err := benchIALS(o); err != nil {
			return err
		}
	}
	return nil
}

// sgdLoaders are the SGD comparison's data sets and RMSE targets.
var sgdLoaders = []struct {
	load   func(string) (dataset, error)
	target float64
}{{ml100kU1, 0.947}, {ml1mRandom, 0.870}}

// chooseSetting returns the visiting order and init spread for d: each
// given by its flag, or else chosen on the validation split of d's training
// part (the trials are returned too). A fixed flag narrows the grid to its
// value.
func chooseSetting(o options, d dataset) ([]valTrial, string, float64, error) {
	orderGrid, stdGrid := o.orderGrid, o.initGrid
	if o.order != "" {
		orderGrid = []string{o.order}
	}
	if o.initStd >= 0 {
		stdGrid = []float64{o.initStd}
	}
	if len(orderGrid) == 1 && len(stdGrid) == 1 {
		return nil, orderGrid[0], stdGrid[0], nil
	}
	trials, best, err := tuneSGD(d, orderGrid, stdGrid, o.seeds)
	return trials, best.Order, best.InitStd, err
}

func printGrid(name string, trials []valTrial, order string, std float64) {
	fmt.Printf("%s: order and init spread on validation (10%% of training), RMSE per seed, mean\n", name)
	for _, t := range trials {
		mark := ""
		if t.Order == order && t.InitStd == std {
			mark = "  <- chosen"
		}
		fmt.Printf("  %-8s %-6g %v  %.4f%s\n", t.Order, t.InitStd, fmtRMSE(t.RMSE), t.Mean, mark)
	}
}

func fmtRMSE(v []float64) string {
	s := make([]string, len(v))
	for j, x := range v {
		s[j] = strconv.FormatFloat(x, 'f', 4, 64)
	}
	return strings.Join(s, " / ")
}

// tuneOnly runs only the validation grid: it never reads the test rows' scores.
func tuneOnly(o options) error {
	for _, l := range sgdLoaders {
		d, err := l.load(o.datasets)
		if err != nil {
			return err
		}
		trials, order, std, err := chooseSetting(o, d)
		if err != nil {
			return err
		}
		printGrid(d.name, trials, order, std)
	}
	return nil
}

func benchSGD(o options) error {
	var results []sgdResult
	for _, l := range sgdLoaders {
		d, err := l.load(o.datasets)
		if err != nil {
			return err
		}
		trials, order, initStd, err := chooseSetting(o, d)
		if err != nil {
			return err
		}
		res, err := compareSGD(d, o.seeds, l.target, order, initStd, o.rounds, o.python, o.peer)
		if err != nil {
			return err
		}
		res.ValGrid = trials
		results = append(results, res)
	}
	fmt.Printf("Biased MF by SGD (50 factors, 20 epochs, lr 0.005, reg 0.02), RMSE mean over seeds %v, CPU median of %d rounds\n", o.seeds, o.rounds)
	for _, r := range results {
		if r.ValGrid != nil {
			printGrid(r.Dataset, r.ValGrid, r.Order, r.InitStd)
		}
	}
	fmt.Printf("%-20s %8s %8s %12s %12s %10s %10s %8s %s\n", "dataset", "order", "init", "plinth RMSE", "numba RMSE", "plinth s", "numba s", "ratio", "targets (RMSE, CPU)")
	for _, r := range results {
		fmt.Printf("%-20s %8s %8g %12.4f %12.4f %10.3f %10.3f %8.2f %s\n", r.Dataset, r.Order, r.InitStd, r.PlinthRMSE, r.NumbaRMSE, r.PlinthCPU, r.NumbaCPU, r.CPURatio, met(r.RMSEMet, r.CPUMet))
	}
	return writeJSON(filepath.Join(o.out, "mf.json"), map[string]any{
		"benchmark":  "biased MF by SGD, Plinth ml/mf vs numba",
		"cpu_time":   "process CPU time of training only (numba JIT warm-up excluded); per round the mean over seeds, summary the median over rounds",
		"validation": "order and init_std chosen per data set from validation_grid (orders x init spreads) by the lowest mean validation RMSE over the seeds (Plinth only): 10% of the training rows held out at random (PCG(7, 7) Fisher-Yates on row indices), the rest trained in their original order; the chosen setting is then used on the full training part by both sides and scored once on the test rows",
		"results":    results,
	})
}

func met(flags ...bool) string {
	var s []string
	for _, f := range flags {
		if f {
			s = append(s, "met")
		} else {
			s = append(s, "MISSED")
		}
	}
	return strings.Join(s, ", ")
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
