// Package redisstore is the online store in Redis, shared by every replica
// of the features service.
//
// Layout: per entity a hash <prefix>f:<view>:{<entity>} with fields s (the
// encoded state, see package view) and n (a version counter), and a string
// <prefix>fv:<view>:{<entity>} with its features as of the last write
// (found flag, valid-until time, values). The braces keep both keys of an
// entity in one Redis Cluster slot for the write script; the lookup's MGET
// assumes one node (or a proxy that splits it). Apply reads the states of a batch's entities in one pipeline,
// applies the rows in Go (the same code as every other store), and writes
// each entity back in a second pipeline through a compare-and-set script
// on n, so an entity's update is atomic and replicas racing on one entity
// never lose an event: the loser re-reads and applies again, and id-based
// idempotency makes the retry exact. Lookup reads the feature strings of a
// batch of entities with one MGET; entities whose cached features have expired
// (a window bucket rolled over since the last event) are recomputed from s
// in a second pipeline, and written back unless the entity changed
// meanwhile, so the next lookup finds them fresh.
package redisstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/plinthai/plinth/internal/features/online"
	"github.com/plinthai/plinth/internal/features/view"
)

// maxCASRetries bounds how often Apply retries an entity that another
// writer changed under it.
// Between tries it backs off for a random time of up to attempt×casBackoff.
const (
	maxCASRetries = 64
	casBackoff    = 200 * time.Microsecond
)

// casScript writes the state (KEYS[1]) and the features (KEYS[2]) if the
// version is still ARGV[1] ("" for a new entity), bumps it, and sets the
// expiry (ARGV[4] ms, 0 for none).
var casScript = redis.NewScript(`
local n = redis.call('HGET', KEYS[1], 'n')
if (n or '') ~= ARGV[1] then return 0 end
local next = 1
if ARGV[1] ~= '' then next = tonumber(ARGV[1]) + 1 end
redis.call('HSET', KEYS[1], 's', ARGV[2], 'n', next)
redis.call('SET', KEYS[2], ARGV[3])
if ARGV[4] ~= '0' then
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  redis.call('PEXPIRE', KEYS[2], ARGV[4])
end
return 1
`)

// refreshScript rewrites the features (KEYS[2]) recomputed by a lookup,
// unless the state (KEYS[1]) changed since it was read at version ARGV[1].
var refreshScript = redis.NewScript(`
if (redis.call('HGET', KEYS[1], 'n') or '') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'KEEPTTL')
return 1
`)

// ErrContention means an entity kept changing under Apply.
var ErrContention = errors.New("redis online store: too much contention on one entity")

// Store is the Redis online store. It is safe for concurrent use, across
// processes too. It does not own the client.
type Store struct {
	rdb    redis.UniversalClient
	prefix string
}

var _ online.Store = (*Store)(nil)

// New returns a store on rdb, its keys under prefix (may be empty).
func New(rdb redis.UniversalClient, prefix string) *Store {
	return &Store{rdb: rdb, prefix: prefix}
}

func (s *Store) key(v *view.View, entity string) string {
	return s.prefix + "f:" + v.Name + ":{" + entity + "}"
}

func (s *Store) vecKey(v *view.View, entity string) string {
	return s.prefix + "fv:" + v.Name + ":{" + entity + "}"
}

// Position implements online.Store: Redis keeps no position; the durable
// consumer's acknowledgements are the position.
func (s *Store) Position(context.Context, *view.View) (uint64, bool, error) { return 0, false, nil }

// Close does nothing: the client belongs to the caller.
func (s *Store) Close() error { return nil }

// pending is one entity of a batch: its rows, in order.
type pending struct {
	entity string
	rows   []*view.Row
}

// Apply implements online.Store.
func (s *Store) Apply(ctx context.Context, v *view.View, rows []view.Row, now time.Time) (online.Counts, error) {
	todo := group(rows)
	var total online.Counts
	for attempt := 0; len(todo) > 0; attempt++ {
		if attempt == maxCASRetries {
			return total, fmt.Errorf("apply %d entities of view %q: %w", len(todo), v.Name, ErrContention)
		}
		if err := backoff(ctx, attempt); err != nil {
			return total, err
		}
		var err error
		var c online.Counts
		todo, c, err = s.applyOnce(ctx, v, todo, now)
		if err != nil {
			return total, err
		}
		total.Applied, total.Duplicates, total.Late = total.Applied+c.Applied, total.Duplicates+c.Duplicates, total.Late+c.Late
	}
	return total, nil
}

