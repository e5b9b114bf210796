package view

import "math"

// emptyBucket marks a slot that holds no bucket.
const emptyBucket = math.MinInt64

// State is one entity's state in one view: its watermark, the ids of
// recent events, and a ring of buckets per window. Not safe for
// concurrent use; the stores guard it.
type State struct {
	// Watermark is the largest event time applied (Unix ns); 0 for none.
	Watermark int64
	seen      []seen
	rings     [][]slot // [window][slot]
}

type seen struct {
	id uint64
	t  int64
}

// slot holds one bucket of a window: one accumulator per feature of the
// window, in the window's feature order.
type slot struct {
	bucket int64
	acc    []acc
}

// acc accumulates one feature over one bucket. Which fields are used
// depends on the aggregate.
type acc struct {
	n    int64   // count, mean
	sum  float64 // sum, mean
	val  float64 // min, max, last
	t    int64   // last: event time of val
	seq  uint64  // last: tie-break between equal times
	hll  *HLL    // distinct
	tail []point // last_n: newest first
}

type point struct {
	t   int64
	seq uint64
	v   float64
}

// newer orders points by time, then sequence.
func (p point) newer(o point) bool { return p.t > o.t || (p.t == o.t && p.seq > o.seq) }

// Outcome says what Apply did with an event.
type Outcome uint8

// Outcomes of Apply.
const (
	Applied Outcome = iota
	Duplicate
	Late
)

// NewState returns the empty state of an entity of v.
func (v *View) NewState() *State {
	s := &State{rings: make([][]slot, len(v.windows))}
	for i, w := range v.windows {
		s.rings[i] = make([]slot, w.slots)
		for j := range s.rings[i] {
			s.rings[i][j].bucket = emptyBucket
		}
	}
	return s
}

// Apply adds the event r to s, unless it is a duplicate of an event
// applied before or later than the allowed lateness (see the package doc).
func (v *View) Apply(s *State, r *Row) Outcome {
	if s.Watermark != 0 && r.Time < s.Watermark-int64(v.Lateness) {
		return Late
	}
	for _, e := range s.seen {
		if e.id == r.ID {
			return Duplicate
		}
	}
	for wi := range v.windows {
		v.applyWindow(s, wi, r)
	}
	if r.Time > s.Watermark || s.Watermark == 0 {
		s.Watermark = r.Time
	}
	s.remember(r, s.Watermark-int64(v.Lateness))
	return Applied
}

// remember keeps r's id and forgets ids older than floor, in place.
func (s *State) remember(r *Row, floor int64) {
	kept := s.seen[:0]
	for _, e := range s.seen {
		if e.t >= floor {
			kept = append(kept, e)
		}
	}
	s.seen = append(kept, seen{id: r.ID, t: r.Time})
}

func (v *View) applyWindow(s *State, wi int, r *Row) {
	w := &v.windows[wi]
	b := int64(0)
	if w.dur > 0 {
		b = floorDiv(r.Time, w.width)
	}
	sl := &s.rings[wi][mod(b, int64(w.slots))]
	switch {
	case sl.bucket > b:
		return // the ring has moved past this bucket
	case sl.bucket < b:
		sl.reset(b, len(w.feats))
	}
	for k, fi := range w.feats {
		v.feats[fi].add(&sl.acc[k], r)
	}
}

func (sl *slot) reset(b int64, n int) {
	sl.bucket = b
	if cap(sl.acc) < n {
		sl.acc = make([]acc, n)
	}
	sl.acc = sl.acc[:n]
	for i := range sl.acc {
		sl.acc[i] = acc{}
	}
}

// add folds r into a.
func (f *feat) add(a *acc, r *Row) {
	x := math.NaN()
	if f.col >= 0 {
		x = r.Num[f.col]
	}
	switch f.agg {
	case AggCount:
		if f.col < 0 || r.Hash[f.col] != 0 {
			a.n++
		}
	case AggDistinct:
		if h := r.Hash[f.col]; h != 0 {
			if a.hll == nil {
				a.hll = &HLL{}
			}
			a.hll.Add(h)
		}
	default:
		if !math.IsNaN(x) {
			f.addNumber(a, point{t: r.Time, seq: r.Seq, v: x})
		}
	}
}

func (f *feat) addNumber(a *acc, p point) {
	first := a.n == 0
	a.n++
	a.sum += p.v
	switch f.agg {
	case AggMin:
		if first || p.v < a.val {
			a.val = p.v
		}
	case AggMax:
		if first || p.v > a.val {
			a.val = p.v
		}
	case AggLast:
		if first || p.newer(point{t: a.t, seq: a.seq}) {
			a.val, a.t, a.seq = p.v, p.t, p.seq
		}
	case AggLastN:
		a.tail = insertNewest(a.tail, p, f.n)
	}
}

// insertNewest inserts p into tail (newest first), keeping at most n.
func insertNewest(tail []point, p point, n int) []point {
	i := 0
	for i < len(tail) && tail[i].newer(p) {
		i++
	}
	if i >= n {
		return tail
	}
	if len(tail) < n {
		tail = append(tail, point{})
	}
	copy(tail[i+1:], tail[i:])
	tail[i] = p
	return tail
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}
