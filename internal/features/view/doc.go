// Package view is the pure core of the feature store: feature views
// declared in YAML, compiled into a fixed layout; the per-entity state that
// events update (sliding windows of time buckets holding count, sum, mean,
// min, max, last, distinct count by HyperLogLog and last-N values); the
// computation of an entity's features as of a moment; and the binary codec
// that stores the state. It does no I/O and keeps no clock: callers pass
// times in, so the online store, a replay and a point-in-time join all run
// the same code and agree to the bit.
//
// Windows. Each window of a view is a ring of Slots buckets of width
// window/Slots, keyed by event time. At time now the window covers the
// buckets whose start is in (bucket(now)-Slots, bucket(now)]: its edge moves
// in steps of one bucket width. A feature without a window covers the
// entity's whole life (until its TTL).
//
// Lateness and idempotency. An entity's watermark is the largest event
// time it has seen. An event older than watermark-AllowedLateness is
// dropped as late; any other event lands in the bucket of its own event
// time. Each applied event's id (the event id, or the stream sequence) is
// kept while its time is within the allowed lateness of the watermark, and
// an event whose id is kept is dropped as a duplicate. Together these make
// Apply idempotent under redelivery: a redelivered event is either still
// remembered, or older than the lateness bound and dropped as late (it was
// counted the first time). The memory cost is the ids of the last
// AllowedLateness of event time per entity, not of the whole window.
// Applying the same events in the same order always gives the same bytes,
// so a replay from the start of the stream rebuilds the live state exactly.
package view
