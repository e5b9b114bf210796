// Package pbtime converts between time.Time and protobuf timestamps the
// way every Plinth gRPC transport does: the zero time is an absent field,
// and an absent field reads back as the zero time, in UTC.
package pbtime

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"
)

// To returns t as a timestamp, or nil for the zero time.
func To(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// From returns the time of ts in UTC, or the zero time for nil.
func From(ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	return ts.AsTime().UTC()
}
