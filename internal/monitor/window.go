package monitor

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/plinthai/plinth/ml/drift"
	"github.com/plinthai/plinth/ml/frame"
)

// latencyEdgesUS are the upper bounds of the latency histogram's bins, in
// microseconds: from 10 µs up by 10% a bin to about 100 s. A quantile is
// read as its bin's upper bound, capped by the largest latency seen, so it
// overstates by at most 10%.
var latencyEdgesUS = func() []int64 {
	var edges []int64
	for v := 10.0; v < 1e8; v *= 1.1 {
		if e := int64(math.Ceil(v)); len(edges) == 0 || e > edges[len(edges)-1] {
			edges = append(edges, e)
		}
	}
	return edges
}()

// flushRows is how many feature rows a bucket buffers before counting them
// into its drift window.
const flushRows = 256

// pair is one joined classifier sample.
type pair struct{ score, label float64 }

// bucket holds one interval of a version's window. Its index is the
// interval's start divided by the bucket width; a bucket whose index is not
// the one asked for is stale and reset before use.
type bucket struct {
	index        int64
	predictions  uint64
	errors       uint64
	latency      []uint64 // len(latencyEdgesUS)+1 bins, the last unbounded
	maxLatencyUS int64

	joined    uint64 // classifier labels joined, ≥ len(pairs)
	positives uint64
	pairs     []pair // all joined pairs, or a uniform sample of them past the cap

	queries uint64 // recommender labels joined
	hitSum  float64
	ndcgSum float64

	drift *drift.Window
	rows  [][]float32 // per profile feature, not yet counted into drift
}

func (b *bucket) reset(index int64) {
	lat, pairs, rows, dw := b.latency, b.pairs[:0], b.rows, b.drift
	*b = bucket{index: index, latency: lat, pairs: pairs, rows: rows, drift: dw}
	clear(b.latency)
	for i := range b.rows {
		b.rows[i] = b.rows[i][:0]
	}
	if b.drift != nil {
		b.drift.Reset()
	}
}

// versionWindow is the rolling window of one model version: buckets of
// width by prediction time, the last len(buckets) of them live. It is not
// safe for concurrent use; the Service's lock guards it.
type versionWindow struct {
	width   time.Duration
	buckets []bucket
	pairCap int // per bucket
	profile *drift.Profile
	rng     *rand.Rand
	lastArm string
}

func newVersionWindow(width time.Duration, n, maxPairs int, seed uint64) *versionWindow {
	w := &versionWindow{width: width, buckets: make([]bucket, n), pairCap: max(maxPairs/n, 1),
		rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	for i := range w.buckets {
		w.buckets[i] = bucket{index: -1, latency: make([]uint64, len(latencyEdgesUS)+1)}
	}
	return w
}

// setProfile turns drift on for this version.
func (w *versionWindow) setProfile(p *drift.Profile) {
	w.profile = p
	for i := range w.buckets {
		w.buckets[i].drift = drift.NewWindow(p)
		w.buckets[i].rows = make([][]float32, len(p.Features))
	}
}

func (w *versionWindow) indexOf(t time.Time) int64 { return floorDiv(t.UnixNano(), int64(w.width)) }

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// bucketAt returns the bucket of time t as seen at now, or nil when t is
// older than the window. Times after now count in now's bucket.
func (w *versionWindow) bucketAt(t, now time.Time) *bucket {
	cur := w.indexOf(now)
	idx := min(w.indexOf(t), cur)
	if idx <= cur-int64(len(w.buckets)) {
		return nil
	}
	n := int64(len(w.buckets))
	b := &w.buckets[int((idx%n+n)%n)]
	if b.index != idx {
		b.reset(idx)
	}
	return b
}

// live calls fn for every bucket inside the window at now.
func (w *versionWindow) live(now time.Time, fn func(b *bucket)) {
	cur := w.indexOf(now)
	for i := range w.buckets {
		if b := &w.buckets[i]; b.index > cur-int64(len(w.buckets)) && b.index <= cur {
			fn(b)
		}
	}
}

// firstServed returns the index of the oldest live bucket at now in which
// the version served a prediction, and false when it served none.
func (w *versionWindow) firstServed(now time.Time) (int64, bool) {
	first, ok := int64(math.MaxInt64), false
	w.live(now, func(b *bucket) {
		if b.predictions > 0 && b.index < first {
			first, ok = b.index, true
		}
	})
	return first, ok
}

// empty reports whether no bucket is inside the window at now.
func (w *versionWindow) empty(now time.Time) bool {
	n := 0
	w.live(now, func(*bucket) { n++ })
	return n == 0
}

// addPrediction counts one prediction's outcome, latency and features.
func (w *versionWindow) addPrediction(b *bucket, failed bool, latencyUS int64, features map[string]float64) {
	b.predictions++
	if failed {
		b.errors++
		return
	}
	b.latency[latencyBin(latencyUS)]++
	b.maxLatencyUS = max(b.maxLatencyUS, latencyUS)
	if w.profile == nil || len(features) == 0 {
		return
	}
	for i := range w.profile.Features {
		v, ok := features[w.profile.Features[i].Name]
		if !ok {
			v = math.NaN()
		}
		b.rows[i] = append(b.rows[i], float32(v))
	}
	if len(b.rows[0]) >= flushRows {
		w.flush(b)
	}
}

func latencyBin(us int64) int {
	lo, hi := 0, len(latencyEdgesUS)
	for lo < hi {
		mid := (lo + hi) / 2
		if us <= latencyEdgesUS[mid] {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// flush counts a bucket's buffered rows into its drift window.
func (w *versionWindow) flush(b *bucket) {
	if b.drift == nil || len(b.rows) == 0 || len(b.rows[0]) == 0 {
		return
	}
	names := make([]string, len(w.profile.Features))
	for i := range names {
		names[i] = w.profile.Features[i].Name
	}
	_ = b.drift.Add(&frame.Frame{Names: names, Cols: b.rows}) // columns match the profile by construction
	for i := range b.rows {
		b.rows[i] = b.rows[i][:0]
	}
}

// addPair records a joined classifier label, keeping a uniform sample of
// at most pairCap pairs (reservoir sampling) in the bucket.
func (w *versionWindow) addPair(b *bucket, score, label float64) {
	b.joined++
	if label > 0 {
		b.positives++
	}
	p := pair{score: score, label: label}
	if len(b.pairs) < w.pairCap {
		b.pairs = append(b.pairs, p)
		return
	}
	if j := w.rng.Uint64N(b.joined); j < uint64(w.pairCap) {
		b.pairs[j] = p
	}
}

// addRanking records a joined recommender label's HR@10 and NDCG@10.
func (w *versionWindow) addRanking(b *bucket, hit, ndcg float64) {
	b.queries++
	b.hitSum += hit
	b.ndcgSum += ndcg
}
