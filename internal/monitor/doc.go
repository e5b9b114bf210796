// Package monitor watches live models: it joins predictions with the
// labels that arrive later, keeps rolling quality, error-rate, latency and
// drift figures per model version, turns SLO and drift rules into alerts
// and retrain requests, and judges canaries for the rollout saga.
//
// # Data flow
//
//	PREDICTIONS ─┐                          ┌─► /metrics, Status (REST, gRPC)
//	             ├─► joiner ─► windows ─────┼─► Verdict (rollout saga)
//	FEEDBACK ────┘   (by prediction id, or  └─► Evaluate ─► alerts (log, webhook)
//	                  entity ± join window)                └► JOBS retrain request
//
// Labels join a prediction by its id, or by entity when the label's event
// time lies within ±join window of the prediction's time; for an entity
// label every version that scored the entity (champion, challenger,
// shadow) gets it once. Either side may arrive first. A label joins only
// while its prediction is younger than the lateness, and lands in the
// window bucket of the prediction's time. Redelivered messages are
// recognised by id and never count twice. Predictions and labels waiting
// for a join are capped (the oldest evicted and counted).
//
// # Windows
//
// Each model version has a ring of buckets of fixed width by prediction
// time. A bucket holds counts of predictions and errors, a latency
// histogram, the joined (score, label) pairs (a uniform sample past the
// cap), recommender hits and NDCG sums, and a drift window over the
// version's training profile (from its artifact header; versions without
// one skip drift). Figures are computed over the live buckets on demand.
// Windows live in memory only: on start the consumers replay the streams
// from now − (window + join window), which rebuilds them.
//
// # Rules
//
// A YAML rules file (--monitor.rules-file, see testdata/rules.yaml and
// the README) sets per model the task and quality metric, SLOs, drift
// limits, canary rules and a retrain template. Retrain job ids are
// deterministic per (model, trigger, cooldown period) and a per-model
// cooldown holds further requests, so redelivery or two replicas never
// storm the trainer.
//
// API is the contract: Service implements it, client.Client implements it
// over gRPC. http.go and grpc.go are transports only.
//
// Target: monitor. Flags: --monitor.*. Depends on the bus (consumes
// PREDICTIONS and FEEDBACK, publishes to JOBS) and the registry API (drift
// profiles).
package monitor
