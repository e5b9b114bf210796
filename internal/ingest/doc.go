// Package ingest is event intake: it checks events against the schema of
// their stream, and publishes the valid ones to the EVENTS stream of the bus
// as events.<stream>, acknowledging a request only after JetStream has
// persisted every event it reports accepted.
//
// Streams and their schemas are declared in YAML (see LoadStreams and
// testdata/streams.yaml): fields with types and required flags, the entity
// key fields, the event-time field and an optional event-id field. With no
// file configured the service knows no stream, and every name is 404.
//
// Guarantees:
//   - Each event of a batch is checked on its own; the valid ones are
//     published and the invalid ones are reported by index with the field
//     and the reason. A batch is never rejected for one bad event.
//   - An event with an id is published with the JetStream message id
//     "<stream>/<id>", so a repeat within the EVENTS duplicate window is
//     dropped by the server and reported as a duplicate, not published twice.
//     Consumers must still tolerate redelivery (the features service does).
//   - Accepted means persisted: the service waits for every publish
//     acknowledgement. When the bus is slow or too many events are in flight
//     it answers ErrBusy (HTTP 503, or 429 when the in-flight limit is hit,
//     both with Retry-After) and reports which events were not accepted; it
//     never drops an event silently.
//   - Published messages carry the event time (Plinth-Event-Time, Unix
//     nanoseconds) and the event id (Plinth-Event-Id) as headers, and the
//     trace context of the request, so consumers need not know the schema.
//
// API is the contract; Service implements it in process and client.Client
// over gRPC. REST (http.go) and gRPC (grpc.go) are transports only.
//
// Target: ingest. Flags: --ingest.*.
package ingest
