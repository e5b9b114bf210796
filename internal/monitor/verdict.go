package monitor

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/plinthai/plinth/internal/platform/problem"
	"github.com/plinthai/plinth/internal/wire"
)

// Verdict implements API: it judges challenger against champion by the
// model's canary rules (see CanaryRules) over the same period: the buckets
// of the current window from the first in which the challenger served.
// The champion's older buckets stay out, so traffic from before the canary
// (before a drift, say) never flatters or hurts either arm. It never
// blocks on I/O. Bad arguments are problem.ErrInvalid; a model another
// replica watches is ErrUnknownModel.
func (s *Service) Verdict(_ context.Context, model string, champion, challenger int64) (wire.CanaryVerdict, error) {
	if err := checkVerdictArgs(model, champion, challenger); err != nil {
		return wire.CanaryVerdict{}, err
	}
	if !s.watches(model) {
		return wire.CanaryVerdict{}, fmt.Errorf("verdict for %q: %w", model, ErrUnknownModel)
	}
	now := s.now()
	champ, chall := s.canaryStats(model, champion, challenger, now)
	rules := s.rules.For(model)
	metric := rules.QualityMetric()
	v := wire.CanaryVerdict{Model: model, Champion: champion, Challenger: challenger, Metric: metric,
		ChampionValue: champ.Quality[metric], ChallengerValue: chall.Quality[metric],
		ChampionSamples: int(champ.Samples), ChallengerSamples: int(chall.Samples),
		ChampionP99MS: champ.P99MS, ChallengerP99MS: chall.P99MS, At: now}
	v.Decision, v.Reason = decide(rules, champ, chall)
	s.metrics.verdicts.WithLabelValues(model, v.Decision).Inc()
	return v, nil
}

func checkVerdictArgs(model string, champion, challenger int64) error {
	switch {
	case model == "":
		return problem.Field("model", "must not be empty")
	case champion < 1:
		return problem.Field("champion", "must be a version number ≥ 1, got %d", champion)
	case challenger < 1:
		return problem.Field("challenger", "must be a version number ≥ 1, got %d", challenger)
	case champion == challenger:
		return problem.Field("challenger", "must differ from the champion (%d)", champion)
	}
	return nil
}

// canaryStats returns the figures of champion and challenger over the
// buckets since the challenger's first prediction in the window (zero
// figures for a version without a window; nothing for the champion while
// the challenger has served nothing).
func (s *Service) canaryStats(model string, champion, challenger int64, now time.Time) (champ, chall VersionStats) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.rules.For(model).PrecisionK
	stats := func(version, from int64) VersionStats {
		w, ok := s.windows[versionKey{model, version}]
		if !ok {
			return VersionStats{Model: model, Version: version, Quality: map[string]float64{}}
		}
		st := w.statsSince(now, k, from)
		st.Model, st.Version = model, version
		return st
	}
	from := int64(math.MaxInt64)
	if w, ok := s.windows[versionKey{model, challenger}]; ok {
		if first, served := w.firstServed(now); served {
			from = first
		}
	}
	return stats(champion, from), stats(challenger, from)
}

// decide applies the canary rules. Failures of the challenger (error rate,
// latency) roll back as soon as it served MinSamples predictions; quality
// is compared once both arms have MinSamples joined labels.
func decide(r ModelRules, champ, chall VersionStats) (decision, reason string) {
	c := r.Canary
	if chall.Predictions >= uint64(c.MinSamples) {
		if c.MaxErrorRate > 0 && chall.ErrorRate > c.MaxErrorRate {
			return wire.VerdictRollback, fmt.Sprintf("challenger error rate %.4f above %.4f", chall.ErrorRate, c.MaxErrorRate)
		}
		if limit := ms(c.MaxP99); limit > 0 && chall.P99MS > limit {
			return wire.VerdictRollback, fmt.Sprintf("challenger p99 latency %.1f ms above %.1f ms", chall.P99MS, limit)
		}
	}
	need := uint64(c.MinSamples)
	if champ.Samples < need || chall.Samples < need {
		return wire.VerdictWait, fmt.Sprintf("joined labels: champion %d, challenger %d, need %d each", champ.Samples, chall.Samples, need)
	}
	metric := r.QualityMetric()
	cq, ok1 := champ.Quality[metric]
	xq, ok2 := chall.Quality[metric]
	if !ok1 || !ok2 {
		return wire.VerdictWait, fmt.Sprintf("%s not defined yet on both arms (labels of one class only)", metric)
	}
	if xq < cq-c.MaxRegression {
		return wire.VerdictRollback, fmt.Sprintf("challenger %s %.4f below champion %.4f by more than %.4f", metric, xq, cq, c.MaxRegression)
	}
	return wire.VerdictPromote, fmt.Sprintf("challenger %s %.4f within %.4f of champion %.4f", metric, xq, c.MaxRegression, cq)
}

// Status implements API: every live version of model, in version order.
func (s *Service) Status(_ context.Context, model string) (ModelStatus, error) {
	if model == "" {
		return ModelStatus{}, problem.Field("model", "must not be empty")
	}
	if !s.watches(model) {
		return ModelStatus{}, fmt.Errorf("status of %q: %w", model, ErrUnknownModel)
	}
	now := s.now()
	st := ModelStatus{Model: model, Window: s.cfg.Window(), At: now, Versions: []VersionStats{}}
	s.mu.Lock()
	defer s.mu.Unlock()
	for key, w := range s.windows {
		if key.model == model && !w.empty(now) {
			st.Versions = append(st.Versions, s.statsLocked(key, w, now))
		}
	}
	sortVersions(st.Versions)
	return st, nil
}
