package gbdt

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/plinthai/plinth/ml/artifact"
	"github.com/plinthai/plinth/ml/frame"
)

// Data is a feature frame with one label per row.
type Data struct {
	X *frame.Frame
	Y []float32
	// Schema optionally describes X's columns (types, categories), for
	// example frame.Encoder.Fields(); it is stored in the model so serving
	// can encode rows the same way. Its names must match X's.
	Schema []artifact.Field
}

// check validates the data for training or validation.
func (d *Data) check(what, objective string, constantOK bool) error {
	if d == nil || d.X == nil {
		return fmt.Errorf("%w: %s: no data", ErrInput, what)
	}
	n, nf := d.X.NumRows(), d.X.NumCols()
	if n == 0 || nf == 0 {
		return fmt.Errorf("%w: %s: %d rows × %d features, want at least 1 × 1", ErrInput, what, n, nf)
	}
	if nf > maxFeatures {
		return fmt.Errorf("%w: %s: %d features, at most %d", ErrInput, what, nf, maxFeatures)
	}
	if len(d.Y) != n {
		return fmt.Errorf("%w: %s: %d labels for %d rows", ErrInput, what, len(d.Y), n)
	}
	if d.Schema != nil && len(d.Schema) != nf {
		return fmt.Errorf("%w: %s: schema has %d fields for %d columns", ErrInput, what, len(d.Schema), nf)
	}
	for j, f := range d.Schema {
		if f.Name != d.X.Names[j] {
			return fmt.Errorf("%w: %s: schema field %d is %q, column is %q", ErrInput, what, j, f.Name, d.X.Names[j])
		}
	}
	if err := checkLabels(objective, d.Y, constantOK); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// trainer holds the state of one training run.
type trainer struct {
	p       Params
	obj     objective
	x       *frame.Frame
	y       []float32
	n       int
	margin  []float64
	aux     []float64 // per row, as obj defines it (from the margin)
	gp      []gpair
	rng     *rand.Rand
	pool    *pool
	g       *grower
	model   *Model
	valid   *validator
	allRows []int32
	leafV   []float32 // per row (or row position) leaf output and step
	leafS   []float64
	fresh   bool  // gp already holds the gradients at the current margins
	sums    *hbin // if not nil, the sums of gp over all rows

	// Multiclass only: row-major class margins and each class's gradients.
	classMargin []float64
	classGP     [][]gpair
}

// Train fits a model to train, reporting the metric on valid (optional)
// after every round and stopping early if Params.EarlyStoppingRounds says
// so. It returns ctx's error if ctx ends first. The model depends only on
// the data, p and p.Threads (0 meaning GOMAXPROCS). Train runs on up to
// Params.Threads goroutines, which it stops before returning.
func Train(ctx context.Context, train Data, valid *Data, p Params) (*Model, error) {
	if isMulti(p.Objective) {
		return trainMulti(ctx, train, valid, p)
	}
	t, err := newTrainer(train, valid, p)
	if err != nil {
		return nil, err
	}
	defer t.pool.close()
	for round := range p.NumRounds {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("gbdt: train: round %d: %w", round, err)
		}
		t.round()
		if t.valid != nil && t.valid.observe(t.model, p.EarlyStoppingRounds) {
			break
		}
	}
	t.finishValid()
	t.model.seal()
	return t.model, nil
}

// finishValid records the validation history in the model and, with early
// stopping, keeps the rounds up to the best.
func (t *trainer) finishValid() {
	if t.valid == nil {
		return
	}
	t.model.history = t.valid.history
	if t.p.EarlyStoppingRounds > 0 {
		t.model.bestRound = t.valid.best + 1
		t.model.truncate(t.model.bestRound)
	}
}

