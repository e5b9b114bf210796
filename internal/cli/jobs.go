package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/plinthai/plinth/client"
	"github.com/plinthai/plinth/internal/registry"
)

// jobPollInterval is how often --wait reads a job: often enough for a
// lively progress bar, rarely enough to be no load on the server.
const jobPollInterval = 250 * time.Millisecond

type trainFlags struct {
	algorithm, data, label, split, id, reason string
	holdout                                   float64
	params                                    []string
	wait                                      bool
}

func trainCommand(g *globals) *cobra.Command {
	var tf trainFlags
	cmd := &cobra.Command{
		Use:   "train MODEL",
		Short: "Train the next version of a model on a CSV file (uploaded first) or an uploaded artifact",
		Long: `Submit a training job. --data names a CSV file with a header, which is uploaded
first with a progress bar, or the sha256 of one uploaded before. With --wait the
command follows the job with a progress bar until it ends, and fails when the
job fails. A job that succeeds registers the next version; evaluate its gate
with ` + "`plinth versions gate MODEL VERSION`" + ` before moving champion.`,
		Example: "  plinth train fraud --data transactions.csv --label is_fraud --param num_rounds=50 --wait",
		Args:    cobra.ExactArgs(1),
		RunE:    wrapRun(func(cmd *cobra.Command, args []string) error { return g.train(cmd, args[0], tf) }),
	}
	f := cmd.Flags()
	f.StringVar(&tf.algorithm, "algorithm", "gbdt", "learner: "+strings.Join(registry.Algorithms, ", "))
	f.StringVar(&tf.data, "data", "", "CSV file with a header, or the sha256 of an uploaded one")
	f.StringVar(&tf.label, "label", "", "label column of the CSV")
	f.StringArrayVar(&tf.params, "param", nil, "learner parameter KEY=VALUE, repeatable (e.g. --param num_rounds=50)")
	f.StringVar(&tf.split, "split", "", "holdout split: time (the server's default: the last rows) or random")
	f.Float64Var(&tf.holdout, "holdout", 0, "holdout share in (0, 1) (default: the server's, 0.2)")
	f.StringVar(&tf.id, "id", "", "job id; naming one makes the command safe to run again")
	f.StringVar(&tf.reason, "reason", "manual", "why the job exists")
	f.BoolVar(&tf.wait, "wait", false, "follow the job with a progress bar until it ends")
	_ = cmd.MarkFlagRequired("data")
	_ = cmd.MarkFlagRequired("label")
	_ = cmd.MarkFlagFilename("data", "csv")
	_ = cmd.RegisterFlagCompletionFunc("algorithm", cobra.FixedCompletions(registry.Algorithms, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func (g *globals) train(cmd *cobra.Command, model string, tf trainFlags) error {
	params, err := parseParams(tf.params)
	if err != nil {
		return err
	}
	c, err := g.client()
	if err != nil {
		return err
	}
	data, err := trainData(cmd, c, tf)
	if err != nil {
		return err
	}
	j, err := c.SubmitJob(cmd.Context(), model, client.SubmitJobRequest{ID: tf.id, Algorithm: tf.algorithm, Params: params, Data: data, Reason: tf.reason})
	if err != nil {
		return err
	}
	if !tf.wait {
		fmt.Fprintf(cmd.ErrOrStderr(), "job %s is %s; follow it with `plinth jobs wait %s`\n", j.ID, j.Status, j.ID)
		return g.printJobs(cmd.OutOrStdout(), j, []client.Job{j})
	}
	return g.waitJob(cmd, c, j.ID)
}

func parseParams(in []string) (map[string]string, error) {
	out := make(map[string]string, len(in))
	for _, kv := range in {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--param %q: want KEY=VALUE, such as num_rounds=50", kv)
		}
		out[k] = v
	}
	return out, nil
}

var sha256RE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// trainData names an uploaded artifact as is, and uploads a file first.
func trainData(cmd *cobra.Command, c *client.Client, tf trainFlags) (client.TrainData, error) {
	d := client.TrainData{Label: tf.label, Split: tf.split, Holdout: tf.holdout}
	if sha256RE.MatchString(tf.data) {
		if _, err := os.Stat(tf.data); errors.Is(err, os.ErrNotExist) {
			d.FileSHA256 = tf.data
			return d, nil
		}
	}
	a, err := upload(cmd, c, tf.data)
	if err != nil {
		return d, fmt.Errorf("--data: %w", err)
	}
	d.FileSHA256 = a.SHA256
	return d, nil
}

// waitJob follows a job with a progress bar on stderr until it ends, then
// prints it; a job that did not succeed is an error saying what to do.
func (g *globals) waitJob(cmd *cobra.Command, c *client.Client, id string) error {
	bar := progressbar.NewOptions(100, progressbar.OptionSetWriter(cmd.ErrOrStderr()), progressbar.OptionSetDescription("job "+id),
		progressbar.OptionShowElapsedTimeOnFinish(), progressbar.OptionClearOnFinish(), progressbar.OptionThrottle(100*time.Millisecond))
	j, err := c.WaitJob(cmd.Context(), id, jobPollInterval, func(j client.Job) {
		_ = bar.Set(int(j.Progress * 100))
		bar.Describe(fmt.Sprintf("job %s: %s %s", j.ID, j.Status, j.Message))
	})
	_ = bar.Finish()
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("stopped waiting; job %s goes on (follow it with `plinth jobs wait %s`, stop it with `plinth jobs cancel %s`)", id, id, id)
	}
	if err != nil {
		return err
	}
	if err := g.printJobs(cmd.OutOrStdout(), j, []client.Job{j}); err != nil {
		return err
	}
	return jobOutcome(cmd.ErrOrStderr(), j)
}

func jobOutcome(w io.Writer, j client.Job) error {
	switch j.Status {
	case client.JobSucceeded:
		fmt.Fprintf(w, "job %s registered version %d of %s; next: `plinth versions gate %s %d`\n", j.ID, j.Version, j.Model, j.Model, j.Version)
		return nil
	case client.JobCancelled:
		return fmt.Errorf("training job %s was cancelled\n  → run `plinth train` again to retrain", j.ID)
	}
	return fmt.Errorf("training job %s failed after %d attempt(s): %s\n  → see `plinth jobs get %s`; fix the data, --label or --param values and run `plinth train` again",
		j.ID, j.Attempts, j.Error, j.ID)
}

func jobsCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "jobs", Short: "List, show, follow and cancel training jobs"}
	var f client.JobFilter
	list := &cobra.Command{Use: "list", Short: "List training jobs, newest first", Args: cobra.NoArgs, RunE: wrapRun(func(cmd *cobra.Command, _ []string) error {
		c, err := g.client()
		if err != nil {
			return err
		}
		jobs, err := c.ListJobs(cmd.Context(), f)
		if err != nil {
			return err
		}
		return g.printJobs(cmd.OutOrStdout(), jobs, jobs)
	})}
	list.Flags().StringVar(&f.Model, "model", "", "only this model's jobs")
	list.Flags().StringVar(&f.Status, "status", "", "only jobs in this status: queued, running, succeeded, failed or cancelled")
	list.Flags().IntVar(&f.Limit, "limit", 0, "at most this many (default 100)")
	get := &cobra.Command{Use: "get ID", Short: "Show a job", Args: cobra.ExactArgs(1), RunE: wrapRun(func(cmd *cobra.Command, args []string) error {
		return g.oneJob(cmd, func(c *client.Client) (client.Job, error) { return c.GetJob(cmd.Context(), args[0]) })
	})}
	cancel := &cobra.Command{Use: "cancel ID", Short: "Cancel a queued or running job", Args: cobra.ExactArgs(1), RunE: wrapRun(func(cmd *cobra.Command, args []string) error {
		return g.oneJob(cmd, func(c *client.Client) (client.Job, error) { return c.CancelJob(cmd.Context(), args[0]) })
	})}
	wait := &cobra.Command{Use: "wait ID", Short: "Follow a job with a progress bar until it ends; fails when the job fails", Args: cobra.ExactArgs(1),
		RunE: wrapRun(func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			return g.waitJob(cmd, c, args[0])
		})}
	cmd.AddCommand(list, get, cancel, wait)
	return cmd
}

func (g *globals) oneJob(cmd *cobra.Command, fn func(*client.Client) (client.Job, error)) error {
	c, err := g.client()
	if err != nil {
		return err
	}
	j, err := fn(c)
	if err != nil {
		return err
	}
	return g.printJobs(cmd.OutOrStdout(), j, []client.Job{j})
}

func (g *globals) printJobs(w io.Writer, v any, jobs []client.Job) error {
	rows := make([][]string, 0, len(jobs))
	for _, j := range jobs {
		version, note := "", j.Message
		if j.Version > 0 {
			version = strconv.FormatInt(j.Version, 10)
		}
		if j.Error != "" {
			note = j.Error
		}
		rows = append(rows, []string{j.ID, j.Model, j.Algorithm, j.Status, fmt.Sprintf("%.0f%%", j.Progress*100), version,
			j.UpdatedAt.Format(time.RFC3339), note})
	}
	return g.print(w, v, []string{"ID", "MODEL", "ALGORITHM", "STATUS", "PROGRESS", "VERSION", "UPDATED", "MESSAGE"}, rows)
}
