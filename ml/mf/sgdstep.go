package mf

// sgdStep applies one rating's factor update to pu and qi with g = lr·err
// and decay = 1 − lr·reg (the step lr·(err·q − reg·p) rearranged to two
// multiply-adds per value):
//
//   - simultaneous: p ← decay·p + g·q and q ← decay·q + g·p, both from the
//     old values (UpdateSimultaneous);
//   - seq: q ← decay·q + g·p, then p ← decay·p + g·q from the new q
//     (UpdateSequential);
//
// and returns dot(pn, qn) of the rows as they stand after the update, with
// the four accumulators of dot. pn and qn are the next rating's rows and
// may be pu and qi themselves: each block of four is updated before it is
// read for the dot product, so the result is the same as updating first
// and calling dot after, bit for bit. All rows have the factor length.
//
// On amd64 with AVX2 the blocks of four run as one vector each
// (sgdstep_amd64.s); the rest, and every other machine, run sgdStepGo.
// Both round every product and sum on its own (the conversions to float64
// forbid fused multiply-adds), so training gives the same model on every
// machine for a seed.
func sgdStep(pu, qi, pn, qn []float64, g, decay float64, seq bool) float64 {
	k := len(pu)
	qi, pn, qn = qi[:k], pn[:k], qn[:k]
	var s [4]float64
	f := 0
	if blocks := k / 4; useAVX2 && blocks > 0 {
		if seq {
			s[0], s[1], s[2], s[3] = sgdStepSeqAVX2(&pu[0], &qi[0], &pn[0], &qn[0], blocks, g, decay)
		} else {
			s[0], s[1], s[2], s[3] = sgdStepSimAVX2(&pu[0], &qi[0], &pn[0], &qn[0], blocks, g, decay)
		}
		f = 4 * blocks
	}
	sgdStepGo(pu[f:], qi[f:], pn[f:], qn[f:], g, decay, seq, &s)
	return (s[0] + s[1]) + (s[2] + s[3])
}

// sgdStepGo is sgdStep in plain Go on rows of equal length, adding to the
// accumulators s: element j of each block of four goes to s[j], the tail
// to s[0], as in dot.
func sgdStepGo(pu, qi, pn, qn []float64, g, decay float64, seq bool, s *[4]float64) {
	k := len(pu)
	qi, pn, qn = qi[:k], pn[:k], qn[:k]
	f := 0
	for ; f+4 <= k; f += 4 {
		for j := f; j < f+4; j++ {
			stepOne(pu, qi, j, g, decay, seq)
			s[j-f] += float64(pn[j] * qn[j])
		}
	}
	for ; f < k; f++ {
		stepOne(pu, qi, f, g, decay, seq)
		s[0] += float64(pn[f] * qn[f])
	}
}

// stepOne updates pu[j] and qi[j] as sgdStep says.
func stepOne(pu, qi []float64, j int, g, decay float64, seq bool) {
	p, q := pu[j], qi[j]
	nq := float64(decay*q) + float64(g*p)
	if seq {
		pu[j] = float64(decay*p) + float64(g*nq)
	} else {
		pu[j] = float64(decay*p) + float64(g*q)
	}
	qi[j] = nq
}
