// Package cli holds plinth's client commands (models, versions, aliases,
// train, jobs, gate, rollouts, events, features, predict, apikeys, token,
// status), built on the public Go client: tables for people, -o json for
// scripts, progress bars for artifact uploads, training jobs and large
// event files, and errors that say what to do next.
//
// Every command reads --addr (PLINTH_ADDR) and --token (PLINTH_TOKEN).
package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/plinthai/plinth/client"
)

// Environment variables the client commands read. `plinth serve` ignores
// them, so one shell can run both.
const (
	EnvAddr  = "PLINTH_ADDR"
	EnvToken = "PLINTH_TOKEN"
)

// Output formats.
const (
	OutputTable = "table"
	OutputJSON  = "json"
)

// globals are the flags every client command shares.
type globals struct {
	addr, token, output string
	environ             []string
}

// Commands returns the client commands. environ supplies PLINTH_ADDR and
// PLINTH_TOKEN when the flags are not given.
func Commands(environ []string) []*cobra.Command {
	g := &globals{environ: environ}
	cmds := []*cobra.Command{modelsCommand(g), versionsCommand(g), aliasesCommand(g), trainCommand(g), jobsCommand(g),
		gateCommand(g), rolloutsCommand(g), eventsCommand(g), featuresCommand(g), predictCommand(g), apikeysCommand(g), statusCommand(g)}
	for _, c := range cmds {
		g.register(c)
	}
	return append(cmds, tokenCommand(g))
}

func (g *globals) register(c *cobra.Command) {
	pf := c.PersistentFlags()
	pf.StringVar(&g.addr, "addr", "", "server address (default $"+EnvAddr+" or "+client.DefaultAddr+")")
	pf.StringVar(&g.token, "token", "", "bearer credential: API key or JWT (default $"+EnvToken+")")
	pf.StringVarP(&g.output, "output", "o", OutputTable, "output format: table or json")
	_ = c.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{OutputTable, OutputJSON}, cobra.ShellCompDirectiveNoFileComp))
}

func (g *globals) env(name string) string {
	for _, kv := range g.environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v
		}
	}
	return ""
}

// client builds the Go client from the flags and environment.
func (g *globals) client() (*client.Client, error) {
	if g.output != OutputTable && g.output != OutputJSON {
		return nil, fmt.Errorf("--output %q: want table or json", g.output)
	}
	addr, token := g.addr, g.token
	if addr == "" {
		addr = g.env(EnvAddr)
	}
	if token == "" {
		token = g.env(EnvToken)
	}
	return client.New(addr, token)
}

// print writes v as JSON, or as a table of header and rows.
func (g *globals) print(w io.Writer, v any, header []string, rows [][]string) error {
	if g.output == OutputJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// explain turns a client error into one that says what to do.
func explain(err error) error {
	var e *client.Error
	if !errors.As(err, &e) {
		return err
	}
	switch e.Status {
	case http.StatusUnauthorized:
		return fmt.Errorf("%w\n  → set PLINTH_TOKEN (the admin key `plinth serve` printed on first start, an API key, or `plinth token` output) or pass --token", err)
	case http.StatusForbidden:
		return fmt.Errorf("%w\n  → use a credential with that scope: an admin can create one with `plinth apikeys create --name NAME --scopes SCOPE`", err)
	case http.StatusTooManyRequests:
		return fmt.Errorf("%w\n  → the rate limit for this credential was reached; wait and retry", err)
	}
	return err
}

// withHint adds what to do next to err.
func withHint(err error, hint string) error { return fmt.Errorf("%w\n  → %s", err, hint) }

// wrapRun makes a RunE whose errors explain themselves.
func wrapRun(fn func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error { return explain(fn(cmd, args)) }
}
