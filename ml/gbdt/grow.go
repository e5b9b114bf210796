package gbdt

import "sort"

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

// segment is a finished leaf's rows grower.rows[lo:hi] and its output,
// used to update margins. A pair segment is instead a split whose two
// children are both leaves, its rows not partitioned: a row the split
// sends left gets value, the others right.
type segment struct {
	lo, hi      int
	value       float32
	pair        bool
	feature     int
	bin         uint8
	defaultLeft bool
	right       float32
}

// grower grows one tree at a time over a shared bin matrix.
type grower struct {
	p        Params
	bn       *binner
	hb       *histBuilder
	sp       splitter
	pool     *pool
	bins     []uint8   // row-major, for histograms
	colBins  [][]uint8 // per feature, for partitions
	nf       int
	rows     []int32 // row indices, partitioned in place node by node
	scratch  []int32
	nodes    []tnode
	leaves   []segment
	features []int // this tree's features, ascending

	// Reused per level by evaluateJobs.
	tasks []task
	found []split
}

func newGrower(p Params, bn *binner, colBins [][]uint8, nf, n int, pl *pool) *grower {
	bins := rowMajor(colBins, pl)
	return &grower{
		p: p, bn: bn, bins: bins, colBins: colBins, nf: nf, pool: pl,
		hb:      newHistBuilder(bins, bn, nf, pl),
		sp:      splitter{lambda: p.Lambda, alpha: p.Alpha, minChildWeight: p.MinChildWeight, minSplitGain: p.MinSplitGain},
		rows:    make([]int32, 0, n),
		scratch: make([]int32, n),
	}
}

// grow builds one tree on the given rows (copied) and features. Afterwards
// g.nodes holds the tree and g.leaves each leaf's rows and value (with the
// learning rate applied).
// sums, if not nil, are the sums of the rows' gradient pairs.
func (g *grower) grow(rows []int32, gp []gpair, features []int, sums *hbin) {
	g.rows = append(g.rows[:0], rows...)
	g.nodes = append(g.nodes[:0], tnode{feature: -1})
	g.leaves = g.leaves[:0]
	g.features = features
	root := cand{node: 0, lo: 0, hi: len(rows), hist: g.hb.get()}
	if sums != nil {
		root.g, root.h = sums.g, sums.h
	} else {
		root.g, root.h = g.sumGradients(gp, g.rows)
	}
	g.evaluateJobs([]job{{small: &root, rows: g.rows}}, gp)
	if g.p.GrowPolicy == GrowLossguide {
		g.growLossguide(root, gp)
		return
	}
	g.growDepthwise(root, gp)
}

// sumGradients returns the sums of the rows' gradient pairs, added in
// fixed chunks of sumChunk rows and then chunk by chunk, so that the
// result does not depend on the thread count.
func (g *grower) sumGradients(gp []gpair, rows []int32) (sg, sh float64) {
	n := (len(rows) + sumChunk - 1) / sumChunk
	part := make([]hbin, n)
	g.pool.run(n, func(k int) {
		for _, r := range rows[k*sumChunk : min((k+1)*sumChunk, len(rows))] {
			part[k].g += float64(gp[r].g)
			part[k].h += float64(gp[r].h)
		}
	})
	for _, p := range part {
		sg += p.g
		sh += p.h
	}
	return sg, sh
}

const sumChunk = 8192

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
		nleaves++
		for _, ch := range g.expand([]cand{c}, gp) {
			queue = g.enqueue(queue, ch)
		}
	}
}

// growDepthwise expands a whole level at a time.
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
		level = level[:0]
		for _, c := range g.expand(parents, gp) {
			level = g.enqueue(level, c)
		}
	}
}

// expand splits every parent into two children and returns those that
// may grow further, each with its rows, its histogram and its best split.
// A level costs two parallel sections: one partitions the rows, one
// builds, subtracts and evaluates the histograms, in tasks of one node's
// feature block, so that even a level of one or two nodes keeps every
// goroutine busy and no row-chunk histograms need adding together. A
// parent whose children may both not grow (the last level) is not
// partitioned: it becomes a pair segment, whose rows find their leaf when
// the margins are updated.
func (g *grower) expand(parents []cand, gp []gpair) []cand {
	var split, children []cand
	for k := range parents {
		ch := g.split(&parents[k])
		if !g.mayGrow(&ch[0]) && !g.mayGrow(&ch[1]) {
			g.finishPair(&parents[k], ch)
			continue
		}
		split = append(split, parents[k])
		children = append(children, ch...)
	}
	if len(split) == 0 {
		return nil
	}
	g.partitionAll(split, children)
	jobs := make([]job, 0, len(split))
	for k := range split {
		jobs = append(jobs, g.histJob(&split[k], children[2*k:2*k+2]))
	}
	g.evaluateJobs(jobs, gp)
	for k := range split {
		g.hb.put(split[k].hist) // nil unless no child took it
	}
	return children
}

