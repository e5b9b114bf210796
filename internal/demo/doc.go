// Package demo runs a product's whole loop in one process on embedded
// defaults: `plinth demo fraud` (card fraud, simulated) and `plinth demo
// recommend` (MovieLens ratings). It starts every target of the platform
// on a data directory, writes the product's declarations (stream schema,
// feature views, monitor rules, gate) there, and drives the product's
// replay in accelerated time through phases, each with an expected
// outcome: bootstrap data, a first model (trained by a job, gated,
// promoted), live traffic, injected drift that the monitor sees as decay
// and answers with a retrain that goes through the canary to champion,
// and a deliberately bad candidate that the canary rolls back by itself
// while the champion stays put.
//
// The replay's clock is the platform's event clock (app.App.EventClock):
// feature windows and retrain ranges follow simulated time, while the
// monitor's rolling windows, the canary and the rollout saga run on the
// wall clock, so days of transactions pass in seconds.
//
// A live view redraws a block of lines every 250 ms on a terminal, and
// writes timestamped lines otherwise. Run returns a Report naming each
// phase's outcome; the command exits non-zero naming the phase that
// failed.
package demo
