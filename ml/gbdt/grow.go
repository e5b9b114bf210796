package gbdt

// tnode is a tree node while it is being grown.
type tnode struct {
	feature     int32 // -1 for a leaf
	bin         uint8
	defaultLeft bool
	threshold   float32
	left        int32 // right child is left+1
	value       float32
	gain        float64
}

// cand is a leaf that may still be split.
type cand struct {
	node   int32
	lo, hi int // its rows are grower.rows[lo:hi]
	depth  int
	g, h   float64
	hist   []hbin
	best   split
}

// segment is a finished leaf's rows and value, used to update margins.
type segment struct {
	lo, hi int
	value  float64
}

// grower grows one tree at a time over a shared bin matrix.
type grower struct {
	p        Params
	bn       *binner
	hb       *histBuilder
	sp       splitter
	bins     []uint8   // row-major, for histograms
	colBins  [][]uint8 // per feature, for partitions
	nf       int
	rows     []int32 // row indices, partitioned in place node by node
	scratch  []int32
	nodes    []tnode
	leaves   []segment
	features []int
}

func newGrower(p Params, bn *binner, colBins [][]uint8, nf, n int) *grower {
	bins := rowMajor(colBins, p.threads())
	return &grower{
		p: p, bn: bn, bins: bins, colBins: colBins, nf: nf,
		hb:      newHistBuilder(bins, bn, nf, p.threads()),
		sp:      splitter{lambda: p.Lambda, alpha: p.Alpha, minChildWeight: p.MinChildWeight, minSplitGain: p.MinSplitGain},
		rows:    make([]int32, 0, n),
		scratch: make([]int32, n),
	}
}

// grow builds one tree on the given rows (copied) and features. Afterwards
// g.nodes holds the tree and g.leaves each leaf's rows and value (with the
// learning rate applied).
func (g *grower) grow(rows []int32, gp []gpair, features []int) {
	g.rows = append(g.rows[:0], rows...)
	g.nodes = append(g.nodes[:0], tnode{feature: -1})
	g.leaves = g.leaves[:0]
	g.features = features
	root := cand{node: 0, lo: 0, hi: len(rows), hist: g.hb.get()}
	g.hb.build(root.hist, g.rows, gp)
	root.g, root.h = g.sums(root.hist)
	g.evaluate(&root)
	if g.p.GrowPolicy == GrowLossguide {
		g.growLossguide(root, gp)
		return
	}
	g.growDepthwise(root, gp)
}

// growLossguide expands the leaf with the largest gain first.
func (g *grower) growLossguide(root cand, gp []gpair) {
	queue := []cand{root}
	nleaves := 1
	for len(queue) > 0 {
		var c cand
		c, queue = g.pop(queue)
		if c.best.gain <= 0 || (g.p.MaxLeaves > 0 && nleaves >= g.p.MaxLeaves) {
			g.finish(c)
			continue
		}
		l, r := g.expand(c, gp)
		nleaves++
		queue = g.enqueue(queue, l)
		queue = g.enqueue(queue, r)
	}
}

