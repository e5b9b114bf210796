package inference

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/plinthai/plinth/internal/registry"
)

// Alias names the service loads.
const (
	aliasChampion   = "champion"
	aliasChallenger = "challenger"
)

// Tags the service reads.
const (
	// tagFeatureView names the feature view whose values /v1 predict by
	// entity key looks up. A version's tag wins over its model's, since a
	// retrained version may need a new view.
	tagFeatureView = "feature_view"
	// tagBatching ("on" or "off"), a model tag, overrides
	// --inference.batching for that model.
	tagBatching = "inference.batching"
)

// buckets is the resolution of the canary split: 0.01 percent.
const buckets = 10000

// loaded is one version ready to serve. It is immutable once built; a
// request that picked it finishes on it even if it is swapped out meanwhile.
type loaded struct {
	model       string
	version     int64
	versionStr  string
	rt          runtime
	sig         *signature
	featureView string
	m           *versionMetrics
	batch       *batcher // nil when batching is off
}

// deployment is a model's live state: which versions answer and how the
// traffic splits. It is immutable; a swap stores a new one, atomically.
type deployment struct {
	champion   *loaded
	challenger *loaded
	traffic    registry.Traffic
	threshold  uint64    // challenger gets buckets below this
	pinned     []*loaded // other versions loaded for pinned requests
}

// find returns the loaded version v, nil when it is not loaded.
func (d *deployment) find(v int64) *loaded {
	for _, l := range d.all() {
		if l.version == v {
			return l
		}
	}
	return nil
}

// all lists the loaded versions, champion first, without nils.
func (d *deployment) all() []*loaded {
	out := make([]*loaded, 0, 2+len(d.pinned))
	for _, l := range []*loaded{d.champion, d.challenger} {
		if l != nil {
			out = append(out, l)
		}
	}
	return append(out, d.pinned...)
}

// route picks the version that answers: the challenger for its share of
// the buckets (sticky: one key always lands in one bucket), else the
// champion.
func (d *deployment) route(key uint64) (*loaded, arm) {
	if d.challenger != nil && key%buckets < d.threshold {
		return d.challenger, armChallenger
	}
	return d.champion, armChampion
}

// shadow returns the version to score in shadow for a champion answer.
func (d *deployment) shadow(a arm) *loaded {
	if a == armChampion && d.traffic.Shadow && d.challenger != nil {
		return d.challenger
	}
	return nil
}

func threshold(t registry.Traffic) uint64 {
	p := min(max(t.ChallengerPercent, 0), 100)
	return uint64(p*buckets/100 + 0.5)
}

// modelEntry is one served model. Readers load dep atomically; refresh
// holds mu while it builds and stores a new deployment.
type modelEntry struct {
	name     string
	dep      atomic.Pointer[deployment]
	inflight atomic.Int64
	gauge    prometheus.Gauge
	mu       sync.Mutex
}

// table maps model names to entries; lookups are lock-free reads of an
// immutable map that writers copy.
type table struct {
	mu sync.Mutex
	m  atomic.Pointer[map[string]*modelEntry]
}

func (t *table) get(name string) *modelEntry {
	m := t.m.Load()
	if m == nil {
		return nil
	}
	return (*m)[name]
}

// getOrAdd returns the entry of name, adding it when new.
func (t *table) getOrAdd(name string, gauge prometheus.Gauge) *modelEntry {
	if e := t.get(name); e != nil {
		return e
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	old := t.m.Load()
	next := make(map[string]*modelEntry)
	if old != nil {
		if e := (*old)[name]; e != nil {
			return e
		}
		for k, v := range *old {
			next[k] = v
		}
	}
	e := &modelEntry{name: name, gauge: gauge}
	next[name] = e
	t.m.Store(&next)
	return e
}

// names lists the served models.
func (t *table) entries() []*modelEntry {
	m := t.m.Load()
	if m == nil {
		return nil
	}
	out := make([]*modelEntry, 0, len(*m))
	for _, e := range *m {
		out = append(out, e)
	}
	return out
}

// routeKey hashes a sticky key (entity id or header value) with the model
// name, so one entity is not the canary of every model at once. It is
// FNV-1a with a final mix: deterministic, so every replica assigns a key to
// the same arm.
func routeKey(model string, key []byte) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(model); i++ {
		h = (h ^ uint64(model[i])) * 1099511628211
	}
	h = (h ^ '/') * 1099511628211
	for _, c := range key {
		h = (h ^ uint64(c)) * 1099511628211
	}
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return h
}

// randomKey is the routing key of a request without one.
func randomKey() uint64 { return rand.Uint64() }
