package clock

import (
	"strings"
	"testing"
	"time"
)

func TestSimulatedClock(t *testing.T) {
	wall := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	now := func() time.Time { return wall }
	c := Config{SimStart: "2026-01-05T00:00:00Z", Epoch: "2026-12-01T09:59:59Z", Speed: 3600}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	f := c.Func(now)
	if got, want := f(), time.Date(2026, 1, 5, 1, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("one wall second after the epoch = %v, want %v", got, want)
	}
	wall = wall.Add(500 * time.Millisecond)
	if got, want := f(), time.Date(2026, 1, 5, 1, 30, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("half a second later = %v, want %v", got, want)
	}
	other := Config{SimStart: c.SimStart, Epoch: c.Epoch, Speed: c.Speed}
	if !other.Func(now)().Equal(f()) {
		t.Error("two processes with the same flags disagree")
	}
	if (&Config{}).Func(now) != nil {
		t.Error("the clock is on without --clock.sim-start")
	}
}

func TestClockValidate(t *testing.T) {
	err := (&Config{SimStart: "yesterday", Epoch: "", Speed: 0}).Validate()
	for _, want := range []string{"clock.sim-start", "clock.epoch", "clock.speed"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to name %s", err, want)
		}
	}
	if err := (&Config{Speed: 0}).Validate(); err != nil {
		t.Errorf("off: %v", err)
	}
}
