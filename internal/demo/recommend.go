package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/plinthai/plinth/internal/app"
	"github.com/plinthai/plinth/internal/platform/problem"
	"github.com/plinthai/plinth/internal/platform/telemetry"
	"github.com/plinthai/plinth/internal/registry"
	"github.com/plinthai/plinth/internal/rollout"
	"github.com/plinthai/plinth/internal/wire"
	"github.com/plinthai/plinth/products/recommend"
)

// The recommendation demo's timeline, in days of MovieLens 100K (which
// runs from 1997-09-20 to 1998-04-22), and its pace.
const (
	// recBootstrapDays of ratings are replayed flat out, unscored: the
	// first model's history (about 32,000 ratings of 350 users).
	recBootstrapDays = 60
	// recDriftDay is when the catalogue's block of new editions enters.
	recDriftDay = 70
	// recReissued is how many titles the drift re-issues: the 300 most
	// rated after it, about 60 % of the later ratings.
	recReissued = 300
	// recReissueOffset is added to a re-issued title's id.
	recReissueOffset = 10000
	// recRate is the scored visits per wall second while the model
	// serves: the monitor's 12-second window then holds about a thousand
	// recommendations, a canary step of 25 % its 120 samples within 6 s.
	recRate = 80
	// recStaleDays of ratings, the first ones, are all the bad candidate
	// learns from. Its holdout (their last fifth) lies before the range of
	// any retrain after the drift (20 days back from day 73 or later), so
	// the champion's figures on it are honest: it never trained on them.
	recStaleDays = 40
	// recChunk is the event time between two looks at the platform.
	recChunk = 6 * time.Hour
	// recBootstrapChunk is the same while bootstrapping.
	recBootstrapChunk = 24 * time.Hour
)

// RecommendOptions configure a recommendation demo run.
type RecommendOptions struct {
	Options
	// Ratings is MovieLens 100K's u.data (plain or gzip); empty finds it
	// in the shared data sets or downloads it into DataDir, showing its
	// terms on Out.
	Ratings string
}

// RecommendReport is what a recommendation demo run did.
type RecommendReport struct {
	Phases []PhaseResult
	// First, Retrained and Bad are the versions of the first model, the
	// retrain after the drift, and the stale candidate.
	First, Retrained, Bad int64
	// BadGateRefused says the stale candidate's gate refused it, so it
	// never reached a canary; otherwise BadRollout is its rollout.
	BadGateRefused bool
	BadRollout     rollout.Rollout
	// ToPromotion is the wall time from the drift to the retrained
	// champion; Total the whole run's.
	ToPromotion, Total time.Duration
	// Live are HR@10 figures of the monitor's window: the first model's
	// at the drift and when it asked for a retrain, and the verdicts'.
	Live LiveHR
	// Holdout is each version's HR@10 on its own holdout.
	Holdout map[int64]float64
	// Tallies are each version's recommendations and hits over the run,
	// counted by the replay from the answers it got.
	Tallies map[int64]recommend.Tally
	Counts  recommend.Counts
	// Source is where the ratings were read from; Reissued the ids the
	// drift re-issued.
	Source   string
	Reissued int
}

// LiveHR are the monitor's live HR@10 figures at the demo's turns.
type LiveHR struct {
	// BeforeDrift and Decayed are the first model's, at the drift and
	// when the monitor queued the retrain.
	BeforeDrift, Decayed float64
	// RetrainVerdict is the last canary verdict of the retrain.
	RetrainVerdict wire.CanaryVerdict
	// BadVerdict is the last canary verdict of the stale candidate.
	BadVerdict wire.CanaryVerdict
}

// recommendRun is one run's state.
type recommendRun struct {
	loop[*recommend.Replay]
	opts     RecommendOptions
	start    time.Time // event time
	driftAt  time.Time // event time
	report   RecommendReport
	versions int64 // latest version shown
}

