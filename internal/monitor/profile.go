package monitor

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/plinthai/plinth/internal/platform/problem"
	"github.com/plinthai/plinth/internal/registry"
	"github.com/plinthai/plinth/ml/artifact"
	"github.com/plinthai/plinth/ml/drift"
)

// profileTimeout bounds one profile load from the registry.
const profileTimeout = 30 * time.Second

// errNoProfile means the version carries no drift profile: it is not a
// Plinth artifact, or its header has no reference.
var errNoProfile = errors.New("no reference profile")

// ensureProfile loads the version's reference profile once, on its first
// prediction, and turns drift on for it. A failed load is retried after
// profileRetry; a version without a profile is never asked again. It does
// its I/O without holding s.mu.
func (s *Service) ensureProfile(ctx context.Context, key versionKey) {
	if s.registry == nil || !s.profileDue(key) {
		return
	}
	p, err := s.loadProfile(ctx, key)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case err == nil:
		s.window(key).setProfile(p)
		s.profiles[key] = time.Time{} // done
	case errors.Is(err, errNoProfile) || errors.Is(err, problem.ErrNotFound):
		s.profiles[key] = time.Time{}
		s.logger.Info("model version has no drift profile; drift is off for it", "model", key.model, "version", key.version, "reason", err)
	default:
		s.profiles[key] = s.now()
		s.metrics.profileErrors.Inc()
		s.logger.Warn("load drift profile", "model", key.model, "version", key.version, "err", err)
	}
}

// profileDue reports whether a load should be tried now.
func (s *Service) profileDue(key versionKey) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	failed, tried := s.profiles[key]
	if !tried {
		return true
	}
	return !failed.IsZero() && s.now().Sub(failed) >= profileRetry
}

// loadProfile reads the version's artifact header's reference profile.
func (s *Service) loadProfile(ctx context.Context, key versionKey) (*drift.Profile, error) {
	ctx, cancel := context.WithTimeout(ctx, profileTimeout)
	defer cancel()
	v, err := s.registry.GetVersion(ctx, key.model, key.version)
	if err != nil {
		return nil, fmt.Errorf("get version: %w", err)
	}
	if v.Format != registry.FormatPlinth || v.ArtifactSHA256 == "" {
		return nil, fmt.Errorf("format %q: %w", v.Format, errNoProfile)
	}
	rc, _, err := s.registry.OpenArtifact(ctx, v.ArtifactSHA256)
	if err != nil {
		return nil, fmt.Errorf("open artifact: %w", err)
	}
	defer rc.Close()
	h, _, err := artifact.Read(rc, artifact.Limits{})
	if err != nil {
		return nil, fmt.Errorf("read artifact %s: %w", v.ArtifactSHA256, err)
	}
	if len(h.Reference) == 0 {
		return nil, errNoProfile
	}
	p, err := drift.ParseProfile(h.Reference)
	if err != nil {
		return nil, fmt.Errorf("artifact %s: %w", v.ArtifactSHA256, err)
	}
	return p, nil
}
