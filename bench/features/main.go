// Command features benchmarks Plinth's event intake and feature store side
// by side in one run, and writes bench/results/features.json:
//
//   - ingest: events/s through POST /v1/events/{stream} (batches of 100
//     events of about 200 bytes, 16 clients, bodies prepared before the
//     clock starts) and through the in-process API, against raw JetStream
//     async publish of the same events from the same process (with and
//     without message ids), on the same embedded bus; in interleaved
//     rounds, each starting with another method, with the process CPU
//     time per event beside each rate;
//   - freshness: event to feature visible online (ingest, JetStream, the
//     features consumer, the embedded store), p50 and p99 at 5,000 events/s;
//   - lookup: 1 entity × 50 features in process (embedded store) and
//     through Redis, and 100 entities × 50 features through Redis;
//   - rebuild: events/s of a replay of the stream into an empty store.
//
// The machine is shared: the table reports ratios measured side by side,
// rates summed over rounds, and medians of repeats.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "bench features:", err)
		os.Exit(1)
	}
}

type options struct {
	out, redisURL      string
	only, cpuProfile   string
	repeats, events    int
	rounds             int
	freshness, lookups time.Duration
}

// Result is one measured figure with its target.
type Result struct {
	Name   string    `json:"name"`
	Unit   string    `json:"unit"`
	Value  float64   `json:"value"`
	Runs   []float64 `json:"runs,omitempty"`
	Target string    `json:"target,omitempty"`
	Met    *bool     `json:"met,omitempty"`
}

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

func run(args []string) error {
	var o options
	fs := flag.NewFlagSet("features", flag.ContinueOnError)
	fs.StringVar(&o.out, "out", "bench/results", "folder for features.json")
	fs.StringVar(&o.redisURL, "redis", envOr("PLINTH_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"), "Redis for the Redis lookups; empty skips them")
	fs.IntVar(&o.repeats, "repeats", 3, "repeats of each throughput measurement")
	fs.IntVar(&o.events, "events", 100000, "events in the rebuild, and per ingest method over all rounds")
	fs.IntVar(&o.rounds, "rounds", 10, "interleaved rounds of the ingest methods")
	fs.DurationVar(&o.freshness, "freshness", 10*time.Second, "length of the freshness run at 5,000 events/s")
	fs.DurationVar(&o.lookups, "lookups", 3*time.Second, "time spent on each lookup measurement")
	fs.StringVar(&o.only, "only", "", "comma-separated steps to run (ingest, freshness, lookups, rebuild); empty runs all and writes features.json, otherwise the table is only printed")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.cpuProfile != "" {
		stop, err := startProfile(o.cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	ctx := context.Background()
	var results []Result
	steps := []struct {
		name string
		fn   func(context.Context, options) ([]Result, error)
	}{{"ingest", benchIngest}, {"freshness", benchFreshness}, {"lookups", benchLookups}, {"rebuild", benchRebuild}}
	for _, step := range steps {
		if o.only != "" && !slices.Contains(strings.Split(o.only, ","), step.name) {
			continue
		}
		rs, err := step.fn(ctx, o)
		if err != nil {
			return err
		}
		results = append(results, rs...)
	}
	printTable(os.Stdout, results)
	if o.only != "" {
		return nil
	}
	return write(filepath.Join(o.out, "features.json"), results)
}

// startProfile starts a CPU profile into path; the returned function ends it.
func startProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func write(path string, results []Result) error {
	doc := map[string]any{"benchmark": "features", "at": time.Now().UTC().Format(time.RFC3339), "results": results}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func printTable(w io.Writer, rs []Result) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MEASURE\tVALUE\tUNIT\tTARGET\tMET")
	for _, r := range rs {
		met := ""
		if r.Met != nil {
			met = fmt.Sprint(*r.Met)
		}
		fmt.Fprintf(tw, "%s\t%.4g\t%s\t%s\t%s\n", r.Name, r.Value, r.Unit, r.Target, met)
	}
	_ = tw.Flush()
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// percentile of sorted durations, in microseconds.
func percentile(d []time.Duration, p float64) float64 {
	slices.Sort(d)
	i := min(len(d)-1, int(p*float64(len(d))))
	return float64(d[i]) / float64(time.Microsecond)
}

func met(ok bool) *bool { return &ok }
