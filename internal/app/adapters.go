package app

import (
	"context"
	"fmt"

	"github.com/plinthai/plinth/client"
	"github.com/plinthai/plinth/internal/features"
	"github.com/plinthai/plinth/internal/trainer"
	"github.com/plinthai/plinth/ml/frame"
)

// featureTrainingSets lets the trainer build point-in-time training sets
// from the feature store, in this process or through its client.
type featureTrainingSets struct{ store features.API }

// TrainingSet implements trainer.TrainingSets: one row per label, the
// view's features as they were at the label's time.
func (f featureTrainingSets) TrainingSet(ctx context.Context, view string, labels []trainer.LabelRow) (*frame.Frame, error) {
	req := make([]features.Label, len(labels))
	for i, l := range labels {
		req[i] = features.Label{Entity: l.Entity, Time: l.At, Value: l.Label}
	}
	set, err := f.store.TrainingSet(ctx, view, req)
	if err != nil {
		return nil, err
	}
	n := len(set.Names)
	if n == 0 || len(set.Values) != n*len(labels) {
		return nil, fmt.Errorf("training set of view %q: %d values for %d labels × %d features", view, len(set.Values), len(labels), n)
	}
	cols := make([][]float32, n)
	for j := range cols {
		cols[j] = make([]float32, len(labels))
		for i := range labels {
			cols[j][i] = float32(set.Values[i*n+j])
		}
	}
	return frame.New(set.Names, cols)
}

// restRollouts starts automatic rollouts through the REST API of a rollout
// controller in another process.
type restRollouts struct{ c *client.Client }

func (a *App) remoteRollouts(url string) (restRollouts, error) {
	tokens, err := a.serviceTokenFunc()
	if err != nil {
		return restRollouts{}, err
	}
	c, err := client.New(url, "", client.WithTokenSource(tokens))
	if err != nil {
		return restRollouts{}, fmt.Errorf("rollout.url: %w", err)
	}
	return restRollouts{c}, nil
}

// StartAuto implements trainer.Rollouts.
func (r restRollouts) StartAuto(ctx context.Context, model string, version int64, jobID string) error {
	_, err := r.c.StartAutoRollout(ctx, model, version, jobID)
	return err
}