// finishPair makes both children ch of p leaves, p's rows a pair segment.
func (g *grower) finishPair(p *cand, ch []cand) {
	g.hb.put(p.hist)
	l, r := g.leafValue(&ch[0]), g.leafValue(&ch[1])
	g.nodes[ch[0].node] = tnode{feature: -1, value: l}
	g.nodes[ch[1].node] = tnode{feature: -1, value: r}
	s := p.best
	g.leaves = append(g.leaves, segment{lo: p.lo, hi: p.hi, value: l, pair: true,
		feature: s.feature, bin: uint8(s.bin), defaultLeft: s.defaultLeft, right: r})
}

// leafValue is the output of c as a leaf, learning rate applied.
func (g *grower) leafValue(c *cand) float32 {
	return float32(g.sp.weight(c.g, c.h) * g.p.LearningRate)
}

// partitionAll partitions every parent's rows between its two children
// and sets the children's row ranges. A parent holding more than its share
// of a goroutine's rows is partitioned by all goroutines together; the
// rest are one task each.
func (g *grower) partitionAll(parents, children []cand) {
	total := 0
	for _, p := range parents {
		total += p.hi - p.lo
	}
	t := g.pool.threads
	var rest []int
	for k := range parents {
		p := &parents[k]
		if n := p.hi - p.lo; t > 1 && n >= minRowsParallelPartition && n*t > total {
			setRanges(p, children[2*k:], g.partitionParallel(p))
		} else {
			rest = append(rest, k)
		}
	}
	g.pool.run(len(rest), func(i int) {
		k := rest[i]
		p := &parents[k]
		s := p.best
		setRanges(p, children[2*k:], g.partition(p.lo, p.hi, s.feature, uint8(s.bin), s.defaultLeft))
	})
}

// setRanges gives the children ch[0], ch[1] of p the rows either side of mid.
func setRanges(p *cand, ch []cand, mid int) {
	ch[0].lo, ch[0].hi, ch[1].lo, ch[1].hi = p.lo, mid, mid, p.hi
}

// histJob prepares the histogram work of parent p's children ch, of which
// at least one may grow: the smaller child's histogram is built, the
// larger's derived from p's by subtraction (in p's buffer).
func (g *grower) histJob(p *cand, ch []cand) job {
	sm, bg := &ch[0], &ch[1]
	if bg.hi-bg.lo < sm.hi-sm.lo {
		sm, bg = bg, sm
	}
	sm.hist, bg.hist, p.hist = g.hb.get(), p.hist, nil
	return job{small: sm, big: bg, rows: g.rows[sm.lo:sm.hi]}
}

// job is one node's histogram work: build small's histogram over rows,
// turn the parent's histogram (already in big.hist) into big's by
// subtraction, and evaluate both. big is nil for the root.
type job struct {
	small, big *cand
	rows       []int32
	built      bool // small's histogram was built by row chunks
}

// task is one feature block [f0, f1) of one job.
type task struct {
	job    int
	f0, f1 int
}

// evaluateJobs runs the jobs in one parallel section of feature-block
// tasks and sets each child's best split. Nodes large enough to need it
// have their histograms built by row chunks first (buildRows).
func (g *grower) evaluateJobs(jobs []job, gp []gpair) {
	work := 0
	for j := range jobs {
		if g.hb.rowSplitBuild(len(jobs[j].rows)) {
			g.hb.buildRows(jobs[j].small.hist, jobs[j].rows, gp)
			jobs[j].built = true
		}
		work += g.jobWork(&jobs[j])
	}
	g.tasks = g.tasks[:0]
	for j := range jobs {
		nb := g.blocks(g.jobWork(&jobs[j]), work)
		for k := range nb {
			g.tasks = append(g.tasks, task{job: j, f0: k * g.nf / nb, f1: (k + 1) * g.nf / nb})
		}
	}
	if cap(g.found) < 2*len(g.tasks) {
		g.found = make([]split, 2*len(g.tasks))
	}
	g.found = g.found[:2*len(g.tasks)] // every task writes its own entries
	g.pool.run(len(g.tasks), func(i int) { g.runTask(jobs, i, gp) })
	for i, tk := range g.tasks {
		j := &jobs[tk.job]
		if tk.f0 == 0 { // a job's first block: start afresh
			j.small.best = split{}
			if j.big != nil {
				j.big.best = split{}
			}
		}
		better(&j.small.best, g.found[2*i])
		if j.big != nil {
			better(&j.big.best, g.found[2*i+1])
		}
	}
	for j := range jobs {
		jobs[j].small.best = g.sp.accept(jobs[j].small.best)
		if jobs[j].big != nil {
			jobs[j].big.best = g.sp.accept(jobs[j].big.best)
		}
	}
}

