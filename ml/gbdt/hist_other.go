//go:build !amd64

package gbdt

// useAVX is false off amd64: accumulate16 runs the Go loop.
var useAVX = false

func accumulate16AVX(h *hbin, slots *uint16, rows *int32, pairs int, gp *gpair, nf, f0, w int) {
	panic("unreachable")
}
