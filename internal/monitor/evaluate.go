package monitor

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/plinthai/plinth/internal/registry"
	"github.com/plinthai/plinth/internal/wire"
)

// alertKey names one rule of one version, for deduplication.
type alertKey struct {
	model   string
	version int64
	rule    string
}

// Evaluate computes every version's figures, publishes them as metrics,
// raises alerts for broken SLO and drift rules (once per rule and version
// per window length) and queues a retrain when the champion decays or
// drifts and the model's rules ask for it. The rollout's verdicts do not
// depend on it. It blocks while publishing retrain requests.
func (s *Service) Evaluate(ctx context.Context) {
	now := s.now()
	for _, st := range s.snapshot(now) {
		s.metrics.observe(st)
		rules := s.rules.For(st.Model)
		for _, a := range breaches(st, rules, now) {
			if s.firstInWindow(a, now) {
				s.notifier.notify(a)
			}
			if trigger := triggerOf(a.Rule); trigger != "" && rules.Wants(trigger) && isChampion(st.Arm) {
				s.requestRetrain(ctx, st.Model, trigger, rules.Retrain, now)
			}
		}
	}
}

// snapshot returns the figures of every live version in (model, version)
// order and forgets versions whose window emptied.
func (s *Service) snapshot(now time.Time) []VersionStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]VersionStats, 0, len(s.windows))
	for key, w := range s.windows {
		if w.empty(now) {
			delete(s.windows, key)
			delete(s.profiles, key)
			s.metrics.forget(key.model, key.version)
			continue
		}
		out = append(out, s.statsLocked(key, w, now))
	}
	sortVersions(out)
	for k, at := range s.alerted {
		if now.Sub(at) >= s.cfg.Window() {
			delete(s.alerted, k)
		}
	}
	return out
}

func sortVersions(vs []VersionStats) {
	sort.Slice(vs, func(i, j int) bool {
		if vs[i].Model != vs[j].Model {
			return vs[i].Model < vs[j].Model
		}
		return vs[i].Version < vs[j].Version
	})
}

func (s *Service) statsLocked(key versionKey, w *versionWindow, now time.Time) VersionStats {
	st := w.stats(now, s.rules.For(key.model).PrecisionK)
	st.Model, st.Version = key.model, key.version
	return st
}