// better replaces *best by s if s has a larger gain; of equal gains the
// earlier (lower feature, lower bin) stays, as in one serial scan.
func better(best *split, s split) {
	if s.gain > best.gain {
		*best = s
	}
}

// jobWork estimates a job's cost in row-feature updates: the rows it
// accumulates, or (built already) about one row per slot to subtract and scan.
func (g *grower) jobWork(j *job) int {
	if j.built {
		return g.hb.slots
	}
	return (len(j.rows) + 1) * g.nf
}

// blocks returns how many feature blocks a job of this work gets out of
// the level's total: about two tasks per goroutine over the level, and
// at least four features per block, since every block reads each of its
// rows' gradient pair again.
func (g *grower) blocks(work, total int) int {
	t := g.pool.threads
	if t <= 1 {
		return 1
	}
	nb := (2*t*work + total - 1) / total
	return max(1, min(nb, g.nf/4))
}

// runTask runs task i: accumulate its block of the small child's
// histogram, subtract it from the parent's, and scan the block's features
// of both children.
func (g *grower) runTask(jobs []job, i int, gp []gpair) {
	tk := g.tasks[i]
	j := &jobs[tk.job]
	lo, hi := g.hb.slotRange(tk.f0, tk.f1)
	if !j.built {
		clear(j.small.hist[lo:hi])
		g.hb.accumulate(j.small.hist, j.rows, gp, tk.f0, tk.f1)
	}
	feats := g.blockFeatures(tk.f0, tk.f1)
	g.found[2*i] = g.scan(j.small, feats)
	if j.big != nil {
		subtract(j.big.hist, j.small.hist, lo, hi)
		g.found[2*i+1] = g.scan(j.big, feats)
	}
}

// blockFeatures returns this tree's features in [f0, f1).
func (g *grower) blockFeatures(f0, f1 int) []int {
	a := sort.SearchInts(g.features, f0)
	b := sort.SearchInts(g.features, f1)
	return g.features[a:b]
}

// scan returns c's best split over feats, before the minimum-gain test;
// a node that may not split gets none.
func (g *grower) scan(c *cand, feats []int) split {
	var best split
	if c.hist != nil && g.splittable(c) {
		g.sp.scan(&best, c.hist, c.g, c.h, g.bn, feats)
	}
	return best
}

// minRowsParallelPartition is the node size from which one partition may
// be split across goroutines.
const minRowsParallelPartition = 1 << 14

// partitionParallel partitions c's rows in one chunk per goroutine, then
// gathers the chunks' left parts and then their right parts, in order, so
// the result is the same as a serial partition.
func (g *grower) partitionParallel(c *cand) int {
	t := g.pool.threads
	chunk := (c.hi - c.lo + t - 1) / t
	los, his, mids := make([]int, t), make([]int, t), make([]int, t)
	g.pool.run(t, func(k int) {
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

// mayGrow reports whether a node at this depth with these sums may split,
// before its rows are known.
func (g *grower) mayGrow(c *cand) bool {
	return (g.p.MaxDepth == 0 || c.depth < g.p.MaxDepth) && c.h >= 2*g.p.MinChildWeight
}

// splittable is mayGrow for a node whose rows are known.
func (g *grower) splittable(c *cand) bool {
	return g.mayGrow(c) && c.hi-c.lo >= 2
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
	w := g.leafValue(&c)
	g.nodes[c.node] = tnode{feature: -1, value: w}
	g.leaves = append(g.leaves, segment{lo: c.lo, hi: c.hi, value: w})
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
		left := int(goesLeft(col[r], bin, missing, dl))
		rows[nl] = r
		right[nr] = r
		nl += left
		nr += 1 - left
	}
	copy(rows[nl:], right[:nr])
	return lo + nl
}

// goesLeft is 1 if a row in bin b goes left at a split on bin (missing is
// the feature's missing bin, dl 1 if missing rows go left), else 0.
func goesLeft(b, bin, missing uint8, dl int32) int32 {
	return b2i(b <= bin) | (b2i(b == missing) & dl)
}
