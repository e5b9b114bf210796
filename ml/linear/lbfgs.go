package linear

import "math"

// memory is the number of correction pairs L-BFGS keeps.
const memory = 10

// Line-search constants: sufficient decrease (Armijo) and backtracking.
const (
	armijo      = 1e-4
	backtrack   = 0.5
	maxLineStep = 60
)

// result reports how an optimiser ended.
type result struct {
	Iter      int
	Converged bool
	Objective float64
}

// owlqn minimises p's smooth objective plus l1·Σ|θ_j| over the coefficients
// (not the intercept), starting from theta and updating it in place. With
// l1 = 0 it is plain L-BFGS. Reference: Andrew and Gao, "Scalable training
// of L1-regularized log-linear models", ICML 2007.
func owlqn(p *problem, theta []float64, l1 float64, maxIter int, tol, ftol float64) result {
	n := len(theta)
	o := &qn{p: p, l1: l1, d: p.d}
	g, pg, dir := make([]float64, n), make([]float64, n), make([]float64, n)
	next, gNext := make([]float64, n), make([]float64, n)
	f := p.eval(theta, g) + o.penalty(theta)
	for it := 0; it < maxIter; it++ {
		o.pseudoGradient(theta, g, pg)
		if maxAbs(pg) <= tol {
			return result{Iter: it, Converged: true, Objective: f}
		}
		o.direction(pg, dir)
		o.constrain(pg, dir)
		step := 1.0
		if len(o.s) == 0 {
			step = 1 / math.Max(norm(pg), 1e-12)
		}
		fNext, ok := o.lineSearch(theta, f, pg, dir, step, next, gNext)
		if !ok {
			return result{Iter: it, Converged: true, Objective: f}
		}
		o.remember(theta, next, g, gNext)
		converged := f-fNext <= ftol*math.Abs(f)
		copy(theta, next)
		copy(g, gNext)
		f = fNext
		if converged {
			return result{Iter: it + 1, Converged: true, Objective: f}
		}
	}
	o.pseudoGradient(theta, g, pg)
	return result{Iter: maxIter, Converged: maxAbs(pg) <= tol, Objective: f}
}

// qn holds the L-BFGS correction pairs and the L1 weight.
type qn struct {
	p    *problem
	l1   float64
	d    int // number of penalised coefficients (the intercept follows)
	s, y [][]float64
	rho  []float64
}

func (o *qn) penalty(theta []float64) float64 {
	if o.l1 == 0 {
		return 0
	}
	var s float64
	for _, v := range theta[:o.d] {
		s += math.Abs(v)
	}
	return o.l1 * s
}

// pseudoGradient writes the minimum-norm subgradient of the objective.
func (o *qn) pseudoGradient(theta, g, pg []float64) {
	copy(pg, g)
	if o.l1 == 0 {
		return
	}
	for j := 0; j < o.d; j++ {
		switch {
		case theta[j] > 0:
			pg[j] = g[j] + o.l1
		case theta[j] < 0:
			pg[j] = g[j] - o.l1
		case g[j]+o.l1 < 0:
			pg[j] = g[j] + o.l1
		case g[j]-o.l1 > 0:
			pg[j] = g[j] - o.l1
		default:
			pg[j] = 0
		}
	}
}

// direction writes -H·pg by the two-loop recursion.
func (o *qn) direction(pg, dir []float64) {
	for j := range dir {
		dir[j] = -pg[j]
	}
	k := len(o.s)
	alpha := make([]float64, k)
	for i := k - 1; i >= 0; i-- {
		alpha[i] = o.rho[i] * dot(o.s[i], dir)
		axpy(-alpha[i], o.y[i], dir)
	}
	if k > 0 {
		gamma := dot(o.s[k-1], o.y[k-1]) / dot(o.y[k-1], o.y[k-1])
		for j := range dir {
			dir[j] *= gamma
		}
	}
	for i := 0; i < k; i++ {
		beta := o.rho[i] * dot(o.y[i], dir)
		axpy(alpha[i]-beta, o.s[i], dir)
	}
}

// constrain zeroes direction entries that do not descend along -pg.
func (o *qn) constrain(pg, dir []float64) {
	if o.l1 == 0 {
		return
	}
	for j := 0; j < o.d; j++ {
		if dir[j]*pg[j] >= 0 {
			dir[j] = 0
		}
	}
}

// lineSearch backtracks from step along dir until the Armijo condition holds,
// projecting onto the current orthant for L1. It writes the accepted point
// and its smooth gradient, and reports false if no step decreased f.
func (o *qn) lineSearch(theta []float64, f float64, pg, dir []float64, step float64, next, gNext []float64) (float64, bool) {
	for ls := 0; ls < maxLineStep; ls++ {
		for j := range next {
			next[j] = theta[j] + step*dir[j]
		}
		o.project(theta, pg, next)
		fNext := o.p.eval(next, gNext) + o.penalty(next)
		var dec float64
		for j := range next {
			dec += pg[j] * (next[j] - theta[j])
		}
		if fNext <= f+armijo*dec && fNext < f {
			return fNext, true
		}
		step *= backtrack
	}
	return f, false
}

// project zeroes coefficients that left the orthant chosen at theta.
func (o *qn) project(theta, pg, next []float64) {
	if o.l1 == 0 {
		return
	}
	for j := 0; j < o.d; j++ {
		sign := theta[j]
		if sign == 0 {
			sign = -pg[j]
		}
		if next[j]*sign <= 0 {
			next[j] = 0
		}
	}
}

// remember stores the correction pair of a step when its curvature is
// positive, dropping the oldest beyond memory.
func (o *qn) remember(theta, next, g, gNext []float64) {
	s, y := make([]float64, len(theta)), make([]float64, len(theta))
	for j := range s {
		s[j] = next[j] - theta[j]
		y[j] = gNext[j] - g[j]
	}
	sy := dot(s, y)
	if sy <= 1e-16*dot(y, y) || sy <= 0 {
		return
	}
	if len(o.s) == memory {
		o.s, o.y, o.rho = o.s[1:], o.y[1:], o.rho[1:]
	}
	o.s, o.y, o.rho = append(o.s, s), append(o.y, y), append(o.rho, 1/sy)
}

func dot(a, b []float64) float64 {
	var s float64
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

func axpy(a float64, x, y []float64) {
	for i, v := range x {
		y[i] += a * v
	}
}

func norm(a []float64) float64 { return math.Sqrt(dot(a, a)) }

func maxAbs(a []float64) float64 {
	var m float64
	for _, v := range a {
		m = math.Max(m, math.Abs(v))
	}
	return m
}
