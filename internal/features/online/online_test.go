package online_test

import (
	"io"
	"log/slog"
	"testing"

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
