package main

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/plinthai/plinth/ml/metrics"
	"github.com/plinthai/plinth/ml/mf"
)

// recommender is what the ranking evaluation needs from a model.
type recommender interface {
	Recommend(u, k int) ([]mf.Scored, error)
}

// rankScores holds HR@10 and NDCG@10 of one model on one split.
type rankScores struct {
	HR10   float64 `json:"hr@10"`
	NDCG10 float64 `json:"ndcg@10"`
	Recall float64 `json:"recall@10"`
	MAP10  float64 `json:"map@10"`
}

// evaluate ranks, for every held-out row, all items its user has not seen
// in training and scores the top 10 against the held-out item.
func evaluate(m recommender, held []row) (rankScores, error) {
	ranked := make([][]int, len(held))
	relevant := make([][]int, len(held))
	for j, x := range held {
		top, err := m.Recommend(int(x.user), 10)
		if err != nil {
			return rankScores{}, err
		}
		for _, s := range top {
			ranked[j] = append(ranked[j], int(s.Item))
		}
		relevant[j] = []int{int(x.item)}
	}
	var s rankScores
	var err error
	for _, f := range []struct {
		dst *float64
		fn  func(a, b [][]int, k int) (float64, error)
	}{{&s.HR10, metrics.HitRateAtK}, {&s.NDCG10, metrics.NDCGAtK}, {&s.Recall, metrics.RecallAtK}, {&s.MAP10, metrics.MAPAtK}} {
		if *f.dst, err = f.fn(ranked, relevant, 10); err != nil {
			return s, err
		}
	}
	return s, nil
}

// alsTrial is one grid point scored on the validation split.
type alsTrial struct {
	Factors  int     `json:"factors"`
	Reg      float64 `json:"reg"`
	Alpha    float64 `json:"alpha"`
	Binarize bool    `json:"binarize"`
	NDCG10   float64 `json:"val_ndcg@10"`
	HR10     float64 `json:"val_hr@10"`
}

// alsGrid is the tuning grid; iterations and CG steps are fixed.
func alsGrid() []mf.ALSConfig {
	var grid []mf.ALSConfig
	for _, f := range []int{32, 64} {
		for _, reg := range []float64{1, 5, 20} {
			for _, a := range []float64{1, 5, 20} {
				for _, bin := range []bool{true, false} {
					grid = append(grid, mf.ALSConfig{Factors: f, Iterations: 15, Reg: reg, Alpha: a, Binarize: bin, CGSteps: 3, InitStd: 0.01, Seed: 1})
				}
			}
		}
	}
	return grid
}

// tuneALS trains every grid point on train-minus-validation and returns the
// trials and the config with the best validation NDCG@10.
func tuneALS(fit []row, val []row, nu, ni int) ([]alsTrial, mf.ALSConfig, error) {
	data := ratings(fit, nu, ni)
	var trials []alsTrial
	var best mf.ALSConfig
	bestNDCG := -1.0
	for _, cfg := range alsGrid() {
		m, err := mf.TrainALS(data, cfg)
		if err != nil {
			return nil, best, err
		}
		s, err := evaluate(m, val)
		if err != nil {
			return nil, best, err
		}
		trials = append(trials, alsTrial{cfg.Factors, cfg.Reg, cfg.Alpha, cfg.Binarize, s.NDCG10, s.HR10})
		if s.NDCG10 > bestNDCG {
			best, bestNDCG = cfg, s.NDCG10
		}
	}
	return trials, best, nil
}

type modelResult struct {
	Model  string     `json:"model"`
	Scores rankScores `json:"test"`
	TrainS float64    `json:"train_wall_s"`
}

func benchIALS(o options) error {
	rows, err := readRows(filepath.Join(o.datasets, "ml-100k", "u.data.gz"), "\t")
	if err != nil {
		return err
	}
	nu, ni := extent(rows)
	train, test := leaveLastOut(rows)
	fit, val := leaveLastOut(train)
	trials, best, err := tuneALS(fit, val, nu, ni)
	if err != nil {
		return err
	}
	data := ratings(train, nu, ni)
	var results []modelResult
	for _, c := range []struct {
		name  string
		train func() (recommender, error)
	}{
		{fmt.Sprintf("ials (f=%d reg=%v alpha=%v binarize=%v)", best.Factors, best.Reg, best.Alpha, best.Binarize),
			func() (recommender, error) { return mf.TrainALS(data, best) }},
		{"popularity", func() (recommender, error) { return mf.TrainPopularity(data) }},
		{"item-knn (cosine)", func() (recommender, error) { return mf.TrainItemKNN(data) }},
	} {
		start := time.Now()
		m, err := c.train()
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		took := time.Since(start)
		s, err := evaluate(m, test)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		results = append(results, modelResult{c.name, s, took.Seconds()})
	}
	als := results[0].Scores
	fmt.Println("Implicit ALS on ML-100K, leave-last-out by timestamp, full ranking of unseen items")
	fmt.Printf("%-46s %8s %8s %10s %8s %8s\n", "model", "HR@10", "NDCG@10", "recall@10", "MAP@10", "train s")
	for _, r := range results {
		fmt.Printf("%-46s %8.4f %8.4f %10.4f %8.4f %8.3f\n", r.Model, r.Scores.HR10, r.Scores.NDCG10, r.Scores.Recall, r.Scores.MAP10, r.TrainS)
	}
	fmt.Printf("targets HR@10 >= 0.088, NDCG@10 >= 0.040: %s\n", met(als.HR10 >= 0.088, als.NDCG10 >= 0.040))
	return writeJSON(filepath.Join(o.out, "ials.json"), map[string]any{
		"benchmark": "implicit ALS vs popularity and item-kNN, ML-100K leave-last-out",
		"protocol":  "each user's last rating by (timestamp, item) held out; ranked against all items the user has not seen in training",
		"tuning":    "grid on a validation split (each user's second-to-last rating held out of the training part); best validation NDCG@10",
		"chosen":    best, "grid": trials, "results": results,
		"targets": map[string]any{"hr@10": 0.088, "ndcg@10": 0.040, "met": als.HR10 >= 0.088 && als.NDCG10 >= 0.040},
	})
}
