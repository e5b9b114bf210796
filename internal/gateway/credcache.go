package gateway

import (
	"crypto/sha256"
	"sync"
	"time"

	"github.com/plinthai/plinth/internal/platform/auth"
)

// maxCachedCredentials bounds the credential cache; past it an arbitrary
// entry makes room, so a flood of distinct credentials costs lookups, not
// memory.
const maxCachedCredentials = 10_000

// credCache remembers credentials that passed verification, keyed by the
// SHA-256 of the credential (the secret itself is not kept), so that a
// request with a known API key skips the SQL lookup and one with a known
// JWT skips the signature check. An API key stays cached for the TTL, so a
// key revoked by another process keeps working there for at most the TTL
// (a revocation through this process forgets it at once); a JWT stays
// cached until its exp or the TTL, whichever comes first. Failures are not
// cached. It is safe for concurrent use; a hit does not allocate.
type credCache struct {
	ttl time.Duration
	now func() time.Time

	mu      sync.RWMutex
	entries map[[sha256.Size]byte]credEntry
}

type credEntry struct {
	p       auth.Principal
	expires int64 // unix nanoseconds
}

// newCredCache returns a cache keeping entries for ttl; nil when ttl is 0
// (every request is verified).
func newCredCache(ttl time.Duration) *credCache {
	if ttl <= 0 {
		return nil
	}
	return &credCache{ttl: ttl, now: time.Now, entries: make(map[[sha256.Size]byte]credEntry)}
}

// get returns the principal of a cached, unexpired credential.
func (c *credCache) get(key *[sha256.Size]byte) (auth.Principal, bool) {
	now := c.now().UnixNano()
	c.mu.RLock()
	e, ok := c.entries[*key]
	c.mu.RUnlock()
	if !ok || now >= e.expires {
		return auth.Principal{}, false
	}
	return e.p, true
}

// put remembers p until the TTL from now, or until notAfter when that is
// sooner (the zero time: no bound of its own).
func (c *credCache) put(key *[sha256.Size]byte, p auth.Principal, notAfter time.Time) {
	now := c.now()
	expires := now.Add(c.ttl)
	if !notAfter.IsZero() && notAfter.Before(expires) {
		expires = notAfter
	}
	if !expires.After(now) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= maxCachedCredentials {
		for k, e := range c.entries {
			if now.UnixNano() >= e.expires || len(c.entries) >= maxCachedCredentials {
				delete(c.entries, k)
			}
			if len(c.entries) < maxCachedCredentials*9/10 {
				break
			}
		}
	}
	c.entries[*key] = credEntry{p: p, expires: expires.UnixNano()}
}

// forget drops every entry of subject, such as a revoked API key's.
func (c *credCache) forget(subject string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.entries {
		if e.p.Subject == subject {
			delete(c.entries, k)
		}
	}
}
