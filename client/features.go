package client

import (
	"context"
	"net/http"
	"time"
)

// FeatureLookup is a feature view's current features of some entities:
// Values is row-major, one row of len(Names) per entity, nil where a value
// is unknown; Found says which entities the view has seen.
type FeatureLookup struct {
	View     string     `json:"view"`
	Names    []string   `json:"names"`
	Entities []string   `json:"entities"`
	Values   []*float64 `json:"values"`
	Found    []bool     `json:"found"`
}

// Value returns feature j of entity i, and false when it is unknown.
func (f FeatureLookup) Value(i, j int) (float64, bool) {
	k := i*len(f.Names) + j
	if k >= len(f.Values) || f.Values[k] == nil {
		return 0, false
	}
	return *f.Values[k], true
}

// FeatureLabel is one labelled example of a training set: an entity, the
// time the label refers to, and its value.
type FeatureLabel struct {
	Entity string    `json:"entity"`
	Time   time.Time `json:"time"`
	Value  float64   `json:"value"`
}

// TrainingSet holds, for each label, a view's features as the online store
// would have served them at the label's time: row-major like
// FeatureLookup.Values.
type TrainingSet struct {
	View   string         `json:"view"`
	Names  []string       `json:"names"`
	Labels []FeatureLabel `json:"labels"`
	Values []*float64     `json:"values"`
}

// LookupFeatures returns a view's current features of entities.
func (c *Client) LookupFeatures(ctx context.Context, view string, entities []string) (FeatureLookup, error) {
	var out FeatureLookup
	body := map[string][]string{"entities": entities}
	_, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/features/" + esc(view) + ":lookup", body: body, out: &out})
	return out, err
}

// TrainingSet returns a view's point-in-time features for each label.
func (c *Client) TrainingSet(ctx context.Context, view string, labels []FeatureLabel) (TrainingSet, error) {
	var out TrainingSet
	body := map[string][]FeatureLabel{"labels": labels}
	_, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/features/" + esc(view) + ":training-set", body: body, out: &out})
	return out, err
}
