package demo

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/plinthai/plinth/internal/app"
	"github.com/plinthai/plinth/internal/monitor"
	"github.com/plinthai/plinth/internal/registry"
	"github.com/plinthai/plinth/internal/rollout"
	"github.com/plinthai/plinth/internal/wire"
	"github.com/plinthai/plinth/products/spec"
)

// replayer is what a loop needs of a product's replay: its event clock,
// and Run, which plays the product's events up to until at the replay's
// pace and returns once it did, or with an error (ctx ended, nothing left
// to replay).
type replayer interface {
	Now() time.Time
	Run(ctx context.Context, until time.Time) error
}

// loop is the part of a demo run that is the same for every product. It
// plays the product's replay R in chunks of event time, waits on the
// platform (jobs, the champion alias, rollouts) within the wall-clock
// timeouts of a phase, and shows the model's rollout moves on the view.
// After each chunk or look at the platform it calls refresh, the
// product's own redraw of the view, with the phase's progress.
//
// A loop is used by the run's goroutine only.
type loop[R replayer] struct {
	app    *app.App
	model  string
	spec   spec.Set // the product's declarations: its training spec
	replay R
	// chunk is the event time played between two looks at the platform
	// while waiting on traffic.
	chunk   time.Duration
	refresh func(phase string, progress float64)
	view    *view
	seen    map[string]string // rollout id → state shown
}

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

// advanceTo replays until the event time until, chunk by chunk,
// refreshing the view after each.
func (l *loop[R]) advanceTo(ctx context.Context, phase string, until time.Time, chunk time.Duration) error {
	from := l.replay.Now()
	for l.replay.Now().Before(until) {
		next := l.replay.Now().Add(chunk)
		if next.After(until) {
			next = until
		}
		if err := l.replay.Run(ctx, next); err != nil {
			return err
		}
		l.refresh(phase, float64(l.replay.Now().Sub(from))/float64(until.Sub(from)))
	}
	return nil
}

// trafficUntil keeps the traffic flowing until done reports true or an
// error, or the phase times out.
func (l *loop[R]) trafficUntil(ctx context.Context, phase string, done func() (bool, error)) error {
	began := time.Now()
	for {
		ok, err := done()
		if err != nil || ok {
			return err
		}
		if time.Since(began) > phaseTimeout {
			return fmt.Errorf("no outcome within %s of traffic", phaseTimeout)
		}
		if err := l.replay.Run(ctx, l.replay.Now().Add(l.chunk)); err != nil {
			return err
		}
		l.refresh(phase, float64(time.Since(began))/float64(phaseTimeout))
	}
}

