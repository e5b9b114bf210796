package gbdt

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/plinthai/plinth/ml/frame"
)

// mustFrame builds a frame from columns named f0, f1, ...
func mustFrame(t testing.TB, cols ...[]float32) *frame.Frame {
	t.Helper()
	names := make([]string, len(cols))
	for j := range cols {
		names[j] = "f" + string(rune('0'+j))
	}
	f, err := frame.New(names, cols)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestOneSplitByHand(t *testing.T) {
	// g = base − y = [1, 1, −1, −1], h = 1 each. The split between 2 and 3
	// (cut at 3: x < 3 goes left, as XGBoost cuts at a value) gives G_L = 2, H_L = 2, G_R = −2, H_R = 2; with λ = 1:
	// gain = 4/3 + 4/3 − 0 = 8/3, leaves −G/(H+λ) = ∓2/3.
	x := mustFrame(t, []float32{1, 2, 3, 4})
	p := DefaultParams()
	p.Objective, p.NumRounds, p.LearningRate, p.MaxDepth, p.MinChildWeight = ObjectiveSquaredError, 1, 1, 1, 0
	m, err := Train(context.Background(), Data{X: x, Y: []float32{1, 1, 3, 3}}, nil, p)
	if err != nil {
		t.Fatal(err)
	}
	wantNodes := []node{{value: 3, feature: defaultLeftBit, left: 1}, leafNode(1), leafNode(2)}
	if diff := cmp.Diff(wantNodes, m.nodes, cmp.AllowUnexported(node{})); diff != "" {
		t.Errorf("nodes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]float32{0, -2.0 / 3, 2.0 / 3}, m.out); diff != "" {
		t.Errorf("leaf outputs (-want +got):\n%s", diff)
	}
	if got, want := m.baseMargin, float32(2); got != want {
		t.Errorf("base margin: got %v, want %v", got, want)
	}
	imp := m.Importance()
	if got, want := imp[0].Gain, 8.0/3; math.Abs(got-want) > 1e-6 {
		t.Errorf("gain: got %v, want %v", got, want)
	}
	for _, tc := range []struct {
		row  float32
		want float64
	}{{1, 2 - 2.0/3}, {2.9999, 2 - 2.0/3}, {3, 2 + 2.0/3}, {4, 2 + 2.0/3}, {float32(math.NaN()), 2 - 2.0/3},
		{float32(math.Inf(1)), 2 + 2.0/3}, {float32(math.Inf(-1)), 2 - 2.0/3}} {
		got, err := m.PredictRow([]float32{tc.row}, OutputValue)
		if err != nil || math.Abs(got-tc.want) > 1e-6 {
			t.Errorf("PredictRow(%v): got %v, %v, want %v", tc.row, got, err, tc.want)
		}
	}
}

func TestMissingDirectionLearned(t *testing.T) {
	// Missing rows look like the high rows: the split must send NaN right.
	nan := float32(math.NaN())
	x := mustFrame(t, []float32{1, 2, 3, 4, nan, nan})
	p := DefaultParams()
	p.Objective, p.NumRounds, p.LearningRate, p.MaxDepth, p.MinChildWeight = ObjectiveSquaredError, 1, 1, 1, 0
	m, err := Train(context.Background(), Data{X: x, Y: []float32{0, 0, 5, 5, 5, 5}}, nil, p)
	if err != nil {
		t.Fatal(err)
	}
	if m.nodes[0].feature&defaultLeftBit != 0 {
		t.Errorf("default left: got true, want false (missing rows resemble the right side)")
	}
	lo, _ := m.PredictRow([]float32{1}, OutputValue)
	miss, _ := m.PredictRow([]float32{nan}, OutputValue)
	if !(miss > lo) {
		t.Errorf("PredictRow(NaN) = %v, want above PredictRow(1) = %v", miss, lo)
	}
}

func TestLogisticGradients(t *testing.T) {
	// g and h must be the first and second derivatives of the log loss
	// −y·log σ(m) − (1−y)·log(1−σ(m)) in the margin m.
	loss := func(y, m float64) float64 {
		p := sigmoid(m)
		return -y*math.Log(p) - (1-y)*math.Log(1-p)
	}
	const eps = 1e-4
	for _, y := range []float32{0, 1} {
		for _, m := range []float64{-3, -0.5, 0, 0.7, 2.5} {
			gp := make([]gpair, 1)
			o := logistic{posWeight: 1}
			o.gradients([]float32{y}, []float64{m}, []float64{o.aux(m)}, gp, 0, 1)
			g := (loss(float64(y), m+eps) - loss(float64(y), m-eps)) / (2 * eps)
			h := (loss(float64(y), m+eps) - 2*loss(float64(y), m) + loss(float64(y), m-eps)) / (eps * eps)
			if math.Abs(float64(gp[0].g)-g) > 1e-4 || math.Abs(float64(gp[0].h)-h) > 1e-3 {
				t.Errorf("y=%v m=%v: got g=%v h=%v, want g=%v h=%v", y, m, gp[0].g, gp[0].h, g, h)
			}
		}
	}
	gp := make([]gpair, 1)
	o := logistic{posWeight: 3}
	o.gradients([]float32{1}, []float64{0}, []float64{o.aux(0)}, gp, 0, 1)
	if diff := cmp.Diff(gpair{-1.5, 0.75}, gp[0], cmp.AllowUnexported(gpair{})); diff != "" {
		t.Errorf("scale_pos_weight 3 (-want +got):\n%s", diff)
	}
	squaredError{}.gradients([]float32{2}, []float64{5}, nil, gp, 0, 1)
	if diff := cmp.Diff(gpair{3, 1}, gp[0], cmp.AllowUnexported(gpair{})); diff != "" {
		t.Errorf("squared error (-want +got):\n%s", diff)
	}
}

// synthetic returns n rows of a nonlinear binary problem with missing values.
func synthetic(t testing.TB, n, nf int, seed uint64) (*frame.Frame, []float32) {
	r := rand.New(rand.NewPCG(seed, 1))
	cols := make([][]float32, nf)
	for j := range cols {
		cols[j] = make([]float32, n)
		for i := range cols[j] {
			cols[j][i] = float32(r.NormFloat64())
			if r.IntN(50) == 0 {
				cols[j][i] = float32(math.NaN())
			}
		}
	}
	y := make([]float32, n)
	for i := range y {
		z := 1.5*float64(cols[0][i]) - float64(cols[1][i]*cols[2%nf][i]) + math.Sin(3*float64(cols[3%nf][i]))
		if math.IsNaN(z) {
			z = 1
		}
		if z+0.5*r.NormFloat64() > 0 {
			y[i] = 1
		}
	}
	return mustFrame(t, cols...), y
}

func TestDeterministic(t *testing.T) {
	x, y := synthetic(t, 20000, 6, 1)
	p := DefaultParams()
	p.NumRounds, p.Subsample, p.ColsampleByTree, p.Seed, p.Threads = 10, 0.7, 0.7, 42, 2
	a, err := Train(context.Background(), Data{X: x, Y: y}, nil, p)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Train(context.Background(), Data{X: x, Y: y}, nil, p)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a.nodes, b.nodes, cmp.AllowUnexported(node{})); diff != "" {
		t.Errorf("two runs differ (-first +second):\n%s", diff)
	}
}

func TestGrowPolicies(t *testing.T) {
	x, y := synthetic(t, 5000, 5, 2)
	for _, tc := range []struct {
		name             string
		policy           string
		depth, maxLeaves int
		wantMaxLeaves    int
	}{
		{"depthwise depth 3", GrowDepthwise, 3, 0, 8},
		{"depthwise leaves 5", GrowDepthwise, 6, 5, 5},
		{"lossguide leaves 12", GrowLossguide, 0, 12, 12},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := DefaultParams()
			p.NumRounds, p.GrowPolicy, p.MaxDepth, p.MaxLeaves = 3, tc.policy, tc.depth, tc.maxLeaves
			m, err := Train(context.Background(), Data{X: x, Y: y}, nil, p)
			if err != nil {
				t.Fatal(err)
			}
			for k := range m.NumTrees() {
				end := int32(len(m.nodes))
				if k+1 < m.NumTrees() {
					end = m.roots[k+1]
				}
				leaves := 0
				for _, n := range m.nodes[m.roots[k]:end] {
					if n.isLeaf() {
						leaves++
					}
				}
				if leaves > tc.wantMaxLeaves || leaves < 2 {
					t.Errorf("tree %d: got %d leaves, want 2..%d", k, leaves, tc.wantMaxLeaves)
				}
			}
		})
	}
}