// growDepthwise expands a whole level at a time. Each parent's work —
// partition, the smaller child's histogram, subtraction, evaluating both
// children — is one task: large parents run one at a time with every
// goroutine inside, small ones side by side in one parallel section per
// level. On small data no node has rows enough to split across
// goroutines, and a parallel section per step would cost more in wake-ups
// than it saves.
func (g *grower) growDepthwise(root cand, gp []gpair) {
	level := []cand{root}
	nleaves := 1
	for len(level) > 0 {
		var parents []cand
		for _, c := range level {
			if c.best.gain > 0 && (g.p.MaxLeaves == 0 || nleaves < g.p.MaxLeaves) {
				parents = append(parents, c)
				nleaves++
			} else {
				g.finish(c)
			}
		}
		children := make([]cand, 0, 2*len(parents))
		var small []int
		for k := range parents {
			children = append(children, g.split(&parents[k])...)
			// Alone on its level (fewer parents than goroutines) or large,
			// a parent uses every goroutine itself.
			if len(parents) < g.p.threads() || parents[k].hi-parents[k].lo >= minRowsParallelPartition {
				g.expandNode(&parents[k], children[2*k:2*k+2], gp, true)
			} else {
				small = append(small, k)
			}
		}
		for _, k := range small { // the pool is not safe for concurrent use
			if g.mayGrow(&children[2*k]) || g.mayGrow(&children[2*k+1]) {
				children[2*k].hist = g.hb.get() // for whichever child is smaller
			}
		}
		parallelFor(len(small), g.p.threads(), func(i int) {
			k := small[i]
			g.expandNode(&parents[k], children[2*k:2*k+2], gp, false)
		})
		for k := range parents {
			g.hb.put(parents[k].hist) // nil unless no child took it
		}
		level = level[:0]
		for _, c := range children {
			level = g.enqueue(level, c)
		}
	}
}

// expandNode partitions p's rows between its children ch, builds the
// smaller child's histogram (into the buffer parked on ch[0], or a new one
// when parallel), derives the larger's from p's by subtraction, and
// evaluates both. p.hist is left set only if no child took it. parallel
// says whether to use every goroutine inside (a large node) or to stay on
// the caller's.
func (g *grower) expandNode(p *cand, ch []cand, gp []gpair, parallel bool) {
	s := p.best
	var mid int
	if parallel && g.p.threads() > 1 && p.hi-p.lo >= minRowsParallelPartition {
		mid = g.partitionParallel(p)
	} else {
		mid = g.partition(p.lo, p.hi, s.feature, uint8(s.bin), s.defaultLeft)
	}
	buf := ch[0].hist
	ch[0].hist = nil
	ch[0].lo, ch[0].hi, ch[1].lo, ch[1].hi = p.lo, mid, mid, p.hi
	if buf == nil && parallel && (g.mayGrow(&ch[0]) || g.mayGrow(&ch[1])) {
		buf = g.hb.get()
	}
	if buf != nil {
		sm, bg := &ch[0], &ch[1]
		if ch[1].hi-ch[1].lo < ch[0].hi-ch[0].lo {
			sm, bg = bg, sm
		}
		rows := g.rows[sm.lo:sm.hi]
		if parallel {
			g.hb.build(buf, rows, gp)
		} else {
			clear(buf)
			g.hb.accumulate(buf, rows, gp)
		}
		subtract(p.hist, buf)
		sm.hist, bg.hist, p.hist = buf, p.hist, nil
	}
	g.evaluate(&ch[0])
	g.evaluate(&ch[1])
}

// minRowsParallelPartition is the node size from which one partition is
// split across goroutines.
const minRowsParallelPartition = 1 << 16

// partitionParallel partitions c's rows in one chunk per goroutine, then
// gathers the chunks' left parts and then their right parts, in order, so
// the result is the same as a serial partition.
func (g *grower) partitionParallel(c *cand) int {
	t := g.p.threads()
	chunk := (c.hi - c.lo + t - 1) / t
	los, his, mids := make([]int, t), make([]int, t), make([]int, t)
	parallelFor(t, t, func(k int) {
		los[k], his[k] = min(c.lo+k*chunk, c.hi), min(c.lo+(k+1)*chunk, c.hi)
		mids[k] = g.partition(los[k], his[k], c.best.feature, uint8(c.best.bin), c.best.defaultLeft)
	})
	pos := c.lo
	for k := range t {
		pos += copy(g.scratch[pos:], g.rows[los[k]:mids[k]])
	}
	mid := pos
	for k := range t {
		pos += copy(g.scratch[pos:], g.rows[mids[k]:his[k]])
	}
	copy(g.rows[c.lo:c.hi], g.scratch[c.lo:c.hi])
	return mid
}