// RunRecommend runs the recommendation loop on opts.DataDir over MovieLens
// 100K and returns when every phase reached its outcome (nil), one did not
// (an error wrapping ErrPhase that names it), or ctx ended.
func RunRecommend(ctx context.Context, opts RecommendOptions) (RecommendReport, error) {
	began := time.Now()
	r := &recommendRun{opts: opts}
	r.loop = loop[*recommend.Replay]{model: recommend.Model, spec: recommend.Spec, chunk: recChunk, refresh: r.status, seen: map[string]string{}}
	r.report.Holdout = map[int64]float64{}
	stop, err := r.startPlatform(ctx)
	if err != nil {
		return r.report, err
	}
	r.view = newView(opts.Out, opts.Live)
	if opts.Started != nil {
		err = opts.Started(ctx, r.app)
	}
	if err == nil {
		r.report.Phases, err = runPhases(ctx, r.view, r.status, []phase{
			{PhaseBootstrap, r.bootstrap},
			{PhaseFirst, r.firstModel},
			{PhaseLive, r.live},
			{PhaseDrift, r.drift},
			{PhaseBad, r.badCandidate},
		})
	}
	r.report.Total = time.Since(began)
	r.report.Counts, r.report.Tallies = r.replay.Stats.Snapshot(), r.replay.Tallies()
	r.status("done", 1)
	r.view.Close()
	if serr := stop(); err == nil {
		err = serr
	}
	return r.report, err
}

// startPlatform loads the ratings, applies the drift, writes the
// product's declarations and starts every target on the replay's clock.
func (r *recommendRun) startPlatform(ctx context.Context) (stop func() error, err error) {
	ratings, source, err := recommend.LoadML100K(ctx, r.opts.Ratings, filepath.Join(r.opts.DataDir, "movielens"), r.opts.Out)
	if err != nil {
		return nil, err
	}
	r.start = ratings[0].Time.Truncate(24 * time.Hour)
	r.driftAt = r.start.Add(recDriftDay * 24 * time.Hour)
	drifted, ids := recommend.Reissue{At: r.driftAt, Titles: recReissued, Offset: recReissueOffset}.Apply(ratings)
	r.report.Source, r.report.Reissued = source, len(ids)
	specDir := filepath.Join(r.opts.DataDir, "recommend")
	if err := recommend.Spec.Write(specDir); err != nil {
		return nil, err
	}
	cfg, err := platformConfig(r.opts.DataDir, specDir)
	if err != nil {
		return nil, err
	}
	logger, closeLog, err := openLogger(r.opts.Logger, r.opts.DataDir)
	if err != nil {
		return nil, err
	}
	a, err := app.New(cfg, logger, new(slog.LevelVar), telemetry.NewRegistry(app.BuildVersion()))
	if err != nil {
		closeLog()
		return nil, err
	}
	r.replay = recommend.NewReplay(drifted, newPlatform(a, logger))
	a.EventClock = r.replay.Now
	r.app = a
	stopApp, err := runApp(ctx, a)
	if err != nil {
		closeLog()
		return nil, err
	}
	return func() error { defer closeLog(); return stopApp() }, nil
}

// bootstrap declares the model and its gate and replays the first days
// flat out, without recommending: the history the first model learns from.
func (r *recommendRun) bootstrap(ctx context.Context) (string, error) {
	reg := r.app.Registry
	_, err := reg.CreateModel(ctx, registry.CreateModelRequest{Name: recommend.Model,
		Description: "MovieLens top-10 recommender (demo)", Tags: map[string]string{"feature_view": recommend.View}})
	if err != nil && !errors.Is(err, problem.ErrConflict) {
		return "", err
	}
	g, err := recommend.Spec.Gate()
	if err != nil {
		return "", err
	}
	if _, err := reg.SetGatePolicy(ctx, registry.GatePolicy{Model: recommend.Model, Floors: g.Floors, MaxRegression: g.MaxRegression,
		LatencyP99US: g.LatencyP99US, AutoRollout: g.AutoRollout}); err != nil {
		return "", err
	}
	r.replay.Rate = 0
	until := r.start.Add(recBootstrapDays * 24 * time.Hour)
	if err := r.advanceTo(ctx, PhaseBootstrap, until, recBootstrapChunk); err != nil {
		return "", err
	}
	c := r.replay.Stats.Snapshot()
	return fmt.Sprintf("%d ratings in %d visits over %d days (from %s)", c.Ratings, c.Visits, recBootstrapDays, r.report.Source), nil
}

