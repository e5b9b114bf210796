package linear

import "math"

// newton minimises p's (L2-regularised) objective by Newton's method with a
// backtracking line search, updating theta in place.
//
// It stops when the largest gradient entry is at most tol, when an
// iteration lowers the objective by at most ftol·|f|, or one iteration
// earlier when the Newton step from the current point, computed with the
// previous iteration's Hessian (already factorised), is predicted to lower
// the objective by at most ftol·|f|/10: near the optimum the quadratic
// model is accurate, so that next iteration would end at the ftol test
// having changed the objective by less than a tenth of what the test
// allows, and skipping it saves a Hessian and an evaluation.
func newton(p *problem, theta []float64, maxIter int, tol, ftol float64) result {
	n := len(theta)
	g, step, next, gNext := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	h := make([]float64, n*n)
	factored := false // h holds the Cholesky factor of the previous Hessian
	f := p.eval(theta, g)
	for it := 0; it < maxIter; it++ {
		if maxAbs(g) <= tol || (factored && predictedDecrease(h, g, step) <= newtonEarlyStop*ftol*math.Abs(f)) {
			return result{Iter: it, Converged: true, Objective: f}
		}
		p.hessian(h) // at theta: the last eval was there
		if factored = cholesky(h, n); !factored {
			// Singular curvature (no penalty and separable data): fall back
			// to a gradient step, which the line search scales.
			for j := range step {
				step[j] = -g[j]
			}
		} else {
			for j := range step {
				step[j] = -g[j]
			}
			cholSolve(h, n, step)
		}
		fNext, ok := newtonLine(p, theta, f, g, step, next, gNext)
		if !ok {
			return result{Iter: it, Converged: true, Objective: f}
		}
		converged := f-fNext <= ftol*math.Abs(f)
		copy(theta, next)
		copy(g, gNext)
		f = fNext
		if converged {
			return result{Iter: it + 1, Converged: true, Objective: f}
		}
	}
	return result{Iter: maxIter, Converged: maxAbs(g) <= tol, Objective: f}
}

// newtonEarlyStop is the fraction of the ftol threshold under which the
// predicted decrease of the next Newton step ends the iteration early.
const newtonEarlyStop = 0.1

// predictedDecrease returns ½·gᵀH⁻¹g, the decrease of the quadratic model
// along the Newton step, with H given by its Cholesky factor l; scratch
// receives H⁻¹g.
func predictedDecrease(l, g, scratch []float64) float64 {
	copy(scratch, g)
	cholSolve(l, len(g), scratch)
	return 0.5 * dot(g, scratch)
}

// newtonLine backtracks along step from theta until the Armijo condition holds.
func newtonLine(p *problem, theta []float64, f float64, g, step, next, gNext []float64) (float64, bool) {
	slope := dot(g, step)
	t := 1.0
	for ls := 0; ls < maxLineStep; ls++ {
		for j := range next {
			next[j] = theta[j] + t*step[j]
		}
		fNext := p.eval(next, gNext)
		if fNext <= f+armijo*t*slope && fNext < f {
			return fNext, true
		}
		t *= backtrack
	}
	return f, false
}

// cholesky factors the symmetric n×n matrix a in place into L·Lᵀ (lower
// triangle), reporting false if a is not positive definite.
func cholesky(a []float64, n int) bool {
	for j := 0; j < n; j++ {
		s := a[j*n+j]
		for k := 0; k < j; k++ {
			s -= a[j*n+k] * a[j*n+k]
		}
		if s <= 1e-300 {
			return false
		}
		a[j*n+j] = math.Sqrt(s)
		for i := j + 1; i < n; i++ {
			s := a[i*n+j]
			for k := 0; k < j; k++ {
				s -= a[i*n+k] * a[j*n+k]
			}
			a[i*n+j] = s / a[j*n+j]
		}
	}
	return true
}

// cholSolve solves L·Lᵀ·x = b in place, with L from cholesky.
func cholSolve(l []float64, n int, b []float64) {
	for i := 0; i < n; i++ {
		s := b[i]
		for k := 0; k < i; k++ {
			s -= l[i*n+k] * b[k]
		}
		b[i] = s / l[i*n+i]
	}
	for i := n - 1; i >= 0; i-- {
		s := b[i]
		for k := i + 1; k < n; k++ {
			s -= l[k*n+i] * b[k]
		}
		b[i] = s / l[i*n+i]
	}
}
