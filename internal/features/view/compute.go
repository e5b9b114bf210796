package view

import (
	"math"
	"time"
)

// Scratch is reusable working memory for Compute, so that computing
// features allocates nothing in the steady state. Not safe for concurrent
// use: keep one per goroutine or per lock.
type Scratch struct {
	hll  HLL
	tail []point
	idx  []int
}

// Forever is the validUntil of features that no clock tick changes.
const Forever = math.MaxInt64

// Compute writes the features of s as of now into out (len Width), NaN
// where unknown, and returns whether the entity is known (seen, and within
// its TTL) and the time (Unix ns) until which the result stays valid if no
// event arrives: the next bucket boundary of any window, or the TTL.
func (v *View) Compute(s *State, now time.Time, out []float64, sc *Scratch) (found bool, validUntil int64) {
	nowNS := now.UnixNano()
	validUntil = Forever
	if s == nil || s.Watermark == 0 || (v.TTL > 0 && nowNS-s.Watermark > int64(v.TTL)) {
		for i := range out {
			out[i] = math.NaN()
		}
		return false, validUntil
	}
	if v.TTL > 0 {
		validUntil = s.Watermark + int64(v.TTL) + 1
	}
	for wi := range v.windows {
		w := &v.windows[wi]
		sc.idx = s.included(w, wi, nowNS, sc.idx[:0])
		if w.dur > 0 {
			validUntil = min(validUntil, (floorDiv(nowNS, w.width)+1)*w.width)
		}
		for k, fi := range w.feats {
			v.feats[fi].merge(s.rings[wi], sc.idx, k, out, sc)
		}
	}
	return true, validUntil
}

// included lists the slots of window wi that fall inside it at now.
func (s *State) included(w *win, wi int, now int64, idx []int) []int {
	lo, hi := int64(0), int64(0)
	if w.dur > 0 {
		hi = floorDiv(now, w.width)
		lo = hi - int64(w.slots) + 1
	}
	for i, sl := range s.rings[wi] {
		if sl.bucket != emptyBucket && sl.bucket >= lo && sl.bucket <= hi {
			idx = append(idx, i)
		}
	}
	return idx
}

// merge combines accumulator k of the included slots into out.
func (f *feat) merge(ring []slot, idx []int, k int, out []float64, sc *Scratch) {
	switch f.agg {
	case AggDistinct:
		sc.hll.Reset()
		for _, i := range idx {
			if h := ring[i].acc[k].hll; h != nil {
				sc.hll.Merge(h)
			}
		}
		out[f.out] = sc.hll.Estimate()
	case AggLastN:
		sc.tail = sc.tail[:0]
		for _, i := range idx {
			for _, p := range ring[i].acc[k].tail {
				sc.tail = insertNewest(sc.tail, p, f.n)
			}
		}
		for j := range f.n {
			out[f.out+j] = math.NaN()
			if j < len(sc.tail) {
				out[f.out+j] = sc.tail[j].v
			}
		}
	default:
		out[f.out] = f.mergeScalar(ring, idx, k)
	}
}

func (f *feat) mergeScalar(ring []slot, idx []int, k int) float64 {
	var n int64
	var sum float64
	val := math.NaN()
	var last point
	for _, i := range idx {
		a := &ring[i].acc[k]
		if a.n == 0 {
			continue
		}
		switch f.agg {
		case AggMin:
			if n == 0 || a.val < val {
				val = a.val
			}
		case AggMax:
			if n == 0 || a.val > val {
				val = a.val
			}
		case AggLast:
			if p := (point{t: a.t, seq: a.seq, v: a.val}); n == 0 || p.newer(last) {
				last, val = p, a.val
			}
		}
		n += a.n
		sum += a.sum
	}
	switch f.agg {
	case AggCount:
		return float64(n)
	case AggSum:
		return sum
	case AggMean:
		if n == 0 {
			return math.NaN()
		}
		return sum / float64(n)
	}
	return val
}