// newTrainer validates the input, bins the features and sets the margins.
func newTrainer(train Data, valid *Data, p Params) (*trainer, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if err := train.check("train", p.Objective, false); err != nil {
		return nil, err
	}
	if p.EarlyStoppingRounds > 0 && valid == nil {
		return nil, fmt.Errorf("%w: early_stopping_rounds %d needs a validation set", ErrInput, p.EarlyStoppingRounds)
	}
	var obj objective
	var model *Model
	if isMulti(p.Objective) {
		if err := checkClassLabels(train.Y, p.NumClass); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
		model = newMultiModel(p.Objective, p.NumClass, float32(p.BaseScore), train.X.Names, train.Schema)
	} else {
		var err error
		if obj, err = newObjective(p.Objective, p.ScalePosWeight); err != nil {
			return nil, err
		}
		model = newModel(p.Objective, train.X.Names, train.Schema)
		model.baseMargin = float32(obj.baseMargin(baseScore(p, train.Y)))
	}
	var v *validator
	if valid != nil {
		var err error
		if v, err = newValidator(valid, model, p); err != nil {
			return nil, err
		}
	}
	pl := newPool(p.threads())
	x, n := train.X, train.X.NumRows()
	bn, colBins := newBinner(x.Cols, p.MaxBin, p.Seed, pl)
	t := &trainer{
		p: p, obj: obj, x: x, y: train.Y, n: n,
		margin: make([]float64, n), aux: make([]float64, n), gp: make([]gpair, n),
		leafV: make([]float32, n), leafS: make([]float64, n),
		rng:   rand.New(rand.NewPCG(p.Seed, 0x5851f42d4c957f2d)),
		pool:  pl,
		g:     newGrower(p, bn, colBins, x.NumCols(), n, pl),
		model: model, valid: v,
	}
	t.model.params = p.asMap()
	if v != nil {
		v.reset(t.model)
	}
	t.allRows = make([]int32, n)
	for i := range t.allRows {
		t.allRows[i] = int32(i)
	}
	if obj != nil {
		m0 := float64(t.model.baseMargin)
		a0 := obj.aux(m0)
		for i := range t.margin {
			t.margin[i], t.aux[i] = m0, a0
		}
	}
	return t, nil
}

// newModel returns an empty model for the features.
func newModel(objective string, names []string, schema []artifact.Field) *Model {
	m := &Model{objective: objective, names: slices.Clone(names), namesGiven: true}
	m.schema = make([]artifact.Field, len(names))
	for j, n := range names {
		m.schema[j] = artifact.Field{Name: n, Type: frame.TypeFloat}
		if schema != nil {
			m.schema[j] = schema[j]
			m.schema[j].Categories = slices.Clone(schema[j].Categories)
		}
	}
	return m
}

// round adds one tree.
func (t *trainer) round() {
	if !t.fresh {
		t.gradients()
		t.sums = nil
	}
	rows := t.sampleRows()
	sums := t.sums
	if len(rows) < t.n {
		sums = nil
	}
	t.g.grow(rows, t.gp, t.sampleFeatures(), sums)
	t.model.appendTree(t.g.nodes)
	if len(rows) < t.n {
		t.updateByTraversal()
		t.sums = nil
	} else {
		t.updateLeaves()
	}
	t.fresh = true
}

// piece is a chunk of one leaf segment's rows, g.rows[lo:hi].
type piece struct {
	seg    *segment
	lo, hi int
	s, sr  float64 // leaf steps of seg.value and seg.right
}

// updateLeaves adds each leaf to its rows' margins and computes the next
// round's gradients, and their sums, in the same pass. Every row sits in
// exactly one segment, so segments (cut into chunks of at most leafChunk
// rows, to balance the goroutines) are independent tasks; the sums are
// added chunk by chunk, in an order that does not depend on the threads.
func (t *trainer) updateLeaves() {
	var pieces []piece
	for i := range t.g.leaves {
		seg := &t.g.leaves[i]
		s, sr := t.obj.leafStep(seg.value), t.obj.leafStep(seg.right)
		for lo := seg.lo; lo < seg.hi; lo += leafChunk {
			pieces = append(pieces, piece{seg, lo, min(lo+leafChunk, seg.hi), s, sr})
		}
	}
	part := make([]hbin, len(pieces))
	t.pool.run(len(pieces), func(k int) { part[k] = t.stepPiece(&pieces[k]) })
	var sum hbin
	for _, p := range part {
		sum.g += p.g
		sum.h += p.h
	}
	t.sums = &sum
}

