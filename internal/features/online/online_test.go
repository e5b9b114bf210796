package online_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/plinthai/plinth/internal/features/online"
	"github.com/plinthai/plinth/internal/features/online/embedded"
	"github.com/plinthai/plinth/internal/features/online/onlinetest"
	"github.com/plinthai/plinth/internal/features/online/redisstore"
	"github.com/plinthai/plinth/internal/features/view"
	"github.com/plinthai/plinth/internal/platform/kv/kvtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestContract runs the behaviour suite on every backend.
func TestContract(t *testing.T) {
	t.Run("embedded", func(t *testing.T) {
		onlinetest.Run(t, func(t *testing.T, v *view.View) online.Store {
			s, err := embedded.New(t.TempDir(), []*view.View{v}, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			return s
		})
	})
	t.Run("redis", func(t *testing.T) {
		onlinetest.Run(t, func(t *testing.T, v *view.View) online.Store {
			rdb, prefix := kvtest.Open(t)
			return redisstore.New(rdb, prefix)
		})
	})
}

// BenchmarkRedisLookup is a lookup of 1 and of 100 entities × 50 cached
// features through the Redis store, on the test server.
func BenchmarkRedisLookup(b *testing.B) {
	rdb, prefix := kvtest.Open(b)
	v := onlinetest.View50(b)
	s := redisstore.New(rdb, prefix)
	var rows []view.Row
	for i := range 20000 {
		rows = append(rows, onlinetest.Row(b, v, fmt.Sprint("e", i%2000), uint64(i+1), -time.Duration(20000-i)*time.Second, float64(i%100), fmt.Sprint("k", i%13)))
	}
	if _, err := s.Apply(context.Background(), v, rows, onlinetest.T0); err != nil {
		b.Fatal(err)
	}
	ents := make([]string, 2000)
	for i := range ents {
		ents[i] = fmt.Sprint("e", i)
	}
	for _, n := range []int{1, 100} {
		b.Run(fmt.Sprint(n, "x50"), func(b *testing.B) {
			out, found := make([]float64, n*50), make([]bool, n)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				j := (i * n) % (len(ents) - n)
				if err := s.Lookup(context.Background(), v, ents[j:j+n], onlinetest.T0, out, found); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
