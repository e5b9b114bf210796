package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"github.com/plinthai/plinth/internal/tabular"
	"github.com/plinthai/plinth/ml/gbdt"
	"github.com/plinthai/plinth/ml/metrics"
)

// row is one line of bench/results/gbdt.json.
type row struct {
	Dataset            string  `json:"dataset"`
	TrainRows          int     `json:"train_rows"`
	TestRows           int     `json:"test_rows"`
	Features           int     `json:"features"`
	Rounds             int     `json:"rounds"`
	PlinthTrainS       float64 `json:"plinth_train_s"`
	PeerTrainS         float64 `json:"peer_train_s"`
	TrainRatio         float64 `json:"train_ratio"`
	PlinthAUC          float64 `json:"plinth_auc"`
	PeerAUC            float64 `json:"peer_auc"`
	PlinthAUPRC        float64 `json:"plinth_auprc"`
	PeerAUPRC          float64 `json:"peer_auprc"`
	PlinthPredictRowsS float64 `json:"plinth_predict_rows_s"`
	PeerPredictRowsS   float64 `json:"peer_predict_rows_s"`
	PredictRatio       float64 `json:"predict_ratio"`
	PlinthOwnRowsS     float64 `json:"plinth_own_model_predict_rows_s"`
	ImportMaxAbsDiff   float64 `json:"import_max_abs_diff"`
	SingleRowP50us     float64 `json:"single_row_p50_us"`
	SingleRowP99us     float64 `json:"single_row_p99_us"`
	SingleRowAllocs    float64 `json:"single_row_allocs"`
	Reps               int     `json:"train_reps"`
}

// benchOne runs both trainers on one data set and round count, reps times
// each, alternating which goes first, and keeps each side's fastest
// training time: the machine is shared, and the fastest run is the one
// least disturbed by other work.
func benchOne(ctx context.Context, cfg config, set *tabular.Set, rounds, reps int) (row, error) {
	dir, err := os.MkdirTemp("", "bench-gbdt-")
	if err != nil {
		return row{}, err
	}
	defer os.RemoveAll(dir)
	if err := writeSplit(dir, set); err != nil {
		return row{}, err
	}
	r := row{Dataset: set.Name, TrainRows: len(set.Train.Y), TestRows: len(set.Test.Y),
		Features: set.Train.X.NumCols(), Rounds: rounds, Reps: reps, PlinthTrainS: math.Inf(1), PeerTrainS: math.Inf(1)}
	var model *gbdt.Model
	var peer peerResult
	for rep := range reps {
		plinth := func() error {
			m, secs, err := trainPlinth(ctx, cfg, set, rounds)
			model, r.PlinthTrainS = m, min(r.PlinthTrainS, secs)
			return err
		}
		xgb := func() error {
			p, err := runPeer(ctx, cfg, dir, set, rounds)
			peer, r.PeerTrainS = p, min(r.PeerTrainS, p.TrainS)
			return err
		}
		steps := []func() error{plinth, xgb}
		if rep%2 == 1 {
			steps[0], steps[1] = xgb, plinth
		}
		for _, s := range steps {
			if err := s(); err != nil {
				return r, err
			}
		}
	}
	r.PeerPredictRowsS = peer.PredictRowsS
	r.TrainRatio = r.PlinthTrainS / r.PeerTrainS
	if err := measurePlinth(cfg, set, model, &r); err != nil {
		return r, err
	}
	return r, scoreBoth(cfg, dir, set, model, peer, &r)
}

// trainPlinth trains Plinth once and returns the model and the seconds taken.
func trainPlinth(ctx context.Context, cfg config, set *tabular.Set, rounds int) (*gbdt.Model, float64, error) {
	p := gbdt.DefaultParams()
	p.NumRounds, p.LearningRate, p.MaxDepth, p.MaxBin, p.Threads = rounds, 0.1, 6, 256, cfg.threads
	p.BaseScore = cfg.baseScore
	runtime.GC()
	start := time.Now()
	m, err := gbdt.Train(ctx, gbdt.Data{X: set.Train.X, Y: set.Train.Y}, nil, p)
	return m, time.Since(start).Seconds(), err
}

