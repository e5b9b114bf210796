package view

import (
	"math"
	"math/bits"
	"slices"
)

// HyperLogLog parameters: 2^hllP registers give a standard error of about
// 1.04/sqrt(1024) = 3.3%. Below sparseMax entries the sketch keeps a
// sorted list of (register, rank) pairs instead of all registers, so the
// small buckets of a busy window cost bytes, not a kilobyte each.
const (
	hllP      = 10
	hllM      = 1 << hllP
	sparseMax = hllM / 8
)

// HLL is a HyperLogLog sketch of distinct values, mergeable across buckets.
// The zero value is an empty sketch. Not safe for concurrent use.
type HLL struct {
	sparse []uint32 // register<<8 | rank, sorted by register, one per register
	dense  []uint8  // hllM registers once promoted; nil before
}

// Add adds a 64-bit hash of a value.
func (h *HLL) Add(x uint64) {
	x = mix(x)
	reg := uint32(x >> (64 - hllP))
	rank := uint8(bits.LeadingZeros64(x<<hllP|1<<(hllP-1)) + 1)
	h.set(reg, rank)
}

// mix spreads the bits of a hash (splitmix64's finalizer), so that weak
// hashes still fill registers evenly.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

func (h *HLL) set(reg uint32, rank uint8) {
	if h.dense != nil {
		h.dense[reg] = max(h.dense[reg], rank)
		return
	}
	i, found := slices.BinarySearchFunc(h.sparse, reg, func(e, r uint32) int { return int(e>>8) - int(r) })
	switch {
	case found:
		if uint8(h.sparse[i]) < rank {
			h.sparse[i] = reg<<8 | uint32(rank)
		}
	case len(h.sparse) >= sparseMax:
		h.promote()
		h.dense[reg] = rank
	default:
		h.sparse = slices.Insert(h.sparse, i, reg<<8|uint32(rank))
	}
}

func (h *HLL) promote() {
	h.dense = make([]uint8, hllM)
	for _, e := range h.sparse {
		h.dense[e>>8] = uint8(e)
	}
	h.sparse = nil
}

// Merge adds every value of o to h.
func (h *HLL) Merge(o *HLL) {
	if o.dense != nil {
		if h.dense == nil {
			h.promote()
		}
		for i, r := range o.dense {
			h.dense[i] = max(h.dense[i], r)
		}
		return
	}
	for _, e := range o.sparse {
		h.set(e>>8, uint8(e))
	}
}

// Reset empties h, keeping its memory.
func (h *HLL) Reset() {
	h.sparse = h.sparse[:0]
	if h.dense != nil {
		clear(h.dense)
	}
}

// Empty reports whether nothing was added.
func (h *HLL) Empty() bool {
	if h.dense == nil {
		return len(h.sparse) == 0
	}
	return !slices.ContainsFunc(h.dense, func(r uint8) bool { return r != 0 })
}

// Estimate returns the estimated number of distinct values: linear
// counting while many registers are empty, the HyperLogLog estimate above.
func (h *HLL) Estimate() float64 {
	var sum float64
	zeros := hllM
	if h.dense == nil {
		zeros -= len(h.sparse)
		sum = float64(zeros)
		for _, e := range h.sparse {
			sum += math.Ldexp(1, -int(uint8(e)))
		}
	} else {
		zeros = 0
		for _, r := range h.dense {
			sum += math.Ldexp(1, -int(r))
			if r == 0 {
				zeros++
			}
		}
	}
	const alpha = 0.7213 / (1 + 1.079/hllM)
	est := alpha * hllM * hllM / sum
	if est <= 2.5*hllM && zeros > 0 {
		return math.Round(hllM * math.Log(float64(hllM)/float64(zeros)))
	}
	return math.Round(est)
}