// split turns c into a split node with two new leaf children; their row
// ranges are set when c's rows are partitioned.
func (g *grower) split(c *cand) []cand {
	s := c.best
	left := int32(len(g.nodes))
	g.nodes[c.node] = tnode{
		feature: int32(s.feature), bin: uint8(s.bin), defaultLeft: s.defaultLeft,
		threshold: g.bn.cuts[s.feature][s.bin], left: left, gain: s.gain,
	}
	g.nodes = append(g.nodes, tnode{feature: -1}, tnode{feature: -1})
	return []cand{
		{node: left, depth: c.depth + 1, g: s.lg, h: s.lh},
		{node: left + 1, depth: c.depth + 1, g: s.rg, h: s.rh},
	}
}

// sums returns a node's totals from its histogram: every row lands in
// exactly one slot of feature 0.
func (g *grower) sums(hist []hbin) (sg, sh float64) {
	for _, b := range hist[:g.bn.nbins(0)+1] {
		sg += b.g
		sh += b.h
	}
	return sg, sh
}

// mayGrow reports whether a node at this depth with these sums may split,
// before its rows are known.
func (g *grower) mayGrow(c *cand) bool {
	return (g.p.MaxDepth == 0 || c.depth < g.p.MaxDepth) && c.h >= 2*g.p.MinChildWeight
}

// splittable is mayGrow for a node whose rows are known.
func (g *grower) splittable(c *cand) bool {
	return g.mayGrow(c) && c.hi-c.lo >= 2
}

// evaluate finds the node's best split, or marks it unsplittable.
func (g *grower) evaluate(c *cand) {
	if c.hist == nil || !g.splittable(c) {
		c.best = split{}
		return
	}
	c.best = g.sp.best(c.hist, c.g, c.h, g.bn, g.features)
}

// pop removes the next node to expand: the oldest (depthwise) or the one
// with the largest gain (lossguide; ties to the oldest).
func (g *grower) pop(q []cand) (cand, []cand) {
	i := 0
	if g.p.GrowPolicy == GrowLossguide {
		for j := range q {
			if q[j].best.gain > q[i].best.gain {
				i = j
			}
		}
	}
	c := q[i]
	return c, append(q[:i], q[i+1:]...)
}

// enqueue queues a splittable node, or finishes it as a leaf.
func (g *grower) enqueue(q []cand, c cand) []cand {
	if c.best.gain <= 0 {
		g.finish(c)
		return q
	}
	return append(q, c)
}

// finish makes c a leaf.
func (g *grower) finish(c cand) {
	g.hb.put(c.hist)
	w := g.sp.weight(c.g, c.h) * g.p.LearningRate
	n := &g.nodes[c.node]
	*n = tnode{feature: -1, value: float32(w)}
	g.leaves = append(g.leaves, segment{lo: c.lo, hi: c.hi, value: float64(float32(w))})
}

// expand splits c into two children (lossguide), using every goroutine.
func (g *grower) expand(c cand, gp []gpair) (cand, cand) {
	ch := g.split(&c)
	g.expandNode(&c, ch, gp, true)
	g.hb.put(c.hist)
	return ch[0], ch[1]
}

// partition reorders rows[lo:hi] so the rows going left come first, keeping
// each side in ascending order, and returns the boundary. Each row is
// written to both sides and only one cursor advances, so the loop has no
// branch on the (unpredictable) direction.
func (g *grower) partition(lo, hi, f int, bin uint8, defaultLeft bool) int {
	rows := g.rows[lo:hi]
	right := g.scratch[lo:hi] // disjoint per node: safe in parallel
	missing := uint8(g.bn.nbins(f))
	dl := b2i(defaultLeft)
	col := g.colBins[f]
	nl, nr := 0, 0
	for _, r := range rows {
		b := col[r]
		left := int(b2i(b <= bin) | (b2i(b == missing) & dl))
		rows[nl] = r
		right[nr] = r
		nl += left
		nr += 1 - left
	}
	copy(rows[nl:], right[:nr])
	return lo + nl
}
