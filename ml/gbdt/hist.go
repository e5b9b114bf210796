package gbdt

import "sync"

// hbin accumulates the gradient and hessian sums of one histogram slot.
// Sums are float64 (gradients are float32), as XGBoost does, so that long
// sums and subtraction lose no precision that matters.
type hbin struct{ g, h float64 }

// histBuilder builds gradient histograms over the row-major bin matrix.
// One histogram is a []hbin of binner.slots entries: feature f's bins start
// at offset[f], its missing bin last.
type histBuilder struct {
	bins    []uint8
	nf      int
	offset  []int32
	slots   int
	threads int
	private [][]hbin // per extra goroutine, reused across nodes
	pool    [][]hbin // free histograms
}

func newHistBuilder(bins []uint8, bn *binner, nf, threads int) *histBuilder {
	hb := &histBuilder{bins: bins, nf: nf, offset: bn.offset, slots: bn.slots, threads: threads}
	for range threads - 1 {
		hb.private = append(hb.private, make([]hbin, bn.slots))
	}
	return hb
}

// get returns a histogram buffer (contents undefined).
func (hb *histBuilder) get() []hbin {
	if n := len(hb.pool); n > 0 {
		h := hb.pool[n-1]
		hb.pool = hb.pool[:n-1]
		return h
	}
	return make([]hbin, hb.slots)
}

// put returns a histogram buffer to the pool.
func (hb *histBuilder) put(h []hbin) {
	if h != nil {
		hb.pool = append(hb.pool, h)
	}
}

// build overwrites dst with the histogram of rows. Large row sets are split
// into one contiguous chunk per goroutine; chunk k>0 sums into a private
// buffer, and the buffers are added into dst in a fixed order, so the
// result depends only on the rows and the thread count.
func (hb *histBuilder) build(dst []hbin, rows []int32, gp []gpair) {
	clear(dst)
	t := hb.threads
	if t <= 1 || len(rows)*hb.nf < minUpdatesPerParallelBuild {
		hb.accumulate(dst, rows, gp)
		return
	}
	chunk := (len(rows) + t - 1) / t
	var wg sync.WaitGroup
	for k := range t {
		lo, hi := min(k*chunk, len(rows)), min((k+1)*chunk, len(rows))
		buf := dst
		if k > 0 {
			buf = hb.private[k-1]
		}
		wg.Go(func() {
			if k > 0 {
				clear(buf)
			}
			hb.accumulate(buf, rows[lo:hi], gp)
		})
	}
	wg.Wait()
	hb.reduce(dst)
}

// minUpdatesPerParallelBuild is the least work (rows × features) worth
// splitting across goroutines: below it, waking them costs more than it saves.
const minUpdatesPerParallelBuild = 1 << 17

// reduce adds the private buffers into dst, splitting the slots across
// goroutines.
func (hb *histBuilder) reduce(dst []hbin) {
	t := hb.threads
	span := (len(dst) + t - 1) / t
	var wg sync.WaitGroup
	for k := range t {
		lo, hi := min(k*span, len(dst)), min((k+1)*span, len(dst))
		wg.Go(func() {
			d := dst[lo:hi]
			for _, p := range hb.private {
				p := p[lo:hi]
				for s := range d {
					d[s].g += p[s].g
					d[s].h += p[s].h
				}
			}
		})
	}
	wg.Wait()
}

// accumulate adds each row's gradient pair into the slot of its bin for
// every feature. This is the training hot loop.
func (hb *histBuilder) accumulate(h []hbin, rows []int32, gp []gpair) {
	nf := hb.nf
	off := hb.offset[:nf]
	bins := hb.bins
	// Touching rows ahead (a software prefetch) was measured slower here:
	// the hardware keeps up with ascending row indices.
	for _, r := range rows {
		p := gp[r]
		g, hh := float64(p.g), float64(p.h)
		rb := bins[int(r)*nf:][:nf]
		for f, b := range rb {
			e := &h[int(off[f])+int(b)]
			e.g += g
			e.h += hh
		}
	}
}

// subtract sets big = parent − small, slot by slot, in place of parent.
func subtract(parent, small []hbin) {
	small = small[:len(parent)]
	for s := range parent {
		parent[s].g -= small[s].g
		parent[s].h -= small[s].h
	}
}
