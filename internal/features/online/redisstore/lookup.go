package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/plinthai/plinth/internal/features/view"
)

// Lookup implements online.Store: one MGET reads the cached features of
// every entity; a second round trip recomputes the stale ones from their
// state, and a third writes them back.
func (s *Store) Lookup(ctx context.Context, v *view.View, entities []string, now time.Time, out []float64, found []bool) error {
	vals, err := s.rdb.MGet(ctx, s.vecKeys(v, entities)...).Result()
	if err != nil {
		return fmt.Errorf("lookup online features: %w", err)
	}
	w, ns := v.Width(), now.UnixNano()
	var stale []int
	for i, raw := range vals {
		dst := out[i*w : (i+1)*w]
		b, ok := raw.(string)
		if !ok {
			found[i], _ = v.Compute(nil, now, dst, &view.Scratch{})
			continue
		}
		if found[i], ok = decodeVector(b, w, ns, dst); !ok {
			stale = append(stale, i)
		}
	}
	if len(stale) == 0 {
		return nil
	}
	return s.recompute(ctx, v, entities, stale, now, out, found)
}

// vecKeys returns the feature keys of entities, sharing one allocation.
func (s *Store) vecKeys(v *view.View, entities []string) []string {
	var sb strings.Builder
	n := 0
	for _, e := range entities {
		n += len(s.prefix) + len("fv:") + len(v.Name) + len(":{}") + len(e)
	}
	sb.Grow(n)
	ends := make([]int, len(entities))
	for i, e := range entities {
		sb.WriteString(s.prefix)
		sb.WriteString("fv:")
		sb.WriteString(v.Name)
		sb.WriteString(":{")
		sb.WriteString(e)
		sb.WriteByte('}')
		ends[i] = sb.Len()
	}
	all := sb.String() // no copy: the keys are substrings of it
	keys := make([]string, len(entities))
	for i := range keys {
		start := 0
		if i > 0 {
			start = ends[i-1]
		}
		keys[i] = all[start:ends[i]]
	}
	return keys
}

func (s *Store) recompute(ctx context.Context, v *view.View, entities []string, stale []int, now time.Time, out []float64, found []bool) error {
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.SliceCmd, len(stale))
	for k, i := range stale {
		cmds[k] = pipe.HMGet(ctx, s.key(v, entities[i]), "s", "n")
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("lookup online state: %w", err)
	}
	var sc view.Scratch
	w := v.Width()
	pipe = s.rdb.Pipeline()
	for k, i := range stale {
		st, ver, err := decodeRead(v, cmds[k].Val())
		if err != nil {
			return fmt.Errorf("entity %q: %w", entities[i], err)
		}
		dst := out[i*w : (i+1)*w]
		var until int64
		found[i], until = v.Compute(st, now, dst, &sc)
		if ver != "" {
			refreshScript.Eval(ctx, pipe, []string{s.key(v, entities[i]), s.vecKey(v, entities[i])}, ver, encodeVector(found[i], now.UnixNano(), until, dst))
		}
	}
	// The write-back only saves later lookups work: its failure is not this one's.
	_, _ = pipe.Exec(ctx)
	return nil
}

// State implements online.Store.
func (s *Store) State(ctx context.Context, v *view.View, entity string) ([]byte, error) {
	b, err := s.rdb.HGet(ctx, s.key(v, entity), "s").Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read online state: %w", err)
	}
	return b, nil
}
