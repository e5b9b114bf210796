package gbdt

import "golang.org/x/sys/cpu"

// useAVX selects accumulate16AVX (hist_amd64.s); a variable so tests can
// compare it with the Go loop.
var useAVX = cpu.X86.HasAVX

//go:noescape
func accumulate16AVX(h *hbin, slots *uint16, rows *int32, pairs int, gp *gpair, nf, f0, w int)