// breaches lists the rules a version breaks.
func breaches(st VersionStats, r ModelRules, now time.Time) []Alert {
	var out []Alert
	add := func(rule, metric, feature string, value, threshold float64, samples uint64, format string, args ...any) {
		out = append(out, Alert{Model: st.Model, Version: st.Version, Rule: rule, Metric: metric, Feature: feature,
			Value: value, Threshold: threshold, Samples: samples, Message: fmt.Sprintf(format, args...), At: now})
	}
	metric := r.QualityMetric()
	if q, ok := st.Quality[metric]; ok && r.SLO.MinQuality > 0 && st.Samples >= uint64(r.SLO.MinSamples) && q < r.SLO.MinQuality {
		add(RuleDecay, metric, "", q, r.SLO.MinQuality, st.Samples, "%s %.4f below %.4f over %d labels", metric, q, r.SLO.MinQuality, st.Samples)
	}
	if st.Predictions >= uint64(r.SLO.MinSamples) {
		if r.SLO.MaxErrorRate > 0 && st.ErrorRate > r.SLO.MaxErrorRate {
			add(RuleErrorRate, "error_rate", "", st.ErrorRate, r.SLO.MaxErrorRate, st.Predictions, "error rate %.4f above %.4f", st.ErrorRate, r.SLO.MaxErrorRate)
		}
		if limit := ms(r.SLO.MaxP99); limit > 0 && st.P99MS > limit {
			add(RuleLatency, "p99_ms", "", st.P99MS, limit, st.Predictions, "p99 latency %.1f ms above %.1f ms", st.P99MS, limit)
		}
	}
	if r.Drift.MaxPSI > 0 && st.DriftRows >= uint64(r.Drift.MinRows) {
		if psi, feature := st.MaxPSI(); psi > r.Drift.MaxPSI {
			add(RuleDrift, "psi", feature, psi, r.Drift.MaxPSI, st.DriftRows, "feature %s PSI %.3f above %.3f", feature, psi, r.Drift.MaxPSI)
		}
	}
	return out
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func triggerOf(rule string) string {
	switch rule {
	case RuleDecay:
		return TriggerDecay
	case RuleDrift:
		return TriggerDrift
	}
	return ""
}

// isChampion reports whether a version serving arm speaks for the model's
// live quality; logs without an arm come from models without a canary.
func isChampion(arm string) bool { return arm == wire.ArmChampion || arm == "" }

// firstInWindow reports whether a is the first alert of its rule and
// version within one window length, and remembers it.
func (s *Service) firstInWindow(a Alert, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := alertKey{a.Model, a.Version, a.Rule}
	if at, ok := s.alerted[k]; ok && now.Sub(at) < s.cfg.Window() {
		return false
	}
	s.alerted[k] = now
	return true
}

// RetrainJobID is the id of the retrain job of model for trigger requested
// at t: the same within one cooldown period, so a redelivered trigger or a
// second replica asks for the same job, which JOBS and the trainer
// deduplicate.
func RetrainJobID(model, trigger string, t time.Time, cooldown time.Duration) string {
	return fmt.Sprintf("monitor-%s-%s-%d", model, trigger, t.UnixNano()/int64(cooldown))
}

// requestRetrain publishes a training job unless the model has a
// challenger on trial (its canary decides first; a rollback clears the
// alias and the next evaluation asks again) or the model's cooldown is
// running.
func (s *Service) requestRetrain(ctx context.Context, model, trigger string, tmpl RetrainRules, now time.Time) {
	if s.challengerOnTrial(ctx, model) {
		s.metrics.retrains.WithLabelValues(model, trigger, "canary").Inc()
		return
	}
	if !s.startCooldown(model, now) {
		s.metrics.retrains.WithLabelValues(model, trigger, "cooldown").Inc()
		return
	}
	dataAt := now
	if s.eventNow != nil {
		dataAt = s.eventNow()
	}
	job := tmpl.job(RetrainJobID(model, trigger, now, s.cfg.RetrainCooldown), model, trigger, dataAt)
	job.At = now
	outcome, err := s.submitJob(ctx, job)
	if err != nil {
		s.mu.Lock()
		delete(s.retrainAt, model) // let the next evaluation try again
		s.mu.Unlock()
		s.logger.Error("retrain request", "model", model, "trigger", trigger, "err", err)
	} else {
		s.logger.Info("retrain requested", "model", model, "trigger", trigger, "outcome", outcome)
	}
	s.metrics.retrains.WithLabelValues(model, trigger, outcome).Inc()
}

// challengerOnTrial reports whether model has a challenger alias. Without
// a registry, or when it cannot answer, it reports false: the cooldown
// still bounds the requests.
func (s *Service) challengerOnTrial(ctx context.Context, model string) bool {
	if s.registry == nil {
		return false
	}
	m, err := s.registry.GetModel(ctx, model)
	if err != nil {
		s.logger.Warn("retrain: read the model's aliases", "model", model, "err", err)
		return false
	}
	return m.Aliases[registry.AliasChallenger] != 0
}

func (s *Service) startCooldown(model string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if at, ok := s.retrainAt[model]; ok && now.Sub(at) < s.cfg.RetrainCooldown {
		return false
	}
	s.retrainAt[model] = now
	return true
}

// submitJob records and queues job through the registry when one is
// wired, or publishes it to JOBS.
func (s *Service) submitJob(ctx context.Context, job wire.TrainJob) (string, error) {
	if s.jobs == nil {
		return s.publishJob(ctx, job)
	}
	j, err := s.jobs.SubmitJob(ctx, registry.SubmitJobRequest{ID: job.ID, Model: job.Model, Algorithm: job.Algorithm,
		Params: job.Params, Data: job.Data, Reason: job.Reason})
	if err != nil {
		return "failed", fmt.Errorf("submit train job %s: %w", job.ID, err)
	}
	if !j.CreatedAt.IsZero() && j.Status != registry.JobQueued {
		return "duplicate", nil
	}
	return "published", nil
}

func (s *Service) publishJob(ctx context.Context, job wire.TrainJob) (string, error) {
	if s.bus == nil {
		return "failed", fmt.Errorf("retrain %s: no bus", job.Model)
	}
	data, err := json.Marshal(job)
	if err != nil {
		return "failed", fmt.Errorf("encode train job: %w", err)
	}
	ack, err := s.bus.Publish(ctx, wire.TrainJobSubject(job.Model), data, job.ID, nil)
	if err != nil {
		return "failed", fmt.Errorf("publish train job %s: %w", job.ID, err)
	}
	if ack.Duplicate {
		return "duplicate", nil
	}
	return "published", nil
}
