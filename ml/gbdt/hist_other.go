//go:build !amd64

package gbdt

// useAVX is false off amd64: accumulate and accumulate16 run the Go loops.
var useAVX = false

func accumulate16AVX(h *hbin, slots *uint16, rows *int32, pairs int, gp *gpair, nf int, w int) {
	panic("unreachable")
}

func accumulateAVX(h *hbin, bins *uint8, rows *int32, pairs int, gp *gpair, nf int, off *int32, w int) {
	panic("unreachable")
}
