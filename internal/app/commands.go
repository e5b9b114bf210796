package app

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/plinthai/plinth/internal/cli"
	"github.com/plinthai/plinth/internal/platform/config"
	"github.com/plinthai/plinth/internal/platform/telemetry"
	"github.com/plinthai/plinth/internal/testdata"
)

// Command-line-only flags: they steer the command, not the platform, so
// they are neither read from the config file nor printed by --print.config.
const (
	flagConfigFile   = "config.file"
	flagConfigVerify = "config.verify"
	flagPrintConfig  = "print.config"
	flagListTargets  = "list-targets"
)

var commandOnly = []string{flagConfigFile, flagConfigVerify, flagPrintConfig, flagListTargets, "help"}

// Execute runs the command line. environ supplies PLINTH_* variables;
// extra commands (those that build an App themselves, such as demo) join
// the root.
func Execute(ctx context.Context, args, environ []string, stdout, stderr io.Writer, extra ...*cobra.Command) error {
	root := &cobra.Command{
		Use:           "plinth",
		Short:         "Plinth runs AI products as microservices: events to features to models to predictions, and back.",
		Version:       BuildVersion(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(serveCommand(ctx, environ))
	root.AddCommand(cli.Commands(environ)...)
	root.AddCommand(extra...)
	return root.ExecuteContext(ctx)
}

type serveFlags struct {
	file        string
	verify      bool
	printConfig bool
	listTargets bool
}

func serveCommand(ctx context.Context, environ []string) *cobra.Command {
	var cfg Config
	var sf serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the platform: every target in one process by default, or those named by --target",
		Long: `Run the platform. With no flags every target runs in this process on embedded
defaults: NATS JetStream inside the process, SQLite and local files under --data.dir.
Point --nats.url, --db.url and --blob.url at real services to run at scale.

Configuration precedence: defaults < YAML file (--config.file) < environment
(PLINTH_<MODULE>_<OPTION>, e.g. PLINTH_DB_URL) < flags.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServe(ctx, cmd, &cfg, sf, environ)
		},
	}
	fs := cmd.Flags()
	cfg.RegisterFlags(fs)
	fs.StringVar(&sf.file, flagConfigFile, "", "YAML configuration file (keys are the flag names: server: {http-addr: ...})")
	fs.BoolVar(&sf.verify, flagConfigVerify, false, "check the configuration, print every problem, and exit")
	fs.BoolVar(&sf.printConfig, flagPrintConfig, false, "print the effective configuration as YAML and exit")
	fs.BoolVar(&sf.listTargets, flagListTargets, false, "print the targets with their dependencies and exit")
	fs.SortFlags = true
	return cmd
}

// withoutClientEnv drops the PLINTH_ variables that are no server options,
// so one shell can run the server, the CLI and the tests: the client's
// (PLINTH_ADDR, PLINTH_TOKEN), the data set folder (PLINTH_DATASETS) and
// the test harness's (PLINTH_TEST_*). Any other unknown PLINTH_ variable
// is still an error.
func withoutClientEnv(environ []string) []string {
	var out []string
	for _, kv := range environ {
		switch {
		case strings.HasPrefix(kv, cli.EnvAddr+"="), strings.HasPrefix(kv, cli.EnvToken+"="),
			strings.HasPrefix(kv, testdata.EnvDatasets+"="), strings.HasPrefix(kv, "PLINTH_TEST_"):
		default:
			out = append(out, kv)
		}
	}
	return out
}

func runServe(ctx context.Context, cmd *cobra.Command, cfg *Config, sf serveFlags, environ []string) error {
	out := cmd.OutOrStdout()
	environ = withoutClientEnv(environ)
	if err := config.Apply(cmd.Flags(), sf.file, environ, commandOnly...); err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	if sf.printConfig {
		return printConfig(out, cmd.Flags())
	}
	if sf.listTargets {
		return listTargets(out)
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	if sf.verify {
		fmt.Fprintln(out, "configuration OK")
		return nil
	}
	logger, levels, err := telemetry.NewLogger(cfg.Log, cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	_, shutdownTracing, err := telemetry.SetupTracing(ctx, "plinth", BuildVersion())
	if err != nil {
		return err
	}
	defer func() { _ = shutdownTracing(context.WithoutCancel(ctx)) }()
	a, err := New(*cfg, logger, levels, telemetry.NewRegistry(BuildVersion()))
	if err != nil {
		return err
	}
	a.Stdout = out
	return a.Run(ctx)
}

func printConfig(w io.Writer, fs *pflag.FlagSet) error {
	b, err := config.Dump(fs, commandOnly...)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

func listTargets(w io.Writer) error {
	a := &App{}
	mods := a.table()
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TARGET\tMODULES (start order)")
	for _, t := range mods.Targets() {
		order, err := mods.Closure([]string{t.Name})
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "%s\t%s\n", t.Name, strings.Join(order, ", "))
	}
	return tw.Flush()
}
