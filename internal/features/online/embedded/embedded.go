// Package embedded is the in-process online store: each view's entities in
// sharded maps, features cached per entity so that a lookup is a map read
// and a copy, and periodic snapshots to disk that a restart loads before
// the consumer replays the stream from the snapshot's position.
//
// Snapshots are taken without stopping writes: the position is read first,
// so a snapshot may hold events after it, and the replay after a restart
// applies them again, which is harmless because applying an event twice
// changes nothing (see package view). A snapshot written under another
// declaration of the view is discarded and the view rebuilt from the start
// of the stream.
package embedded

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plinthai/plinth/internal/features/online"
	"github.com/plinthai/plinth/internal/features/view"
)

// numShards splits each view's entities so that writers and readers of
// different entities rarely meet on one lock.
const numShards = 64

// Store is the embedded online store. It is safe for concurrent use.
type Store struct {
	dir    string
	logger *slog.Logger
	views  map[string]*viewData // fixed at New: read without a lock
	snapMu sync.Mutex
}

var (
	_ online.Store     = (*Store)(nil)
	_ online.Sequencer = (*Store)(nil)
)

type viewData struct {
	v        *view.View
	position atomic.Uint64
	shards   [numShards]shard
}

type shard struct {
	mu sync.RWMutex
	m  map[string]*entry
	sc view.Scratch // guarded by mu held for writing
}

// entry is one entity: its state and its features as of the last compute,
// valid until validUntil (Unix ns).
type entry struct {
	st         *view.State
	vals       []float64
	found      bool
	validUntil int64
}

// New returns a store for views, loading their snapshots from dir (empty
// dir: no snapshots, state is lost on restart).
func New(dir string, views []*view.View, logger *slog.Logger) (*Store, error) {
	s := &Store{dir: dir, logger: logger, views: make(map[string]*viewData, len(views))}
	for _, v := range views {
		vd := &viewData{v: v}
		for i := range vd.shards {
			vd.shards[i].m = map[string]*entry{}
		}
		s.views[v.Name] = vd
		if err := s.load(vd); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *Store) data(v *view.View) (*viewData, error) {
	vd, ok := s.views[v.Name]
	if !ok {
		return nil, fmt.Errorf("embedded store: view %q was not declared at start", v.Name)
	}
	return vd, nil
}

// shardOf picks an entity's shard by FNV-1a, without allocating.
func shardOf(entity string) int {
	h := uint32(2166136261)
	for i := 0; i < len(entity); i++ {
		h ^= uint32(entity[i])
		h *= 16777619
	}
	return int(h % numShards)
}

// Apply implements online.Store.
func (s *Store) Apply(_ context.Context, v *view.View, rows []view.Row, now time.Time) (online.Counts, error) {
	vd, err := s.data(v)
	if err != nil {
		return online.Counts{}, err
	}
	var c online.Counts
	for i := range rows {
		sh := &vd.shards[shardOf(rows[i].Entity)]
		sh.mu.Lock()
		e := sh.m[rows[i].Entity]
		if e == nil {
			e = &entry{st: v.NewState(), vals: make([]float64, v.Width())}
			sh.m[rows[i].Entity] = e
		}
		c.Add(v.Apply(e.st, &rows[i]))
		if i+1 == len(rows) || rows[i+1].Entity != rows[i].Entity {
			e.found, e.validUntil = v.Compute(e.st, now, e.vals, &sh.sc)
		} else {
			e.validUntil = 0
		}
		sh.mu.Unlock()
	}
	return c, nil
}

// SetPosition implements online.Sequencer.
func (s *Store) SetPosition(v *view.View, seq uint64) {
	if vd, ok := s.views[v.Name]; ok && seq > vd.position.Load() {
		vd.position.Store(seq)
	}
}

// Position implements online.Store: the embedded store tracks it.
func (s *Store) Position(_ context.Context, v *view.View) (uint64, bool, error) {
	vd, err := s.data(v)
	if err != nil {
		return 0, true, err
	}
	return vd.position.Load(), true, nil
}

// Lookup implements online.Store. A cached result is copied under a read
// lock; a stale one is recomputed under the shard's write lock.
func (s *Store) Lookup(_ context.Context, v *view.View, entities []string, now time.Time, out []float64, found []bool) error {
	vd, err := s.data(v)
	if err != nil {
		return err
	}
	w, ns := v.Width(), now.UnixNano()
	for i, ent := range entities {
		sh := &vd.shards[shardOf(ent)]
		dst := out[i*w : (i+1)*w]
		sh.mu.RLock()
		e := sh.m[ent]
		fresh := e != nil && ns < e.validUntil
		if fresh {
			copy(dst, e.vals)
			found[i] = e.found
		}
		sh.mu.RUnlock()
		if !fresh {
			found[i] = s.recompute(v, sh, ent, now, dst)
		}
	}
	return nil
}

func (s *Store) recompute(v *view.View, sh *shard, ent string, now time.Time, dst []float64) bool {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.m[ent]
	if e == nil {
		found, _ := v.Compute(nil, now, dst, &sh.sc)
		return found
	}
	e.found, e.validUntil = v.Compute(e.st, now, e.vals, &sh.sc)
	copy(dst, e.vals)
	return e.found
}

// State implements online.Store.
func (s *Store) State(_ context.Context, v *view.View, entity string) ([]byte, error) {
	vd, err := s.data(v)
	if err != nil {
		return nil, err
	}
	sh := &vd.shards[shardOf(entity)]
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if e := sh.m[entity]; e != nil {
		return v.AppendState(nil, e.st), nil
	}
	return nil, nil
}

// Sweep forgets entities whose TTL has passed at now, and returns how many.
func (s *Store) Sweep(now time.Time) int {
	n := 0
	for _, vd := range s.views {
		if vd.v.TTL <= 0 {
			continue
		}
		floor := now.Add(-vd.v.TTL).UnixNano()
		for i := range vd.shards {
			sh := &vd.shards[i]
			sh.mu.Lock()
			for k, e := range sh.m {
				if e.st.Watermark < floor {
					delete(sh.m, k)
					n++
				}
			}
			sh.mu.Unlock()
		}
	}
	return n
}

// Run snapshots every interval and sweeps expired entities until ctx is
// done, then returns nil; Close writes the last snapshot.
func (s *Store) Run(ctx context.Context, interval time.Duration, now func() time.Time) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			s.Sweep(now())
			if err := s.Snapshot(); err != nil {
				s.logger.Error("snapshot online features", "err", err)
			}
		}
	}
}

// Close writes a last snapshot.
func (s *Store) Close() error { return s.Snapshot() }
