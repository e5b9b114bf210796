package gbdt

import "math"

// compact is a model's forest laid out for prediction: every tree padded
// to a complete binary tree of its own depth and stored in heap order, so
// that node i's children are 2i+1 and 2i+2, no child pointers are loaded,
// and every walk of a tree is the same number of steps long.
//
// Missing values cost nothing per step: a row is presented doubled, value
// f being x[f] with NaN replaced by +Inf and value nf+f being x[f] with
// NaN replaced by −Inf, and a split reads the first copy if its missing
// values go right and the second if they go left. "x >= threshold" then
// sends every value to the side the flat layout does (for finite and
// infinite x alike, since a threshold is never NaN), provided no
// default-left split has the threshold −Inf; a model with one is not
// compacted. Padding splits have a NaN threshold, which sends every value
// left, where the padded leaf's value sits.
//
// Tree t of depth d (at least 1) takes 1<<d node entries (the last one
// unused) and 1<<d leaves, from offset at[t] in both arrays; both carry
// maxCompactNodes entries of padding at the end so that every tree can be
// viewed as a fixed-size array, whose index the compiler need not check.
type compact struct {
	nf     int
	at     []int32   // tree t's first entry in nodes and leaves
	depth  []uint8   // tree t's depth
	nodes  []cnode   // splits, heap order
	leaves []float32 // leaves, left to right
}

// cnode is one split of a compact tree: a row goes right when
// row[f] >= thr, f indexing the doubled row.
type cnode struct {
	thr float32
	f   uint8
}

const (
	// maxCompactDepth is the deepest tree that is compacted: a complete
	// tree of depth 8 has 255 splits and 256 leaves (3 KiB).
	maxCompactDepth = 8
	// maxCompactNodes is the node (and leaf) array length of one tree
	// viewed as an array: 1 << maxCompactDepth.
	maxCompactNodes = 1 << maxCompactDepth
	// maxCompactFeatures bounds the features of a compacted model, so that
	// an index into the doubled row fits a byte.
	maxCompactFeatures = maxCompactNodes / 2
	// compactGroup is how many rows walk one tree together: their walks
	// are independent, so the CPU overlaps them.
	compactGroup = 8
	// maxCompactGrowth bounds the compact forest's entries per flat node.
	maxCompactGrowth = 4
)

// compactRows is one group of doubled rows, feature-major: value f of row
// k is at [f][k], so one base address serves every row of the group.
type compactRows = [2 * maxCompactFeatures][compactGroup]float32

// newCompact returns m's forest in compact form, or nil when m does not
// qualify (no trees, more than maxCompactFeatures features, a tree deeper
// than maxCompactDepth, or a default-left split at −Inf).
func newCompact(m *Model) *compact {
	nf := len(m.names)
	if len(m.roots) == 0 || nf > maxCompactFeatures {
		return nil
	}
	c := &compact{nf: nf, at: make([]int32, len(m.roots)), depth: make([]uint8, len(m.roots))}
	size := 0
	for t := range m.roots {
		d := max(1, m.depth[t])
		if d > maxCompactDepth {
			return nil
		}
		c.at[t], c.depth[t] = int32(size), uint8(d)
		size += 1 << d
	}
	// Padding multiplies a lopsided tree's size: a forest that would grow
	// past maxCompactGrowth times its nodes (plus a little) stays flat, so
	// a hostile file cannot make it take much more memory than it has.
	if size > maxCompactGrowth*len(m.nodes)+maxCompactNodes {
		return nil
	}
	for _, n := range m.nodes {
		if !n.isLeaf() && n.feature&defaultLeftBit != 0 && math.IsInf(float64(n.value), -1) {
			return nil
		}
	}
	c.nodes = make([]cnode, size+maxCompactNodes)
	c.leaves = make([]float32, size+maxCompactNodes)
	for t, root := range m.roots {
		c.fill(m, int(c.at[t]), int(c.depth[t]), root, 0, 0)
	}
	return c
}

// fill places flat node i of m, and its subtree, at heap index h and
// level l of the compact tree of depth d whose entries start at base.
func (c *compact) fill(m *Model, base, d int, i int32, h, l int) {
	if l == d {
		c.leaves[base+h-(1<<d-1)] = m.out[i]
		return
	}
	n := m.nodes[i]
	if n.isLeaf() {
		c.nodes[base+h] = cnode{thr: float32(math.NaN())}
		c.fill(m, base, d, i, 2*h+1, l+1)
		return
	}
	f := int(n.feature & featureMask)
	if n.feature&defaultLeftBit != 0 {
		f += c.nf
	}
	c.nodes[base+h] = cnode{thr: n.value, f: uint8(f)}
	c.fill(m, base, d, n.left, 2*h+1, l+1)
	c.fill(m, base, d, n.left+1, 2*h+2, l+1)
}

// numTrees returns how many trees c holds.
func (c *compact) numTrees() int { return len(c.at) }

// tree returns tree t's splits and leaves as fixed-size arrays, and its
// depth.
func (c *compact) tree(t int) (*[maxCompactNodes]cnode, *[maxCompactNodes]float32, int) {
	at := c.at[t]
	return (*[maxCompactNodes]cnode)(c.nodes[at:]), (*[maxCompactNodes]float32)(c.leaves[at:]), int(c.depth[t])
}

