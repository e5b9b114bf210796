package mf

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// SGDConfig sets up TrainSGD. DefaultSGDConfig gives Surprise's SVD
// hyperparameters with the init spread and visiting order chosen on
// validation.
type SGDConfig struct {
	Factors int     // factor dimension, > 0
	Epochs  int     // passes over the ratings, > 0
	LR      float64 // learning rate for biases and factors, > 0
	Reg     float64 // L2 weight for biases and factors, ≥ 0
	// InitStd is the initial factor spread: factors start as N(0, InitStd²),
	// ≥ 0. DefaultSGDConfig uses 0.05, half of Surprise's init_std_dev: with
	// 50 factors, 20 epochs, lr 0.005 and reg 0.02, a validation split of the
	// training part picked 0.05 over {0.01, 0.02, 0.05, 0.1, 0.15} on both
	// ML-100K u1 and ML-1M (bench/mf/README.md). Set 0.1 to reproduce
	// Surprise.
	InitStd float64
	Seed    uint64 // seeds factor initialisation (and the shuffle, with OrderShuffle)
	// Order is the visiting order of the ratings. The zero value is
	// Surprise's (OrderByUser); DefaultSGDConfig uses OrderShuffle, which
	// does not depend on the order of the input.
	Order SGDOrder
	// BiasInit is how the biases start. The zero value is Surprise's
	// (BiasZero).
	BiasInit SGDBiasInit
	// Update is the order of the updates within one rating's step. The
	// zero value is Surprise's (UpdateSimultaneous).
	Update SGDUpdate
}

// SGDBiasInit is how TrainSGD starts the user and item biases.
type SGDBiasInit int

const (
	// BiasZero, the zero value, starts every bias at 0, as Surprise's SVD.
	BiasZero SGDBiasInit = iota
	// BiasBaseline starts the biases at the shrunk baseline estimates of
	// Koren (2010, "Factor in the Neighbors", §2.1), computed once from the
	// training ratings: b_i = Σ_u (r − μ) / (25 + |R(i)|) over the item's
	// ratings, then b_u = Σ_i (r − μ − b_i) / (10 + |R(u)|) over the user's,
	// with the paper's shrinkage constants λ2 = 25 and λ3 = 10.
	BiasBaseline
)

// Shrinkage constants of BiasBaseline, from Koren (2010); fixed, not tuned.
const (
	baselineItemShrink = 25
	baselineUserShrink = 10
)

// SGDUpdate is the order of the parameter updates within one rating's SGD
// step. Both compute the error e = r − r̂ once and update b_u and b_i from
// it; they differ only in the factor update.
type SGDUpdate int

const (
	// UpdateSimultaneous, the zero value, updates p_u and q_i both from
	// their old values: Surprise's SVD (and Funk's code).
	UpdateSimultaneous SGDUpdate = iota
	// UpdateSequential updates q_i first and then p_u from the new q_i:
	// the two assignments of Koren, Bell and Volinsky (2009, "Matrix
	// Factorization Techniques for Recommender Systems") run in the order
	// they are written.
	UpdateSequential
)

// SGDOrder is the order in which each epoch visits the ratings.
type SGDOrder int

const (
	// OrderByUser, the zero value, visits the ratings grouped by user, users
	// in order of their first rating in the input, each user's ratings in
	// input order, the same order every epoch. This is Surprise's SVD, which
	// iterates trainset.all_ratings() without shuffling.
	OrderByUser SGDOrder = iota
	// OrderShuffle visits the ratings in a fresh uniformly random order each
	// epoch (Fisher–Yates, from the generator seeded by Seed).
	OrderShuffle
)

// DefaultSGDConfig returns Surprise's SVD hyperparameters (100 factors, 20
// epochs, learning rate 0.005, regularisation 0.02) with factors started as
// N(0, 0.05²) and the ratings reshuffled every epoch. Both choices come from
// validation splits of the training data in bench/mf: σ = 0.05 beat
// Surprise's 0.1 on ML-100K u1 and ML-1M, and a fresh shuffle each epoch
// beat Surprise's fixed by-user order on ML-100K u1 (whose file is sorted
// by user, then item) and tied with it on ML-1M (whose rows are in random
// order already). Zero Order and InitStd 0.1 reproduce Surprise.
func DefaultSGDConfig() SGDConfig {
	return SGDConfig{Factors: 100, Epochs: 20, LR: 0.005, Reg: 0.02, InitStd: 0.05, Seed: 1, Order: OrderShuffle}
}

