package gbdt

import "math"

// floatKey maps a float32 to a uint32 that sorts as the number does (−0
// taken as +0, which compares equal to it). NaN has no place: callers
// drop it first.
func floatKey(x float32) uint32 {
	u := math.Float32bits(x + 0) // −0 + 0 = +0
	if u&(1<<31) != 0 {
		return ^u
	}
	return u | 1<<31
}

// keyFloat inverts floatKey.
func keyFloat(k uint32) float32 {
	if k&(1<<31) != 0 {
		return math.Float32frombits(k &^ (1 << 31))
	}
	return math.Float32frombits(^k)
}

// radixArgsort sorts keys ascending and permutes idx with them, stably,
// in three passes of 11, 11 and 10 bits (a pass whose digit is the same
// for every key is skipped). It is several times faster than a comparison
// sort on the columns binning sorts. tmpK and tmpI are scratch of the same
// length; the result may end up in either pair, which it returns.
func radixArgsort(keys, tmpK []uint32, idx, tmpI []int32) ([]uint32, []int32) {
	n := len(keys)
	tmpK, idx, tmpI = tmpK[:n], idx[:n], tmpI[:n]
	var count [2048]int
	for shift := uint(0); shift < 32; shift += 11 {
		clear(count[:])
		for _, k := range keys {
			count[(k>>shift)&2047]++
		}
		if count[(keys[0]>>shift)&2047] == n {
			continue // every key has this digit: the pass would change nothing
		}
		pos := 0
		for d, c := range count {
			count[d] = pos
			pos += c
		}
		for i, k := range keys {
			d := (k >> shift) & 2047
			p := count[d]
			tmpK[p], tmpI[p] = k, idx[i]
			count[d]++
		}
		keys, tmpK, idx, tmpI = tmpK, keys, tmpI, idx
	}
	return keys, idx
}

// sortFloats sorts non-NaN values ascending (−0 becomes +0).
func sortFloats(vals []float32) {
	if len(vals) < 256 {
		for i := range vals {
			vals[i] += 0
		}
		insertionSort(vals)
		return
	}
	keys, tmpK := make([]uint32, len(vals)), make([]uint32, len(vals))
	idx, tmpI := make([]int32, len(vals)), make([]int32, len(vals))
	for i, v := range vals {
		keys[i] = floatKey(v)
	}
	keys, _ = radixArgsort(keys, tmpK, idx, tmpI)
	for i, k := range keys {
		vals[i] = keyFloat(k)
	}
}

// insertionSort sorts a short slice.
func insertionSort(v []float32) {
	for i := 1; i < len(v); i++ {
		for j := i; j > 0 && v[j] < v[j-1]; j-- {
			v[j], v[j-1] = v[j-1], v[j]
		}
	}
}

// binColumn returns the cuts and the bins of one column: the cuts as
// featureCuts computes them (from the sample's rows, or all rows when
// sample is nil), the bins as binner.bin assigns them. The column is
// sorted once, by radix, with its row indices; the cuts of an unsampled
// column come from that order, and every row's bin from one walk along it.
func binColumn(col []float32, sample []int32, maxValueBins int) ([]float32, []uint8) {
	n := len(col)
	keys, idx := make([]uint32, 0, n), make([]int32, 0, n)
	bins := make([]uint8, n)
	for i, v := range col {
		if v == v {
			keys = append(keys, floatKey(v))
			idx = append(idx, int32(i))
		}
	}
	var cuts []float32
	if len(keys) > 0 {
		keys, idx = radixArgsort(keys, make([]uint32, len(keys)), idx, make([]int32, len(keys)))
	}
	if sample == nil {
		vals := make([]float32, len(keys))
		for i, k := range keys {
			vals[i] = keyFloat(k)
		}
		cuts = cutsFromSorted(vals, maxValueBins)
	} else {
		cuts = featureCuts(col, sample, maxValueBins)
	}
	missing := uint8(len(cuts))
	for i, v := range col {
		if v != v {
			bins[i] = missing
		}
	}
	b, last := 0, len(cuts)-1 // the last cut is +Inf: no value passes it
	for i, k := range keys {
		x := keyFloat(k)
		for b < last && cuts[b] <= x {
			b++
		}
		bins[idx[i]] = uint8(b)
	}
	return cuts, bins
}