// measurePlinth times Plinth's own model: batch rows/s and single-row latency.
func measurePlinth(cfg config, set *tabular.Set, m *gbdt.Model, r *row) error {
	rate, _, err := batchRate(m, set, cfg.predictReps)
	if err != nil {
		return err
	}
	r.PlinthOwnRowsS = rate
	r.SingleRowP50us, r.SingleRowP99us, r.SingleRowAllocs = singleRowLatency(m, set)
	return nil
}

// scoreBoth computes both sides' test metrics with the same code and times
// Plinth predicting with XGBoost's own trees (imported), checking parity.
func scoreBoth(cfg config, dir string, set *tabular.Set, m *gbdt.Model, peer peerResult, r *row) error {
	ours, err := m.PredictFrame(set.Test.X, nil, gbdt.OutputValue)
	if err != nil {
		return err
	}
	y := make([]float64, len(set.Test.Y))
	for i, v := range set.Test.Y {
		y[i] = float64(v)
	}
	if r.PlinthAUC, r.PlinthAUPRC, err = aucs(y, ours); err != nil {
		return err
	}
	if r.PeerAUC, r.PeerAUPRC, err = aucs(y, peer.pred); err != nil {
		return err
	}
	f, err := os.Open(filepath.Join(dir, "model.json"))
	if err != nil {
		return err
	}
	defer f.Close()
	imported, err := gbdt.ImportXGBoostJSON(f, 0)
	if err != nil {
		return fmt.Errorf("import the peer's model: %w", err)
	}
	rate, pred, err := batchRate(imported, set, cfg.predictReps)
	if err != nil {
		return err
	}
	r.PlinthPredictRowsS, r.PredictRatio = rate, rate/r.PeerPredictRowsS
	for i := range pred {
		r.ImportMaxAbsDiff = max(r.ImportMaxAbsDiff, abs(pred[i]-peer.pred[i]))
	}
	return nil
}

func abs(x float64) float64 { return max(x, -x) }

// aucs returns ROC-AUC and average precision.
func aucs(y, p []float64) (float64, float64, error) {
	auc, err := metrics.ROCAUC(y, p)
	if err != nil {
		return 0, 0, err
	}
	ap, err := metrics.AveragePrecision(y, p)
	return auc, ap, err
}

// batchRate times PredictFrame on the test rows on one goroutine, best of
// reps, and returns rows per second and the predictions.
func batchRate(m *gbdt.Model, set *tabular.Set, reps int) (float64, []float64, error) {
	var dst []float64
	best := time.Duration(1 << 62)
	for range reps {
		start := time.Now()
		var err error
		if dst, err = m.PredictFrame(set.Test.X, dst, gbdt.OutputValue); err != nil {
			return 0, nil, err
		}
		best = min(best, time.Since(start))
	}
	return float64(len(set.Test.Y)) / best.Seconds(), dst, nil
}

// singleRowLatency times PredictRow on up to 20,000 test rows, one at a
// time, and returns p50 and p99 in µs and allocations per call.
func singleRowLatency(m *gbdt.Model, set *tabular.Set) (p50, p99, allocs float64) {
	n := min(20_000, len(set.Test.Y))
	rows := make([][]float32, n)
	for i := range rows {
		rows[i] = set.Test.X.Row(i, nil)
	}
	for _, r := range rows[:min(1000, n)] { // warm up
		m.PredictRow(r, gbdt.OutputValue)
	}
	lat := make([]float64, n)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i, r := range rows {
		start := time.Now()
		m.PredictRow(r, gbdt.OutputValue)
		lat[i] = float64(time.Since(start).Nanoseconds()) / 1000
	}
	runtime.ReadMemStats(&after)
	slices.Sort(lat)
	return lat[n/2], lat[n*99/100], float64(after.Mallocs-before.Mallocs) / float64(n)
}
