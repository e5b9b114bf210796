// Package bus is Plinth's event bus: a thin layer over NATS JetStream that
// every service uses to publish and consume domain events.
//
// # Two shapes, one API
//
// With an empty [Config.URL] the bus runs a NATS server inside the process
// (the `plinth serve` default). Its JetStream store lives under
// <data dir>/nats and, unless [Config.Listen] is set, it opens no TCP port at
// all: clients in the process connect through an in-process pipe. With a URL
// the bus connects to an external NATS cluster and reconnects forever after a
// connection loss. Code that uses a [Bus] cannot tell the two apart.
//
// # Streams
//
// The streams below are part of Plinth's contract; [Bus.EnsureStreams]
// creates them, or updates them in place, idempotently. All use file storage.
//
//   - EVENTS (events.>): ingested domain events, events.<stream>. Limits
//     retention; a 2 minute duplicate window, so a publish that reuses an
//     event id as its message id within that window is dropped by the server.
//   - FEEDBACK (feedback.>): ground-truth labels that arrive later,
//     feedback.<model>. Limits retention.
//   - PREDICTIONS (predictions.>): prediction logs, predictions.<model>.
//     Limits retention with a MaxAge of 7 days: predictions are joined with
//     feedback inside that horizon and are not kept forever.
//   - MODELS (models.>): registry and rollout events,
//     models.<model>.<event>. Limits retention; a 24 hour duplicate window,
//     which the transactional outbox relies on: a row republished after a
//     crash carries the same message id and is dropped as a duplicate.
//   - JOBS (jobs.>): training jobs, jobs.train.<model>. Work-queue
//     retention: a job is removed once a worker acknowledges it.
//
// # Durability of the embedded server
//
// The embedded server's file store writes every message to the operating
// system at once but fsyncs on an interval (nats-server's default, 2 minutes),
// so a power loss or kernel crash can lose acknowledged messages written
// since the last sync; a crash of the process alone loses nothing. Setting
// [Config.SyncAlways] fsyncs every write, which closes that window at a cost
// of one to two orders of magnitude in publish throughput. A NATS cluster
// with replicated streams is the answer for production.
//
// # Prefixes
//
// [Config.StreamPrefix] renames every stream and subject, so that tests (or
// several Plinth installations) can share one NATS server without seeing each
// other: with prefix "t1", the stream MODELS becomes "t1_MODELS" and the
// subject models.fraud.created becomes "t1.models.fraud.created". Callers
// always name subjects without the prefix; [Bus.Publish] applies it, and
// [Bus.Stream] and [Bus.Subject] apply it for consumers.
//
// # Batches
//
// [Bus.Publish] waits for one acknowledgement per call. [Bus.PublishBatch]
// and, for callers that build their own headers, [Publisher.Publish] put a
// whole batch on the connection at once and wait for its acknowledgements
// together, with a per-message outcome (stored, duplicate, failed) and no
// future, timer or channel per message. They use core NATS publishes with
// a reply subject under one inbox subscription per Bus, and resend
// nothing: a message not acknowledged, for whatever reason, is reported
// failed and the caller retries it.
//
// # Tracing
//
// [Bus.Publish] writes the OpenTelemetry context of its ctx into the message
// headers (W3C traceparent through the global propagator) and
// [ExtractContext] reads it back on the consumer side, so that one trace
// follows an event from its producer to its consumers.
//
// # Consumers
//
// Pull consumers used inside the process should pass
// jetstream.PullExpiry([PullExpiry]): with the client's default of 30 s, an
// in-process consumer occasionally stalls for that long (nats-io/nats.go#1622).
package bus
