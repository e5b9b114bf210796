package monitor

import (
	"context"

	"github.com/plinthai/plinth/internal/wire"
)

// Feed hands messages to s as its consumers would (for external tests).
func (s *Service) Feed(pls []wire.PredictionLog, fbs []wire.Feedback) {
	for _, pl := range pls {
		s.handlePrediction(context.Background(), pl)
	}
	for _, fb := range fbs {
		s.handleFeedback(fb)
	}
}
