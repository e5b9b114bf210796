// Package mf learns user and item embeddings from interactions and ranks
// items for users: matrix factorization for recommendation.
//
// Two learners share one Model type:
//
//   - TrainSGD fits explicit ratings with biased matrix factorization trained
//     by stochastic gradient descent, the model of Surprise's SVD:
//     r̂(u,i) = μ + b_u + b_i + q_iᵀp_u, one update per rating, ratings
//     visited in Surprise's order (grouped by user, the same every epoch) or,
//     as an option, shuffled each epoch by a seeded generator. It is
//     single-threaded so a seed gives bit-identical results on every machine
//     (no fused multiply-adds anywhere; on amd64 with AVX2 the step runs in
//     Go assembly, sgdstep_amd64.s, with the same arithmetic).
//   - TrainALS fits implicit feedback with alternating least squares (Hu,
//     Koren and Volinsky 2008): confidence c = 1 + α·r on observed pairs,
//     preference 1 on observed pairs and 0 elsewhere. Each user and item
//     solve takes a few conjugate-gradient steps warm-started from the last
//     iteration (Takács, Pilászy and Tikk 2011). Users (then items) are
//     solved in parallel; every solve is independent, so the result does not
//     depend on the number of workers.
//
// A Model predicts a score for a (user, item) pair, recommends the top k
// items a user has not interacted with in training (partial selection with a
// bounded heap, no full sort), and folds in a new user from their items
// without retraining. Models save to and load from Plinth's artifact format
// (kinds "mf.sgd" and "mf.als"); Load treats its input as untrusted.
//
// Popularity and ItemKNN are the baselines ranked beside ALS in benchmarks.
//
// Users and items are dense indices 0..n-1; mapping outside ids to indices is
// the caller's job. A trained Model is immutable and safe for concurrent use.
// Bad input (empty data, NaN, out-of-range ids, k ≤ 0) is an error wrapping
// ErrInput or ErrUnknown, never a panic.
package mf
