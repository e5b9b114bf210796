package gbdt

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/plinthai/plinth/ml/frame"
)

// awkward returns x's rows with NaN, ±Inf and values on thresholds'
// neighbourhoods mixed in, as columns, so that every missing-value and
// infinity path of the compact walk is taken.
func awkward(t *testing.T, x *frame.Frame, seed uint64) *frame.Frame {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 9))
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1))}
	cols := make([][]float32, x.NumCols())
	for j, c := range x.Cols {
		cols[j] = append([]float32(nil), c...)
		for i := range cols[j] {
			if r.IntN(8) == 0 {
				cols[j][i] = special[r.IntN(len(special))]
			}
		}
	}
	f, err := frame.New(x.Names, cols)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// checkCompactMatchesFlat scores x both ways and wants the same float32
// sums, bit for bit: the compact walk adds the same leaves in the same
// order.
func checkCompactMatchesFlat(t *testing.T, m *Model, x *frame.Frame) {
	t.Helper()
	got, err := m.PredictFrame(x, nil, OutputMargin)
	if err != nil {
		t.Fatal(err)
	}
	row := make([]float32, x.NumCols())
	for i := range x.NumRows() {
		want, err := m.PredictRow(x.Row(i, row), OutputMargin)
		if err != nil {
			t.Fatal(err)
		}
		if math.Float64bits(got[i]) != math.Float64bits(want) {
			t.Fatalf("row %d %v: frame (compact %v) %v, row %v", i, row, m.compact != nil, got[i], want)
		}
	}
}

func TestCompactMatchesFlat(t *testing.T) {
	x, y := synthetic(t, 6000, 9, 4)
	for _, tc := range []struct {
		policy       string
		depth, leave int
		compacted    bool
	}{
		{GrowDepthwise, 1, 0, true},
		{GrowDepthwise, 3, 0, true},
		{GrowDepthwise, 6, 0, true},
		{GrowDepthwise, 8, 0, true},
		{GrowLossguide, 5, 12, true},  // lopsided trees, padded
		{GrowLossguide, 8, 12, false}, // compacted unless padding would quadruple them
		{GrowDepthwise, 10, 0, false},
		{GrowLossguide, 0, 40, false}, // depth unbounded
	} {
		t.Run(fmt.Sprintf("%s/depth=%d/leaves=%d", tc.policy, tc.depth, tc.leave), func(t *testing.T) {
			p := DefaultParams()
			p.NumRounds, p.MaxDepth, p.MaxLeaves, p.GrowPolicy, p.Threads = 37, tc.depth, tc.leave, tc.policy, 2
			m, err := Train(context.Background(), Data{X: x, Y: y}, nil, p)
			if err != nil {
				t.Fatal(err)
			}
			deepest := int32(0)
			for _, d := range m.depth {
				deepest = max(deepest, d)
			}
			if tc.compacted && m.compact == nil {
				t.Fatalf("not compacted with deepest tree %d", deepest)
			}
			if deepest > maxCompactDepth && m.compact != nil {
				t.Fatalf("compacted with deepest tree %d", deepest)
			}
			// 6000 rows: full blocks, and a last block with a part group.
			checkCompactMatchesFlat(t, m, x)
			checkCompactMatchesFlat(t, m, awkward(t, x, 1))
		})
	}
}

func TestCompactMatchesXGBoostFixtures(t *testing.T) {
	for _, name := range []string{"binary", "binary_base03", "lossguide", "regression", "tiny", "v2form"} {
		t.Run(name, func(t *testing.T) {
			m := importFixture(t, name)
			if m.compact == nil && name != "lossguide" {
				t.Fatalf("fixture %s is not compacted", name)
			}
			x, err := frame.New(m.FeatureNames(), transpose(readFloatCSV(t, "testdata/xgboost/"+name+".inputs.csv", false)))
			if err != nil {
				t.Fatal(err)
			}
			checkCompactMatchesFlat(t, m, x)
			checkCompactMatchesFlat(t, m, awkward(t, x, 2))
		})
	}
}

// A split at −Inf whose missing values go left cannot be told apart from
// a NaN in the doubled row: such a model keeps the flat walk.
func TestCompactRefusesDefaultLeftAtMinusInf(t *testing.T) {
	m := importFixture(t, "tiny")
	for i := range m.nodes {
		if !m.nodes[i].isLeaf() {
			m.nodes[i].feature |= defaultLeftBit
			m.nodes[i].value = float32(math.Inf(-1))
			break
		}
	}
	if newCompact(m) != nil {
		t.Fatal("compacted a model with a default-left split at -Inf")
	}
}

// transpose turns rows into columns.
func transpose(rows [][]float32) [][]float32 {
	if len(rows) == 0 {
		return nil
	}
	cols := make([][]float32, len(rows[0]))
	for _, r := range rows {
		for j, v := range r {
			cols[j] = append(cols[j], v)
		}
	}
	return cols
}
