package drift

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// ErrInput is wrapped by every error caused by the caller's data.
var ErrInput = errors.New("drift: bad input")

// PSIFloor is the share below which a bin's share is raised before taking
// logarithms in PSI, so that an empty bin adds a large but finite term.
const PSIFloor = 1e-4

// PSI returns the population stability index Σ (q−p)·ln(q/p) between the
// shares p of ref and q of live, two histograms over the same bins (counts
// or weights). Shares below PSIFloor are raised to it. Both histograms must
// have the same length and positive totals.
func PSI(ref, live []float64) (float64, error) {
	rt, lt, err := totals(ref, live)
	if err != nil {
		return 0, err
	}
	var psi float64
	for k := range ref {
		p := max(ref[k]/rt, PSIFloor)
		q := max(live[k]/lt, PSIFloor)
		psi += (q - p) * math.Log(q/p)
	}
	return psi, nil
}

// totals validates two histograms and returns their sums.
func totals(ref, live []float64) (rt, lt float64, err error) {
	if len(ref) == 0 || len(ref) != len(live) {
		return 0, 0, fmt.Errorf("%w: histograms of %d and %d bins", ErrInput, len(ref), len(live))
	}
	for k := range ref {
		if !(ref[k] >= 0) || !(live[k] >= 0) || math.IsInf(ref[k], 0) || math.IsInf(live[k], 0) {
			return 0, 0, fmt.Errorf("%w: bin %d holds %v and %v, want finite counts ≥ 0", ErrInput, k, ref[k], live[k])
		}
		rt += ref[k]
		lt += live[k]
	}
	if rt == 0 || lt == 0 {
		return 0, 0, fmt.Errorf("%w: empty histogram (totals %v and %v)", ErrInput, rt, lt)
	}
	return rt, lt, nil
}

// KS returns the two-sample Kolmogorov–Smirnov statistic D = sup|F_a − F_b|
// of the samples a and b, with ties handled exactly, and its asymptotic
// p-value (Kolmogorov's distribution at D·√(nm/(n+m))). It sorts copies of
// the inputs. NaN or an empty sample is an error.
func KS(a, b []float64) (d, p float64, err error) {
	if len(a) == 0 || len(b) == 0 {
		return 0, 0, fmt.Errorf("%w: samples of %d and %d values", ErrInput, len(a), len(b))
	}
	if slices.ContainsFunc(a, math.IsNaN) || slices.ContainsFunc(b, math.IsNaN) {
		return 0, 0, fmt.Errorf("%w: NaN in sample", ErrInput)
	}
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	na, nb := float64(len(x)), float64(len(y))
	var i, j int
	for i < len(x) && j < len(y) {
		v := min(x[i], y[j])
		for i < len(x) && x[i] == v {
			i++
		}
		for j < len(y) && y[j] == v {
			j++
		}
		d = max(d, math.Abs(float64(i)/na-float64(j)/nb))
	}
	return d, KSPValue(d, na, nb), nil
}

// KSPValue returns the asymptotic p-value of a two-sample KS statistic d for
// sample sizes n and m: P(K > d·√(nm/(n+m))) under Kolmogorov's distribution.
func KSPValue(d, n, m float64) float64 {
	if n <= 0 || m <= 0 {
		return math.NaN()
	}
	return kolmogorovSF(d * math.Sqrt(n*m/(n+m)))
}

// kolmogorovSF is P(K > t) = 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²t²}, with the
// small-t form √(2π)/t Σ e^{−(2k−1)²π²/(8t²)} where that converges faster.
func kolmogorovSF(t float64) float64 {
	if t <= 0 {
		return 1
	}
	if t < 1 {
		var s float64
		for k := 1; k <= 20; k++ {
			f := float64(2*k - 1)
			s += math.Exp(-f * f * math.Pi * math.Pi / (8 * t * t))
		}
		return 1 - math.Sqrt(2*math.Pi)/t*s
	}
	var s float64
	for k := 1; k <= 100; k++ {
		term := math.Exp(-2 * float64(k*k) * t * t)
		if k%2 == 0 {
			term = -term
		}
		s += term
		if term == 0 {
			break
		}
	}
	return min(1, max(0, 2*s))
}

// ChiSquare returns Pearson's chi-square statistic of homogeneity for the
// 2×K table of the category counts ref and live, its degrees of freedom and
// its p-value. Categories empty in both are left out; fewer than two
// remaining categories give statistic 0, df 0 and p-value 1.
func ChiSquare(ref, live []float64) (stat float64, df int, p float64, err error) {
	rt, lt, err := totals(ref, live)
	if err != nil {
		return 0, 0, 0, err
	}
	n := rt + lt
	k := 0
	for c := range ref {
		col := ref[c] + live[c]
		if col == 0 {
			continue
		}
		k++
		er, el := rt*col/n, lt*col/n
		stat += (ref[c]-er)*(ref[c]-er)/er + (live[c]-el)*(live[c]-el)/el
	}
	if k < 2 {
		return 0, 0, 1, nil
	}
	df = k - 1
	return stat, df, chiSquareSF(stat, float64(df)), nil
}

// chiSquareSF is P(X > x) for X chi-square with df degrees of freedom.
func chiSquareSF(x, df float64) float64 {
	if x <= 0 {
		return 1
	}
	return gammaQ(df/2, x/2)
}

// gammaQ is the regularised upper incomplete gamma function Q(a, x), by its
// series for x < a+1 and Lentz's continued fraction otherwise (Numerical
// Recipes §6.2).
func gammaQ(a, x float64) float64 {
	lg, _ := math.Lgamma(a)
	prefix := math.Exp(-x + a*math.Log(x) - lg)
	if x < a+1 {
		sum, term := 1/a, 1/a
		for n := 1; n < 1000; n++ {
			term *= x / (a + float64(n))
			sum += term
			if math.Abs(term) < math.Abs(sum)*1e-15 {
				break
			}
		}
		return max(0, 1-sum*prefix)
	}
	const tiny = 1e-300
	b := x + 1 - a
	c, d := 1/tiny, 1/b
	h := d
	for i := 1; i < 1000; i++ {
		an := -float64(i) * (float64(i) - a)
		b += 2
		d = an*d + b
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = b + an/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < 1e-15 {
			break
		}
	}
	return prefix * h
}