func TestEarlyStopping(t *testing.T) {
	x, y := synthetic(t, 4000, 5, 3)
	vx, vy := synthetic(t, 2000, 5, 4)
	p := DefaultParams()
	p.NumRounds, p.LearningRate, p.EarlyStoppingRounds, p.MaxDepth = 300, 0.5, 5, 8
	m, err := Train(context.Background(), Data{X: x, Y: y}, &Data{X: vx, Y: vy}, p)
	if err != nil {
		t.Fatal(err)
	}
	h := m.ValidHistory()
	if len(h) == 300 {
		t.Fatalf("ran all 300 rounds, want an early stop")
	}
	if got, want := m.NumTrees(), m.BestRound(); got != want {
		t.Errorf("trees: got %d, want best round %d", got, want)
	}
	for i, v := range h {
		if v < h[m.BestRound()-1] {
			t.Errorf("round %d logloss %v beats the kept best %v", i, v, h[m.BestRound()-1])
		}
	}
}

func TestBadInput(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	x := mustFrame(t, []float32{1, 2, 3})
	ok := DefaultParams()
	reg := DefaultParams()
	reg.Objective = ObjectiveSquaredError
	for _, tc := range []struct {
		name  string
		data  Data
		valid *Data
		p     Params
		want  string
	}{
		{"nan label", Data{X: x, Y: []float32{0, nan, 1}}, nil, ok, "label 1 is NaN, want a finite number"},
		{"inf label", Data{X: x, Y: []float32{0, inf, 1}}, nil, reg, "label 1 is +Inf"},
		{"label not 0/1", Data{X: x, Y: []float32{0, 2, 1}}, nil, ok, "want 0 or 1"},
		{"constant", Data{X: x, Y: []float32{1, 1, 1}}, nil, ok, "every label is 1"},
		{"empty", Data{X: mustFrame(t, []float32{}), Y: nil}, nil, ok, "0 rows × 1 features"},
		{"no columns", Data{X: &frame.Frame{}, Y: nil}, nil, ok, "0 rows × 0 features"},
		{"label count", Data{X: x, Y: []float32{0, 1}}, nil, ok, "2 labels for 3 rows"},
		{"valid too wide", Data{X: x, Y: []float32{0, 1, 1}}, &Data{X: mustFrame(t, []float32{1}, []float32{2}), Y: []float32{0}}, ok, "row has 2 features, model was trained on 1"},
		{"bad params", Data{X: x, Y: []float32{0, 1, 1}}, nil, Params{}, "objective"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Train(context.Background(), tc.data, tc.valid, tc.p)
			if !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got error %v, want ErrInput containing %q", err, tc.want)
			}
		})
	}
}

