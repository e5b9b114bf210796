package monitor

import (
	"hash/maphash"
	"time"

	"github.com/plinthai/plinth/internal/wire"
)

// Outcomes of a label, the values of the feedback counter's outcome label.
const (
	outcomeJoined    = "joined"    // joined to at least one prediction
	outcomePending   = "pending"   // waiting for its prediction
	outcomeDuplicate = "duplicate" // redelivered or repeated id
	outcomeLate      = "late"      // its prediction is older than the lateness
	outcomeInvalid   = "invalid"   // names neither a prediction nor an entity
)

// pred is a prediction waiting for its label.
type pred struct {
	id, model, entity, arm string
	version                int64
	at                     time.Time
	score                  float64
	hasScore               bool
	items                  []string
	gone                   bool // joined or evicted; the queue drops it lazily
}

// label is a label waiting for its prediction. A label joined by entity
// stays until it expires, so that every version that scored the entity
// (champion, challenger, shadow) gets it once.
type label struct {
	fb      wire.Feedback
	key     string // entity key, "" when joined by prediction id
	arrived time.Time
	joined  map[int64]bool // versions it was joined to
	gone    bool
}

// match is one joined (prediction, label) pair.
type match struct {
	p  *pred
	fb *wire.Feedback
}

// joiner joins predictions with labels by prediction id, or by entity
// within ±window of the label's event time, whichever order they arrive in.
// Memory is bounded: at most max predictions and max labels wait, the
// oldest evicted first, and each waits at most lateness. Ids already seen
// are remembered (2·max of each) so that redelivery never double counts.
// It is not safe for concurrent use.
type joiner struct {
	max              int
	lateness, window time.Duration

	preds      map[string]*pred
	predsByKey map[string][]*pred
	predQueue  []*pred

	byPredID    map[string]*label
	labelsByKey map[string][]*label
	labelQueue  []*label
	labels      int

	seenPreds, seenLabels *idSet
	// onEvict is told of every unjoined prediction or label evicted.
	onEvict func(kind string)
}

func newJoiner(max int, lateness, window time.Duration, onEvict func(kind string)) *joiner {
	return &joiner{max: max, lateness: lateness, window: window, onEvict: onEvict,
		preds: map[string]*pred{}, predsByKey: map[string][]*pred{},
		byPredID: map[string]*label{}, labelsByKey: map[string][]*label{},
		seenPreds: newIDSet(2 * max), seenLabels: newIDSet(2 * max)}
}

func entityKey(model, entity string) string { return model + "\x00" + entity }

// addPrediction registers p and returns the labels it joins at once. It
// returns ok false for a prediction id seen before.
func (j *joiner) addPrediction(p *pred, now time.Time) (matches []match, ok bool) {
	if !j.seenPreds.add(p.id) {
		return nil, false
	}
	defer j.expire(now)
	if l, found := j.byPredID[p.id]; found {
		j.dropLabel(l)
		return []match{{p: p, fb: &l.fb}}, true
	}
	if p.entity == "" {
		j.keepPrediction(p)
		return nil, true
	}
	for _, l := range j.labelsByKey[entityKey(p.model, p.entity)] {
		if !l.joined[p.version] && within(p.at, eventTime(&l.fb), j.window) {
			l.joined[p.version] = true
			return []match{{p: p, fb: &l.fb}}, true
		}
	}
	j.keepPrediction(p)
	return nil, true
}

func (j *joiner) keepPrediction(p *pred) {
	j.preds[p.id] = p
	if p.entity != "" {
		k := entityKey(p.model, p.entity)
		j.predsByKey[k] = append(j.predsByKey[k], p)
	}
	j.predQueue = append(j.predQueue, p)
}

// addFeedback joins fb to waiting predictions, or keeps it waiting.
func (j *joiner) addFeedback(fb wire.Feedback, now time.Time) ([]match, string) {
	if fb.PredictionID == "" && fb.Entity == "" {
		return nil, outcomeInvalid
	}
	if !j.seenLabels.add(fb.ID) {
		return nil, outcomeDuplicate
	}
	defer j.expire(now)
	if fb.PredictionID != "" {
		return j.feedbackByID(fb, now)
	}
	return j.feedbackByEntity(fb, now)
}

func (j *joiner) feedbackByID(fb wire.Feedback, now time.Time) ([]match, string) {
	if p, ok := j.preds[fb.PredictionID]; ok {
		if p.at.Before(now.Add(-j.lateness)) {
			return nil, outcomeLate
		}
		j.dropPrediction(p)
		return []match{{p: p, fb: &fb}}, outcomeJoined
	}
	if old, ok := j.byPredID[fb.PredictionID]; ok {
		j.dropLabel(old) // a newer label for the same prediction replaces it
	}
	l := &label{fb: fb, arrived: now}
	j.byPredID[fb.PredictionID] = l
	j.keepLabel(l)
	return nil, outcomePending
}

