// Package rollout is the deployment saga: it takes a registered version
// through validation (its registry gate), a canary at rising traffic
// shares behind the challenger alias, and promotion to champion, or rolls
// it back (see the state diagram at StatePending).
//
// Every transition is persisted in the saga log (rollout_sagas,
// rollout_steps) with its models.<model>.rollout_<state> event in the
// outbox, in one transaction, before the next step acts. Steps are
// idempotent: each action on the registry looks first and acts only if
// the change is not there yet, so a controller killed at any point resumes
// where it stopped and applies every change once.
//
// One controller acts at a time: replicas compete for a lease
// (rollout_lease, renewed every --rollout.tick, lasting
// --rollout.lease-ttl); the holder advances sagas, the others stay
// passive, and every saga write checks the lease in its transaction. A
// replica takes over once the lease expires or is released at stop.
//
// The canary advances on the monitor's verdicts (the Verdicts interface:
// a promote verdict counts with at least min_samples per arm; a rollback
// verdict rolls back) or, when a step waits step_timeout without one, on
// its on_timeout policy.
//
// Depends on: registry.API, the SQL store and outbox, Verdicts.
// Target: rollout. Flags: --rollout.*.
package rollout
