package cli

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/plinthai/plinth/client"
)

// versionGateCommand is `plinth versions gate MODEL VERSION`.
func versionGateCommand(g *globals) *cobra.Command {
	var last bool
	cmd := &cobra.Command{
		Use:   "gate MODEL VERSION",
		Short: "Evaluate a version against its model's validation gate (needed before it may become champion)",
		Long: `Evaluate a version against its model's gate policy and current champion, and
record the outcome; champion may move to the version only while that record is
current. The command fails when the gate does. With --last it shows the last
record instead of evaluating again.`,
		Args: cobra.ExactArgs(2),
		RunE: wrapRun(func(cmd *cobra.Command, args []string) error {
			n, err := parseVersion(args[1])
			if err != nil {
				return err
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			var r client.GateRecord
			if last {
				r, err = c.GetGateRecord(cmd.Context(), args[0], n)
			} else {
				r, err = c.EvaluateGate(cmd.Context(), args[0], n)
			}
			if err != nil {
				return err
			}
			if err := g.printGateRecord(cmd.OutOrStdout(), r); err != nil {
				return err
			}
			return gateOutcome(r)
		}),
	}
	cmd.Flags().BoolVar(&last, "last", false, "show the last gate record without evaluating")
	return cmd
}

func parseVersion(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("version %q: want a number such as 3", s)
	}
	return n, nil
}

func gateOutcome(r client.GateRecord) error {
	if r.Passed {
		return nil
	}
	return fmt.Errorf("version %d of %q failed its gate: %s\n  → retrain, or change the policy with `plinth gate set %s`, then run `plinth versions gate %s %d` again;"+
		" an admin may force champion with `plinth aliases set %s champion %d --force --reason TEXT`",
		r.Version, r.Model, strings.Join(r.Failures, "; "), r.Model, r.Model, r.Version, r.Model, r.Version)
}

// printGateRecord prints the record, and in a table every check marked
// passed (✓) or failed (✗).
func (g *globals) printGateRecord(w io.Writer, r client.GateRecord) error {
	champion := "none"
	if r.Champion > 0 {
		champion = strconv.FormatInt(r.Champion, 10)
	}
	row := []string{r.Model, strconv.FormatInt(r.Version, 10), strconv.FormatBool(r.Passed), champion,
		strconv.FormatInt(r.PolicyRevision, 10), r.EvaluatedAt.Format(time.RFC3339)}
	if err := g.print(w, r, []string{"MODEL", "VERSION", "PASSED", "CHAMPION", "POLICY REVISION", "EVALUATED"}, [][]string{row}); err != nil || g.output == OutputJSON {
		return err
	}
	failed := make(map[string]bool, len(r.Failures))
	for _, f := range r.Failures {
		failed[f] = true
	}
	for _, c := range r.Checks {
		mark := "✓"
		if failed[c] {
			mark = "✗"
		}
		fmt.Fprintf(w, "  %s %s\n", mark, c)
	}
	return nil
}

type gateFlags struct {
	floors, maxRegression   map[string]string
	latencyP99US            float64
	skipSchema, autoRollout bool
}

func gateCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "gate", Short: "Show and set a model's validation gate policy"}
	get := &cobra.Command{Use: "get MODEL", Short: "Show a model's gate policy", Args: cobra.ExactArgs(1), RunE: wrapRun(func(cmd *cobra.Command, args []string) error {
		c, err := g.client()
		if err != nil {
			return err
		}
		p, err := c.GetGatePolicy(cmd.Context(), args[0])
		if err != nil {
			return err
		}
		return g.printGatePolicy(cmd.OutOrStdout(), p)
	})}
	var gf gateFlags
	set := &cobra.Command{
		Use:   "set MODEL",
		Short: "Replace a model's gate policy (every gate record of the model goes stale)",
		Long: `Replace a model's gate policy with the one the flags describe; a flag left out
is off, not kept. Versions must be evaluated again under the new policy.`,
		Example: "  plinth gate set fraud --floor auprc=0.8 --max-regression auprc=0.01 --latency-p99-us 500",
		Args:    cobra.ExactArgs(1),
		RunE: wrapRun(func(cmd *cobra.Command, args []string) error {
			p, err := gf.policy()
			if err != nil {
				return err
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			if p, err = c.SetGatePolicy(cmd.Context(), args[0], p); err != nil {
				return err
			}
			return g.printGatePolicy(cmd.OutOrStdout(), p)
		}),
	}
	f := set.Flags()
	f.StringToStringVar(&gf.floors, "floor", nil, "absolute bound per holdout metric (a ceiling where lower is better), e.g. --floor auprc=0.8")
	f.StringToStringVar(&gf.maxRegression, "max-regression", nil, "how much worse than the champion a metric may be, e.g. --max-regression auprc=0.01")
	f.Float64Var(&gf.latencyP99US, "latency-p99-us", 0, "budget for the p99 single-row predict latency in microseconds (0: none)")
	f.BoolVar(&gf.skipSchema, "skip-schema-check", false, "do not check that the candidate's inputs match the champion's")
	f.BoolVar(&gf.autoRollout, "auto-rollout", false, "roll out every trained version whose gate passes")
	cmd.AddCommand(get, set)
	return cmd
}

func (gf gateFlags) policy() (client.GatePolicy, error) {
	floors, err := parseMetricFlag("--floor", gf.floors)
	if err != nil {
		return client.GatePolicy{}, err
	}
	regressions, err := parseMetricFlag("--max-regression", gf.maxRegression)
	if err != nil {
		return client.GatePolicy{}, err
	}
	return client.GatePolicy{Floors: floors, MaxRegression: regressions, LatencyP99US: gf.latencyP99US,
		SkipSchemaCheck: gf.skipSchema, AutoRollout: gf.autoRollout}, nil
}

func parseMetricFlag(flag string, in map[string]string) (map[string]float64, error) {
	out := make(map[string]float64, len(in))
	for k, v := range in {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, fmt.Errorf("%s %s=%s: not a number", flag, k, v)
		}
		out[k] = f
	}
	return out, nil
}

func (g *globals) printGatePolicy(w io.Writer, p client.GatePolicy) error {
	latency := "none"
	if p.LatencyP99US > 0 {
		latency = fmt.Sprintf("%gµs", p.LatencyP99US)
	}
	row := []string{p.Model, strconv.FormatInt(p.Revision, 10), metricList(p.Floors), metricList(p.MaxRegression), latency,
		strconv.FormatBool(!p.SkipSchemaCheck), strconv.FormatBool(p.AutoRollout), p.UpdatedBy}
	return g.print(w, p, []string{"MODEL", "REVISION", "FLOORS", "MAX REGRESSION", "LATENCY P99", "SCHEMA CHECK", "AUTO ROLLOUT", "UPDATED BY"}, [][]string{row})
}

func metricList(m map[string]float64) string {
	parts := make([]string, 0, len(m))
	for k, v := range m {
		parts = append(parts, fmt.Sprintf("%s=%g", k, v))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}
