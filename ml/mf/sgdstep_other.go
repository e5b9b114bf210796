//go:build !amd64

package mf

// useAVX2 is false off amd64: sgdStep runs the plain Go loop.
var useAVX2 = false

func sgdStepSeqAVX2(pu, qi, pn, qn *float64, blocks int, gain, decay float64) (s0, s1, s2, s3 float64) {
	panic("unreachable")
}

func sgdStepSimAVX2(pu, qi, pn, qn *float64, blocks int, gain, decay float64) (s0, s1, s2, s3 float64) {
	panic("unreachable")
}