// backoff waits before a retry, so that racing writers spread out.
func backoff(ctx context.Context, attempt int) error {
	if attempt == 0 {
		return nil
	}
	t := time.NewTimer(time.Duration(rand.Int64N(int64(attempt) * int64(casBackoff))))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func group(rows []view.Row) []pending {
	idx := map[string]int{}
	var out []pending
	for i := range rows {
		j, ok := idx[rows[i].Entity]
		if !ok {
			j = len(out)
			idx[rows[i].Entity] = j
			out = append(out, pending{entity: rows[i].Entity})
		}
		out[j].rows = append(out[j].rows, &rows[i])
	}
	return out
}

// applyOnce reads, applies and writes back; it returns the entities whose
// write lost a race, and the counts of those that won.
func (s *Store) applyOnce(ctx context.Context, v *view.View, todo []pending, now time.Time) ([]pending, online.Counts, error) {
	pipe := s.rdb.Pipeline()
	reads := make([]*redis.SliceCmd, len(todo))
	for i, p := range todo {
		reads[i] = pipe.HMGet(ctx, s.key(v, p.entity), "s", "n")
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, online.Counts{}, fmt.Errorf("read online state: %w", err)
	}
	counts := make([]online.Counts, len(todo))
	writes := make([]*redis.Cmd, len(todo))
	ttl := "0"
	if v.TTL > 0 {
		ttl = fmt.Sprint(v.TTL.Milliseconds())
	}
	var sc view.Scratch
	vals := make([]float64, v.Width())
	pipe = s.rdb.Pipeline()
	for i, p := range todo {
		st, ver, err := decodeRead(v, reads[i].Val())
		if err != nil {
			return nil, online.Counts{}, fmt.Errorf("entity %q: %w", p.entity, err)
		}
		for _, r := range p.rows {
			counts[i].Add(v.Apply(st, r))
		}
		found, until := v.Compute(st, now, vals, &sc)
		writes[i] = casScript.Eval(ctx, pipe, []string{s.key(v, p.entity), s.vecKey(v, p.entity)}, ver, v.AppendState(nil, st), encodeVector(found, now.UnixNano(), until, vals), ttl)
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, online.Counts{}, fmt.Errorf("write online state: %w", err)
	}
	var lost []pending
	var won online.Counts
	for i, w := range writes {
		if ok, _ := w.Int(); ok != 1 {
			lost = append(lost, todo[i])
			continue
		}
		won.Applied, won.Duplicates, won.Late = won.Applied+counts[i].Applied, won.Duplicates+counts[i].Duplicates, won.Late+counts[i].Late
	}
	return lost, won, nil
}

// decodeRead turns an HMGET of s and n into a state and its version.
func decodeRead(v *view.View, vals []any) (*view.State, string, error) {
	raw, _ := vals[0].(string)
	ver, _ := vals[1].(string)
	if raw == "" {
		return v.NewState(), ver, nil
	}
	st, err := v.DecodeState([]byte(raw))
	if err != nil {
		return nil, "", err
	}
	return st, ver, nil
}

// vecHeader is the found flag and the interval [from, until) in which the
// values hold, in Unix ns.
const vecHeader = 17

// encodeVector writes found, the validity interval and the values.
func encodeVector(found bool, from, until int64, vals []float64) []byte {
	b := make([]byte, 0, vecHeader+8*len(vals))
	if found {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = binary.LittleEndian.AppendUint64(b, uint64(from))
	b = binary.LittleEndian.AppendUint64(b, uint64(until))
	for _, x := range vals {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	}
	return b
}

// decodeVector reads a vector of width values into dst if it holds at
// now; ok is false when it must be recomputed.
func decodeVector(b string, width int, now int64, dst []float64) (found, ok bool) {
	if len(b) != vecHeader+8*width {
		return false, false
	}
	from, until := int64(le64(b[1:9])), int64(le64(b[9:17]))
	if now < from || now >= until {
		return false, false
	}
	for j := range dst {
		dst[j] = math.Float64frombits(le64(b[vecHeader+8*j : vecHeader+8+8*j]))
	}
	return b[0] == 1, true
}

// le64 reads a little-endian uint64 from a string without copying it.
func le64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}