const leafChunk = 4096

// stepPiece adds a piece's leaves to its rows and returns their new
// gradient sums.
func (t *trainer) stepPiece(pc *piece) hbin {
	rows := t.g.rows[pc.lo:pc.hi]
	seg := pc.seg
	if !seg.pair {
		return t.obj.step(t.y, t.margin, t.aux, t.gp, rows, seg.value, pc.s)
	}
	vs, ss := t.leafV[pc.lo:pc.hi], t.leafS[pc.lo:pc.hi]
	v, s := [2]float32{seg.right, seg.value}, [2]float64{pc.sr, pc.s}
	col := t.g.colBins[seg.feature][:t.n]
	missing, dl := uint8(t.g.bn.nbins(seg.feature)), b2i(seg.defaultLeft)
	ss = ss[:len(vs)]
	for i, r := range rows[:len(vs)] {
		l := goesLeft(col[r], seg.bin, missing, dl) & 1
		vs[i], ss[i] = v[l], s[l]
	}
	return t.obj.stepRows(t.y, t.margin, t.aux, t.gp, rows, vs, ss)
}

// gradients recomputes every row's gradient pair, in parallel blocks.
func (t *trainer) gradients() {
	const block = 16384
	t.pool.run((t.n+block-1)/block, func(b int) {
		t.obj.gradients(t.y, t.margin, t.aux, t.gp, b*block, min((b+1)*block, t.n))
	})
}

// sampleRows draws the rows of this round's tree (all when Subsample is 1).
func (t *trainer) sampleRows() []int32 {
	if t.p.Subsample >= 1 {
		return t.allRows
	}
	rows := make([]int32, 0, int(float64(t.n)*t.p.Subsample)+16)
	for i := range t.n {
		if t.rng.Float64() < t.p.Subsample {
			rows = append(rows, int32(i))
		}
	}
	if len(rows) == 0 {
		rows = append(rows, int32(t.rng.IntN(t.n)))
	}
	return rows
}

// sampleFeatures draws this round's features (all when ColsampleByTree is 1).
func (t *trainer) sampleFeatures() []int {
	nf := t.x.NumCols()
	all := make([]int, nf)
	for j := range all {
		all[j] = j
	}
	if t.p.ColsampleByTree >= 1 {
		return all
	}
	k := max(1, int(float64(nf)*t.p.ColsampleByTree+0.5))
	t.rng.Shuffle(nf, func(a, b int) { all[a], all[b] = all[b], all[a] })
	out := all[:k]
	slices.Sort(out)
	return out
}

// updateByTraversal adds the newest tree's output to every row's margin,
// by walking it on the binned rows, and refreshes every gradient; used
// when rows were subsampled.
func (t *trainer) updateByTraversal() {
	nodes, nf, bins := t.g.nodes, t.g.nf, t.g.bins
	steps := make([]float64, len(nodes))
	for i, n := range nodes {
		if n.feature < 0 {
			steps[i] = t.obj.leafStep(n.value)
		}
	}
	const block = 16384
	t.pool.run((t.n+block-1)/block, func(b int) {
		lo, hi := b*block, min((b+1)*block, t.n)
		for r := lo; r < hi; r++ {
			leaf := binnedLeaf(nodes, t.g.bn, bins[r*nf:(r+1)*nf])
			t.leafV[r], t.leafS[r] = nodes[leaf].value, steps[leaf]
		}
		t.obj.stepRows(t.y, t.margin, t.aux, t.gp, t.allRows[lo:hi], t.leafV[lo:hi], t.leafS[lo:hi])
	})
}

// binnedLeaf returns the index of the leaf that one binned row reaches
// in a tree under construction.
func binnedLeaf(nodes []tnode, bn *binner, row []uint8) int32 {
	i := int32(0)
	for nodes[i].feature >= 0 {
		n := &nodes[i]
		b := row[n.feature]
		if b <= n.bin || (int(b) == bn.nbins(int(n.feature)) && n.defaultLeft) {
			i = n.left
		} else {
			i = n.left + 1
		}
	}
	return i
}
