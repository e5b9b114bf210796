package httpx

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

type ctxKey struct{}

// withDeadline is WithDeadline shaped like context.WithDeadline.
func withDeadline(parent context.Context, d time.Time) (context.Context, context.CancelFunc) {
	c := WithDeadline(parent, d)
	return c, c.Cancel
}

// waitDone waits for ctx to be done, failing after a generous bound.
func waitDone(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: context not done", what)
	}
}

// TestDeadlineLikeStdlib runs the same story on WithDeadline and on
// context.WithDeadline and wants the same Err.
func TestDeadlineLikeStdlib(t *testing.T) {
	past, future := time.Now().Add(-time.Second), time.Now().Add(time.Hour)
	tests := []struct {
		name     string
		deadline time.Time
		watch    bool // ask for Done before acting
		act      func(cancelParent, cancel context.CancelFunc)
		want     error
	}{
		{"fresh", future, false, func(_, _ context.CancelFunc) {}, nil},
		{"fresh watched", future, true, func(_, _ context.CancelFunc) {}, nil},
		{"expired", past, false, func(_, _ context.CancelFunc) {}, context.DeadlineExceeded},
		{"expired watched", past, true, func(_, _ context.CancelFunc) {}, context.DeadlineExceeded},
		{"cancelled", future, false, func(_, c context.CancelFunc) { c() }, context.Canceled},
		{"cancelled watched", future, true, func(_, c context.CancelFunc) { c() }, context.Canceled},
		{"parent cancelled", future, false, func(p, _ context.CancelFunc) { p() }, context.Canceled},
		{"parent cancelled watched", future, true, func(p, _ context.CancelFunc) { p() }, context.Canceled},
		{"cancelled twice", future, true, func(_, c context.CancelFunc) { c(); c() }, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, impl := range []struct {
				name string
				with func(context.Context, time.Time) (context.Context, context.CancelFunc)
			}{{"httpx", withDeadline}, {"stdlib", context.WithDeadline}} {
				parent, cancelParent := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "v"))
				ctx, cancel := impl.with(parent, tt.deadline)
				if tt.watch {
					ctx.Done()
				}
				tt.act(cancelParent, cancel)
				if tt.want != nil {
					waitDone(t, ctx, impl.name)
				}
				if got := ctx.Err(); !errors.Is(got, tt.want) || (got == nil) != (tt.want == nil) {
					t.Errorf("%s: Err() = %v, want %v", impl.name, got, tt.want)
				}
				if got := ctx.Value(ctxKey{}); got != "v" {
					t.Errorf("%s: Value = %v, want v", impl.name, got)
				}
				if d, ok := ctx.Deadline(); !ok || !d.Equal(tt.deadline) {
					t.Errorf("%s: Deadline() = %v, %v, want %v, true", impl.name, d, ok, tt.deadline)
				}
				cancel()
				cancelParent()
			}
		})
	}
}

func TestDeadlineFiresWhenWatched(t *testing.T) {
	defer goleak.VerifyNone(t)
	ctx, cancel := withDeadline(context.Background(), time.Now().Add(20*time.Millisecond))
	defer cancel()
	waitDone(t, ctx, "deadline")
	if got := ctx.Err(); got != context.DeadlineExceeded {
		t.Errorf("Err() = %v, want %v", got, context.DeadlineExceeded)
	}
}

func TestDeadlineReportsUnwatchedExpiry(t *testing.T) {
	ctx, cancel := withDeadline(context.Background(), time.Now().Add(time.Millisecond))
	defer cancel()
	deadline := time.Now().Add(10 * time.Second)
	for ctx.Err() == nil { // no Done: only the clock tells
		if time.Now().After(deadline) {
			t.Fatal("Err() stayed nil past the deadline")
		}
		time.Sleep(time.Millisecond)
	}
	if got := ctx.Err(); got != context.DeadlineExceeded {
		t.Errorf("Err() = %v, want %v", got, context.DeadlineExceeded)
	}
	select {
	case <-ctx.Done():
	default:
		t.Error("Done() is not closed after Err() reported the deadline")
	}
}

func TestDeadlineKeepsTheParentsEarlierDeadline(t *testing.T) {
	early := time.Now().Add(time.Minute)
	parent, cancelParent := context.WithDeadline(context.Background(), early)
	defer cancelParent()
	ctx, cancel := withDeadline(parent, early.Add(time.Hour))
	defer cancel()
	if d, _ := ctx.Deadline(); !d.Equal(early) {
		t.Errorf("Deadline() = %v, want the parent's %v", d, early)
	}
}

// TestDeadlineDerivedContexts checks that contexts derived from it follow
// it (through AfterFunc, without a goroutine each) and that nothing is
// left running once it is cancelled.
func TestDeadlineDerivedContexts(t *testing.T) {
	defer goleak.VerifyNone(t)
	ctx, cancel := withDeadline(context.Background(), time.Now().Add(time.Hour))
	child, cancelChild := context.WithCancel(ctx)
	defer cancelChild()
	timed, cancelTimed := context.WithTimeout(ctx, time.Hour)
	defer cancelTimed()
	ran := make(chan struct{})
	context.AfterFunc(ctx, func() { close(ran) })
	stopped := context.AfterFunc(ctx, func() { t.Error("a stopped AfterFunc ran") })
	if !stopped() {
		t.Error("stop() = false before the context was done, want true")
	}
	cancel()
	waitDone(t, child, "WithCancel child")
	waitDone(t, timed, "WithTimeout child")
	select {
	case <-ran:
	case <-time.After(10 * time.Second):
		t.Fatal("AfterFunc did not run")
	}
	if got := child.Err(); got != context.Canceled {
		t.Errorf("child Err() = %v, want %v", got, context.Canceled)
	}
}

func TestDeadlineAfterFuncWhenDone(t *testing.T) {
	ctx, cancel := withDeadline(context.Background(), time.Now().Add(time.Hour))
	cancel()
	ran := make(chan struct{})
	stop := context.AfterFunc(ctx, func() { close(ran) })
	select {
	case <-ran:
	case <-time.After(10 * time.Second):
		t.Fatal("AfterFunc on a done context did not run")
	}
	if stop() {
		t.Error("stop() = true after f ran, want false")
	}
}

// TestDeadlineConcurrentUse races Done, Err, AfterFunc and cancel (run
// with -race).
func TestDeadlineConcurrentUse(t *testing.T) {
	defer goleak.VerifyNone(t)
	for range 50 {
		ctx, cancel := withDeadline(context.Background(), time.Now().Add(time.Millisecond))
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				switch i % 4 {
				case 0:
					<-ctx.Done()
				case 1:
					_ = ctx.Err()
				case 2:
					done := make(chan struct{})
					context.AfterFunc(ctx, func() { close(done) })
					<-done
				default:
					cancel()
				}
			}()
		}
		wg.Wait()
		if ctx.Err() == nil {
			t.Fatal("Err() = nil after cancel")
		}
	}
}

func BenchmarkDeadline(b *testing.B) {
	parent, cancelParent := context.WithCancel(context.Background())
	defer cancelParent()
	b.Run("httpx", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ctx := WithDeadline(parent, time.Now().Add(time.Minute))
			_ = ctx.Value(ctxKey{})
			ctx.Cancel()
		}
	})
	b.Run("stdlib", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ctx, cancel := context.WithDeadline(parent, time.Now().Add(time.Minute))
			_ = ctx.Value(ctxKey{})
			cancel()
		}
	})
}
