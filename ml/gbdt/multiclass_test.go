package gbdt

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/plinthai/plinth/ml/artifact"
	"github.com/plinthai/plinth/ml/frame"
)

// threeClasses returns n rows of a 3-class problem: the class is set by
// which of three regions of (x0, x1) a row falls in, with 10 % label noise.
func threeClasses(t testing.TB, n int, seed uint64) (*frame.Frame, []float32) {
	r := rand.New(rand.NewPCG(seed, 3))
	a, b, c := make([]float32, n), make([]float32, n), make([]float32, n)
	y := make([]float32, n)
	for i := range n {
		a[i], b[i], c[i] = float32(r.NormFloat64()), float32(r.NormFloat64()), float32(r.NormFloat64())
		switch {
		case a[i] > 0.5:
			y[i] = 2
		case a[i]+b[i] > 0:
			y[i] = 1
		}
		if r.IntN(10) == 0 {
			y[i] = float32(r.IntN(3))
		}
	}
	return mustFrame(t, a, b, c), y
}

func TestSoftmaxGradients(t *testing.T) {
	// Margins (0, ln 2, ln 2) give p = (0.2, 0.4, 0.4); with label 1:
	// g = p − onehot = (0.2, −0.6, 0.4), h = 2p(1−p) = (0.32, 0.48, 0.48).
	gps := [][]gpair{make([]gpair, 1), make([]gpair, 1), make([]gpair, 1)}
	softmaxGradients([]float32{1}, []float64{0, math.Ln2, math.Ln2}, gps, 0, 1)
	got := []gpair{gps[0][0], gps[1][0], gps[2][0]}
	want := []gpair{{0.2, 0.32}, {-0.6, 0.48}, {0.4, 0.48}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(gpair{}), cmpopts.EquateApprox(0, 1e-6)); diff != "" {
		t.Errorf("gradients (-want +got):\n%s", diff)
	}
}

func TestMulticlassLearns(t *testing.T) {
	x, y := threeClasses(t, 6000, 1)
	tr, _ := x.Slice(0, 5000)
	te, _ := x.Slice(5000, 6000)
	p := DefaultParams()
	p.Objective, p.NumClass, p.NumRounds, p.Threads = ObjectiveSoftprob, 3, 30, 2
	m, err := Train(context.Background(), Data{X: tr, Y: y[:5000]}, nil, p)
	if err != nil {
		t.Fatal(err)
	}
	if m.NumClass() != 3 || m.NumTrees() != 90 || m.Task() != TaskMulticlass {
		t.Fatalf("got %d classes, %d trees, task %q; want 3, 90, %q", m.NumClass(), m.NumTrees(), m.Task(), TaskMulticlass)
	}
	classes, err := m.PredictFrame(te, nil, OutputValue)
	if err != nil {
		t.Fatal(err)
	}
	probs, err := m.PredictFrameClasses(te, nil, OutputValue)
	if err != nil {
		t.Fatal(err)
	}
	right := 0
	for i, c := range classes {
		if c == float64(y[5000+i]) {
			right++
		}
		row := probs[3*i : 3*i+3]
		var sum float64
		for _, v := range row {
			sum += v
		}
		if math.Abs(sum-1) > 1e-5 || slices.Index(row, slices.Max(row)) != int(c) {
			t.Fatalf("row %d: probabilities %v (sum %v), class %v", i, row, sum, c)
		}
		one, err := m.PredictRowClasses(te.Row(i, nil), make([]float64, 0, 3), OutputValue)
		if err != nil || !slices.Equal(one, row) {
			t.Fatalf("row %d: PredictRowClasses %v, %v; PredictFrameClasses %v", i, one, err, row)
		}
	}
	// The rule is learnable to the 10 % noise (of which a third keeps the
	// right label): about 93 % is the ceiling.
	if acc := float64(right) / 1000; acc < 0.88 {
		t.Errorf("test accuracy %.3f, want at least 0.88", acc)
	}
	row := te.Row(0, nil)
	dst := make([]float64, 0, 3)
	if got := testing.AllocsPerRun(100, func() { m.PredictRowClasses(row, dst, OutputValue) }); got != 0 {
		t.Errorf("PredictRowClasses allocations: got %v, want 0", got)
	}
	if _, err := m.PredictRow(row, OutputMargin); !errors.Is(err, ErrInput) {
		t.Errorf("PredictRow(OutputMargin) on a multiclass model: got %v, want ErrInput", err)
	}
}

