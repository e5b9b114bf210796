package monitor

import (
	"math"
	"slices"
	"sort"
	"time"

	"github.com/plinthai/plinth/ml/drift"
	mlmetrics "github.com/plinthai/plinth/ml/metrics"
)

// VersionStats are the live figures of one model version over the rolling
// window, by prediction time. Quality holds only the metrics that are
// defined on the joined samples (AUC needs both classes, for example).
type VersionStats struct {
	Model   string `json:"model"`
	Version int64  `json:"version"`
	// Arm is the traffic arm of the version's latest prediction.
	Arm         string  `json:"arm"`
	Predictions uint64  `json:"predictions"`
	Errors      uint64  `json:"errors"`
	ErrorRate   float64 `json:"error_rate"`
	P50MS       float64 `json:"p50_ms"`
	P99MS       float64 `json:"p99_ms"`
	// Samples is the number of joined labels; Positives those labelled 1.
	Samples   uint64             `json:"samples"`
	Positives uint64             `json:"positives"`
	Quality   map[string]float64 `json:"quality,omitempty"`
	// DriftRows is the number of feature rows compared with the training
	// profile; Drift is empty for versions without a profile.
	DriftRows uint64         `json:"drift_rows"`
	Drift     []FeatureDrift `json:"drift,omitempty"`
}

// FeatureDrift is one feature's drift against the training profile.
type FeatureDrift struct {
	Feature string  `json:"feature"`
	PSI     float64 `json:"psi"`
	KS      float64 `json:"ks,omitempty"`
}

// MaxPSI returns the largest PSI and its feature ("" when none).
func (s VersionStats) MaxPSI() (float64, string) {
	best, name := 0.0, ""
	for _, d := range s.Drift {
		if d.PSI > best {
			best, name = d.PSI, d.Feature
		}
	}
	return best, name
}

// stats computes the version's figures at now over the whole window. k is
// the precision cut-off.
func (w *versionWindow) stats(now time.Time, k int) VersionStats {
	return w.statsSince(now, k, math.MinInt64)
}

// statsSince computes the version's figures at now over the live buckets
// whose index is at least from.
func (w *versionWindow) statsSince(now time.Time, k int, from int64) VersionStats {
	var (
		s       VersionStats
		lat     = make([]uint64, len(latencyEdgesUS)+1)
		maxLat  int64
		pairs   []pair
		queries uint64
		hit     float64
		ndcg    float64
		dw      *drift.Window
	)
	if w.profile != nil {
		dw = drift.NewWindow(w.profile)
	}
	w.live(now, func(b *bucket) {
		if b.index < from {
			return
		}
		s.Predictions += b.predictions
		s.Errors += b.errors
		for i, c := range b.latency {
			lat[i] += c
		}
		maxLat = max(maxLat, b.maxLatencyUS)
		s.Samples += b.joined + b.queries
		s.Positives += b.positives
		pairs = append(pairs, b.pairs...)
		queries += b.queries
		hit += b.hitSum
		ndcg += b.ndcgSum
		if dw != nil {
			w.flush(b)
			_ = dw.Merge(b.drift) // same profile by construction
		}
	})
	s.Arm = w.lastArm
	if s.Predictions > 0 {
		s.ErrorRate = float64(s.Errors) / float64(s.Predictions)
	}
	s.P50MS, s.P99MS = quantileMS(lat, maxLat, 0.5), quantileMS(lat, maxLat, 0.99)
	s.Quality = classifierQuality(pairs, k)
	if queries > 0 {
		s.Quality[MetricHRAt10] = hit / float64(queries)
		s.Quality[MetricNDCGAt10] = ndcg / float64(queries)
	}
	if dw != nil {
		s.DriftRows, s.Drift = dw.Rows(), driftOf(dw)
	}
	return s
}

// quantileMS reads quantile q of the latency histogram in milliseconds: the
// upper bound of the bin holding it, capped by the largest latency.
func quantileMS(bins []uint64, maxUS int64, q float64) float64 {
	var total uint64
	for _, c := range bins {
		total += c
	}
	if total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(total)))
	var seen uint64
	for i, c := range bins {
		seen += c
		if seen >= rank {
			us := maxUS
			if i < len(latencyEdgesUS) {
				us = min(latencyEdgesUS[i], maxUS)
			}
			return float64(us) / 1000
		}
	}
	return float64(maxUS) / 1000
}

// classifierQuality computes ROC-AUC, AUPRC and precision at k where they
// are defined.
func classifierQuality(pairs []pair, k int) map[string]float64 {
	q := map[string]float64{}
	if len(pairs) == 0 {
		return q
	}
	y, score := make([]float64, len(pairs)), make([]float64, len(pairs))
	for i, p := range pairs {
		y[i], score[i] = p.label, p.score
	}
	if v, err := mlmetrics.ROCAUC(y, score); err == nil {
		q[MetricROCAUC] = v
	}
	if v, err := mlmetrics.AveragePrecision(y, score); err == nil {
		q[MetricAUPRC] = v
	}
	q[MetricPrecisionAtK] = precisionAtK(pairs, k)
	return q
}

// precisionAtK is the share of positives among the k highest scores (all
// of them when fewer than k).
func precisionAtK(pairs []pair, k int) float64 {
	sorted := slices.Clone(pairs)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].score > sorted[j].score })
	n := min(k, len(sorted))
	var pos float64
	for _, p := range sorted[:n] {
		if p.label > 0 {
			pos++
		}
	}
	return pos / float64(n)
}

func driftOf(w *drift.Window) []FeatureDrift {
	if w.Rows() == 0 {
		return nil
	}
	res := w.Compare()
	out := make([]FeatureDrift, 0, len(res))
	for _, r := range res {
		fd := FeatureDrift{Feature: r.Name, PSI: r.PSI}
		if !math.IsNaN(r.KS) {
			fd.KS = r.KS
		}
		if math.IsNaN(fd.PSI) {
			fd.PSI = 0
		}
		out = append(out, fd)
	}
	return out
}

// rankingScores returns one recommendation's HR@10 and NDCG@10 against the
// items the user went on to consume.
func rankingScores(recommended, consumed []string) (hit, ndcg float64) {
	ids := map[string]int{}
	toIDs := func(items []string) []int {
		out := make([]int, 0, len(items))
		for _, it := range items {
			id, ok := ids[it]
			if !ok {
				id = len(ids)
				ids[it] = id
			}
			if !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
		return out
	}
	ranked, relevant := [][]int{toIDs(recommended)}, [][]int{toIDs(consumed)}
	hit, _ = mlmetrics.HitRateAtK(ranked, relevant, 10) // inputs are valid by construction
	ndcg, _ = mlmetrics.NDCGAtK(ranked, relevant, 10)
	return hit, ndcg
}
