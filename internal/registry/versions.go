package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"

	"github.com/plinthai/plinth/internal/platform/problem"
)

func (s *Service) checkCreateVersion(req *CreateVersionRequest) error {
	if req.Format == "" {
		req.Format = FormatPlinth
	}
	errs := []error{
		checkName("model", req.Model),
		checkText("description", req.Description, maxDescription),
		checkMetrics("metrics", req.Metrics),
		checkTags("tags", req.Tags),
		checkTags("lineage.params", req.Lineage.Params),
		checkText("lineage.dataset", req.Lineage.Dataset, maxValueLen),
		checkText("lineage.code_version", req.Lineage.CodeVersion, maxKeyLen),
		checkText("lineage.job_id", req.Lineage.JobID, maxKeyLen),
	}
	if req.Lineage.ParentVersion < 0 {
		errs = append(errs, problem.Field("lineage.parent_version", "must not be negative"))
	}
	switch req.Format {
	case FormatPlinth, FormatXGBoost:
		errs = append(errs, checkSHA("artifact_sha256", req.ArtifactSHA256))
	case FormatRemote:
		u, err := url.Parse(req.URI)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, problem.Field("uri", "a remote version needs an http(s) URL of an Open Inference Protocol server"))
		}
	default:
		errs = append(errs, problem.Field("format", "%q is not one of plinth, xgboost-json, remote", req.Format))
	}
	return firstErr(errors.Join(errs...))
}

// CreateVersion implements API. The version number is the model's latest
// plus one, taken under the model row's lock, so concurrent creates get
// distinct numbers. A request whose Lineage.JobID names a job that has
// registered a version already returns that version and changes nothing:
// a job id registers at most one version of a model, however often the
// job is delivered (a unique index enforces it under concurrency too).
func (s *Service) CreateVersion(ctx context.Context, req CreateVersionRequest) (Version, error) {
	if err := s.checkCreateVersion(&req); err != nil {
		return Version{}, err
	}
	if req.Lineage.JobID == "" {
		return s.createVersion(ctx, req)
	}
	if v, err := versionByJob(ctx, s.db, req.Model, req.Lineage.JobID); err == nil {
		return v, nil
	} else if !errors.Is(err, sql.ErrNoRows) {
		return Version{}, fmt.Errorf("look up version of job %s: %w", req.Lineage.JobID, err)
	}
	v, err := s.createVersion(ctx, req)
	if errors.Is(err, errJobVersionExists) {
		return versionByJob(ctx, s.db, req.Model, req.Lineage.JobID)
	}
	return v, err
}

func (s *Service) createVersion(ctx context.Context, req CreateVersionRequest) (Version, error) {
	ev := s.event(ctx, EventVersionCreated, req.Model)
	v := Version{Model: req.Model, Description: req.Description, ArtifactSHA256: req.ArtifactSHA256, Format: req.Format,
		URI: req.URI, Metrics: req.Metrics, Tags: req.Tags, Lineage: req.Lineage, Status: StatusActive,
		CreatedAt: ev.At, CreatedBy: ev.Actor}
	err := s.change(ctx, "create_version", func(tx *sql.Tx) error {
		if v.ArtifactSHA256 != "" {
			err := tx.QueryRowContext(ctx, `SELECT size FROM registry_artifacts WHERE sha256 = $1`, v.ArtifactSHA256).Scan(&v.ArtifactSize)
			if errors.Is(err, sql.ErrNoRows) {
				return problem.FieldKind(problem.ErrNotFound, "artifact_sha256", "no artifact %s was uploaded", v.ArtifactSHA256)
			}
			if err != nil {
				return fmt.Errorf("look up artifact: %w", err)
			}
		}
		err := tx.QueryRowContext(ctx, `UPDATE registry_models SET latest_version = latest_version + 1, updated_at = $2
			WHERE name = $1 RETURNING latest_version`, v.Model, micros(ev.At)).Scan(&v.Version)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("model %q: %w", v.Model, ErrModelNotFound)
		}
		if err != nil {
			return fmt.Errorf("number version: %w", err)
		}
		if p := v.Lineage.ParentVersion; p != 0 && p >= v.Version {
			return problem.FieldKind(problem.ErrNotFound, "lineage.parent_version", "model %q has no version %d", v.Model, p)
		}
		if err := insertVersion(ctx, tx, v); err != nil {
			return err
		}
		ev.Version = v.Version
		return s.record(ctx, tx, ev, map[string]string{"format": v.Format, "artifact_sha256": v.ArtifactSHA256})
	})
	return v, err
}