// Validate reports every invalid setting at once.
func (c SGDConfig) Validate() error {
	var errs []error
	if c.Factors <= 0 || c.Factors > maxFactors {
		errs = append(errs, fmt.Errorf("%w: factors %d, want 1..%d", ErrInput, c.Factors, maxFactors))
	}
	if c.Epochs <= 0 {
		errs = append(errs, fmt.Errorf("%w: epochs %d, want > 0", ErrInput, c.Epochs))
	}
	if !(c.LR > 0) || math.IsInf(c.LR, 0) {
		errs = append(errs, fmt.Errorf("%w: learning rate %v, want > 0", ErrInput, c.LR))
	}
	if !(c.Reg >= 0) || math.IsInf(c.Reg, 0) {
		errs = append(errs, fmt.Errorf("%w: regularisation %v, want >= 0", ErrInput, c.Reg))
	}
	if !(c.InitStd >= 0) || math.IsInf(c.InitStd, 0) {
		errs = append(errs, fmt.Errorf("%w: init std %v, want >= 0", ErrInput, c.InitStd))
	}
	if c.Order != OrderByUser && c.Order != OrderShuffle {
		errs = append(errs, fmt.Errorf("%w: order %d, want OrderByUser or OrderShuffle", ErrInput, c.Order))
	}
	if c.BiasInit != BiasZero && c.BiasInit != BiasBaseline {
		errs = append(errs, fmt.Errorf("%w: bias init %d, want BiasZero or BiasBaseline", ErrInput, c.BiasInit))
	}
	if c.Update != UpdateSimultaneous && c.Update != UpdateSequential {
		errs = append(errs, fmt.Errorf("%w: update %d, want UpdateSimultaneous or UpdateSequential", ErrInput, c.Update))
	}
	return errors.Join(errs...)
}

// maxFactors bounds the factor dimension (training and loading).
const maxFactors = 4096

// triple is one rating, packed so an epoch reads ratings sequentially.
type triple struct {
	u, i int32
	r    float64
}

