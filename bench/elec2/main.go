// Command elec2 measures Plinth's closed loop on a real drifting stream:
// elec2 (NSW electricity, 45,312 half-hours) replayed through ingest, the
// feature store, inference, FEEDBACK, the monitor and the trainer in
// accelerated time, scored by prequential accuracy after the first four
// weeks. In the same run it measures the offline equivalent with ml/gbdt
// and the three XGBoost references of bench/peers/elec2_xgb.py, and
// writes bench/results/elec2.json. See bench/elec2/README.md.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"text/tabwriter"
	"time"

	"github.com/plinthai/plinth/internal/testdata"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench elec2:", err)
		os.Exit(1)
	}
}

type options struct {
	data, out, python string
	weeks             int
	verbose           bool
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	var o options
	fs := flag.NewFlagSet("elec2", flag.ContinueOnError)
	fs.StringVar(&o.data, "data", filepath.Join(testdata.DatasetsDir(), "elec2", "elecNormNew.csv.gz"), "elec2 file")
	fs.StringVar(&o.out, "out", "bench/results/elec2.json", "results file; empty writes none")
	fs.StringVar(&o.python, "python", "/usr/bin/python3", "Python with XGBoost for the references; empty skips them")
	fs.IntVar(&o.weeks, "weeks", 0, "replay only the first weeks (0: all 944 days)")
	fs.BoolVar(&o.verbose, "v", false, "print the platform's warnings")
	if err := fs.Parse(args); err != nil {
		return err
	}
	d, err := load(o.data, o.weeks*week)
	if err != nil {
		return err
	}
	res := map[string]any{"benchmark": "elec2", "at": time.Now().UTC().Format(time.RFC3339), "rows": len(d.y),
		"machine": map[string]any{"goos": runtime.GOOS, "goarch": runtime.GOARCH, "cpus": runtime.NumCPU(), "go": runtime.Version()}}
	fmt.Fprintf(stdout, "elec2: %d half-hours, predictions from %d\n", len(d.y), elec2Protocol.Warmup)
	res["protocol"] = elec2Protocol
	var logs io.Writer
	if o.verbose {
		logs = os.Stderr
	}
	st, err := runLoop(ctx, d, elec2Protocol, logs)
	if err != nil {
		return fmt.Errorf("loop: %w", err)
	}
	res["prequential_accuracy"] = st.Accuracy["elec2"]
	res["prequential_accuracy_label_features_only"] = st.Accuracy["elec2-labels"]
	res["loop"] = st
	for _, full := range []bool{true, false} {
		acc, err := offline(ctx, d, elec2Protocol, full)
		if err != nil {
			return fmt.Errorf("offline: %w", err)
		}
		res[map[bool]string{true: "offline_gbdt", false: "offline_gbdt_label_features_only"}[full]] = acc
	}
	if o.python != "" {
		if err := peer(ctx, o, res); err != nil {
			return err
		}
	}
	printTable(stdout, res, st)
	if o.out == "" {
		return nil
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(o.out, append(b, '\n'), 0o644)
}

// peer runs the XGBoost references on the same rows.
func peer(ctx context.Context, o options, res map[string]any) error {
	cmd := exec.CommandContext(ctx, o.python, "bench/peers/elec2_xgb.py", "--data", o.data, "--rows", fmt.Sprint(o.weeks*week))
	cmd.Stderr = os.Stderr
	b, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("peer: %w", err)
	}
	var refs map[string]any
	if err := json.Unmarshal(b, &refs); err != nil {
		return fmt.Errorf("peer output: %w", err)
	}
	for k, v := range refs {
		res[k] = v
	}
	return nil
}

func printTable(w io.Writer, res map[string]any, st loopStats) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PREQUENTIAL ACCURACY (after week 4)\tVALUE")
	for _, r := range []struct{ k, name string }{
		{"prequential_accuracy", "Plinth loop, label + price-window features"},
		{"prequential_accuracy_label_features_only", "Plinth loop, label features only"},
		{"offline_gbdt", "offline ml/gbdt weekly/8w, label + price-window features"},
		{"offline_gbdt_label_features_only", "offline ml/gbdt weekly/8w, label features only"},
		{"ref_trained_once", "XGBoost trained once on weeks 1-4 (8 inputs)"},
		{"ref_weekly_8w", "XGBoost weekly on last 8 weeks (8 inputs)"},
		{"ref_previous_label", "previous label"},
	} {
		if v, ok := res[r.k].(float64); ok {
			fmt.Fprintf(tw, "%s\t%.4f\n", r.name, v)
		}
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "jobs by trigger %v, succeeded %d, promotions %v, %.0f s\n", st.Jobs, st.Succeeded, st.Promotions, st.Seconds)
}
