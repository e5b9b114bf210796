package mf

import "golang.org/x/sys/cpu"

// useAVX2 selects the vector kernels of sgdstep_amd64.s; a variable so
// tests can compare them with the plain Go loop.
var useAVX2 = cpu.X86.HasAVX2

// sgdStepSeqAVX2 and sgdStepSimAVX2 run sgdStep's sequential and
// simultaneous updates over blocks×4 values of each row, four at a time,
// and return the four accumulators of the dot product of pn and qn.
//
//go:noescape
func sgdStepSeqAVX2(pu, qi, pn, qn *float64, blocks int, gain, decay float64) (s0, s1, s2, s3 float64)

//go:noescape
func sgdStepSimAVX2(pu, qi, pn, qn *float64, blocks int, gain, decay float64) (s0, s1, s2, s3 float64)
