package gateway

import (
	"net/http"
	"testing"
	"time"
)

// TestLimitHeaders: the precomputed RateLimit values and the formatted
// ones (a bucket too large for the table) read the same.
func TestLimitHeaders(t *testing.T) {
	tests := []struct {
		class      string
		l          Limit
		d          Decision
		policy     string
		rateLimit  string
		retryAfter string
	}{
		{ClassRead, Limit{Rate: 100, Burst: 200}, Decision{Allowed: true, Remaining: 199, Reset: 10 * time.Millisecond},
			`"read";q=200;w=2`, `"read";r=199;t=1`, ""},
		{ClassWrite, Limit{Rate: 0.5, Burst: 3}, Decision{Remaining: -1, RetryAfter: 1500 * time.Millisecond, Reset: 6 * time.Second},
			`"write";q=3;w=6`, `"write";r=0;t=6`, "2"},
		// past the table: formatted per request
		{ClassRead, Limit{Rate: 10, Burst: 100_000}, Decision{Allowed: true, Remaining: 99_999, Reset: 100 * time.Millisecond},
			`"read";q=100000;w=10000`, `"read";r=99999;t=1`, ""},
		// a reset past the window (a shared limiter's clock): formatted
		{ClassRead, Limit{Rate: 100, Burst: 200}, Decision{Allowed: true, Remaining: 0, Reset: 3 * time.Second},
			`"read";q=200;w=2`, `"read";r=0;t=3`, ""},
	}
	for _, tt := range tests {
		lh := newLimitHeaders(tt.class, tt.l)
		h := http.Header{}
		tt.d.setHeaders(h, &lh)
		if got := h.Get("RateLimit-Policy"); got != tt.policy {
			t.Errorf("%v: RateLimit-Policy %s, want %s", tt.l, got, tt.policy)
		}
		if got := h.Get("RateLimit"); got != tt.rateLimit {
			t.Errorf("%v %+v: RateLimit %s, want %s", tt.l, tt.d, got, tt.rateLimit)
		}
		if got := h.Get("Retry-After"); got != tt.retryAfter {
			t.Errorf("%v %+v: Retry-After %q, want %q", tt.l, tt.d, got, tt.retryAfter)
		}
	}
}
