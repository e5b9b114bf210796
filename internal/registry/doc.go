// Package registry is the model registry: models, auto-numbered versions,
// content-addressed artifacts, metrics and tags, aliases such as champion
// and challenger, lineage, archive and an audit log of every change.
//
// It owns the registry tables in the SQL store (SQLite or PostgreSQL, same
// migrations) and the artifacts in the blob store. Every change is written
// with its audit row and its domain event in one SQL transaction; the
// outbox relay publishes the events to the MODELS stream as
// models.<model>.<event> (see events.go), so consumers never see an event
// for a change that was rolled back, nor miss one that committed.
//
// API is the contract. Service implements it in process; client.Client
// implements it over gRPC; registrytest holds the one behaviour suite both
// must pass. REST /v1 (http.go) and gRPC (grpc.go) are transports only.
//
// Target: registry. Flags: --registry.*.
package registry
