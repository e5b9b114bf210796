package demo

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/plinthai/plinth/internal/monitor"
	"github.com/plinthai/plinth/internal/registry"
	"github.com/plinthai/plinth/internal/rollout"
	"github.com/plinthai/plinth/products/recommend"
)

// phase is one step of a demo and the outcome it must reach: run returns
// a line saying what happened, or why the outcome was not reached.
type phase struct {
	name string
	run  func(context.Context) (string, error)
}

// runPhases runs phases in order, telling status when each starts and v
// how each ended. It returns the results of the phases that reached their
// outcome; the first that does not ends the run with an error wrapping
// ErrPhase that names it (or ctx's error once ctx ended).
func runPhases(ctx context.Context, v *view, status func(phase string, progress float64), phases []phase) ([]PhaseResult, error) {
	var out []PhaseResult
	for _, p := range phases {
		began := time.Now()
		status(p.name, 0)
		detail, err := p.run(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return out, ctx.Err()
			}
			v.Event("phase %s FAILED: %v", p.name, err)
			return out, fmt.Errorf("%w: %s: %v", ErrPhase, p.name, err)
		}
		out = append(out, PhaseResult{Name: p.name, Took: time.Since(began), Detail: detail})
		v.Event("phase %s done in %.1fs: %s", p.name, time.Since(began).Seconds(), detail)
	}
	return out, nil
}

// advanceTo replays until the event time until, refreshing the view after
// each chunk.
func (r *recommendRun) advanceTo(ctx context.Context, phase string, until time.Time, chunk time.Duration) error {
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

// trafficUntil keeps the visits coming until done reports true or an
// error, or the phase times out.
func (r *recommendRun) trafficUntil(ctx context.Context, phase string, done func() (bool, error)) error {
	began := time.Now()
	for {
		ok, err := done()
		if err != nil || ok {
			return err
		}
		if time.Since(began) > phaseTimeout {
			return fmt.Errorf("no outcome within %s of traffic", phaseTimeout)
		}
		if err := r.replay.Run(ctx, r.replay.Now().Add(recChunk)); err != nil {
			return err
		}
		r.status(phase, float64(time.Since(began))/float64(phaseTimeout))
	}
}

// waitFor polls cond without traffic until it holds or the job timeout
// passes.
func (r *recommendRun) waitFor(ctx context.Context, phase, what string, cond func() (bool, error)) error {
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

// jobDone reports whether job id succeeded, with its version; a failed or
// cancelled job is an error.
func (r *recommendRun) jobDone(ctx context.Context, id string) (int64, bool, error) {
	j, err := r.app.Registry.GetJob(ctx, id)
	if err != nil {
		return 0, false, err
	}
	if j.Status == registry.JobFailed || j.Status == registry.JobCancelled {
		return 0, false, fmt.Errorf("job %s %s: %s", id, j.Status, j.Error)
	}
	return j.Version, j.Status == registry.JobSucceeded, nil
}

// waitJob waits, without traffic, for a job to succeed and returns its
// version.
func (r *recommendRun) waitJob(ctx context.Context, phase, id string) (int64, error) {
	var v int64
	err := r.waitFor(ctx, phase, "job "+id, func() (ok bool, err error) {
		v, ok, err = r.jobDone(ctx, id)
		return ok, err
	})
	return v, err
}

// waitJobWithTraffic is waitJob with the visits coming.
func (r *recommendRun) waitJobWithTraffic(ctx context.Context, id string) (int64, error) {
	var v int64
	err := r.trafficUntil(ctx, PhaseBad, func() (ok bool, err error) {
		v, ok, err = r.jobDone(ctx, id)
		return ok, err
	})
	return v, err
}

// rolloutOf returns the latest rollout of version v.
func (r *recommendRun) rolloutOf(ctx context.Context, v int64) rollout.Rollout {
	list, _ := r.app.Rollout.List(ctx, recommend.Model)
	for _, ro := range list {
		if ro.Version == v {
			return ro
		}
	}
	return rollout.Rollout{}
}

func (r *recommendRun) champion(ctx context.Context) int64 {
	a, err := r.app.Registry.GetAlias(ctx, recommend.Model, registry.AliasChampion)
	if err != nil {
		return 0
	}
	return a.Version
}

func (r *recommendRun) versionStats(ctx context.Context, v int64) monitor.VersionStats {
	st, err := r.app.Monitor.Status(ctx, recommend.Model)
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
func (r *recommendRun) status(phase string, progress float64) {
	ctx := context.Background()
	c := r.replay.Stats.Snapshot()
	lines := []string{
		fmt.Sprintf("event time      %s  (drift at %s)   ratings left %d", r.replay.Now().Format("Mon Jan 2 2006 15:04"),
			r.driftAt.Format("Jan 2 2006"), r.replay.Remaining()),
		fmt.Sprintf("ratings         %d in %d visits   recommendations %d (errors %d), hits %d", c.Ratings, c.Visits,
			c.Predictions, c.PredictErrors, c.Hits),
	}
	if m, err := r.app.Registry.GetModel(ctx, recommend.Model); err == nil {
		lines = append(lines, fmt.Sprintf("model %s  champion v%d   challenger v%d at %.0f%%   latest v%d", m.Name,
			m.Aliases[registry.AliasChampion], m.Aliases[registry.AliasChallenger], m.Traffic.ChallengerPercent, m.LatestVersion))
		r.newVersions(ctx, m.LatestVersion)
	}
	if st, err := r.app.Monitor.Status(ctx, recommend.Model); err == nil {
		for _, vs := range st.Versions {
			lines = append(lines, fmt.Sprintf("  v%-3d %-10s live HR@10 %.3f  NDCG@10 %.3f  visits %5d  recommendations %6d  p99 %.2f ms",
				vs.Version, vs.Arm, vs.Quality["hr_at_10"], vs.Quality["ndcg_at_10"], vs.Samples, vs.Predictions, vs.P99MS))
		}
	}
	r.rolloutEvents(ctx)
	r.view.Set(Status{Phase: phase, Progress: progress, Lines: lines})
}

func (r *recommendRun) newVersions(ctx context.Context, latest int64) {
	for ; r.versions < latest; r.versions++ {
		v, err := r.app.Registry.GetVersion(ctx, recommend.Model, r.versions+1)
		if err != nil {
			return
		}
		r.report.Holdout[v.Version] = v.Metrics["hr_at_10"]
		msg := fmt.Sprintf("registered v%d by job %s: holdout HR@10 %.3f over %.0f visits", v.Version, v.Lineage.JobID,
			v.Metrics["hr_at_10"], v.Metrics["holdout_rows"])
		if c, ok := v.Metrics[registry.MetricChampionPrefix+"hr_at_10"]; ok {
			msg += fmt.Sprintf(" (champion v%.0f's on the same holdout %.3f)", v.Metrics[registry.MetricChampionVersion], c)
		}
		r.view.Event("%s", msg)
	}
}

func (r *recommendRun) rolloutEvents(ctx context.Context) {
	list, err := r.app.Rollout.List(ctx, recommend.Model)
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
		if ro.State == rollout.StateCanary {
			msg += fmt.Sprintf(" at %.0f%%", ro.Percent())
		}
		if ro.Reason != "" {
			msg += " (" + ro.Reason + ")"
		}
		r.view.Event("%s", msg)
	}
}
