package gbdt

import "golang.org/x/sys/cpu"

// useAVX selects the vector kernels of hist_amd64.s; a variable so tests
// can compare them with the Go loops.
var useAVX = cpu.X86.HasAVX

// accumulate16AVX and accumulateAVX run accumulate16's and accumulate's
// loops over pairs of rows (see hist_amd64.s for the arguments).
//
//go:noescape
func accumulate16AVX(h *hbin, slots *uint16, rows *int32, pairs int, gp *gpair, nf int, w int)

//go:noescape
func accumulateAVX(h *hbin, bins *uint8, rows *int32, pairs int, gp *gpair, nf int, off *int32, w int)
