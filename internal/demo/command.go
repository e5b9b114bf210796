package demo

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// Command is `plinth demo` with its products as subcommands.
func Command(ctx context.Context) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a product's whole loop in one process: events, features, training, gate, canary, monitoring, retraining",
	}
	cmd.AddCommand(fraudCommand(ctx), recommendCommand(ctx))
	return cmd
}

func fraudCommand(ctx context.Context) *cobra.Command {
	var dataDir string
	cmd := &cobra.Command{
		Use:   "fraud",
		Short: "Card fraud: first model, live traffic, drift → retrain → canary → champion, and a bad candidate rolled back",
		Long: `Run the fraud product's loop on embedded defaults, in accelerated time: a
simulated card network streams transactions and, later, their fraud labels.
The first model is trained, gated and promoted; fraudsters then change
their patterns, the monitor sees the model decay and queues a retrain,
which goes through its gate and a canary to champion; finally a candidate
trained on stale data passes its gate but is rolled back by the canary on
live traffic, without the champion moving. Exits non-zero naming the
phase that did not reach its outcome.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, cleanup, err := dataDirectory(dataDir)
			if err != nil {
				return err
			}
			defer cleanup()
			out := cmd.OutOrStdout()
			rep, err := RunFraud(ctx, Options{DataDir: dir, Out: out, Live: isTerminal(out)})
			printReport(cmd, dir, rep)
			return err
		},
	}
	cmd.Flags().StringVar(&dataDir, "data.dir", "", "directory for the platform's state (default: a fresh temporary directory, removed at the end)")
	return cmd
}

func dataDirectory(dir string) (string, func(), error) {
	if dir != "" {
		return dir, func() {}, os.MkdirAll(dir, 0o755)
	}
	tmp, err := os.MkdirTemp("", "plinth-demo-")
	if err != nil {
		return "", nil, err
	}
	return tmp, func() { os.RemoveAll(tmp) }, nil
}

func printReport(cmd *cobra.Command, dir string, rep Report) {
	w := cmd.OutOrStdout()
	fmt.Fprintln(w)
	for _, p := range rep.Phases {
		fmt.Fprintf(w, "✓ %-14s %6.1fs  %s\n", p.Name, p.Took.Seconds(), p.Detail)
	}
	fmt.Fprintf(w, "drift → retrained champion: %.1fs; whole run: %.1fs; data: %s\n", rep.ToPromotion.Seconds(), rep.Total.Seconds(), dir)
}

// isTerminal reports whether w is a terminal.
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