// TrainSGD fits biased matrix factorization to explicit ratings:
// minimise Σ (r − μ − b_u − b_i − q_iᵀp_u)² + Reg·(b_u² + b_i² + |p_u|² + |q_i|²)
// by one SGD step per rating, visiting the ratings in cfg.Order (zero
// value: Surprise's, grouped by user, the same order every epoch) and
// updating within a step as cfg.Update says. μ is the mean rating; biases
// start as cfg.BiasInit says (zero value: 0), factors at N(0, InitStd²)
// (users first, then items, from one PCG stream seeded by Seed). Training
// is single-threaded and deterministic for a given seed. Users or items
// without ratings end with zero factors and bias, so their predictions fall
// back to the biases that are known.
func TrainSGD(data Ratings, cfg SGDConfig) (*Model, error) {
	if err := data.Validate(); err != nil {
		return nil, fmt.Errorf("train sgd: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("train sgd: %w", err)
	}
	m := newSGDModel(&data, cfg)
	rng := newRNG(cfg.Seed)
	initNormal(rng, m.userF, cfg.InitStd)
	initNormal(rng, m.itemF, cfg.InitStd)
	if cfg.BiasInit == BiasBaseline {
		m.initBaselineBiases(&data)
	}
	t := packRatings(&data)
	if cfg.Order == OrderByUser {
		t = groupByUser(t, data.NumUsers)
	}
	seq := cfg.Update == UpdateSequential
	for range cfg.Epochs {
		if cfg.Order == OrderShuffle {
			shuffle(rng, t)
		}
		_ = m.sgdEpoch(t, cfg.LR, cfg.Reg, seq)
	}
	m.zeroUnrated(&data)
	return m, nil
}

// seedStream is the PCG stream constant shared by every seeded generator.
const seedStream = 0x9e3779b97f4a7c15

func newSGDModel(data *Ratings, cfg SGDConfig) *Model {
	nu, ni, k := data.NumUsers, data.NumItems, cfg.Factors
	m := &Model{
		kind: KindSGD, numUsers: nu, numItems: ni, factors: k,
		userBias: make([]float64, nu), itemBias: make([]float64, ni),
		userF: make([]float64, nu*k), itemF: make([]float64, ni*k),
		minR: math.Inf(1), maxR: math.Inf(-1),
		hp: hyper{lr: cfg.LR, reg: cfg.Reg},
	}
	var sum float64
	for _, v := range data.Values {
		sum += v
		m.minR, m.maxR = min(m.minR, v), max(m.maxR, v)
	}
	m.mean = sum / float64(len(data.Values))
	m.seen = seenMatrix(data)
	return m
}

// seenMatrix returns the user → items pattern of data (values dropped).
func seenMatrix(data *Ratings) csr {
	ones := make([]float64, len(data.Values))
	c := buildCSR(data.NumUsers, data.NumItems, data.Users, data.Items, ones)
	c.val = nil
	return c
}

func initNormal(rng *rand.Rand, x []float64, std float64) {
	for j := range x {
		x[j] = rng.NormFloat64() * std
	}
}

func packRatings(data *Ratings) []triple {
	t := make([]triple, len(data.Values))
	for j := range t {
		t[j] = triple{data.Users[j], data.Items[j], data.Values[j]}
	}
	return t
}

// groupByUser returns t stably grouped by user, users in order of their
// first rating in t: the order of Surprise's trainset.all_ratings().
func groupByUser(t []triple, numUsers int) []triple {
	rank := make([]int32, numUsers) // 1 + position of the user's group; 0 unseen
	var groups int32
	for _, x := range t {
		if rank[x.u] == 0 {
			groups++
			rank[x.u] = groups
		}
	}
	next := make([]int, groups+1) // start of each group, by rank
	for _, x := range t {
		next[rank[x.u]]++
	}
	for g, sum := 1, 0; g <= int(groups); g++ {
		next[g], sum = sum, sum+next[g]
	}
	out := make([]triple, len(t))
	for _, x := range t {
		g := rank[x.u]
		out[next[g]] = x
		next[g]++
	}
	return out
}

// shuffle permutes t uniformly (Fisher–Yates).
func shuffle(rng *rand.Rand, t []triple) {
	for j := len(t) - 1; j > 0; j-- {
		k := int(rng.Uint64N(uint64(j + 1)))
		t[j], t[k] = t[k], t[j]
	}
}

// initBaselineBiases sets the biases to Koren's shrunk baseline estimates
// (see BiasBaseline): item biases from the residuals after μ, then user
// biases from the residuals after μ and the item bias.
func (m *Model) initBaselineBiases(data *Ratings) {
	res := make([]float64, len(data.Values))
	for j, v := range data.Values {
		res[j] = v - m.mean
	}
	shrunkMeans(m.itemBias, data.Items, res, baselineItemShrink)
	for j, i := range data.Items {
		res[j] -= m.itemBias[i]
	}
	shrunkMeans(m.userBias, data.Users, res, baselineUserShrink)
}

// shrunkMeans sets dst[e] = Σ res[j] / (shrink + n_e) over the rows j with
// ids[j] = e, where n_e counts those rows; entities without rows get 0.
func shrunkMeans(dst []float64, ids []int32, res []float64, shrink float64) {
	count := make([]float64, len(dst))
	clear(dst)
	for j, e := range ids {
		dst[e] += res[j]
		count[e]++
	}
	for e := range dst {
		dst[e] /= shrink + count[e]
	}
}

// sgdEpoch applies one SGD step per rating in t, in order, updating the
// factors simultaneously or, with seq, sequentially (see SGDUpdate). This
// is the hot loop: no allocation. Each step's factor update also computes
// the next step's dot product in the same pass over the rows (sgdStep), so
// a step reads its two rows once; the arithmetic is the textbook loop's
// (dot, then update) in the same order, bit for bit.
func (m *Model) sgdEpoch(t []triple, lr, reg float64, seq bool) float64 {
	if len(t) == 0 {
		return 0
	}
	k, mu := m.factors, m.mean
	bu, bi := m.userBias, m.itemBias
	decay := 1 - lr*reg
	var touch float64
	d := dot(m.userRow(int(t[0].u)), m.itemRow(int(t[0].i)))
	for j, x := range t {
		if j+2 < len(t) {
			// Touch the rows two ratings ahead so their first cache lines
			// load while this step computes (Go has no prefetch intrinsic).
			n := t[j+2]
			touch += m.userF[int(n.u)*k] + m.itemF[int(n.i)*k+k-1]
		}
		pu := m.userF[int(x.u)*k : int(x.u)*k+k]
		qi := m.itemF[int(x.i)*k : int(x.i)*k+k]
		e := x.r - (mu + bu[x.u] + bi[x.i] + d)
		bu[x.u] += lr * (e - reg*bu[x.u])
		bi[x.i] += lr * (e - reg*bi[x.i])
		// The last step computes a dot product of its own updated rows
		// that nothing reads, rather than branch on every step.
		n := t[min(j+1, len(t)-1)]
		pn := m.userF[int(n.u)*k : int(n.u)*k+k]
		qn := m.itemF[int(n.i)*k : int(n.i)*k+k]
		d = sgdStep(pu, qi, pn, qn, lr*e, decay, seq)
	}
	return touch
}

// zeroUnrated clears the factors of users and items with no ratings, which
// training never touched past their random start.
func (m *Model) zeroUnrated(data *Ratings) {
	ucount := make([]bool, m.numUsers)
	icount := make([]bool, m.numItems)
	for j := range data.Users {
		ucount[data.Users[j]] = true
		icount[data.Items[j]] = true
	}
	for u, ok := range ucount {
		if !ok {
			clear(m.userRow(u))
		}
	}
	for i, ok := range icount {
		if !ok {
			clear(m.itemRow(i))
		}
	}
}

// newRNG returns the generator every learner draws from for a seed.
func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seedStream)) }
