package trainer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"

	"github.com/plinthai/plinth/internal/platform/problem"
	"github.com/plinthai/plinth/internal/registry"
	"github.com/plinthai/plinth/internal/wire"
	"github.com/plinthai/plinth/ml/artifact"
	"github.com/plinthai/plinth/ml/drift"
	"github.com/plinthai/plinth/ml/frame"
)

// run is one attempt at a job: data, split, train, evaluate against the
// champion on the same holdout, write the artifact, register the version,
// evaluate its gate and, when the policy asks, start its rollout. It
// returns the registered version. A version the job registered on an
// earlier attempt is reused, never registered again.
func (s *Service) run(ctx context.Context, job wire.TrainJob, rep *reporter) (int64, error) {
	if v, ok, err := s.registeredVersion(ctx, job); err != nil || ok {
		if err == nil {
			err = s.finish(ctx, job, v, rep)
		}
		return v, err
	}
	if fit, ok := rankers[job.Algorithm]; ok {
		v, err := s.runRanker(ctx, job, fit, rep)
		if err != nil {
			return 0, err
		}
		return v, s.finish(ctx, job, v, rep)
	}
	data, err := s.load(ctx, job)
	if err != nil {
		return 0, err
	}
	train, holdout, err := split(data, job.Data, job.Params)
	if err != nil {
		return 0, err
	}
	if err := rep.progress(ctx, 0.2, fmt.Sprintf("training %s on %d rows", job.Algorithm, train.x.NumRows())); err != nil {
		return 0, err
	}
	fit, ok := learners[job.Algorithm]
	if !ok {
		return 0, problem.Field("algorithm", "the trainer cannot train %q yet", job.Algorithm)
	}
	mod, task, err := fit(ctx, trainSet{x: train.x, y: train.y, schema: train.schema}, job.Params)
	if err != nil {
		return 0, err
	}
	if err := rep.progress(ctx, 0.6, fmt.Sprintf("evaluating on %d holdout rows", holdout.x.NumRows())); err != nil {
		return 0, err
	}
	m, champ, err := s.evaluate(ctx, job.Model, mod, task, train, holdout)
	if err != nil {
		return 0, err
	}
	if err := rep.progress(ctx, 0.8, "registering"); err != nil {
		return 0, err
	}
	v, err := s.register(ctx, job, mod, train, m, champ)
	if err != nil {
		return 0, err
	}
	return v, s.finish(ctx, job, v, rep)
}

func (s *Service) load(ctx context.Context, job wire.TrainJob) (dataset, error) {
	if job.Data.View != "" {
		return s.loadView(ctx, job)
	}
	return s.loadFile(ctx, job)
}

// registeredVersion finds a version an earlier attempt of the job
// registered.
func (s *Service) registeredVersion(ctx context.Context, job wire.TrainJob) (int64, bool, error) {
	vs, err := s.registry.ListVersions(ctx, job.Model, true)
	if err != nil {
		return 0, false, fmt.Errorf("list versions of %q: %w", job.Model, err)
	}
	for _, v := range vs {
		if v.Lineage.JobID == job.ID {
			return v.Version, true, nil
		}
	}
	return 0, false, nil
}

// evaluate computes the candidate's holdout metrics and latency, and the
// current champion's metrics on the same holdout. It returns the metrics
// to store and the champion's version (0 when there is none).
func (s *Service) evaluate(ctx context.Context, model string, mod model, task string, train, holdout dataset) (map[string]float64, int64, error) {
	pred, err := score(mod, holdout.x)
	if err != nil {
		return nil, 0, err
	}
	m, err := quality(task, holdout.y, pred)
	if err != nil {
		return nil, 0, problem.FieldKind(problem.ErrUnprocessable, "data", "%v", err)
	}
	m[MetricTrainRows], m[MetricHoldoutRows] = float64(train.x.NumRows()), float64(holdout.x.NumRows())
	if m[registry.MetricPredictP99US], err = latencyP99(mod, holdout.x, s.cfg.LatencySamples); err != nil {
		return nil, 0, err
	}
	champ, cm, err := s.championOnHoldout(ctx, model, task, holdout)
	if err != nil {
		return nil, 0, err
	}
	if champ != 0 {
		for k, v := range cm {
			m[registry.MetricChampionPrefix+k] = v
		}
		m[registry.MetricChampionVersion] = float64(champ)
	}
	return m, champ, nil
}

// championOnHoldout scores the current champion on the candidate's
// holdout. No champion is not an error; a champion the trainer cannot
// score is, since the gate could not compare the two.
func (s *Service) championOnHoldout(ctx context.Context, model, task string, holdout dataset) (int64, map[string]float64, error) {
	version, data, err := s.championArtifact(ctx, model)
	if err != nil || version == 0 {
		return 0, nil, err
	}
	p, h, err := loadPredictor(data)
	if err != nil {
		return 0, nil, fmt.Errorf("load champion version %d: %w", version, err)
	}
	x, err := remap(holdout.x, holdout.schema, h.Schema)
	if err != nil {
		return 0, nil, err
	}
	pred, err := score(p, x)
	if err != nil {
		return 0, nil, fmt.Errorf("score champion version %d: %w", version, err)
	}
	m, err := quality(h.Task, holdout.y, pred)
	return version, m, err
}

