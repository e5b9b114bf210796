// Command ml benchmarks Plinth's logistic regression and isolation forest
// against scikit-learn, side by side in one run, and Plinth's drift
// statistics at scale. See README.md.
//
//	go run ./bench/ml -exp linear-iforest -out bench/results/linear_iforest.json
//	go run ./bench/ml -exp drift -out bench/results/drift.json
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"github.com/plinthai/plinth/internal/testdata"
)

type options struct {
	exp, out, datasets, python, peer string
	repeats, seeds, threads          int
	features, rows, chunk, bins      int
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench/ml:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	var o options
	fs := flag.NewFlagSet("ml", flag.ContinueOnError)
	fs.StringVar(&o.exp, "exp", "linear-iforest", "experiment: linear-iforest or drift")
	fs.StringVar(&o.out, "out", "", "write results as JSON here")
	fs.StringVar(&o.datasets, "datasets", testdata.DatasetsDir(), "shared data set directory")
	fs.StringVar(&o.python, "python", "/usr/bin/python3", "Python with scikit-learn (Debian's)")
	fs.StringVar(&o.peer, "peer", "bench/peers/sklearn_linear_iforest.py", "scikit-learn peer script")
	fs.IntVar(&o.repeats, "repeats", 3, "logistic regression fits per side, alternating with the peer's (median time and ratio)")
	fs.IntVar(&o.seeds, "seeds", 5, "isolation forest seeds per side, alternating with the peer's (median time and ratio, mean AUC)")
	fs.IntVar(&o.threads, "threads", 1, "threads for both sides (GOMAXPROCS and workers; sklearn n_jobs and BLAS threads)")
	fs.IntVar(&o.features, "features", 1000, "drift: features")
	fs.IntVar(&o.rows, "rows", 1000000, "drift: live rows")
	fs.IntVar(&o.chunk, "chunk", 2000, "drift: rows per generated chunk")
	fs.IntVar(&o.bins, "bins", 200, "drift: fine bins per feature")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.repeats < 1 || o.seeds < 1 {
		return fmt.Errorf("repeats %d and seeds %d: want both >= 1", o.repeats, o.seeds)
	}
	if o.datasets == "" && o.exp == "linear-iforest" {
		return fmt.Errorf("shared data sets not found: set %s", testdata.EnvDatasets)
	}
	var res any
	var err error
	switch o.exp {
	case "linear-iforest":
		res, err = linearIForest(o, stdout)
	case "drift":
		res, err = driftBench(o, stdout)
	default:
		return fmt.Errorf("unknown experiment %q", o.exp)
	}
	if err != nil {
		return err
	}
	return writeJSON(o.out, res)
}

// environment describes the machine a result came from.
type environment struct {
	Date      string `json:"date"`
	GoVersion string `json:"go"`
	CPUs      int    `json:"cpus"`
	Threads   int    `json:"threads"`
	Note      string `json:"note"`
}

func env(threads int) environment {
	return environment{Date: time.Now().UTC().Format(time.RFC3339), GoVersion: runtime.Version(),
		CPUs: runtime.NumCPU(), Threads: threads,
		Note: "shared 2-core machine with other builds running: compare the ratios of one run, not absolute seconds"}
}

func writeJSON(path string, v any) error {
	if path == "" {
		return nil
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
