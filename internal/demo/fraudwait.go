package demo

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/plinthai/plinth/internal/monitor"
	"github.com/plinthai/plinth/internal/registry"
	"github.com/plinthai/plinth/products/fraud"
)

// advanceTo replays until the simulated time until, refreshing the view
// after each chunk.
func (r *fraudRun) advanceTo(ctx context.Context, phase string, until time.Time) error {
	from := r.replay.Now()
	for r.replay.Now().Before(until) {
		next := r.replay.Now().Add(chunk)
		if next.After(until) {
			next = until
		}
		if err := r.replay.Run(ctx, next); err != nil {
			return err
		}
		r.status(phase, float64(r.replay.Now().Sub(from))/float64(until.Sub(from)))
	}
	return nil
}

// trafficUntil keeps the traffic flowing until done reports true or an
// error, or the phase times out.
func (r *fraudRun) trafficUntil(ctx context.Context, phase string, done func() (bool, error)) error {
	began := time.Now()
	for {
		ok, err := done()
		if err != nil || ok {
			return err
		}
		if time.Since(began) > phaseTimeout {
			return fmt.Errorf("no outcome within %s of traffic", phaseTimeout)
		}
		if err := r.replay.Run(ctx, r.replay.Now().Add(chunk)); err != nil {
			return err
		}
		r.status(phase, float64(time.Since(began))/float64(phaseTimeout))
	}
}

// waitFor polls cond without traffic until it holds or the phase times
// out.
func (r *fraudRun) waitFor(ctx context.Context, phase, what string, cond func() (bool, error)) error {
	began := time.Now()
	for {
		ok, err := cond()
		if err != nil || ok {
			return err
		}
		if time.Since(began) > jobTimeout {
			return fmt.Errorf("%s: not within %s", what, jobTimeout)
		}
		r.status(phase, float64(time.Since(began))/float64(jobTimeout))
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
}

// waitJob waits for a job to succeed and returns its version.
func (r *fraudRun) waitJob(ctx context.Context, phase, id string) (int64, error) {
	var v int64
	err := r.waitFor(ctx, phase, "job "+id, func() (bool, error) {
		j, err := r.app.Registry.GetJob(ctx, id)
		if err != nil {
			return false, err
		}
		if j.Status == registry.JobFailed || j.Status == registry.JobCancelled {
			return false, fmt.Errorf("job %s %s: %s", id, j.Status, j.Error)
		}
		v = j.Version
		return j.Status == registry.JobSucceeded, nil
	})
	return v, err
}

func (r *fraudRun) versionStats(ctx context.Context, v int64) monitor.VersionStats {
	st, err := r.app.Monitor.Status(ctx, fraud.Model)
	if err == nil {
		for _, vs := range st.Versions {
			if vs.Version == v {
				return vs
			}
		}
	}
	return monitor.VersionStats{Version: v}
}

// status refreshes the view: figures, and events for new versions and
// rollout moves.
func (r *fraudRun) status(phase string, progress float64) {
	ctx := context.Background()
	c := r.replay.Stats.Snapshot()
	lines := []string{
		fmt.Sprintf("simulated time  %s  (drift at %s)", r.replay.Now().Format("Mon Jan 2 15:04"), r.driftAt.Format("Jan 2 15:04")),
		fmt.Sprintf("transactions    %d  (fraud %d)   labels %d   predictions %d (errors %d)", c.Transactions, c.Frauds, c.Labels, c.Predictions, c.PredictErrors),
	}
	if m, err := r.app.Registry.GetModel(ctx, fraud.Model); err == nil {
		lines = append(lines, fmt.Sprintf("model %s      champion v%d   challenger v%d at %.0f%%   latest v%d", m.Name,
			m.Aliases[registry.AliasChampion], m.Aliases[registry.AliasChallenger], m.Traffic.ChallengerPercent, m.LatestVersion))
		r.newVersions(ctx, m.LatestVersion)
	}
	if st, err := r.app.Monitor.Status(ctx, fraud.Model); err == nil {
		for _, vs := range st.Versions {
			lines = append(lines, fmt.Sprintf("  v%-3d %-10s live AUPRC %.3f  labels %5d (fraud %4d)  predictions %6d  p99 %.2f ms",
				vs.Version, vs.Arm, vs.Quality["auprc"], vs.Samples, vs.Positives, vs.Predictions, vs.P99MS))
		}
	}
	r.rolloutEvents(ctx)
	r.view.Set(Status{Phase: phase, Progress: progress, Lines: lines})
}

func (r *fraudRun) newVersions(ctx context.Context, latest int64) {
	for ; r.versions < latest; r.versions++ {
		v, err := r.app.Registry.GetVersion(ctx, fraud.Model, r.versions+1)
		if err != nil {
			return
		}
		r.view.Event("registered v%d by job %s: holdout AUPRC %.3f (champion's on the same holdout %.3f)", v.Version,
			v.Lineage.JobID, v.Metrics["auprc"], v.Metrics[registry.MetricChampionPrefix+"auprc"])
	}
}

func (r *fraudRun) rolloutEvents(ctx context.Context) {
	list, err := r.app.Rollout.List(ctx, fraud.Model)
	if err != nil {
		return
	}
	slices.Reverse(list) // oldest first
	for _, ro := range list {
		key := fmt.Sprintf("%s/%d", ro.State, ro.StepIndex)
		if r.seen[ro.ID] == key {
			continue
		}
		r.seen[ro.ID] = key
		msg := fmt.Sprintf("rollout of v%d: %s", ro.Version, ro.State)
		if ro.State == "canary" {
			msg += fmt.Sprintf(" at %.0f%%", ro.Percent())
		}
		if ro.Reason != "" {
			msg += " (" + ro.Reason + ")"
		}
		r.view.Event("%s", msg)
	}
}
