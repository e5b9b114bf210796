package rollout

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/plinthai/plinth/internal/platform/problem"
	"github.com/plinthai/plinth/internal/registry"
)

// The saga's actions on the registry. Each looks before it acts, so that
// redoing it after a crash between acting and logging changes nothing a
// second time: every change is applied, and audited, once.

// ensureAlias points alias at version unless it already does.
func (s *Service) ensureAlias(ctx context.Context, model, alias string, version int64) (string, error) {
	a, err := s.registry.GetAlias(ctx, model, alias)
	switch {
	case err == nil && a.Version == version:
		return "already set", nil
	case err != nil && !errors.Is(err, problem.ErrNotFound):
		return "", err
	}
	ifMatch := "0"
	if err == nil {
		ifMatch = strconv.FormatInt(a.Revision, 10)
	}
	moved, err := s.registry.SetAlias(ctx, registry.SetAliasRequest{Model: model, Alias: alias, Version: version, IfMatch: ifMatch})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s → v%d (revision %d)", alias, version, moved.Revision), nil
}

// ensureTraffic sets the challenger's share unless it is already set.
func (s *Service) ensureTraffic(ctx context.Context, model string, percent float64) (string, error) {
	m, err := s.registry.GetModel(ctx, model)
	if err != nil {
		return "", err
	}
	if m.Traffic.ChallengerPercent == percent {
		return "already set", nil
	}
	t := m.Traffic
	t.ChallengerPercent = percent
	if _, err := s.registry.SetTraffic(ctx, model, t); err != nil {
		return "", err
	}
	return fmt.Sprintf("challenger %g%%", percent), nil
}

// ensureNoChallenger deletes the challenger alias if it still points at
// version (another version's challenger is not this saga's to remove).
func (s *Service) ensureNoChallenger(ctx context.Context, model string, version int64) (string, error) {
	a, err := s.registry.GetAlias(ctx, model, registry.AliasChallenger)
	switch {
	case errors.Is(err, problem.ErrNotFound):
		return "already gone", nil
	case err != nil:
		return "", err
	case a.Version != version:
		return fmt.Sprintf("challenger is v%d, left alone", a.Version), nil
	}
	err = s.registry.DeleteAlias(ctx, model, registry.AliasChallenger, strconv.FormatInt(a.Revision, 10))
	if err != nil {
		return "", err
	}
	return "challenger deleted", nil
}