// championArtifact returns the current champion's version and artifact;
// version 0 and no error when the model has no champion.
func (s *Service) championArtifact(ctx context.Context, model string) (int64, []byte, error) {
	alias, err := s.registry.GetAlias(ctx, model, registry.AliasChampion)
	if errors.Is(err, problem.ErrNotFound) {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("get champion of %q: %w", model, err)
	}
	v, err := s.registry.GetVersion(ctx, model, alias.Version)
	if err != nil {
		return 0, nil, fmt.Errorf("get champion version %d: %w", alias.Version, err)
	}
	data, err := s.readArtifact(ctx, v.ArtifactSHA256)
	if err != nil {
		return 0, nil, fmt.Errorf("champion version %d: %w", v.Version, err)
	}
	return v.Version, data, nil
}

func (s *Service) readArtifact(ctx context.Context, sha string) ([]byte, error) {
	rc, _, err := s.registry.OpenArtifact(ctx, sha)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// register writes the artifact (metrics, reference profile, lineage) and
// registers the version under the job's id.
func (s *Service) register(ctx context.Context, job wire.TrainJob, mod model, train dataset, m map[string]float64, champ int64) (int64, error) {
	ref, err := reference(train)
	if err != nil {
		return 0, err
	}
	return s.registerArtifact(ctx, job, mod.Save, artifact.Header{Schema: train.schema, Reference: ref}, train.desc, m, champ)
}

// registerArtifact completes h with the job's params, the metrics and the
// lineage, saves the model with it, uploads the artifact and registers it
// as a version under the job's id.
func (s *Service) registerArtifact(ctx context.Context, job wire.TrainJob, save func(io.Writer, artifact.Header) error,
	h artifact.Header, desc string, m map[string]float64, champ int64) (int64, error) {
	lineage := artifact.Lineage{Dataset: desc, ParentVersion: champ, CodeVersion: s.cfg.CodeVersion, JobID: job.ID}
	params := maps.Clone(job.Params)
	h.Params, h.Metrics, h.Lineage, h.Created = params, m, lineage, s.now()
	var buf bytes.Buffer
	if err := save(&buf, h); err != nil {
		return 0, fmt.Errorf("save artifact: %w", err)
	}
	a, err := s.registry.UploadArtifact(ctx, &buf, "")
	if err != nil {
		return 0, fmt.Errorf("upload artifact: %w", err)
	}
	v, err := s.registry.CreateVersion(ctx, registry.CreateVersionRequest{Model: job.Model, ArtifactSHA256: a.SHA256,
		Description: fmt.Sprintf("%s trained by job %s", job.Algorithm, job.ID), Metrics: m,
		Lineage: registry.Lineage{Dataset: lineage.Dataset, ParentVersion: champ, Params: params,
			CodeVersion: lineage.CodeVersion, JobID: job.ID}})
	if err != nil {
		return 0, fmt.Errorf("register version: %w", err)
	}
	return v.Version, nil
}

// reference profiles the training inputs for drift monitoring.
func reference(train dataset) ([]byte, error) {
	cfg := drift.ProfileConfig{Categories: map[string]int{}}
	for _, f := range train.schema {
		if f.Type == frame.TypeCategory {
			cfg.Categories[f.Name] = len(f.Categories)
		}
	}
	p, err := drift.NewProfile(train.x, cfg)
	if err != nil {
		return nil, fmt.Errorf("reference profile: %w", err)
	}
	return p.MarshalJSON()
}

// finish evaluates the new version's gate and starts its rollout when the
// gate passed and the model's policy asks for automatic rollouts.
func (s *Service) finish(ctx context.Context, job wire.TrainJob, version int64, rep *reporter) error {
	if err := rep.progress(ctx, 0.9, fmt.Sprintf("evaluating the gate of version %d", version)); err != nil {
		return err
	}
	rec, err := s.registry.EvaluateGate(ctx, job.Model, version)
	if err != nil {
		return fmt.Errorf("evaluate gate of version %d: %w", version, err)
	}
	policy, err := s.registry.GetGatePolicy(ctx, job.Model)
	if err != nil {
		return fmt.Errorf("get gate policy: %w", err)
	}
	if !rec.Passed || !policy.AutoRollout {
		s.logger.InfoContext(ctx, "version registered", "job_id", job.ID, "model", job.Model, "version", version,
			"gate_passed", rec.Passed, "auto_rollout", policy.AutoRollout)
		return nil
	}
	if s.rollouts == nil {
		return problem.Wrap(problem.ErrUnprocessable, "the gate policy of %q asks for automatic rollouts, but no rollout controller is wired", job.Model)
	}
	if err := s.rollouts.StartAuto(ctx, job.Model, version, job.ID); err != nil {
		return fmt.Errorf("start rollout of version %d: %w", version, err)
	}
	return nil
}