func TestMulticlassSaveLoadAndEarlyStopping(t *testing.T) {
	x, y := threeClasses(t, 3000, 2)
	tr, _ := x.Slice(0, 2000)
	va, _ := x.Slice(2000, 3000)
	p := DefaultParams()
	p.Objective, p.NumClass, p.NumRounds, p.EarlyStoppingRounds, p.LearningRate = ObjectiveSoftmax, 3, 300, 5, 0.5
	m, err := Train(context.Background(), Data{X: tr, Y: y[:2000]}, &Data{X: va, Y: y[2000:]}, p)
	if err != nil {
		t.Fatal(err)
	}
	h := m.ValidHistory()
	if m.BestRound() < 2 || m.BestRound() >= len(h) || m.NumTrees() != 3*m.BestRound() {
		t.Fatalf("best round %d of %d, %d trees: early stopping did not stop or did not truncate", m.BestRound(), len(h), m.NumTrees())
	}
	if best := slices.Min(h); h[m.BestRound()-1] != best {
		t.Errorf("kept round %d with mlogloss %v, but the best was %v", m.BestRound(), h[m.BestRound()-1], best)
	}
	var buf bytes.Buffer
	if err := m.Save(&buf, artifact.Header{}); err != nil {
		t.Fatal(err)
	}
	got, hdr, err := Load(&buf, artifact.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if hdr.Task != TaskMulticlass || got.NumClass() != 3 || got.Objective() != ObjectiveSoftmax {
		t.Errorf("loaded task %q, %d classes, objective %q", hdr.Task, got.NumClass(), got.Objective())
	}
	want, _ := m.PredictFrameClasses(va, nil, OutputMargin)
	have, err := got.PredictFrameClasses(va, nil, OutputMargin)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, have); diff != "" {
		t.Errorf("margins (-saved +loaded):\n%s", diff)
	}
	if diff := cmp.Diff(m.Importance(), got.Importance()); diff != "" {
		t.Errorf("importance (-saved +loaded):\n%s", diff)
	}
}

func TestMulticlassBadInput(t *testing.T) {
	x := mustFrame(t, []float32{1, 2, 3})
	p := DefaultParams()
	p.Objective, p.NumClass = ObjectiveSoftprob, 3
	noK := p
	noK.NumClass = 0
	binK := DefaultParams()
	binK.NumClass = 3
	metric := p
	metric.EvalMetric = MetricAUC
	for _, tc := range []struct {
		name string
		y    []float32
		p    Params
		want string
	}{
		{"label out of range", []float32{0, 3, 1}, p, "label 1 is 3, want a class 0 … 2"},
		{"negative label", []float32{0, -1, 1}, p, "label 1 is -1"},
		{"fractional label", []float32{0, 1.5, 1}, p, "label 1 is 1.5"},
		{"no num_class", []float32{0, 1, 2}, noK, "num_class 0 for multi:softprob"},
		{"num_class for binary", []float32{0, 1, 1}, binK, "num_class 3 for binary:logistic"},
		{"binary metric", []float32{0, 1, 2}, metric, `eval_metric "auc" for multi:softprob`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Train(context.Background(), Data{X: x, Y: tc.y}, nil, tc.p)
			if !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got error %v, want ErrInput containing %q", err, tc.want)
			}
		})
	}
}

func TestImportXGBoostMulticlass(t *testing.T) {
	m := importFixture(t, "multiclass")
	if m.NumClass() != 3 || m.NumTrees() != 24 || m.Objective() != ObjectiveSoftprob {
		t.Fatalf("got %d classes, %d trees, objective %q; want 3, 24, %q", m.NumClass(), m.NumTrees(), m.Objective(), ObjectiveSoftprob)
	}
	inputs := readFloatCSV(t, filepath.Join("testdata", "xgboost", "multiclass.inputs.csv"), false)
	want := readFloatCSV(t, filepath.Join("testdata", "xgboost", "multiclass.preds.csv"), true)
	var worst float64
	for i, row := range inputs {
		margins, err := m.PredictRowClasses(row, nil, OutputMargin)
		if err != nil {
			t.Fatal(err)
		}
		probs, _ := m.PredictRowClasses(row, nil, OutputValue)
		for k, got := range append(margins, probs...) {
			d := math.Abs(got - float64(want[i][k]))
			worst = max(worst, d)
			if d > 1e-6 {
				t.Errorf("row %d output %d: got %.9g, want XGBoost's %.9g", i, k, got, want[i][k])
			}
		}
		if c, _ := m.PredictRow(row, OutputValue); int(c) != slices.Index(want[i][3:], slices.Max(want[i][3:])) {
			t.Errorf("row %d: class %v, XGBoost's probabilities %v", i, c, want[i][3:])
		}
	}
	t.Logf("%d rows, largest difference from XGBoost %.3g", len(inputs), worst)
}