func TestPredictWidth(t *testing.T) {
	x, y := synthetic(t, 500, 4, 5)
	p := DefaultParams()
	p.NumRounds = 2
	m, err := Train(context.Background(), Data{X: x, Y: y}, nil, p)
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.PredictRow(make([]float32, 5), OutputValue)
	if !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), "row has 5 features, model was trained on 4") {
		t.Errorf("PredictRow with 5 features: got %v, want a width error", err)
	}
	wide := mustFrame(t, x.Cols[0], x.Cols[1], x.Cols[2], x.Cols[3], x.Cols[0])
	if _, err := m.PredictFrame(wide, nil, OutputValue); !errors.Is(err, ErrInput) {
		t.Errorf("PredictFrame with 5 columns: got %v, want ErrInput", err)
	}
}

func TestPredictFrameMatchesRow(t *testing.T) {
	x, y := synthetic(t, 1000, 4, 6)
	p := DefaultParams()
	p.NumRounds = 20
	m, err := Train(context.Background(), Data{X: x, Y: y}, nil, p)
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []Output{OutputValue, OutputMargin} {
		got, err := m.PredictFrame(x, nil, out)
		if err != nil {
			t.Fatal(err)
		}
		want := make([]float64, x.NumRows())
		var row []float32
		for i := range want {
			row = x.Row(i, row)
			want[i], _ = m.PredictRow(row, out)
		}
		if diff := cmp.Diff(want, got, cmpopts.EquateApprox(0, 0)); diff != "" {
			t.Errorf("output %d: PredictFrame differs from PredictRow (-row +frame):\n%s", out, diff)
		}
	}
}

