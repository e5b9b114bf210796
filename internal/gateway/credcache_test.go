package gateway

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/plinthai/plinth/internal/gateway/migrations"
	"github.com/plinthai/plinth/internal/platform/auth"
	"github.com/plinthai/plinth/internal/platform/sqlstore/sqltest"
)

// fakeClock is a settable clock for the cache.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestCredCacheExpiry(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_000_000, 0)}
	c := newCredCache(5 * time.Second)
	c.now = clock.now
	alice, bob := hashCredential("alice-token"), hashCredential("bob-token")
	c.put(&alice, auth.Principal{Subject: "alice"}, time.Time{})
	c.put(&bob, auth.Principal{Subject: "bob"}, clock.t.Add(2*time.Second)) // a JWT expiring before the TTL
	steps := []struct {
		after        time.Duration
		wantA, wantB bool
	}{
		{0, true, true},
		{1999 * time.Millisecond, true, true},
		{2 * time.Second, true, false},  // bob's exp
		{5 * time.Second, false, false}, // the TTL
	}
	start := clock.t
	for _, s := range steps {
		clock.t = start.Add(s.after)
		_, gotA := c.get(&alice)
		_, gotB := c.get(&bob)
		if gotA != s.wantA || gotB != s.wantB {
			t.Errorf("after %v: cached alice=%v bob=%v, want %v %v", s.after, gotA, gotB, s.wantA, s.wantB)
		}
	}
	clock.t = start
	carol := hashCredential("carol-token")
	c.put(&carol, auth.Principal{Subject: "carol"}, start.Add(-time.Second)) // already expired: not kept
	if _, ok := c.get(&carol); ok {
		t.Error("an expired credential was cached")
	}
	if newCredCache(0) != nil {
		t.Error("ttl 0 must disable the cache")
	}
}

func TestCredCacheIsBounded(t *testing.T) {
	c := newCredCache(time.Minute)
	for i := range maxCachedCredentials + 100 {
		k := hashCredential(string(rune(i)) + "-token")
		c.put(&k, auth.Principal{Subject: "s"}, time.Time{})
	}
	if n := len(c.entries); n > maxCachedCredentials {
		t.Errorf("%d entries, want at most %d", n, maxCachedCredentials)
	}
}

// TestRevokedKeyWithinTTL: a key revoked by another process (straight in
// the store) keeps working here until the TTL passes; a revocation through
// this process's API takes effect at once (TestAPIKeysLifecycle).
func TestRevokedKeyWithinTTL(t *testing.T) {
	ctx := context.Background()
	keys := NewKeyStore(sqltest.SQLite(t))
	if err := keys.db.Migrate(ctx, migrations.FS, "gateway_db_version"); err != nil {
		t.Fatal(err)
	}
	k, err := keys.Create(ctx, "svc", []string{ScopePredict}, "test")
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: time.Now()}
	a := &Authenticator{keys: keys, verifier: NewVerifier([]byte(testSecret), nil, DefaultIssuer, DefaultAudience, 0), cache: newCredCache(5 * time.Second)}
	a.cache.now = clock.now
	if _, err := a.Authenticate(ctx, "Bearer "+k.Key); err != nil {
		t.Fatal(err)
	}
	if err := keys.Revoke(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	clock.t = clock.t.Add(4 * time.Second)
	if _, err := a.Authenticate(ctx, "Bearer "+k.Key); err != nil {
		t.Errorf("within the TTL: %v, want the cached principal", err)
	}
	clock.t = clock.t.Add(2 * time.Second)
	if _, err := a.Authenticate(ctx, "Bearer "+k.Key); err == nil {
		t.Error("after the TTL a revoked key still authenticates")
	}
	a.cache = nil // --auth.cache-ttl=0
	if _, err := a.Authenticate(ctx, "Bearer "+k.Key); err == nil {
		t.Error("without a cache a revoked key authenticates")
	}
}

// TestHotPathDoesNotAllocate: a cached credential, the scope check, the
// rate limiter and its headers cost no allocation.
func TestHotPathDoesNotAllocate(t *testing.T) {
	a := &Authenticator{cache: newCredCache(time.Minute)}
	tok, _ := MintToken([]byte(testSecret), DefaultIssuer, DefaultAudience, "alice", []string{ScopePredict}, time.Hour)
	key := hashCredential(tok)
	a.cache.put(&key, auth.Principal{Subject: "alice", Scopes: []string{ScopePredict}}, time.Time{})
	lim := newClassLimit(ClassWrite, 1e9, 500)
	l := NewLocalLimiter()
	h := http.Header{}
	header := "Bearer " + tok
	need := []string{ScopePredict}
	allocs := testing.AllocsPerRun(1000, func() {
		p, err := a.Authenticate(context.Background(), header)
		if err != nil || Authorize(p, need) != nil {
			t.Fatal(err)
		}
		d, _ := l.Allow(context.Background(), bucketKey(p, nil, ClassWrite), lim.Limit)
		d.setHeaders(h, &lim.headers)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per request, want 0", allocs)
	}
	if h.Get("RateLimit-Policy") != `"write";q=500;w=1` || !strings.HasPrefix(h.Get("RateLimit"), `"write";r=`) {
		t.Errorf("headers %v", h)
	}
}
