package embedded_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/plinthai/plinth/internal/features/online/embedded"
	"github.com/plinthai/plinth/internal/features/online/onlinetest"
	"github.com/plinthai/plinth/internal/features/view"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestSnapshotRestart(t *testing.T) {
	dir := t.TempDir()
	v := onlinetest.View(t)
	s, err := embedded.New(dir, []*view.View{v}, discard)
	if err != nil {
		t.Fatal(err)
	}
	var rows []view.Row
	for i := range 100 {
		rows = append(rows, onlinetest.Row(t, v, fmt.Sprint("e", i%10), uint64(i+1), -time.Duration(100-i)*time.Second, 1, "k"))
	}
	if _, err := s.Apply(context.Background(), v, rows, onlinetest.T0); err != nil {
		t.Fatal(err)
	}
	s.SetPosition(v, 100)
	want, _ := s.State(context.Background(), v, "e3")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := embedded.New(dir, []*view.View{v}, discard)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := s2.State(context.Background(), v, "e3")
	if pos, _, _ := s2.Position(context.Background(), v); pos != 100 || string(got) != string(want) {
		t.Errorf("after restart: position %d, state equal %v; want 100, true", pos, string(got) == string(want))
	}
	// A snapshot of another declaration of the view is set aside.
	other := onlinetest.View50(t)
	path := filepath.Join(dir, "acct.snap")
	if err := os.Rename(path, filepath.Join(dir, other.Name+".snap")); err != nil {
		t.Fatal(err)
	}
	s3, err := embedded.New(dir, []*view.View{other}, discard)
	if err != nil {
		t.Fatal(err)
	}
	if pos, _, _ := s3.Position(context.Background(), other); pos != 0 {
		t.Errorf("foreign snapshot loaded: position %d", pos)
	}
	if _, err := os.Stat(filepath.Join(dir, other.Name+".snap.bad")); err != nil {
		t.Errorf("foreign snapshot not set aside: %v", err)
	}
}

// BenchmarkLookup50 is the hot path inference calls: one entity, 50
// features, cached. Target: p99 under 20 µs, no allocation.
func BenchmarkLookup50(b *testing.B) {
	v := onlinetest.View50(b)
	s, err := embedded.New("", []*view.View{v}, discard)
	if err != nil {
		b.Fatal(err)
	}
	var rows []view.Row
	for i := range 10000 {
		rows = append(rows, onlinetest.Row(b, v, fmt.Sprint("e", i%1000), uint64(i+1), -time.Duration(10000-i)*time.Second, float64(i%100), fmt.Sprint("k", i%13)))
	}
	if _, err := s.Apply(context.Background(), v, rows, onlinetest.T0); err != nil {
		b.Fatal(err)
	}
	out, found := make([]float64, 50), make([]bool, 1)
	ents := make([][]string, 1000)
	for i := range ents {
		ents[i] = []string{fmt.Sprint("e", i)}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_ = s.Lookup(context.Background(), v, ents[i%1000], onlinetest.T0, out, found)
		i++
	}
}
