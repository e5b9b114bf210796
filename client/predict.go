package client

import (
	"context"
	"net/http"
)

// PredictRequest is one prediction. Send Features (named: a
// map[string]*float64, or positional: a []*float64, nil for a missing
// value), Entity (whose features the model's feature view supplies, and
// the key of the sticky traffic split), or both; sent features override
// looked-up ones. Version pins a version (0: the traffic split decides);
// ID is echoed and names the prediction in the prediction log.
type PredictRequest struct {
	ID       string `json:"id,omitempty"`
	Entity   string `json:"entity,omitempty"`
	Version  int64  `json:"version,omitempty"`
	Features any    `json:"features,omitempty"`
}

// Prediction is the answer: the version and traffic arm (champion,
// challenger, shadow or pinned) that served it, and Score for classifiers
// and regressors or Items with their Scores, best first, for recommenders.
type Prediction struct {
	ID      string    `json:"id"`
	Model   string    `json:"model"`
	Version int64     `json:"version"`
	Arm     string    `json:"arm"`
	Score   *float64  `json:"score,omitempty"`
	Items   []string  `json:"items,omitempty"`
	Scores  []float64 `json:"scores,omitempty"`
}

// Predict asks a model for one prediction.
func (c *Client) Predict(ctx context.Context, model string, req PredictRequest) (Prediction, error) {
	var p Prediction
	_, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/models/" + esc(model) + ":predict", body: req, out: &p})
	return p, err
}
