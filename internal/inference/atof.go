package inference

import (
	"math"
	"math/big"
	"math/bits"
	"sync"
)

// This file turns the decimal digits the scanner collected into a float64
// without going back over the text: exactly (the same bits as
// strconv.ParseFloat) for every input it accepts, and it declines the rare
// ones it cannot settle, which the scanner then hands to strconv.
//
// Two methods, the ones strconv itself tries first: a mantissa below 2^53
// times or divided by an exactly representable power of ten (both exact,
// so one IEEE rounding), else the Eisel-Lemire algorithm
// (https://nigeltao.github.io/blog/2020/eisel-lemire.html): multiply the
// normalized mantissa by a 128-bit truncation of 10^exp10 and keep the
// result when the truncation provably cannot change the rounding.

// maxMantDigits is how many significant decimal digits fit a uint64.
const maxMantDigits = 19

// Powers of ten the tables cover.
const (
	pow10Min = -348
	pow10Max = 347
)

// exactPow10 are the powers of ten a float64 holds exactly.
var exactPow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// pow10Mant returns, for each e in [pow10Min, pow10Max], floor(10^e * 2^k)
// for the k that puts it in [2^127, 2^128), as {high, low} 64-bit halves.
// The table is computed once, on first use, with math/big: by a sync.Once
// rather than a sync.OnceValue, whose call was about a tenth of parsing a
// 17-digit number, where Once.Do's check inlines.
func pow10Mant() *[pow10Max - pow10Min + 1][2]uint64 {
	pow10Once.Do(fillPow10)
	return &pow10Tab
}

var (
	pow10Once sync.Once
	pow10Tab  [pow10Max - pow10Min + 1][2]uint64
)

func fillPow10() {
	ten, one := big.NewInt(10), big.NewInt(1)
	mask := new(big.Int).Sub(new(big.Int).Lsh(one, 64), one)
	for e := pow10Min; e <= pow10Max; e++ {
		p := new(big.Int).Exp(ten, big.NewInt(int64(abs(e))), nil)
		m := new(big.Int)
		switch bl := p.BitLen(); {
		case e >= 0 && bl > 128:
			m.Rsh(p, uint(bl-128))
		case e >= 0:
			m.Lsh(p, uint(128-bl))
		default: // 2^(127+bl) / 10^-e lies in (2^127, 2^128)
			m.Quo(new(big.Int).Lsh(one, uint(127+bl)), p)
		}
		pow10Tab[e-pow10Min] = [2]uint64{new(big.Int).Rsh(m, 64).Uint64(), new(big.Int).And(m, mask).Uint64()}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// decimalToFloat returns ±man * 10^exp10 correctly rounded, or false when
// neither method settles it (the caller falls back to strconv).
func decimalToFloat(man uint64, exp10 int, neg bool) (float64, bool) {
	if man == 0 {
		if neg {
			return math.Copysign(0, -1), true
		}
		return 0, true
	}
	if man < 1<<53 && exp10 >= -22 && exp10 <= 22 {
		f := float64(man)
		if exp10 < 0 {
			f /= exactPow10[-exp10]
		} else {
			f *= exactPow10[exp10]
		}
		if neg {
			f = -f
		}
		return f, true
	}
	return eiselLemire(man, exp10, neg)
}

// eiselLemire is the algorithm for float64 (see the file comment).
func eiselLemire(man uint64, exp10 int, neg bool) (float64, bool) {
	if exp10 < pow10Min || exp10 > pow10Max {
		return 0, false
	}
	pow := &pow10Mant()[exp10-pow10Min]
	clz := bits.LeadingZeros64(man)
	man <<= uint(clz)
	// 10^exp10 = pow * 2^(exp2-128), exp2 = 1 + floor(exp10 * log2(10)).
	exp2 := 1 + (exp10*108853)>>15
	retExp2 := uint64(exp2+63+1023) - uint64(clz)
	hi, lo := bits.Mul64(man, pow[0])
	if hi&0x1ff == 0x1ff && lo+man < man {
		// The low half of pow may carry into the bits that round.
		yHi, yLo := bits.Mul64(man, pow[1])
		mHi, mLo := hi, lo+yHi
		if mLo < lo {
			mHi++
		}
		if mHi&0x1ff == 0x1ff && mLo+1 == 0 && yLo+man < man {
			return 0, false
		}
		hi, lo = mHi, mLo
	}
	msb := hi >> 63
	mant := hi >> (msb + 9) // 54 bits
	retExp2 -= 1 ^ msb
	if lo == 0 && hi&0x1ff == 0 && mant&3 == 1 {
		return 0, false // exactly half way: the truncation decides, so defer
	}
	mant = (mant + mant&1) >> 1 // round to 53 bits
	if mant>>53 > 0 {
		mant >>= 1
		retExp2++
	}
	if retExp2-1 >= 0x7ff-1 {
		return 0, false // subnormal, infinite: strconv's business
	}
	b := retExp2<<52 | mant&(1<<52-1)
	if neg {
		b |= 1 << 63
	}
	return math.Float64frombits(b), true
}