func TestContextCancel(t *testing.T) {
	x, y := synthetic(t, 500, 4, 7)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Train(ctx, Data{X: x, Y: y}, nil, DefaultParams()); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

func TestLeafStepsMatchMargins(t *testing.T) {
	// Adding leaves through the objective's state must give the gradients
	// of the summed margin, also after the margin has gone far beyond what
	// e^−margin can hold and come back.
	y := []float32{0, 1, 1, 0}
	rows := []int32{0, 1, 2, 3}
	leaves := []float32{0.3, -1.7, 2.5, 0.05, -40, 39.9, 700, 300, -1000.5, -800, 800}
	for _, tc := range []struct {
		name string
		obj  objective
	}{{"logistic", logistic{posWeight: 1}}, {"logistic spw 3", logistic{posWeight: 3}}, {"squared", squaredError{}}} {
		for _, each := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s each=%v", tc.name, each), func(t *testing.T) {
				const base = 0.2
				margin, aux := make([]float64, 4), make([]float64, 4)
				for i := range margin {
					margin[i], aux[i] = base, tc.obj.aux(base)
				}
				gp, want := make([]gpair, 4), make([]gpair, 4)
				sum := base
				for _, v := range leaves {
					if each {
						tc.obj.stepRows(y, margin, aux, gp, rows, []float32{v, v, v, v}, slices.Repeat([]float64{tc.obj.leafStep(v)}, 4))
					} else {
						tc.obj.step(y, margin, aux, gp, rows, v, tc.obj.leafStep(v))
					}
					sum += float64(v)
					refM := []float64{sum, sum, sum, sum}
					refA := []float64{tc.obj.aux(sum), tc.obj.aux(sum), tc.obj.aux(sum), tc.obj.aux(sum)}
					tc.obj.gradients(y, refM, refA, want, 0, 4)
					for i := range gp {
						if math.Abs(float64(gp[i].g-want[i].g)) > 1e-6 || math.Abs(float64(gp[i].h-want[i].h)) > 1e-6*float64(want[i].h) {
							t.Fatalf("margin %v, row %d: got %+v, want %+v", sum, i, gp[i], want[i])
						}
					}
				}
			})
		}
	}
}

func TestRegressionLearns(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	n := 6000
	a, b := make([]float32, n), make([]float32, n)
	y := make([]float32, n)
	for i := range n {
		a[i], b[i] = float32(r.Float64()*4-2), float32(r.Float64()*4-2)
		y[i] = float32(math.Sin(float64(a[i]))*3 + float64(b[i]*b[i]) + 0.1*r.NormFloat64())
	}
	x := mustFrame(t, a, b)
	p := DefaultParams()
	p.Objective, p.NumRounds = ObjectiveSquaredError, 60
	tr, _ := x.Slice(0, 5000)
	te, _ := x.Slice(5000, n)
	m, err := Train(context.Background(), Data{X: tr, Y: y[:5000]}, nil, p)
	if err != nil {
		t.Fatal(err)
	}
	pred, err := m.PredictFrame(te, nil, OutputValue)
	if err != nil {
		t.Fatal(err)
	}
	var se, mean, vr float64
	for _, v := range y[5000:] {
		mean += float64(v) / 1000
	}
	for i, v := range y[5000:] {
		se += (pred[i] - float64(v)) * (pred[i] - float64(v))
		vr += (float64(v) - mean) * (float64(v) - mean)
	}
	if rmse, sd := math.Sqrt(se/1000), math.Sqrt(vr/1000); rmse > 0.15*sd {
		t.Errorf("test RMSE %.3f, want below 0.15 × label sd %.3f", rmse, sd)
	}
}

func TestRegularisationByHand(t *testing.T) {
	// Same data as TestOneSplitByHand: G_L = 2, G_R = −2, H = 2 each, λ = 1.
	x := mustFrame(t, []float32{1, 2, 3, 4})
	y := []float32{1, 1, 3, 3}
	for _, tc := range []struct {
		name        string
		alpha, gain float64
		wantLeaves  []float32 // nil: no split
	}{
		// α = 1 soft-thresholds |G| = 2 to 1: gain 1/3 + 1/3, leaves ∓1/3.
		{"alpha 1", 1, 0, []float32{-1.0 / 3, 1.0 / 3}},
		// γ above the gain 8/3 forbids the split.
		{"gamma 3", 0, 3, nil},
		{"gamma 2.5", 0, 2.5, []float32{-2.0 / 3, 2.0 / 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := DefaultParams()
			p.Objective, p.NumRounds, p.LearningRate, p.MaxDepth, p.MinChildWeight = ObjectiveSquaredError, 1, 1, 1, 0
			p.Alpha, p.MinSplitGain = tc.alpha, tc.gain
			m, err := Train(context.Background(), Data{X: x, Y: y}, nil, p)
			if err != nil {
				t.Fatal(err)
			}
			var leaves []float32
			for i, n := range m.nodes {
				if n.isLeaf() && len(m.nodes) > 1 {
					leaves = append(leaves, m.out[i])
				}
			}
			if diff := cmp.Diff(tc.wantLeaves, leaves, cmpopts.EquateApprox(0, 1e-6)); diff != "" {
				t.Errorf("leaves (-want +got):\n%s", diff)
			}
		})
	}
}
