package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestFaultInjection(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.Faults.Enabled = true
		c.Faults.Rules = `[{"route":"GET /v1/models","error_rate":1,"error_status":502}]`
	})
	admin := h.token("ops", ScopeAdmin)
	if resp, body := h.call("GET", "/v1/models", admin, "", nil); resp.StatusCode != 502 || problemType(body) != slugInjected {
		t.Errorf("configured rule: %d %s, want 502 injected-fault", resp.StatusCode, body)
	}
	steps := []struct {
		name, method, body string
		want               int
	}{
		{"replace by target with latency", "PUT", `{"rules":[{"target":"registry","latency":"1ms","abort_rate":1}]}`, 200},
		{"bad distribution", "PUT", `{"rules":[{"distribution":"zipf"}]}`, 400},
		{"read back", "GET", "", 200},
	}
	for _, s := range steps {
		if resp, body := h.call(s.method, "/v1/faults", admin, s.body, nil); resp.StatusCode != s.want {
			t.Errorf("%s: %d %s, want %d", s.name, resp.StatusCode, body, s.want)
		}
	}
	req, _ := http.NewRequest("POST", h.url+"/v1/models", strings.NewReader("{}"))
	req.Header.Set("Authorization", "Bearer "+admin)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Errorf("abort rule: got status %d, want the connection closed", resp.StatusCode)
	} else if !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "EOF") {
		t.Logf("abort surfaced as %v", err)
	}
	if got := testutil.ToFloat64(h.svc.metrics.faults.WithLabelValues("abort", "registry")); got != 1 {
		t.Errorf("abort metric = %v, want 1", got)
	}
	if resp, _ := h.call("DELETE", "/v1/faults", admin, "", nil); resp.StatusCode != 204 {
		t.Errorf("clear = %d", resp.StatusCode)
	}
	if resp, _ := h.call("GET", "/v1/models", admin, "", nil); resp.StatusCode != 200 {
		t.Errorf("after clear = %d, want 200", resp.StatusCode)
	}
	if resp, _ := h.call("PUT", "/v1/faults", h.token("u", ScopeModelsWrite), `{"rules":[]}`, nil); resp.StatusCode != 403 {
		t.Errorf("fault API without admin = %d, want 403", resp.StatusCode)
	}
}

func TestFaultsOffByDefault(t *testing.T) {
	h := newHarness(t, nil)
	resp, body := h.call("PUT", "/v1/faults", h.token("ops", ScopeAdmin), `{"rules":[{"error_rate":1}]}`, nil)
	if resp.StatusCode != 409 || !strings.Contains(body, "--faults.enabled") {
		t.Errorf("PUT with injection off = %d %s, want 409 saying how to enable", resp.StatusCode, body)
	}
	c := defaultConfig(t)
	c.Faults.Rules = `[{"error_rate":1}]`
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "faults.enabled") {
		t.Errorf("rules without --faults.enabled: Validate = %v", err)
	}
}

func TestFaultLatencyDistributions(t *testing.T) {
	for _, dist := range []string{DistFixed, DistUniform, DistNormal, DistExponential} {
		r := FaultRule{Latency: "10ms", Jitter: "5ms", Distribution: dist}
		if err := r.compile(); err != nil {
			t.Fatal(err)
		}
		var sum time.Duration
		for range 2000 {
			d := r.delay()
			if d < 0 {
				t.Fatalf("%s: negative delay %v", dist, d)
			}
			sum += d
		}
		if mean := sum / 2000; mean < 8*time.Millisecond || mean > 12*time.Millisecond {
			t.Errorf("%s: mean delay %v, want about 10ms", dist, mean)
		}
	}
}

// redisURL returns the test Redis, or skips.
func redisURL(t *testing.T) string {
	u := os.Getenv("PLINTH_TEST_REDIS_URL")
	if u == "" {
		u = "redis://127.0.0.1:6379/0"
	}
	l, err := NewRedisLimiter(u, "probe:")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := l.Ping(ctx); err != nil {
		t.Skipf("Redis not reachable at %s (set PLINTH_TEST_REDIS_URL): %v", u, err)
	}
	return u
}

func randomPrefix(t *testing.T) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "plinth-test:" + hex.EncodeToString(b[:]) + ":"
}

func TestLimitersAgree(t *testing.T) {
	url := redisURL(t)
	prefix := randomPrefix(t)
	r1, _ := NewRedisLimiter(url, prefix)
	r2, _ := NewRedisLimiter(url, prefix) // a second replica
	defer r1.Close()
	defer r2.Close()
	limiters := map[string][2]RateLimiter{"local": {NewLocalLimiter(), nil}, "redis": {r1, r2}}
	for name, ls := range limiters {
		t.Run(name, func(t *testing.T) {
			lim := Limit{Rate: 0.5, Burst: 3}
			var got []bool
			for i := range 4 {
				l := ls[0]
				if ls[1] != nil && i%2 == 1 {
					l = ls[1]
				}
				d, err := l.Allow(context.Background(), BucketKey{Class: ClassRead, Who: "k"}, lim)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, d.Allowed)
				if !d.Allowed && (d.RetryAfter <= 0 || d.RetryAfter > 2*time.Second) {
					t.Errorf("denied with RetryAfter %v, want (0, 2s]", d.RetryAfter)
				}
			}
			if want := []bool{true, true, true, false}; !equalBools(got, want) {
				t.Errorf("decisions %v, want %v", got, want)
			}
		})
	}
}

func equalBools(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRateLimitThroughRedis(t *testing.T) {
	url := redisURL(t)
	h := newHarness(t, func(c *Config) {
		c.RateLimit.RedisURL, c.RateLimit.RedisPrefix = url, randomPrefix(t)
		c.RateLimit.WriteRate, c.RateLimit.WriteBurst = 0.5, 1
	})
	w := h.token("w", ScopeModelsWrite)
	h.call("POST", "/v1/models", w, "{}", nil)
	if resp, _ := h.call("POST", "/v1/models", w, "{}", nil); resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("second write = %d, want 429 with Retry-After", resp.StatusCode)
	}
}
