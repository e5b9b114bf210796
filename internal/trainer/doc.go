// Package trainer is the training service: workers pull training jobs from
// the JOBS work queue (jobs.train.<model>, work-queue retention, one
// durable consumer shared by every worker and replica), build the data set,
// train one of the ml/ learners, evaluate the candidate and the current
// champion on the same holdout, measure the candidate's p99 single-row
// predict latency, write an artifact (schema, metrics, drift reference
// profile, lineage) and register it as a new version. It then evaluates
// the version's validation gate and, when the model's gate policy asks for
// it, starts the version's rollout.
//
// The trainer is stateless: a job's state lives in the registry
// (registry.API SubmitJob / UpdateJob), and the trainer reports there:
// start, progress, success with the version, failure with the error.
//
// Delivery: a job message is acknowledged only once the job is finished
// (succeeded, failed for good, or cancelled). A transient failure (the
// registry or the blob store unreachable) is negatively acknowledged with
// exponential back-off and redelivered, up to --trainer.max-attempts
// deliveries; bad input (an unreadable file, unknown parameters) fails the
// job at once. A job id registers at most one version however often the
// job is delivered: the registry returns the version registered under the
// job id, and a redelivered job whose version exists skips training.
//
// Cancellation: CancelJob in the registry marks the job cancelled; the
// worker sees it at its next report or poll (--trainer.heartbeat), stops
// training and acknowledges the message.
//
// Data: a CSV file uploaded to the registry's blob store (rows in time
// order, or ordered by the time_column param), or a point-in-time training
// set of a feature view joined with FEEDBACK labels over a time range,
// through the TrainingSets and Labels interfaces (nil: such jobs fail with
// a clear error). The split is time-ordered by default: the last holdout
// share of rows is the holdout.
//
// Recommenders (mf.als) train on interactions instead: the model's
// FEEDBACK labels over the range, one per visit of a user, name the items
// the user consumed. The last holdout share of visits by time is the
// holdout; the candidate and the champion are judged on it as inference
// serves them, each holdout user folded in from the recent items the user
// view held at the visit (a point-in-time set), by HR@10 and NDCG@10. The
// artifact's schema names those recent item features and carries the item
// space (see learner_mf.go).
//
// Depends on: registry.API, the bus. Target: trainer. Flags: --trainer.*.
package trainer
