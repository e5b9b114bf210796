// Package features is the feature store service: it turns the events of
// the EVENTS stream into per-entity features over sliding windows (package
// view), keeps them in an online store for lookups that take microseconds
// (package online: embedded or Redis), writes every event to an offline
// log in the blob store, and builds point-in-time training sets from it.
//
// Consumer. Each view has a durable JetStream consumer, features-<view>,
// on events.<source>. With the embedded store, whose state lives in its
// snapshot, the consumer is re-created at start to resume just after the
// snapshot's position; with Redis it keeps its acknowledged position, and
// several replicas may share it. Updates are idempotent under redelivery
// and a replay from the start of the stream rebuilds the same state (see
// package view for how). An event is acknowledged once it is in the online
// store and its offline segment is written.
//
// Offline log. Events are buffered and written as NDJSON segments keyed
// offline/<view>/<yyyy-mm-dd>/<hh>/<first seq>-<last seq>-<writer>.ndjson,
// partitioned by event-time hour; each record keeps the stream sequence,
// event id, event time, arrival time and the event.
//
// Point in time. The features of a label (entity, time T) are those the
// online store would have served at T: the entity's events that arrived
// (were applied to the online store, on the service's clock) at or before T and whose event time is at
// or before T, applied in arrival order with the same lateness rule, and
// computed as of T. So a late event counts in a training row only if it
// had arrived by the label's time, an event stamped after T never counts,
// and out-of-order events land in the buckets of their own event time.
//
// API is the contract (Lookup, the in-process call inference makes, and
// TrainingSet); Service implements it, client.Client implements it over
// gRPC. REST (http.go) and gRPC (grpc.go) are transports only.
//
// Target: features. Flags: --features.*, and --redis.url for the store.
package features
