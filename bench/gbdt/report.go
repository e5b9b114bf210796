package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// facts describes the machine and software of the run.
type facts struct {
	Date        string `json:"date"`
	CPU         string `json:"cpu"`
	NumCPU      int    `json:"num_cpu"`
	GOMAXPROCS  int    `json:"gomaxprocs"`
	GoVersion   string `json:"go_version"`
	XGBoost     string `json:"xgboost_version"`
	Threads     int    `json:"train_threads"`
	PredThreads int    `json:"predict_threads"`
	LoadAvg     string `json:"load_average_at_end"`
	Params      string `json:"params"`
	Note        string `json:"note"`
}

// machineFacts collects the facts printed beside the figures.
func machineFacts(cfg config) facts {
	f := facts{Date: time.Now().UTC().Format(time.RFC3339), NumCPU: runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0), GoVersion: runtime.Version(), Threads: cfg.threads, PredThreads: 1,
		Params: "hist, max_depth 6, eta 0.1, max_bin 256, binary:logistic, lambda 1, min_child_weight 1",
		Note: "train seconds: fastest of train_reps runs per side, alternating who goes first, from in-memory float32 " +
			"to model (Plinth binning; XGBoost DMatrix+sketch); predict rows/s: one thread each, best of the " +
			"repetitions, Plinth scoring XGBoost's own imported model (import_max_abs_diff = largest |p_plinth - p_xgb|); " +
			"single-row latency and allocs: Plinth's own model; base_score 0.5 on both sides"}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				f.CPU = strings.TrimSpace(strings.SplitN(l, ":", 2)[1])
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		f.LoadAvg = strings.TrimSpace(string(b))
	}
	if out, err := exec.Command(cfg.python, "-c", "import xgboost; print(xgboost.__version__)").Output(); err == nil {
		f.XGBoost = strings.TrimSpace(string(out))
	}
	return f
}

// printTable writes the human-readable table.
func printTable(w io.Writer, rows []row, f facts) {
	fmt.Fprintf(w, "\nGBDT vs XGBoost %s — %s, %d CPUs, %s, %d train threads\n", f.XGBoost, f.CPU, f.NumCPU, f.GoVersion, f.Threads)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "dataset\trounds\tplinth s\txgb s\tratio\tplinth AUC\txgb AUC\tplinth AP\txgb AP\tplinth rows/s\txgb rows/s\tratio\tp50 µs\tp99 µs\tallocs\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.2f\t%.2f\t%.4f\t%.4f\t%.4f\t%.4f\t%.0f\t%.0f\t%.2f\t%.2f\t%.2f\t%.0f\t\n",
			r.Dataset, r.Rounds, r.PlinthTrainS, r.PeerTrainS, r.TrainRatio, r.PlinthAUC, r.PeerAUC,
			r.PlinthAUPRC, r.PeerAUPRC, r.PlinthPredictRowsS, r.PeerPredictRowsS, r.PredictRatio,
			r.SingleRowP50us, r.SingleRowP99us, r.SingleRowAllocs)
	}
	tw.Flush()
	fmt.Fprintf(w, "load average at end: %s\n", f.LoadAvg)
}

// writeJSON writes the rows as a JSON list, each with the machine facts
// beside its figures.
func writeJSON(path string, rows []row, f facts) error {
	type withFacts struct {
		row
		facts
	}
	out := make([]withFacts, len(rows))
	for i, r := range rows {
		out[i] = withFacts{r, f}
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