// right is 1 if row value x goes right at split n, else 0.
func right(n *cnode, x float32) uint {
	if x >= n.thr {
		return 1
	}
	return 0
}

// walkGroup adds the leaves of trees [t0, t1) to acc for each of the
// group's rows, in tree order. The group's rows walk each tree together,
// eight independent walks that the CPU overlaps.
func (c *compact) walkGroup(g *compactRows, acc *[compactGroup]float32, t0, t1 int) {
	a0, a1, a2, a3, a4, a5, a6, a7 := acc[0], acc[1], acc[2], acc[3], acc[4], acc[5], acc[6], acc[7]
	for t := t0; t < t1; t++ {
		tn, tl, d := c.tree(t)
		last := uint(1)<<(d-1) - 1 // first heap index of the last split level
		var i0, i1, i2, i3, i4, i5, i6, i7 uint
		for range d - 1 {
			n0, n1, n2, n3 := &tn[i0&255], &tn[i1&255], &tn[i2&255], &tn[i3&255]
			n4, n5, n6, n7 := &tn[i4&255], &tn[i5&255], &tn[i6&255], &tn[i7&255]
			i0 = 2*i0 + 1 + right(n0, g[n0.f][0])
			i1 = 2*i1 + 1 + right(n1, g[n1.f][1])
			i2 = 2*i2 + 1 + right(n2, g[n2.f][2])
			i3 = 2*i3 + 1 + right(n3, g[n3.f][3])
			i4 = 2*i4 + 1 + right(n4, g[n4.f][4])
			i5 = 2*i5 + 1 + right(n5, g[n5.f][5])
			i6 = 2*i6 + 1 + right(n6, g[n6.f][6])
			i7 = 2*i7 + 1 + right(n7, g[n7.f][7])
		}
		n0, n1, n2, n3 := &tn[i0&255], &tn[i1&255], &tn[i2&255], &tn[i3&255]
		n4, n5, n6, n7 := &tn[i4&255], &tn[i5&255], &tn[i6&255], &tn[i7&255]
		a0 += tl[(2*(i0-last)+right(n0, g[n0.f][0]))&255]
		a1 += tl[(2*(i1-last)+right(n1, g[n1.f][1]))&255]
		a2 += tl[(2*(i2-last)+right(n2, g[n2.f][2]))&255]
		a3 += tl[(2*(i3-last)+right(n3, g[n3.f][3]))&255]
		a4 += tl[(2*(i4-last)+right(n4, g[n4.f][4]))&255]
		a5 += tl[(2*(i5-last)+right(n5, g[n5.f][5]))&255]
		a6 += tl[(2*(i6-last)+right(n6, g[n6.f][6]))&255]
		a7 += tl[(2*(i7-last)+right(n7, g[n7.f][7]))&255]
	}
	acc[0], acc[1], acc[2], acc[3], acc[4], acc[5], acc[6], acc[7] = a0, a1, a2, a3, a4, a5, a6, a7
}

// compactBlock is how many rows PredictFrame scores at a time on a
// compact forest, and compactChunk how many trees each group of them
// walks before the next group: a chunk's nodes stay in L1 while the
// block's groups pass.
const (
	compactBlock = 64
	compactChunk = 16
)

// compactBuf holds one block of rows in groups, doubled and feature-major.
type compactBuf struct {
	rows [][compactGroup]float32 // group k from k*2*nf on, viewed as compactRows
	acc  [compactBlock / compactGroup][compactGroup]float32
}

// newBuf returns a block buffer for c.
func (c *compact) newBuf() *compactBuf {
	stride := 2 * c.nf
	return &compactBuf{rows: make([][compactGroup]float32, (compactBlock/compactGroup-1)*stride+len(compactRows{}))}
}

// group returns group k of the block.
func (c *compact) group(b *compactBuf, k int) *compactRows {
	return (*compactRows)(b.rows[k*2*c.nf:])
}

// load copies rows [start, start+n) of the columns into the block, n at
// most compactBlock, doubling each value.
func (c *compact) load(b *compactBuf, cols [][]float32, start, n int) {
	for k := range (n + compactGroup - 1) / compactGroup {
		g := c.group(b, k)
		lo := start + k*compactGroup
		hi := min(lo+compactGroup, start+n)
		for f, col := range cols {
			for i, x := range col[lo:hi] {
				g[f][i], g[c.nf+f][i] = x, x
				if x != x {
					g[f][i], g[c.nf+f][i] = float32(math.Inf(1)), float32(math.Inf(-1))
				}
			}
		}
	}
}

// scoreBlock sets acc to the margins of the block's first n rows (the
// rest of a last group is scored too, and ignored).
func (c *compact) scoreBlock(b *compactBuf, n int, base float32) {
	groups := (n + compactGroup - 1) / compactGroup
	for k := range groups {
		b.acc[k] = [compactGroup]float32{base, base, base, base, base, base, base, base}
	}
	nt := c.numTrees()
	for t0 := 0; t0 < nt; t0 += compactChunk {
		t1 := min(t0+compactChunk, nt)
		for k := range groups {
			c.walkGroup(c.group(b, k), &b.acc[k], t0, t1)
		}
	}
}
