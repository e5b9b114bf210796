package gateway

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"
)

// Limit is a token bucket: Rate tokens a second, at most Burst saved.
type Limit struct {
	Rate  float64
	Burst int
}

// Decision is a rate limiter's answer for one request.
type Decision struct {
	Allowed    bool
	Remaining  int           // tokens left after this request
	RetryAfter time.Duration // when denied: wait this long
	Reset      time.Duration // until the bucket is full again
}

// BucketKey names a token bucket: a rate class and who spends from it (a
// principal's subject, or a client address when ByAddr). A struct rather
// than a joined string, so finding the bucket allocates nothing.
type BucketKey struct {
	Class  string
	Who    string
	ByAddr bool
}

// String is the key as one string ("read:alice", "write:ip:10.0.0.1").
func (k BucketKey) String() string {
	if k.ByAddr {
		return k.Class + ":ip:" + k.Who
	}
	return k.Class + ":" + k.Who
}

// RateLimiter decides whether a request of a key may pass. Implementations
// are safe for concurrent use.
type RateLimiter interface {
	Allow(ctx context.Context, key BucketKey, l Limit) (Decision, error)
}

// Canonical names of the rate limit headers (IETF draft
// httpapi-ratelimit-headers), set directly in the header map.
const (
	headerRateLimit     = "Ratelimit-Limit"
	headerRateRemaining = "Ratelimit-Remaining"
	headerRateReset     = "Ratelimit-Reset"
	headerRatePolicy    = "Ratelimit-Policy"
)

// limitHeaders are the values of a Limit's constant headers, computed once.
type limitHeaders struct {
	limit  []string
	policy []string
}

func newLimitHeaders(l Limit) limitHeaders {
	return limitHeaders{limit: []string{strconv.Itoa(l.Burst)},
		policy: []string{fmt.Sprintf("%d;w=%d", l.Burst, int(math.Ceil(float64(l.Burst)/l.Rate)))}}
}

// smallInts holds header values for 0..len-1, so the usual Remaining and
// Reset values cost no allocation. Handlers must not modify header values
// in place (appending is fine).
var smallInts = func() [][]string {
	out := make([][]string, 1024)
	for i := range out {
		out[i] = []string{strconv.Itoa(i)}
	}
	return out
}()

func intHeader(n int64) []string {
	if n >= 0 && n < int64(len(smallInts)) {
		return smallInts[n]
	}
	return []string{strconv.FormatInt(n, 10)}
}

// waitSeconds is a wait in whole seconds, at least 1.
func waitSeconds(d time.Duration) int64 { return max(int64((d+time.Second-1)/time.Second), 1) }

// setHeaders writes RateLimit-Limit/-Remaining/-Reset/-Policy and, when
// denied, Retry-After.
func (d Decision) setHeaders(h http.Header, lh *limitHeaders) {
	h[headerRateLimit] = lh.limit
	h[headerRateRemaining] = intHeader(int64(max(d.Remaining, 0)))
	h[headerRateReset] = intHeader(waitSeconds(d.Reset))
	h[headerRatePolicy] = lh.policy
	if !d.Allowed {
		h["Retry-After"] = intHeader(waitSeconds(d.RetryAfter))
	}
}

// maxLocalBuckets bounds the in-process table; past it the table starts
// afresh (every principal gets a full bucket once), which bounds memory
// against a flood of distinct principals.
const maxLocalBuckets = 100_000

// LocalLimiter keeps token buckets in process (golang.org/x/time/rate).
type LocalLimiter struct {
	mu      sync.Mutex
	buckets map[BucketKey]localBucket
	now     func() time.Time
}

// localBucket is a bucket with the Limit it was made for, so checking
// that the limit still holds does not take the bucket's own lock.
type localBucket struct {
	lim *rate.Limiter
	l   Limit
}

// NewLocalLimiter returns an empty in-process limiter.
func NewLocalLimiter() *LocalLimiter {
	return &LocalLimiter{buckets: map[BucketKey]localBucket{}, now: time.Now}
}

// Allow implements RateLimiter.
func (l *LocalLimiter) Allow(_ context.Context, key BucketKey, lim Limit) (Decision, error) {
	now := l.now()
	b := l.bucket(key, lim)
	ok := b.AllowN(now, 1)
	tokens := b.TokensAt(now)
	d := Decision{Allowed: ok, Remaining: int(math.Floor(tokens))}
	d.Reset = time.Duration((float64(lim.Burst) - tokens) / lim.Rate * float64(time.Second))
	if !ok {
		d.RetryAfter = time.Duration((1 - tokens) / lim.Rate * float64(time.Second))
	}
	return d, nil
}

func (l *LocalLimiter) bucket(key BucketKey, lim Limit) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok || b.l != lim {
		if len(l.buckets) >= maxLocalBuckets {
			l.buckets = map[BucketKey]localBucket{}
		}
		b = localBucket{lim: rate.NewLimiter(rate.Limit(lim.Rate), lim.Burst), l: lim}
		l.buckets[key] = b
	}
	return b.lim
}

// gcraScript is a generic cell rate algorithm: one key per bucket holding
// its theoretical arrival time in microseconds, the clock from Redis so
// replicas need not agree on time. Returns {allowed, remaining,
// retry_after_us, reset_us}.
const gcraScript = `
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = 1000000 / rate
local tolerance = interval * burst
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - tolerance
if allow_at > now then
  return {0, 0, math.ceil(allow_at - now), math.ceil(tat - now)}
end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1)
return {1, math.floor((now - allow_at) / interval), 0, math.ceil(new_tat - now)}
`

// RedisLimiter shares token buckets between replicas through Redis, one
// atomic Lua script call per request.
type RedisLimiter struct {
	client *redis.Client
	prefix string
	script *redis.Script
}

// NewRedisLimiter opens a client for url; keys start with prefix.
func NewRedisLimiter(url, prefix string) (*RedisLimiter, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("ratelimit.redis-url: %w", err)
	}
	return &RedisLimiter{client: redis.NewClient(opts), prefix: prefix, script: redis.NewScript(gcraScript)}, nil
}

// Allow implements RateLimiter.
func (l *RedisLimiter) Allow(ctx context.Context, key BucketKey, lim Limit) (Decision, error) {
	res, err := l.script.Run(ctx, l.client, []string{l.prefix + key.String()}, lim.Burst, lim.Rate).Int64Slice()
	if err != nil {
		return Decision{}, fmt.Errorf("redis rate limit: %w", err)
	}
	if len(res) != 4 {
		return Decision{}, fmt.Errorf("redis rate limit: script returned %d values", len(res))
	}
	return Decision{Allowed: res[0] == 1, Remaining: int(res[1]),
		RetryAfter: time.Duration(res[2]) * time.Microsecond, Reset: time.Duration(res[3]) * time.Microsecond}, nil
}

// Ping checks that Redis answers.
func (l *RedisLimiter) Ping(ctx context.Context) error {
	if err := l.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis rate limit: %w", err)
	}
	return nil
}

// Close releases the client.
func (l *RedisLimiter) Close() error { return l.client.Close() }
