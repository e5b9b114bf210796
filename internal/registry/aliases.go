package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"

	"github.com/plinthai/plinth/internal/platform/problem"
	"github.com/plinthai/plinth/internal/platform/sqlstore"
)

// SetAlias implements API. The alias row, its audit entry and its event are
// written in one transaction; the revision check makes concurrent movers
// with If-Match safe (the loser gets ErrPrecondition). Champion moves only
// to a version with a current, passed gate record (ErrGateNotPassed names
// what failed), unless the request is forced by an admin with a reason;
// the audit entry records the gate outcome and any force.
func (s *Service) SetAlias(ctx context.Context, req SetAliasRequest) (Alias, error) {
	want, err := parseIfMatch(req.IfMatch)
	if err := firstErr(errors.Join(checkName("model", req.Model), checkName("alias", req.Alias),
		checkVersion("version", req.Version), err)); err != nil {
		return Alias{}, err
	}
	ev := s.event(ctx, EventAliasMoved, req.Model)
	ev.Alias, ev.Version = req.Alias, req.Version
	a := Alias{Model: req.Model, Name: req.Alias, Version: req.Version, UpdatedAt: ev.At, UpdatedBy: ev.Actor}
	err = s.change(ctx, "set_alias", func(tx *sql.Tx) error {
		v, err := getVersion(ctx, tx, req.Model, req.Version)
		if err != nil {
			return err
		}
		if v.Status == StatusArchived {
			return problem.FieldKind(problem.ErrConflict, "version", "version %d of %q is archived", req.Version, req.Model)
		}
		cur, err := getAlias(ctx, tx, req.Model, req.Alias)
		exists := err == nil
		if err != nil && !errors.Is(err, ErrAliasNotFound) {
			return err
		}
		if want >= 0 && cur.Revision != want {
			return fmt.Errorf("alias %q of %q is at revision %d, not %d: %w", req.Alias, req.Model, cur.Revision, want, ErrAliasMoved)
		}
		detail := map[string]any{"alias": req.Alias, "from": cur.Version, "to": a.Version}
		if req.Alias == AliasChampion {
			gate, err := s.checkChampionGate(ctx, tx, req, cur.Version)
			if err != nil {
				return err
			}
			maps.Copy(detail, gate)
		}
		a.Revision = cur.Revision + 1
		ev.PrevVersion = cur.Version
		if exists {
			res, err := tx.ExecContext(ctx, `UPDATE registry_aliases SET version = $3, revision = $4, updated_at = $5, updated_by = $6
				WHERE model = $1 AND name = $2 AND revision = $7`, a.Model, a.Name, a.Version, a.Revision, micros(a.UpdatedAt), a.UpdatedBy, cur.Revision)
			if err != nil {
				return fmt.Errorf("move alias: %w", err)
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return fmt.Errorf("alias %q of %q moved meanwhile: %w", req.Alias, req.Model, ErrAliasMoved)
			}
		} else {
			_, err := tx.ExecContext(ctx, `INSERT INTO registry_aliases (model, name, version, revision, updated_at, updated_by)
				VALUES ($1, $2, $3, $4, $5, $6)`, a.Model, a.Name, a.Version, a.Revision, micros(a.UpdatedAt), a.UpdatedBy)
			if sqlstore.IsUniqueViolation(err) {
				return fmt.Errorf("alias %q of %q created meanwhile: %w", req.Alias, req.Model, ErrAliasMoved)
			}
			if err != nil {
				return fmt.Errorf("create alias: %w", err)
			}
		}
		return s.record(ctx, tx, ev, detail)
	})
	return a, err
}

// GetAlias implements API.
func (s *Service) GetAlias(ctx context.Context, model, alias string) (Alias, error) {
	if err := firstErr(errors.Join(checkName("model", model), checkName("alias", alias))); err != nil {
		return Alias{}, err
	}
	return getAlias(ctx, s.db, model, alias)
}

// DeleteAlias implements API.
func (s *Service) DeleteAlias(ctx context.Context, model, alias, ifMatch string) error {
	want, err := parseIfMatch(ifMatch)
	if err := firstErr(errors.Join(checkName("model", model), checkName("alias", alias), err)); err != nil {
		return err
	}
	ev := s.event(ctx, EventAliasDeleted, model)
	ev.Alias = alias
	return s.change(ctx, "delete_alias", func(tx *sql.Tx) error {
		cur, err := getAlias(ctx, tx, model, alias)
		if err != nil {
			return err
		}
		if want >= 0 && cur.Revision != want {
			return fmt.Errorf("alias %q of %q is at revision %d, not %d: %w", alias, model, cur.Revision, want, ErrAliasMoved)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM registry_aliases WHERE model = $1 AND name = $2`, model, alias); err != nil {
			return fmt.Errorf("delete alias: %w", err)
		}
		ev.PrevVersion = cur.Version
		return s.record(ctx, tx, ev, map[string]any{"alias": alias, "from": cur.Version})
	})
}

// Bounds for ListAudit.
const (
	defaultAuditLimit = 100
	maxAuditLimit     = 1000
)

// ListAudit implements API.
func (s *Service) ListAudit(ctx context.Context, model string, afterID int64, limit int) ([]AuditEntry, error) {
	if model != "" {
		if err := checkName("model", model); err != nil {
			return nil, err
		}
	}
	if limit < 0 || limit > maxAuditLimit {
		return nil, problem.Field("limit", "must be between 0 and %d", maxAuditLimit)
	}
	if limit == 0 {
		limit = defaultAuditLimit
	}
	return listAudit(ctx, s.db, model, afterID, limit)
}

// SetTraffic implements API.
func (s *Service) SetTraffic(ctx context.Context, model string, t Traffic) (Model, error) {
	if err := checkName("model", model); err != nil {
		return Model{}, err
	}
	if !(t.ChallengerPercent >= 0 && t.ChallengerPercent <= 100) {
		return Model{}, problem.Field("challenger_percent", "must be between 0 and 100, got %v", t.ChallengerPercent)
	}
	ev := s.event(ctx, EventTrafficChanged, model)
	ev.Traffic = &t
	var m Model
	err := s.change(ctx, "set_traffic", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE registry_models SET traffic = $2, updated_at = $3 WHERE name = $1`,
			model, encodeJSON(t), micros(ev.At))
		if err != nil {
			return fmt.Errorf("set traffic: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("model %q: %w", model, ErrModelNotFound)
		}
		if m, err = getModel(ctx, tx, model); err != nil {
			return err
		}
		return s.record(ctx, tx, ev, t)
	})
	return m, err
}