// GetVersion implements API.
func (s *Service) GetVersion(ctx context.Context, model string, version int64) (Version, error) {
	if err := firstErr(errors.Join(checkName("model", model), checkVersion("version", version))); err != nil {
		return Version{}, err
	}
	return getVersion(ctx, s.db, model, version)
}

// ListVersions implements API: versions in ascending order.
func (s *Service) ListVersions(ctx context.Context, model string, includeArchived bool) ([]Version, error) {
	if err := checkName("model", model); err != nil {
		return nil, err
	}
	if _, err := getModel(ctx, s.db, model); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+versionColumns+` FROM registry_versions
		WHERE model = $1 AND ($2 OR status = 'active') ORDER BY version`, model, includeArchived)
	if err != nil {
		return nil, fmt.Errorf("list versions of %q: %w", model, err)
	}
	defer rows.Close()
	var out []Version
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// UpdateVersion implements API.
func (s *Service) UpdateVersion(ctx context.Context, req UpdateVersionRequest) (Version, error) {
	errs := []error{checkName("model", req.Model), checkVersion("version", req.Version),
		checkMetrics("metrics", req.Metrics), checkTags("tags", req.Tags)}
	if req.Description != nil {
		errs = append(errs, checkText("description", *req.Description, maxDescription))
	}
	if err := firstErr(errors.Join(errs...)); err != nil {
		return Version{}, err
	}
	ev := s.event(ctx, EventVersionUpdated, req.Model)
	ev.Version = req.Version
	var v Version
	err := s.change(ctx, "update_version", func(tx *sql.Tx) error {
		var err error
		if v, err = getVersion(ctx, tx, req.Model, req.Version); err != nil {
			return err
		}
		v.Metrics = mergeMaps(v.Metrics, req.Metrics)
		v.Tags = mergeMaps(v.Tags, req.Tags)
		if req.Description != nil {
			v.Description = *req.Description
		}
		_, err = tx.ExecContext(ctx, `UPDATE registry_versions SET metrics = $3, tags = $4, description = $5
			WHERE model = $1 AND version = $2`, v.Model, v.Version, encodeJSON(v.Metrics), encodeJSON(v.Tags), v.Description)
		if err != nil {
			return fmt.Errorf("update version: %w", err)
		}
		return s.record(ctx, tx, ev, map[string]any{"metrics": req.Metrics, "tags": req.Tags})
	})
	return v, err
}

// ArchiveVersion implements API. Archiving twice is not an error.
func (s *Service) ArchiveVersion(ctx context.Context, model string, version int64) (Version, error) {
	if err := firstErr(errors.Join(checkName("model", model), checkVersion("version", version))); err != nil {
		return Version{}, err
	}
	ev := s.event(ctx, EventVersionArchived, model)
	ev.Version = version
	var v Version
	err := s.change(ctx, "archive_version", func(tx *sql.Tx) error {
		var err error
		if v, err = getVersion(ctx, tx, model, version); err != nil || v.Status == StatusArchived {
			return err
		}
		var alias string
		err = tx.QueryRowContext(ctx, `SELECT name FROM registry_aliases WHERE model = $1 AND version = $2 ORDER BY name LIMIT 1`,
			model, version).Scan(&alias)
		if err == nil {
			return problem.Wrap(problem.ErrConflict, "version %d of %q is aliased as %q; move the alias first", version, model, alias)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("check aliases: %w", err)
		}
		v.Status = StatusArchived
		if _, err := tx.ExecContext(ctx, `UPDATE registry_versions SET status = $3 WHERE model = $1 AND version = $2`,
			model, version, StatusArchived); err != nil {
			return fmt.Errorf("archive version: %w", err)
		}
		return s.record(ctx, tx, ev, nil)
	})
	return v, err
}
