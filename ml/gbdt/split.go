package gbdt

// split is the best split found for a node.
type split struct {
	gain        float64 // loss reduction; 0 means no valid split
	feature     int
	bin         int // rows with bin <= bin go left
	defaultLeft bool
	lg, lh      float64 // left child's sums, missing rows included if defaultLeft
	rg, rh      float64
}

// splitter scores candidate splits with the regularisation parameters.
type splitter struct {
	lambda, alpha, minChildWeight, minSplitGain float64
}

// thresholdL1 soft-thresholds a gradient sum by alpha.
func (sp *splitter) thresholdL1(g float64) float64 {
	switch {
	case g > sp.alpha:
		return g - sp.alpha
	case g < -sp.alpha:
		return g + sp.alpha
	}
	return 0
}

// score is the structure score of a node with sums g, h (XGBoost's CalcGain).
func (sp *splitter) score(g, h float64) float64 {
	if sp.alpha == 0 {
		return g * g / (h + sp.lambda)
	}
	t := sp.thresholdL1(g)
	return t * t / (h + sp.lambda)
}

// weight is the optimal leaf weight of a node with sums g, h, before
// the learning rate.
func (sp *splitter) weight(g, h float64) float64 {
	return -sp.thresholdL1(g) / (h + sp.lambda)
}

// scan updates best with the best split over the given features of a
// node with histogram hist and sums g, h. A candidate must leave each
// child at least minChildWeight of hessian; of equal gains the first
// (lowest feature, then lowest bin) stays.
func (sp *splitter) scan(best *split, hist []hbin, g, h float64, bn *binner, features []int) {
	parent := sp.score(g, h)
	for _, f := range features {
		sp.scanFeature(best, hist, g, h, parent, f, bn)
	}
}

// accept returns best, or no split if it does not reduce the loss by more
// than minSplitGain.
func (sp *splitter) accept(best split) split {
	if best.gain <= sp.minSplitGain || best.gain <= 1e-6 {
		return split{}
	}
	return best
}

// scanFeature tries every bin boundary of feature f, with missing rows sent
// right and, when there are any, sent left.
func (sp *splitter) scanFeature(best *split, hist []hbin, g, h, parent float64, f int, bn *binner) {
	nb := bn.nbins(f)
	fh := hist[bn.offset[f] : int(bn.offset[f])+nb+1]
	miss := fh[nb]
	hasMiss := miss.h > 0
	var lg, lh float64
	for b := 0; b < nb-1; b++ {
		if fh[b].h == 0 {
			// An empty bin moves no row: the split after it equals the
			// one before it, already tried (and ties keep the first).
			continue
		}
		lg += fh[b].g
		lh += fh[b].h
		sp.try(best, f, b, false, lg, lh, g-lg, h-lh, parent)
		if hasMiss {
			sp.try(best, f, b, true, lg+miss.g, lh+miss.h, g-lg-miss.g, h-lh-miss.h, parent)
		}
	}
	if !hasMiss && best.feature == f && best.gain > 0 {
		// No missing value seen here: send future ones to the heavier side.
		best.defaultLeft = best.lh >= best.rh
	}
}

// try records the candidate if it is valid and better than best. Most
// candidates are worse, and the first test tells them apart without the
// two divisions of the gain: with dl = lh+λ, dr = rh+λ > 0 and
// non-negative terms, gain > best ⇔ tl²·dr + tr²·dl > (best+parent)·dl·dr,
// and both sides carry rounding errors near 1e-16 of their size, so a
// candidate more than 1e-12 below is certainly worse; the rest are
// decided by the exact gain, as before.
func (sp *splitter) try(best *split, f, b int, missLeft bool, lg, lh, rg, rh, parent float64) {
	if lh < sp.minChildWeight || rh < sp.minChildWeight || lh <= 0 || rh <= 0 {
		return
	}
	tl, tr := lg, rg
	if sp.alpha != 0 {
		tl, tr = sp.thresholdL1(lg), sp.thresholdL1(rg)
	}
	dl, dr := lh+sp.lambda, rh+sp.lambda
	if tl*tl*dr+tr*tr*dl < (best.gain+parent)*(dl*dr)*(1-1e-12) {
		return
	}
	gain := sp.score(lg, lh) + sp.score(rg, rh) - parent
	if gain > best.gain {
		*best = split{gain: gain, feature: f, bin: b, defaultLeft: missLeft, lg: lg, lh: lh, rg: rg, rh: rh}
	}
}
