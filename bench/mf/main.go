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
	order                             string
	rounds                            int
	seeds                             []uint64
	initStd                           float64
	initGrid                          []float64
}

func parse(args []string) (options, error) {
	var o options
	var seeds, grid string
	fs := flag.NewFlagSet("mf", flag.ContinueOnError)
	fs.StringVar(&o.datasets, "datasets", testdata.DatasetsDir(), "shared data set folder (or set PLINTH_DATASETS)")
	fs.StringVar(&o.out, "out", "bench/results", "folder for mf.json and ials.json")
	fs.StringVar(&o.python, "python", "/usr/bin/python3", "python interpreter with numba")
	fs.StringVar(&o.peer, "peer", "bench/peers/numba_mf.py", "numba peer script")
	fs.StringVar(&o.task, "task", "all", "sgd, sgd-tune (validation grid only, no test rows), ials or all")
	fs.StringVar(&o.order, "order", "user", "SGD visiting order on both sides: user (Surprise's, grouped by user) or shuffle (fresh each epoch)")
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
	if _, ok := orders[o.order]; !ok {
		return o, fmt.Errorf("order %q: want user or shuffle", o.order)
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
		return tuneSGD(o)
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

// chooseInitStd returns --init-std if given, else the grid's choice on the
// validation split of d's training part (with the trials).
func chooseInitStd(o options, d dataset) ([]initTrial, float64, error) {
	if o.initStd >= 0 {
		return nil, o.initStd, nil
	}
	return tuneInitStd(d, o.initGrid, o.seeds, o.order)
}

func printGrid(name string, trials []initTrial, chosen float64) {
	fmt.Printf("%s: init spread on validation (10%% of training), RMSE per seed, mean\n", name)
	for _, t := range trials {
		mark := ""
		if t.InitStd == chosen {
			mark = "  <- chosen"
		}
		fmt.Printf("  %-6g %v  %.4f%s\n", t.InitStd, fmtRMSE(t.RMSE), t.Mean, mark)
	}
}

func fmtRMSE(v []float64) string {
	s := make([]string, len(v))
	for j, x := range v {
		s[j] = strconv.FormatFloat(x, 'f', 4, 64)
	}
	return strings.Join(s, " / ")
}

// tuneSGD runs only the validation grid: it never reads the test rows' scores.
func tuneSGD(o options) error {
	for _, l := range sgdLoaders {
		d, err := l.load(o.datasets)
		if err != nil {
			return err
		}
		trials, chosen, err := tuneInitStd(d, o.initGrid, o.seeds, o.order)
		if err != nil {
			return err
		}
		printGrid(d.name, trials, chosen)
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
		trials, initStd, err := chooseInitStd(o, d)
		if err != nil {
			return err
		}
		res, err := compareSGD(d, o.seeds, l.target, o.order, initStd, o.rounds, o.python, o.peer)
		if err != nil {
			return err
		}
		res.InitGrid = trials
		results = append(results, res)
	}
	fmt.Printf("Biased MF by SGD (50 factors, 20 epochs, lr 0.005, reg 0.02, order %s), RMSE mean over seeds %v, CPU median of %d rounds\n", o.order, o.seeds, o.rounds)
	for _, r := range results {
		if r.InitGrid != nil {
			printGrid(r.Dataset, r.InitGrid, r.InitStd)
		}
	}
	fmt.Printf("%-20s %8s %12s %12s %10s %10s %8s %s\n", "dataset", "init", "plinth RMSE", "numba RMSE", "plinth s", "numba s", "ratio", "targets (RMSE, CPU)")
	for _, r := range results {
		fmt.Printf("%-20s %8g %12.4f %12.4f %10.3f %10.3f %8.2f %s\n", r.Dataset, r.InitStd, r.PlinthRMSE, r.NumbaRMSE, r.PlinthCPU, r.NumbaCPU, r.CPURatio, met(r.RMSEMet, r.CPUMet))
	}
	return writeJSON(filepath.Join(o.out, "mf.json"), map[string]any{
		"benchmark":  "biased MF by SGD, Plinth ml/mf vs numba",
		"cpu_time":   "process CPU time of training only (numba JIT warm-up excluded); per round the mean over seeds, summary the median over rounds",
		"validation": "init_std chosen per data set from init_std_grid by the lowest mean validation RMSE over the seeds (Plinth only): 10% of the training rows held out at random (PCG(7, 7) Fisher-Yates on row indices), the rest trained in their original order; the chosen value is then used on the full training part by both sides and scored once on the test rows",
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