// firstModel trains by the product's training spec, and waits for the
// gate and the automatic rollout to make it champion.
func (r *recommendRun) firstModel(ctx context.Context) (string, error) {
	v, err := r.trainFirst(ctx, recommend.View, func() (registry.Job, error) {
		return r.submit(ctx, "recommend-first", "bootstrap", r.start, r.replay.Now())
	})
	r.report.First = v
	if err != nil {
		return "", err
	}
	ver, _ := r.app.Registry.GetVersion(ctx, recommend.Model, v)
	return fmt.Sprintf("v%d champion: holdout HR@10 %.3f, NDCG@10 %.3f over %.0f visits; %.0f users × %.0f items",
		v, ver.Metrics["hr_at_10"], ver.Metrics["ndcg_at_10"], ver.Metrics["holdout_rows"],
		ver.Metrics["train_users"], ver.Metrics["train_items"]), nil
}

// live recommends at every returning visit until the drift.
func (r *recommendRun) live(ctx context.Context) (string, error) {
	r.replay.Rate = recRate
	r.replay.Score.Store(true)
	if err := r.advanceTo(ctx, PhaseLive, r.driftAt, recChunk); err != nil {
		return "", err
	}
	st := r.versionStats(ctx, r.report.First)
	r.report.Live.BeforeDrift = st.Quality["hr_at_10"]
	return fmt.Sprintf("v%d live HR@10 %.3f, NDCG@10 %.3f over %d visits", r.report.First, st.Quality["hr_at_10"],
		st.Quality["ndcg_at_10"], st.Samples), nil
}

// drift replays past the re-issue until a retrain the monitor queued is
// champion, showing each retrain as the monitor queues it with the
// champion's live HR@10 by then.
func (r *recommendRun) drift(ctx context.Context) (string, error) {
	began := time.Now()
	r.view.Event("drift: %d titles re-issued under new ids at %s; users now rate the new editions", r.report.Reissued,
		r.driftAt.Format("Jan 2 2006"))
	job, tried, err := r.retrainChampion(ctx, func(j registry.Job) {
		r.report.Live.Decayed = r.versionStats(ctx, r.champion(ctx)).Quality["hr_at_10"]
		r.view.Event("monitor queued retrain %s (%s): champion's live HR@10 %.3f", j.ID, j.Reason, r.report.Live.Decayed)
	})
	if err != nil {
		return "", err
	}
	r.report.Retrained, r.report.ToPromotion = job.Version, time.Since(began)
	ro := r.rolloutOf(ctx, job.Version)
	r.report.Live.RetrainVerdict = ro.LastVerdict
	return fmt.Sprintf("retrain %s → v%d champion after the canary%s, %.1fs after the drift: live HR@10 %.3f against the old champion's %.3f",
		job.ID, job.Version, earlierTries(tried), r.report.ToPromotion.Seconds(), ro.LastVerdict.ChallengerValue,
		ro.LastVerdict.ChampionValue), nil
}

// badCandidate trains a candidate on stale data, the first weeks of
// ratings only: it has never seen the new editions, nor what users came
// to like since. On its own holdout (weeks before the drift) it looks
// fine, and better than the champion, which is tuned to today's titles,
// so its gate passes; on live traffic it cannot recommend what users now
// rate, and the canary must roll it back with the champion untouched.
func (r *recommendRun) badCandidate(ctx context.Context) (string, error) {
	job, err := r.submit(ctx, "recommend-stale", "manual: trained on stale data, the first weeks only", r.start,
		r.start.Add(recStaleDays*24*time.Hour))
	if err != nil {
		return "", err
	}
	end, detail, err := r.loop.badCandidate(ctx, r.report.Retrained, job, "the stale candidate")
	r.report.Bad, r.report.BadGateRefused, r.report.BadRollout = end.version, end.refused, end.rollout
	r.report.Live.BadVerdict = end.rollout.LastVerdict
	return detail, err
}

// recommendSummary prints each version's holdout and served figures.
func recommendSummary(w io.Writer, rep RecommendReport) {
	for v := int64(1); v <= max(rep.Bad, rep.Retrained, rep.First); v++ {
		t := rep.Tallies[v]
		fmt.Fprintf(w, "  v%d: holdout HR@10 %.3f; served %d recommendations, %d hits (HR@10 %.3f)\n", v, rep.Holdout[v],
			t.Predictions, t.Hits, t.HR())
	}
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
