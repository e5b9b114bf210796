package mf

import (
	"fmt"
	"math"
)

// Kind values name a model's learner; they are also its artifact kind.
const (
	KindSGD = "mf.sgd" // explicit biased MF trained by SGD
	KindALS = "mf.als" // implicit ALS
)

// Model is a trained factorization: per-user and per-item factor vectors
// (flat, row-major, Factors() wide), biases for explicit models, and the
// items each training user interacted with (excluded from recommendations).
// A Model is immutable after training or loading and safe for concurrent use.
type Model struct {
	kind               string
	numUsers, numItems int
	factors            int
	mean               float64   // global mean rating (explicit); 0 for implicit
	minR, maxR         float64   // rating range predictions are clipped to (explicit)
	userBias, itemBias []float64 // nil for implicit models
	userF, itemF       []float64
	seen               csr // user → items seen in training, sorted
	hp                 hyper
	// itemGram is YᵀY + reg·I of an implicit model's item factors, which
	// every implicit fold-in starts from: computed once when the factors
	// are final (training, loading), never written afterwards.
	itemGram []float64
}

// hyper holds the training settings fold-in reuses.
type hyper struct {
	lr, reg  float64 // SGD step size and L2 weight; reg is also ALS's λ
	alpha    float64 // ALS confidence slope
	binarize bool    // ALS: confidence 1+α regardless of value
}

// User is a user's representation for scoring: a bias (explicit models), a
// factor vector, and the items to exclude from recommendations, sorted
// ascending without repeats. FoldIn builds one for a new user; UserVector
// copies one out for a training user.
type User struct {
	Bias    float64
	Factors []float64
	Seen    []int32
}

// Scored is an item with its score.
type Scored struct {
	Item  int32
	Score float64
}

// Kind returns KindSGD or KindALS.
func (m *Model) Kind() string { return m.kind }

// NumUsers returns the number of training users.
func (m *Model) NumUsers() int { return m.numUsers }

// NumItems returns the number of items.
func (m *Model) NumItems() int { return m.numItems }

// Factors returns the factor dimension.
func (m *Model) Factors() int { return m.factors }

// explicit reports whether the model predicts ratings (has biases).
func (m *Model) explicit() bool { return m.userBias != nil }

func (m *Model) checkUser(u int) error {
	if u < 0 || u >= m.numUsers {
		return fmt.Errorf("%w: user %d, model has 0..%d", ErrUnknown, u, m.numUsers-1)
	}
	return nil
}

func (m *Model) checkItem(i int) error {
	if i < 0 || i >= m.numItems {
		return fmt.Errorf("%w: item %d, model has 0..%d", ErrUnknown, i, m.numItems-1)
	}
	return nil
}

// userRow returns user u's factor vector (aliasing the model).
func (m *Model) userRow(u int) []float64 { return m.userF[u*m.factors : (u+1)*m.factors] }

// itemRow returns item i's factor vector (aliasing the model).
func (m *Model) itemRow(i int) []float64 { return m.itemF[i*m.factors : (i+1)*m.factors] }

// Predict returns the model's score for user u and item i. For an explicit
// model this is the predicted rating μ + b_u + b_i + q_iᵀp_u clipped to the
// training range; for an implicit model, the preference q_iᵀp_u.
func (m *Model) Predict(u, i int) (float64, error) {
	if err := m.checkUser(u); err != nil {
		return 0, err
	}
	if err := m.checkItem(i); err != nil {
		return 0, err
	}
	var ub float64
	if m.explicit() {
		ub = m.userBias[u]
	}
	return m.score(ub, m.userRow(u), i), nil
}

// score is the prediction for a user with bias ub and factors x on item i.
func (m *Model) score(ub float64, x []float64, i int) float64 {
	s := dot(x, m.itemRow(i))
	if !m.explicit() {
		return s
	}
	s += m.mean + ub + m.itemBias[i]
	return min(max(s, m.minR), m.maxR)
}

// UserVector returns a copy of training user u's representation.
func (m *Model) UserVector(u int) (User, error) {
	if err := m.checkUser(u); err != nil {
		return User{}, err
	}
	v := User{Factors: append([]float64(nil), m.userRow(u)...)}
	if m.explicit() {
		v.Bias = m.userBias[u]
	}
	seen, _ := m.seen.row(u)
	v.Seen = append([]int32(nil), seen...)
	return v, nil
}

// ScoreUser returns the score of item i for user v, as Predict does for a
// training user.
func (m *Model) ScoreUser(v User, i int) (float64, error) {
	if err := m.checkVector(v); err != nil {
		return 0, err
	}
	if err := m.checkItem(i); err != nil {
		return 0, err
	}
	return m.score(v.Bias, v.Factors, i), nil
}

// checkVector validates a caller-supplied User against the model.
func (m *Model) checkVector(v User) error {
	if len(v.Factors) != m.factors {
		return fmt.Errorf("%w: user vector has %d factors, model has %d", ErrInput, len(v.Factors), m.factors)
	}
	if math.IsNaN(v.Bias) || math.IsInf(v.Bias, 0) {
		return fmt.Errorf("%w: user bias is %v", ErrInput, v.Bias)
	}
	for f, x := range v.Factors {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("%w: user factor %d is %v", ErrInput, f, x)
		}
	}
	for j, i := range v.Seen {
		if i < 0 || int(i) >= m.numItems {
			return fmt.Errorf("%w: seen item %d, model has 0..%d", ErrUnknown, i, m.numItems-1)
		}
		if j > 0 && i <= v.Seen[j-1] {
			return fmt.Errorf("%w: seen items not sorted ascending without repeats at position %d", ErrInput, j)
		}
	}
	return nil
}

// dot returns the inner product of a and b (len(b) ≥ len(a)), with four
// independent accumulators so the adds pipeline. The loop shape lets the
// compiler drop every bounds check. Each product is rounded on its own
// (the conversions forbid fused multiply-adds), as in sgdStep, so the
// result is the same on every machine.
func dot(a, b []float64) float64 {
	var s0, s1, s2, s3 float64
	for ; len(a) >= 4 && len(b) >= 4; a, b = a[4:], b[4:] {
		s0 += float64(a[0] * b[0])
		s1 += float64(a[1] * b[1])
		s2 += float64(a[2] * b[2])
		s3 += float64(a[3] * b[3])
	}
	for j := 0; j < len(a) && j < len(b); j++ {
		s0 += float64(a[j] * b[j])
	}
	return (s0 + s1) + (s2 + s3)
}
