package pbtime

import (
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	if To(time.Time{}) != nil || !From(nil).IsZero() {
		t.Error("zero time must be an absent field and back")
	}
	at := time.Date(2026, 11, 24, 10, 0, 0, 123456000, time.FixedZone("x", 3600))
	if got := From(To(at)); !got.Equal(at) || got.Location() != time.UTC {
		t.Errorf("got %v, want %v in UTC", got, at)
	}
}
