package cli

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/plinthai/plinth/client"
)

func rolloutsCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "rollouts", Short: "Start, follow and abort rollouts: a version through its gate and a canary to champion"}
	var req client.StartRolloutRequest
	start := &cobra.Command{
		Use:   "start MODEL VERSION",
		Short: "Start a rollout of a version; flags left out take the server's defaults",
		Args:  cobra.ExactArgs(2),
		RunE: wrapRun(func(cmd *cobra.Command, args []string) error {
			n, err := parseVersion(args[1])
			if err != nil {
				return err
			}
			return g.oneRollout(cmd, func(c *client.Client) (client.Rollout, error) {
				r := req
				r.Version = n
				return c.StartRollout(cmd.Context(), args[0], r)
			})
		}),
	}
	f := start.Flags()
	f.Float64SliceVar(&req.CanarySteps, "steps", nil, "challenger traffic percentages, rising, e.g. --steps 5,25,50")
	f.IntVar(&req.MinSamples, "min-samples", 0, "joined samples of each arm a promote verdict needs")
	f.DurationVar(&req.StepTimeout, "step-timeout", 0, "how long one canary step may take, e.g. 30m")
	f.StringVar(&req.OnTimeout, "on-timeout", "", "what a step does when it times out: promote or rollback")
	_ = start.RegisterFlagCompletionFunc("on-timeout", cobra.FixedCompletions([]string{"promote", "rollback"}, cobra.ShellCompDirectiveNoFileComp))
	list := &cobra.Command{Use: "list MODEL", Short: "List a model's rollouts, newest first", Args: cobra.ExactArgs(1), RunE: wrapRun(func(cmd *cobra.Command, args []string) error {
		c, err := g.client()
		if err != nil {
			return err
		}
		rs, err := c.ListRollouts(cmd.Context(), args[0])
		if err != nil {
			return err
		}
		return g.printRollouts(cmd.OutOrStdout(), rs, rs)
	})}
	get := &cobra.Command{Use: "get ID", Short: "Show a rollout", Args: cobra.ExactArgs(1), RunE: wrapRun(func(cmd *cobra.Command, args []string) error {
		return g.oneRollout(cmd, func(c *client.Client) (client.Rollout, error) { return c.GetRollout(cmd.Context(), args[0]) })
	})}
	var reason string
	abort := &cobra.Command{Use: "abort ID", Short: "Roll an active rollout back: all traffic to the champion", Args: cobra.ExactArgs(1), RunE: wrapRun(func(cmd *cobra.Command, args []string) error {
		return g.oneRollout(cmd, func(c *client.Client) (client.Rollout, error) { return c.AbortRollout(cmd.Context(), args[0], reason) })
	})}
	abort.Flags().StringVar(&reason, "reason", "", "why; recorded with the rollout")
	cmd.AddCommand(start, list, get, abort, rolloutStepsCommand(g))
	return cmd
}

func rolloutStepsCommand(g *globals) *cobra.Command {
	return &cobra.Command{Use: "steps ID", Short: "Show a rollout's saga log", Args: cobra.ExactArgs(1), RunE: wrapRun(func(cmd *cobra.Command, args []string) error {
		c, err := g.client()
		if err != nil {
			return err
		}
		steps, err := c.RolloutSteps(cmd.Context(), args[0])
		if err != nil {
			return err
		}
		rows := make([][]string, 0, len(steps))
		for _, s := range steps {
			done := ""
			if !s.DoneAt.IsZero() {
				done = s.DoneAt.Format(time.RFC3339)
			}
			rows = append(rows, []string{s.Name, s.Status, s.StartedAt.Format(time.RFC3339), done, s.Detail})
		}
		return g.print(cmd.OutOrStdout(), steps, []string{"STEP", "STATUS", "STARTED", "DONE", "DETAIL"}, rows)
	})}
}

func (g *globals) oneRollout(cmd *cobra.Command, fn func(*client.Client) (client.Rollout, error)) error {
	c, err := g.client()
	if err != nil {
		return err
	}
	r, err := fn(c)
	if err != nil {
		return err
	}
	return g.printRollouts(cmd.OutOrStdout(), r, []client.Rollout{r})
}

func (g *globals) printRollouts(w io.Writer, v any, rs []client.Rollout) error {
	rows := make([][]string, 0, len(rs))
	for _, r := range rs {
		champion := ""
		if r.Champion > 0 {
			champion = strconv.FormatInt(r.Champion, 10)
		}
		rows = append(rows, []string{r.ID, r.Model, strconv.FormatInt(r.Version, 10), r.State, canaryStep(r), champion,
			r.UpdatedAt.Format(time.RFC3339), r.Reason})
	}
	return g.print(w, v, []string{"ID", "MODEL", "VERSION", "STATE", "STEP", "CHAMPION", "UPDATED", "REASON"}, rows)
}

// canaryStep shows where a canary stands, such as "2/3 25%".
func canaryStep(r client.Rollout) string {
	if r.State != client.RolloutCanary || r.StepIndex >= len(r.Policy.CanarySteps) {
		return ""
	}
	return fmt.Sprintf("%d/%d %g%%", r.StepIndex+1, len(r.Policy.CanarySteps), r.Policy.CanarySteps[r.StepIndex])
}