// waitFor polls cond without traffic until it holds or the job timeout
// passes; what names cond in the timeout's error.
func (l *loop[R]) waitFor(ctx context.Context, phase, what string, cond func() (bool, error)) error {
	began := time.Now()
	for {
		ok, err := cond()
		if err != nil || ok {
			return err
		}
		if time.Since(began) > jobTimeout {
			return fmt.Errorf("%s: not within %s", what, jobTimeout)
		}
		l.refresh(phase, float64(time.Since(began))/float64(jobTimeout))
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
}

// jobDone reports whether job id succeeded, with its version; a failed or
// cancelled job is an error.
func (l *loop[R]) jobDone(ctx context.Context, id string) (int64, bool, error) {
	j, err := l.app.Registry.GetJob(ctx, id)
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
func (l *loop[R]) waitJob(ctx context.Context, phase, id string) (int64, error) {
	var v int64
	err := l.waitFor(ctx, phase, "job "+id, func() (ok bool, err error) {
		v, ok, err = l.jobDone(ctx, id)
		return ok, err
	})
	return v, err
}

// waitJobWithTraffic is waitJob with the traffic flowing, in the bad
// candidate's phase.
func (l *loop[R]) waitJobWithTraffic(ctx context.Context, id string) (int64, error) {
	var v int64
	err := l.trafficUntil(ctx, PhaseBad, func() (ok bool, err error) {
		v, ok, err = l.jobDone(ctx, id)
		return ok, err
	})
	return v, err
}

// trainFirst waits for view's features, queues the first model's job
// through submit, and waits for the job, the gate and the automatic
// rollout to make its version champion. It returns the version once the
// job succeeded, also when the version then does not become champion.
func (l *loop[R]) trainFirst(ctx context.Context, view string, submit func() (registry.Job, error)) (int64, error) {
	if err := l.app.WaitFeatures(ctx, view); err != nil {
		return 0, err
	}
	if err := sleep(ctx, 600*time.Millisecond); err != nil { // the offline log's flush interval, thrice
		return 0, err
	}
	job, err := submit()
	if err != nil {
		return 0, err
	}
	v, err := l.waitJob(ctx, PhaseFirst, job.ID)
	if err != nil {
		return 0, err
	}
	return v, l.waitFor(ctx, PhaseFirst, "champion", func() (bool, error) { return l.champion(ctx) == v, nil })
}

// retrainChampion keeps the traffic flowing until a retrain the monitor
// queued is champion, and returns that job with the number of retrains
// seen; queued is called once for each new one. A retrain that its gate
// refuses or its canary rolls back is left behind: the champion still
// decays, so the monitor queues the next one once its cooldown allows. A
// failed or cancelled retrain job is an error.
func (l *loop[R]) retrainChampion(ctx context.Context, queued func(registry.Job)) (registry.Job, int, error) {
	var job registry.Job
	shown := map[string]bool{}
	err := l.trafficUntil(ctx, PhaseDrift, func() (bool, error) {
		j, ok := l.monitorJob(ctx)
		if !ok {
			return false, nil
		}
		job = j
		if !shown[j.ID] {
			shown[j.ID] = true
			queued(j)
		}
		if j.Status == registry.JobFailed || j.Status == registry.JobCancelled {
			return false, fmt.Errorf("retrain job %s %s: %s", j.ID, j.Status, j.Error)
		}
		return j.Version != 0 && l.champion(ctx) == j.Version, nil
	})
	return job, len(shown), err
}

// earlierTries says, as a phrase for a phase's outcome, how many of the
// tried retrains did not make it before the one promoted; empty when the
// first made it.
func earlierTries(tried int) string {
	if tried > 1 {
		return fmt.Sprintf(" (after %d that did not make it)", tried-1)
	}
	return ""
}

// canaryEnd keeps the traffic flowing until version v's rollout is final,
// and returns it. The champion moving away from champ meanwhile is an
// error that names v as candidate ("the bad candidate").
func (l *loop[R]) canaryEnd(ctx context.Context, champ, v int64, candidate string) (rollout.Rollout, error) {
	var ro rollout.Rollout
	err := l.trafficUntil(ctx, PhaseBad, func() (bool, error) {
		if c := l.champion(ctx); c != champ {
			return false, fmt.Errorf("the champion moved to v%d during %s's canary", c, candidate)
		}
		ro = l.rolloutOf(ctx, v)
		return ro.Final(), nil
	})
	return ro, err
}

// submit queues a training job of the product's training spec on the
// view's rows between from and to.
func (l *loop[R]) submit(ctx context.Context, id, reason string, from, to time.Time) (registry.Job, error) {
	sp, err := l.spec.Training()
	if err != nil {
		return registry.Job{}, err
	}
	return l.app.Registry.SubmitJob(ctx, registry.SubmitJobRequest{ID: id, Model: l.model, Algorithm: sp.Algorithm,
		Params: sp.Params, Reason: reason,
		Data: wire.TrainData{View: sp.Data.View, From: from, To: to, Split: sp.Data.Split, Holdout: sp.Data.Holdout}})
}

// badEnd is how a bad candidate's phase ended.
type badEnd struct {
	version int64
	refused bool            // by its gate: it never served
	rollout rollout.Rollout // otherwise its rollout, rolled back
}

// badCandidate keeps the traffic flowing until the bad candidate's job
// is done and, once its gate passed it, until its canary ended. Either
// safety net may catch it, the champion champ staying: the gate refusing
// it, or the canary rolling it back. It returns how it ended and the
// phase's outcome line; candidate names it in errors.
func (l *loop[R]) badCandidate(ctx context.Context, champ int64, job registry.Job, candidate string) (badEnd, string, error) {
	var end badEnd
	v, err := l.waitJobWithTraffic(ctx, job.ID)
	if err != nil {
		return end, "", err
	}
	end.version = v
	rec, err := l.app.Registry.GetGateRecord(ctx, l.model, v)
	if err != nil {
		return end, "", err
	}
	if !rec.Passed {
		// On the same holdout the candidate is far enough behind the
		// champion that its gate refuses it, and it never serves. Which
		// net catches a stale model depends on how far the data has moved.
		end.refused = true
		if c := l.champion(ctx); c != champ {
			return end, "", fmt.Errorf("the champion moved to v%d although v%d failed its gate", c, v)
		}
		return end, fmt.Sprintf("v%d refused by its gate (%s); champion still v%d", v, strings.Join(rec.Failures, "; "), champ), nil
	}
	if end.rollout, err = l.canaryEnd(ctx, champ, v, candidate); err != nil {
		return end, "", err
	}
	if ro := end.rollout; ro.State != rollout.StateRolledBack {
		return end, "", fmt.Errorf("v%d rollout ended %s, want rolled_back (%s)", v, ro.State, ro.Reason)
	}
	return end, fmt.Sprintf("v%d rolled back (%s); champion still v%d", v, end.rollout.Reason, champ), nil
}

// monitorJob returns the newest retrain job the monitor queued, if any.
func (l *loop[R]) monitorJob(ctx context.Context) (registry.Job, bool) {
	jobs, err := l.app.Registry.ListJobs(ctx, registry.ListJobsRequest{Model: l.model})
	if err != nil {
		return registry.Job{}, false
	}
	var newest registry.Job
	for _, j := range jobs {
		if (j.Reason == "decay" || j.Reason == "drift") && (newest.ID == "" || j.CreatedAt.After(newest.CreatedAt)) {
			newest = j
		}
	}
	return newest, newest.ID != ""
}

// rolloutOf returns the latest rollout of version v.
func (l *loop[R]) rolloutOf(ctx context.Context, v int64) rollout.Rollout {
	list, _ := l.app.Rollout.List(ctx, l.model)
	for _, ro := range list {
		if ro.Version == v {
			return ro
		}
	}
	return rollout.Rollout{}
}

// champion returns the champion's version, 0 if none or unknown.
func (l *loop[R]) champion(ctx context.Context) int64 {
	a, err := l.app.Registry.GetAlias(ctx, l.model, registry.AliasChampion)
	if err != nil {
		return 0
	}
	return a.Version
}

// versionStats returns the monitor's figures of version v, only its
// number if the monitor has none.
func (l *loop[R]) versionStats(ctx context.Context, v int64) monitor.VersionStats {
	st, err := l.app.Monitor.Status(ctx, l.model)
	if err == nil {
		for _, vs := range st.Versions {
			if vs.Version == v {
				return vs
			}
		}
	}
	return monitor.VersionStats{Version: v}
}

// rolloutEvents shows on the view each rollout move not shown yet.
func (l *loop[R]) rolloutEvents(ctx context.Context) {
	list, err := l.app.Rollout.List(ctx, l.model)
	if err != nil {
		return
	}
	slices.Reverse(list) // oldest first
	for _, ro := range list {
		key := fmt.Sprintf("%s/%d", ro.State, ro.StepIndex)
		if l.seen[ro.ID] == key {
			continue
		}
		l.seen[ro.ID] = key
		msg := fmt.Sprintf("rollout of v%d: %s", ro.Version, ro.State)
		if ro.State == rollout.StateCanary {
			msg += fmt.Sprintf(" at %.0f%%", ro.Percent())
		}
		if ro.Reason != "" {
			msg += " (" + ro.Reason + ")"
		}
		l.view.Event("%s", msg)
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
