// Package kvtest connects tests to the Redis server named by
// PLINTH_TEST_REDIS_URL (default redis://127.0.0.1:6379/0), isolating each
// test under a random key prefix whose keys are deleted when it ends.
package kvtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultURL is the test server used when PLINTH_TEST_REDIS_URL is unset.
const DefaultURL = "redis://127.0.0.1:6379/0"

// Open returns a client of the test server and a fresh key prefix ending
// in ":"; it skips the test when the server does not answer within 2 s.
// Every key under the prefix is deleted, and the client closed, at the end.
func Open(t testing.TB) (*redis.Client, string) {
	t.Helper()
	url := os.Getenv("PLINTH_TEST_REDIS_URL")
	if url == "" {
		url = DefaultURL
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("PLINTH_TEST_REDIS_URL: %v", err)
	}
	c := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		t.Skipf("Redis at %s not reachable (set PLINTH_TEST_REDIS_URL): %v", url, err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "t" + hex.EncodeToString(b[:]) + ":"
	t.Cleanup(func() {
		deletePrefix(t, c, prefix)
		_ = c.Close()
	})
	return c, prefix
}

func deletePrefix(t testing.TB, c *redis.Client, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Errorf("scan test keys: %v", err)
	}
	for len(keys) > 0 {
		n := min(len(keys), 500)
		if err := c.Del(ctx, keys[:n]...).Err(); err != nil {
			t.Errorf("delete test keys: %v", err)
		}
		keys = keys[n:]
	}
}
