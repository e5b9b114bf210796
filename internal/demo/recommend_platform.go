package demo

import (
	"context"
	"strconv"

	"github.com/plinthai/plinth/products/recommend"
)

var _ recommend.Platform = (*platform)(nil)

// recommendation is the /v1 predict answer of a recommender.
type recommendation struct {
	ID      string  `json:"id"`
	Version int64   `json:"version"`
	Arm     string  `json:"arm"`
	Items   []int64 `json:"items"`
}

// Recommend asks model for the user's top items by entity key, through
// the inference service's own /v1 handler: the feature store supplies the
// user's recent items.
func (p *platform) Recommend(ctx context.Context, model, user string) (recommend.Recommended, error) {
	var out recommendation
	if err := p.callPredict(ctx, "recommend", model, user, &out); err != nil {
		return recommend.Recommended{}, err
	}
	items := make([]string, 0, len(out.Items))
	for _, it := range out.Items {
		if it >= 0 {
			items = append(items, strconv.FormatInt(it, 10))
		}
	}
	return recommend.Recommended{ID: out.ID, Version: out.Version, Arm: out.Arm, Items: items}, nil
}
