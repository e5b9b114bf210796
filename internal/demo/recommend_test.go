package demo

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/plinthai/plinth/internal/app"
	"github.com/plinthai/plinth/internal/rollout"
	"github.com/plinthai/plinth/internal/testdata"
	"github.com/plinthai/plinth/internal/wire"
	"github.com/plinthai/plinth/products/recommend"
)

// TestRecommendLoop runs the recommendation demo's loop headless from an
// empty data directory over MovieLens 100K: the first model serves, the
// new titles make its live HR@10 decay, a retrain the monitor queued is
// promoted through the canary with no manual step, and the stale
// candidate is rolled back by its canary with the champion unchanged.
func TestRecommendLoop(t *testing.T) {
	if raceEnabled {
		t.Skip("the recommendation loop runs on wall-clock monitor windows, which the race detector's slowdown distorts; .ci/run runs it without -race")
	}
	ratings := testdata.Dataset(t, recommend.SharedML100K)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var events modelEvents
	var out strings.Builder
	began := time.Now()
	rep, err := RunRecommend(ctx, RecommendOptions{Ratings: ratings, Options: Options{DataDir: t.TempDir(), Out: &out,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Started: func(ctx context.Context, a *app.App) error {
			return events.watch(ctx, a, recommend.Model)
		}}})
	took := time.Since(began)
	if err != nil {
		t.Fatalf("RunRecommend: %v\n%s", err, out.String())
	}
	lv := rep.Live
	t.Logf("recommendation loop: drift → retrained champion in %.1fs, whole loop %.1fs", rep.ToPromotion.Seconds(), took.Seconds())
	t.Logf("HR@10: v%d holdout %.3f, live %.3f before the drift, %.3f when the monitor asked for a retrain; retrain v%d holdout %.3f, "+
		"canary %.3f against %.3f; stale v%d holdout %.3f, canary %.3f against %.3f", rep.First, rep.Holdout[rep.First],
		lv.BeforeDrift, lv.Decayed, rep.Retrained, rep.Holdout[rep.Retrained], lv.RetrainVerdict.ChallengerValue,
		lv.RetrainVerdict.ChampionValue, rep.Bad, rep.Holdout[rep.Bad], lv.BadVerdict.ChallengerValue, lv.BadVerdict.ChampionValue)
	for v := int64(1); v <= rep.Bad; v++ {
		t.Logf("  v%d served %d recommendations, HR@10 %.3f", v, rep.Tallies[v].Predictions, rep.Tallies[v].HR())
	}
	for _, l := range strings.Split(out.String(), "\n") {
		if len(l) > 13 && !strings.HasPrefix(l[13:], "  ") && !strings.HasPrefix(l[13:], "phase ") {
			t.Logf("  %s", l) // the events, without the figures
		}
	}
	if rep.First == 0 || rep.Retrained <= rep.First || rep.Bad <= rep.Retrained {
		t.Fatalf("versions first %d, retrained %d, bad %d: want rising", rep.First, rep.Retrained, rep.Bad)
	}
	if rep.BadGateRefused || rep.BadRollout.State != rollout.StateRolledBack {
		t.Errorf("stale candidate: gate refused %v, rollout %s (%s); want its canary rolled back", rep.BadGateRefused,
			rep.BadRollout.State, rep.BadRollout.Reason)
	}
	checkHitRates(t, rep)
	if took > 2*time.Minute {
		t.Errorf("loop took %s, want under 2 minutes", took)
	}
	// Champion moved to the first model, then to the retrain, and never
	// again: not during the stale candidate's canary, not after.
	events.checkChampionMoves(t, rep.First, rep.Retrained)
	checkHeadless(t, out.String(), rep)
}

// checkHitRates pins the figures the story rests on: a first model that
// recommends well, whose live HR@10 falls below the SLO after the drift,
// a retrain the canary finds better than it, and a stale candidate the
// canary finds worse than the retrain by more than its tolerance.
func checkHitRates(t *testing.T, rep RecommendReport) {
	t.Helper()
	lv := rep.Live
	for _, c := range []struct {
		what string
		ok   bool
	}{
		{fmt.Sprintf("first model's holdout HR@10 %.3f ≥ 0.3", rep.Holdout[rep.First]), rep.Holdout[rep.First] >= 0.3},
		{fmt.Sprintf("first model's live HR@10 before the drift %.3f ≥ 0.3", lv.BeforeDrift), lv.BeforeDrift >= 0.3},
		{fmt.Sprintf("champion's live HR@10 at the retrain request %.3f < the SLO's 0.15", lv.Decayed), lv.Decayed < 0.15},
		{fmt.Sprintf("retrain's canary HR@10 %.3f > the old champion's %.3f", lv.RetrainVerdict.ChallengerValue, lv.RetrainVerdict.ChampionValue),
			lv.RetrainVerdict.Decision == wire.VerdictPromote && lv.RetrainVerdict.ChallengerValue > lv.RetrainVerdict.ChampionValue},
		{fmt.Sprintf("stale candidate's canary HR@10 %.3f < the champion's %.3f − 0.03", lv.BadVerdict.ChallengerValue, lv.BadVerdict.ChampionValue),
			lv.BadVerdict.Decision == wire.VerdictRollback && lv.BadVerdict.ChallengerValue < lv.BadVerdict.ChampionValue-0.03},
		{fmt.Sprintf("stale candidate's holdout HR@10 %.3f ≥ 0.3 (it looks good offline)", rep.Holdout[rep.Bad]), rep.Holdout[rep.Bad] >= 0.3},
	} {
		if !c.ok {
			t.Errorf("want %s", c.what)
		}
	}
	if c := rep.Counts; c.PredictErrors != 0 || c.Predictions < 1000 {
		t.Errorf("replay counts %+v: want over 1000 recommendations and no errors", c)
	}
}

// checkHeadless checks the headless view: timestamped phase changes,
// events and figures, without terminal control sequences.
func checkHeadless(t *testing.T, out string, rep RecommendReport) {
	t.Helper()
	if strings.Contains(out, "\x1b[") {
		t.Error("headless output holds terminal control sequences")
	}
	for _, want := range []string{
		" phase bootstrap\n", " phase first-model\n", " phase live-traffic\n", " phase drift-retrain\n", " phase bad-candidate\n",
		fmt.Sprintf(" registered v%d by job recommend-first: holdout HR@10 ", rep.First),
		fmt.Sprintf(" rollout of v%d: promoted", rep.Retrained),
		fmt.Sprintf(" rollout of v%d: rolled_back", rep.Bad),
		" drift: 300 titles re-issued under new ids",
		" monitor queued retrain monitor-recommend-decay-",
		"live HR@10 ", "model recommend  champion v",
		" phase bad-candidate done in ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("headless output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", out)
	}
}

// TestRecommendCommand pins `plinth demo recommend` beside `plinth demo
// fraud`, with its flags.
func TestRecommendCommand(t *testing.T) {
	cmd, _, err := Command(context.Background()).Find([]string{"recommend"})
	if err != nil || cmd.Name() != "recommend" {
		t.Fatalf("demo recommend: %v, %v", cmd, err)
	}
	for _, f := range []string{"data.dir", "ratings"} {
		if cmd.Flags().Lookup(f) == nil {
			t.Errorf("demo recommend has no --%s", f)
		}
	}
	if err := cmd.Args(cmd, []string{"extra"}); err == nil {
		t.Error("demo recommend accepts arguments")
	}
}
