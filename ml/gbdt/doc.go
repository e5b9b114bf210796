// Package gbdt trains and serves gradient-boosted decision trees in pure Go:
// histogram-based boosting in the manner of XGBoost's "hist" method, with
// Plinth's own artifact format and an importer for XGBoost JSON models.
//
// Training (Train) bins every feature into at most Params.MaxBin quantile
// bins (one of them reserved for missing values), builds gradient and hessian
// histograms in parallel over Params.Threads goroutines, uses the
// histogram-subtraction trick, and grows trees depth-wise (MaxDepth) or
// leaf-wise (MaxLeaves, GrowPolicy "lossguide"). Missing values (NaN) learn a
// default direction at every split. Objectives: "binary:logistic",
// "reg:squarederror", and multiclass softmax ("multi:softprob",
// "multi:softmax": one tree per class and round; see PredictRowClasses).
// The result is a pure function of the data, the Params and the thread
// count: the same inputs give bit-identical models. On amd64 with AVX the
// histogram loops run in Go assembly (hist_amd64.s; no cgo), which sums
// exactly as the Go loops do, so a model does not depend on the machine's
// instruction set either.
//
// Prediction walks trees flattened into one contiguous node array per model.
// Model.PredictRow allocates nothing; Model.PredictFrame scores many rows in
// blocks. A split sends x left when x < threshold (float32 comparison) and a
// NaN to the split's default side, exactly as XGBoost does, so imported
// XGBoost models (ImportXGBoostJSON) predict what XGBoost predicts.
//
// A Model is immutable once built and safe for concurrent use. Bad input
// (NaN or infinite labels, no rows, a constant label, a row of the wrong
// width, a corrupt file) is an error wrapping ErrInput or ErrFormat, never a
// panic.
package gbdt
