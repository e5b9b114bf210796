// Package outbox is the transactional outbox: a module writes the event that
// announces a state change in the same SQL transaction as the change
// ([Enqueue]), and a [Relay] publishes committed rows to the bus afterwards.
// There is no dual write: an event exists if and only if its change
// committed.
//
// # Delivery
//
// The relay publishes rows in id order with the message id
// "outbox-<database id>-<row id>" and marks each row published after the
// bus acknowledges it. A relay that dies between the two publishes the row
// again on restart with the same message id, and the stream's duplicate
// window drops the repeat: MODELS keeps ids for 24 hours, so events on it are
// published exactly once unless a relay stays down longer than that after
// such a crash. Several relays may run on one table (they race harmlessly,
// deduplicated the same way). Subjects outside MODELS get their stream's
// window instead (2 minutes for EVENTS, the server default elsewhere).
//
// A row that the bus refuses blocks the rows after it, to keep order: the
// relay retries it with bounded exponential back-off and counts errors in
// plinth_outbox_publish_errors_total. On PostgreSQL, ids are drawn before
// commit, so rows of transactions committing concurrently can be published
// out of id order.
//
// # Tracing
//
// Enqueue stores the W3C trace context of its ctx in the row's headers and
// the relay publishes with it, so the consumer's spans join the trace of the
// request that made the change.
//
// The table is created by [Migrate] (version table "outbox_db_version") in
// the module's database; modules sharing a database share the table.
package outbox