// feedbackByEntity joins fb to the closest waiting prediction of every
// version for the entity within the window, and keeps it for predictions
// still to come.
func (j *joiner) feedbackByEntity(fb wire.Feedback, now time.Time) ([]match, string) {
	t := eventTime(&fb)
	if t.Before(now.Add(-j.lateness - j.window)) {
		return nil, outcomeLate
	}
	key := entityKey(fb.Model, fb.Entity)
	l := &label{fb: fb, key: key, arrived: now, joined: map[int64]bool{}}
	closest := map[int64]*pred{}
	for _, p := range j.predsByKey[key] {
		if !within(p.at, t, j.window) {
			continue
		}
		if c, ok := closest[p.version]; !ok || absDur(p.at.Sub(t)) < absDur(c.at.Sub(t)) {
			closest[p.version] = p
		}
	}
	var matches []match
	for v, p := range closest {
		l.joined[v] = true
		j.dropPrediction(p)
		matches = append(matches, match{p: p, fb: &l.fb})
	}
	j.labelsByKey[key] = append(j.labelsByKey[key], l)
	j.keepLabel(l)
	if len(matches) > 0 {
		return matches, outcomeJoined
	}
	return nil, outcomePending
}

func (j *joiner) keepLabel(l *label) {
	j.labelQueue = append(j.labelQueue, l)
	j.labels++
}

func eventTime(fb *wire.Feedback) time.Time {
	if fb.EventTime.IsZero() {
		return fb.At
	}
	return fb.EventTime
}

func within(a, b time.Time, w time.Duration) bool { return absDur(a.Sub(b)) <= w }

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func (j *joiner) dropPrediction(p *pred) {
	p.gone = true
	delete(j.preds, p.id)
	if p.entity == "" {
		return
	}
	k := entityKey(p.model, p.entity)
	list := j.predsByKey[k]
	for i, q := range list {
		if q == p {
			list = append(list[:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(j.predsByKey, k)
	} else {
		j.predsByKey[k] = list
	}
}

func (j *joiner) dropLabel(l *label) {
	if l.gone {
		return
	}
	l.gone = true
	j.labels--
	if l.key == "" {
		if j.byPredID[l.fb.PredictionID] == l {
			delete(j.byPredID, l.fb.PredictionID)
		}
		return
	}
	list := j.labelsByKey[l.key]
	for i, q := range list {
		if q == l {
			list = append(list[:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(j.labelsByKey, l.key)
	} else {
		j.labelsByKey[l.key] = list
	}
}

// expire evicts predictions older than the lateness (plus the join
// window) and labels that waited longer than the lateness, and the oldest
// of either past the cap. Evictions of waiting items are counted.
func (j *joiner) expire(now time.Time) {
	predCutoff := now.Add(-j.lateness - j.window)
	for len(j.predQueue) > 0 {
		p := j.predQueue[0]
		if !p.gone && len(j.preds) <= j.max && !p.at.Before(predCutoff) {
			break
		}
		if !p.gone {
			j.dropPrediction(p)
			j.onEvict("prediction")
		}
		j.predQueue[0] = nil
		j.predQueue = j.predQueue[1:]
	}
	labelCutoff := now.Add(-j.lateness)
	for len(j.labelQueue) > 0 {
		l := j.labelQueue[0]
		if !l.gone && j.labels <= j.max && !l.arrived.Before(labelCutoff) {
			break
		}
		if !l.gone {
			if len(l.joined) == 0 {
				j.onEvict("label") // never joined: its prediction never came
			}
			j.dropLabel(l)
		}
		j.labelQueue[0] = nil
		j.labelQueue = j.labelQueue[1:]
	}
}

// idSet remembers the last n ids added. It keeps 64-bit hashes of the ids
// (seeded per process), not the ids: the set then holds no pointers, so
// the garbage collector never scans it. At 2·100,000 ids per set (the
// default) that scan had been most of the mark work of a `plinth serve`
// process and, on one core, of the time requests waited for it. Two
// different ids share a hash with odds of n/2⁶⁴ per id added, about 10⁻¹⁴:
// the second would be counted a duplicate. Memory grows with the ids seen,
// up to n.
type idSet struct {
	seed maphash.Seed
	m    map[uint64]struct{}
	ring []uint64 // the hashes in the order added, len ≤ n; next wraps
	n    int
	next int
}

func newIDSet(n int) *idSet {
	return &idSet{seed: maphash.MakeSeed(), m: map[uint64]struct{}{}, n: n}
}

// add records id and reports whether it was new. An empty id is always
// new: it cannot be deduplicated.
func (s *idSet) add(id string) bool {
	if id == "" {
		return true
	}
	h := maphash.String(s.seed, id)
	if _, ok := s.m[h]; ok {
		return false
	}
	if len(s.ring) < s.n {
		s.ring = append(s.ring, h)
	} else {
		delete(s.m, s.ring[s.next])
		s.ring[s.next] = h
		s.next = (s.next + 1) % s.n
	}
	s.m[h] = struct{}{}
	return true
}
