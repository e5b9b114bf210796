package gbdt

import "errors"

var (
	// ErrInput is wrapped by errors caused by the caller's data or
	// parameters: they say what was expected and what came.
	ErrInput = errors.New("gbdt: bad input")
	// ErrFormat is wrapped by errors reading a model file (Plinth artifact
	// payload or XGBoost JSON) that is corrupt, hostile or unsupported.
	ErrFormat = errors.New("gbdt: bad model format")
)
