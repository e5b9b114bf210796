// Package drift measures how far live data has moved from a model's
// training data: the population stability index (PSI), the two-sample
// Kolmogorov–Smirnov statistic (KS) and, for categorical features, Pearson's
// chi-square test of homogeneity.
//
// A Profile holds per-feature reference histograms on fixed bins (quantile
// bins of the training data for numeric features, one bin per code for
// categorical ones) and travels in a model artifact's header. Live data is
// counted into a Window over the same bins: memory is bounded by the bins,
// not the rows, and windows merge exactly, so shards and time intervals
// combine (Rolling keeps the last N intervals). Window.Compare returns PSI,
// KS and chi-square per feature.
//
// KS on a window is computed from the fine bins, not the raw values: the
// result is a lower bound of the exact two-sample statistic and exceeds it
// by at most the largest share of either side in one bin (Result.KSBound;
// about 1/Bins for the reference). KS on raw samples is available as KS.
package drift
