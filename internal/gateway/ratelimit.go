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

// Canonical names of the rate limit fields of the IETF draft
// (draft-ietf-httpapi-ratelimit-headers-09 and later), set directly in the
// header map: RateLimit-Policy: "read";q=200;w=2 names the policy, its
// quota and the seconds it takes to refill; RateLimit: "read";r=199;t=1
// is what is left of it and the seconds until it is whole again.
const (
	headerRateLimit  = "Ratelimit"
	headerRatePolicy = "Ratelimit-Policy"
)

// maxCurrentValues bounds the table of a class's RateLimit values.
const maxCurrentValues = 4096

// limitHeaders are the rate limit header values of a class, computed
// once: RateLimit-Policy, and when the table is small enough every
// RateLimit value the class can take, so that a request allocates none.
type limitHeaders struct {
	name    string     // the policy's name, quoted
	policy  []string   // RateLimit-Policy
	burst   int64      // largest remaining in the table
	window  int64      // largest reset in the table, in seconds
	current [][]string // RateLimit for remaining r and reset t at r*(window+1)+t; nil when too large
}

func newLimitHeaders(class string, l Limit) limitHeaders {
	lh := limitHeaders{name: strconv.Quote(class), burst: int64(l.Burst),
		window: int64(math.Ceil(float64(l.Burst) / l.Rate))}
	lh.policy = []string{fmt.Sprintf("%s;q=%d;w=%d", lh.name, l.Burst, lh.window)}
	if n := (lh.burst + 1) * (lh.window + 1); n <= maxCurrentValues {
		lh.current = make([][]string, n)
		for r := range lh.burst + 1 {
			for t := range lh.window + 1 {
				lh.current[r*(lh.window+1)+t] = []string{lh.format(r, t)}
			}
		}
	}
	return lh
}

func (lh *limitHeaders) format(remaining, reset int64) string {
	return lh.name + ";r=" + strconv.FormatInt(remaining, 10) + ";t=" + strconv.FormatInt(reset, 10)
}

// rateLimit is the RateLimit value for remaining tokens and reset seconds.
func (lh *limitHeaders) rateLimit(remaining, reset int64) []string {
	if lh.current != nil && remaining <= lh.burst && reset <= lh.window {
		return lh.current[remaining*(lh.window+1)+reset]
	}
	return []string{lh.format(remaining, reset)}
}

// smallInts holds header values for 0..len-1, so the usual Retry-After
// values cost no allocation. Handlers must not modify header values in
// place (appending is fine).
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

// setHeaders writes RateLimit-Policy, RateLimit and, when denied,
// Retry-After.
func (d Decision) setHeaders(h http.Header, lh *limitHeaders) {
	h[headerRatePolicy] = lh.policy
	h[headerRateLimit] = lh.rateLimit(int64(max(d.Remaining, 0)), waitSeconds(d.Reset))
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
