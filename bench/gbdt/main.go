// Command gbdt benchmarks Plinth's gradient-boosted trees against XGBoost
// 1.7 (Debian's python3-xgboost) on the shared tabular data sets and a
// synthetic set, side by side in one run, and writes
// bench/results/gbdt.json. See README.md for what is measured and how.
//
//	go run ./bench/gbdt --datasets ../shared/datasets
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/plinthai/plinth/internal/tabular"
	"github.com/plinthai/plinth/internal/testdata"
)

// config holds the command's flags.
type config struct {
	datasets    string
	rounds      []int
	threads     int
	only        string
	synthRows   int
	synthCols   int
	python      string
	peer        string
	out         string
	predictReps int
	baseScore   float64
	reps        int
	bigReps     int
}

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench gbdt:", err)
		os.Exit(1)
	}
}

// run parses flags, benchmarks every data set and writes the results.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	cfg, err := parseFlags(args)
	if err != nil {
		return err
	}
	var rows []row
	for _, name := range cfg.names() {
		set, err := loadSet(cfg, name)
		if err != nil {
			return err
		}
		for _, r := range cfg.rounds {
			fmt.Fprintf(stdout, "… %s, %d rounds\n", name, r)
			reps := cfg.reps
			if len(set.Train.Y) > 200_000 {
				reps = cfg.bigReps
			}
			res, err := benchOne(ctx, cfg, set, r, reps)
			if err != nil {
				return fmt.Errorf("%s, %d rounds: %w", name, r, err)
			}
			rows = append(rows, res)
		}
	}
	facts := machineFacts(cfg)
	printTable(stdout, rows, facts)
	return writeJSON(cfg.out, rows, facts)
}

// parseFlags reads the command line.
func parseFlags(args []string) (config, error) {
	fs := flag.NewFlagSet("gbdt", flag.ContinueOnError)
	var cfg config
	var rounds string
	fs.StringVar(&cfg.datasets, "datasets", testdata.DatasetsDir(), "shared data set directory")
	fs.StringVar(&rounds, "rounds", "100,300", "comma-separated boosting rounds")
	fs.IntVar(&cfg.threads, "threads", 2, "training threads for both trainers")
	fs.StringVar(&cfg.only, "only", "", "comma-separated data sets to run (default all)")
	fs.IntVar(&cfg.synthRows, "synthetic-rows", 1_000_000, "rows of the synthetic set (0 skips it)")
	fs.IntVar(&cfg.synthCols, "synthetic-features", 30, "features of the synthetic set")
	fs.StringVar(&cfg.python, "python", "/usr/bin/python3", "python with xgboost 1.7")
	fs.StringVar(&cfg.peer, "peer", "bench/peers/xgb_gbdt.py", "peer script")
	fs.StringVar(&cfg.out, "out", "bench/results/gbdt.json", "results file")
	fs.IntVar(&cfg.predictReps, "predict-reps", 5, "batch predict repetitions (best kept)")
	fs.Float64Var(&cfg.baseScore, "base-score", 0.5, "Plinth's base_score (XGBoost 1.7's default is 0.5; 0 = mean label)")
	fs.IntVar(&cfg.reps, "reps", 5, "training runs per side, alternating; the fastest is kept")
	fs.IntVar(&cfg.bigReps, "big-reps", 1, "training runs per side on sets over 200,000 train rows")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	for _, s := range strings.Split(rounds, ",") {
		r, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || r < 1 {
			return cfg, fmt.Errorf("--rounds: %q is not a positive integer", s)
		}
		cfg.rounds = append(cfg.rounds, r)
	}
	if cfg.datasets == "" {
		return cfg, errors.New("no data set directory: pass --datasets or set PLINTH_DATASETS")
	}
	return cfg, nil
}

// names lists the data sets to run.
func (c config) names() []string {
	all := append([]string(nil), tabular.Names...)
	if c.synthRows > 0 {
		all = append(all, "synthetic")
	}
	if c.only == "" {
		return all
	}
	var out []string
	for _, n := range all {
		for _, want := range strings.Split(c.only, ",") {
			if n == want {
				out = append(out, n)
			}
		}
	}
	return out
}

// loadSet loads a shared data set or makes the synthetic one.
func loadSet(cfg config, name string) (*tabular.Set, error) {
	if name == "synthetic" {
		return tabular.Synthetic(cfg.synthRows, cfg.synthCols, 1), nil
	}
	return tabular.Load(cfg.datasets, name)
}
