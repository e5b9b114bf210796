// Package ml is the root of Plinth's machine-learning library: algorithms,
// metrics and data frames as plain Go packages with no I/O beyond readers and
// writers handed in by the caller, and no service code. Every package under
// ml/ is usable on its own.
//
//   - frame: columnar float32 data frames with missing values (NaN).
//   - artifact: the versioned, self-describing model file envelope.
//   - gbdt, linear, iforest, mf: the learners.
//   - metrics, drift: evaluation and drift statistics.
package ml
