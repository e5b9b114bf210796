package gbdt

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/plinthai/plinth/ml/frame"
)

// readFloatCSV reads a headerless (or, with header, skipped) CSV of floats.
func readFloatCSV(t *testing.T, path string, header bool) [][]float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if header {
		lines = lines[1:]
	}
	rows := make([][]float32, len(lines))
	for i, l := range lines {
		for _, s := range strings.Split(l, ",") {
			v, err := strconv.ParseFloat(s, 32)
			if err != nil {
				t.Fatalf("%s line %d: %v", path, i+1, err)
			}
			rows[i] = append(rows[i], float32(v))
		}
	}
	return rows
}

func importFixture(t *testing.T, name string) *Model {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "xgboost", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := ImportXGBoostJSON(f, 0)
	if err != nil {
		t.Fatalf("ImportXGBoostJSON(%s): %v", name, err)
	}
	return m
}

func TestImportXGBoostMatchesXGBoost(t *testing.T) {
	for _, tc := range []struct {
		name      string
		trees     int
		objective string
	}{
		{"binary", 20, ObjectiveBinaryLogistic},
		{"binary_base03", 10, ObjectiveBinaryLogistic},
		{"v2form", 10, ObjectiveBinaryLogistic},
		{"regression", 15, ObjectiveSquaredError},
		{"lossguide", 10, ObjectiveBinaryLogistic},
		{"tiny", 3, ObjectiveBinaryLogistic},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := importFixture(t, tc.name)
			if m.NumTrees() != tc.trees || m.Objective() != tc.objective {
				t.Errorf("got %d trees, objective %q; want %d, %q", m.NumTrees(), m.Objective(), tc.trees, tc.objective)
			}
			inputs := readFloatCSV(t, filepath.Join("testdata", "xgboost", tc.name+".inputs.csv"), false)
			want := readFloatCSV(t, filepath.Join("testdata", "xgboost", tc.name+".preds.csv"), true)
			var worst float64
			for i, row := range inputs {
				margin, err := m.PredictRow(row, OutputMargin)
				if err != nil {
					t.Fatal(err)
				}
				value, _ := m.PredictRow(row, OutputValue)
				for k, got := range []float64{margin, value} {
					d := math.Abs(got - float64(want[i][k]))
					worst = max(worst, d)
					if d > 1e-6 {
						t.Errorf("row %d output %d: got %.9g, want XGBoost's %.9g", i, k, got, want[i][k])
					}
				}
			}
			t.Logf("%d rows, largest difference from XGBoost %.3g", len(inputs), worst)
			cols := make([][]float32, len(inputs[0]))
			for _, row := range inputs {
				for j, v := range row {
					cols[j] = append(cols[j], v)
				}
			}
			fr, _ := frame.New(m.FeatureNames(), cols)
			batch, err := m.PredictFrame(fr, nil, OutputValue)
			if err != nil {
				t.Fatal(err)
			}
			for i := range batch {
				if d := math.Abs(batch[i] - float64(want[i][1])); d > 1e-6 {
					t.Errorf("PredictFrame row %d: got %.9g, want %.9g", i, batch[i], want[i][1])
				}
			}
		})
	}
}

func TestImportXGBoostHitsEdgeBranches(t *testing.T) {
	// The fixtures are only a test of the equality and missing branches if
	// their inputs reach them; count the visits.
	m := importFixture(t, "binary")
	inputs := readFloatCSV(t, filepath.Join("testdata", "xgboost", "binary.inputs.csv"), false)
	var equal, missing int
	for _, row := range inputs {
		for k, root := range m.roots {
			i := root
			for range m.depth[k] {
				n := m.nodes[i]
				if !n.isLeaf() {
					x := row[n.feature&featureMask]
					equal += b2iInt(x == n.value)
					missing += b2iInt(x != x)
				}
				i = stepMissing(&m.nodes[i], row)
			}
		}
	}
	if equal < 100 || missing < 100 {
		t.Errorf("got %d equality and %d missing visits, want at least 100 each", equal, missing)
	}
}

func b2iInt(b bool) int { return int(b2i(b)) }

func TestImportXGBoostRejects(t *testing.T) {
	good, err := os.ReadFile(filepath.Join("testdata", "xgboost", "binary_base03.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, old, new string
	}{
		{"objective", `"binary:logistic"`, `"multi:softprob"`},
		{"num_class", `"num_class":"0"`, `"num_class":"3"`},
		{"booster", `"name":"gbtree"`, `"name":"dart"`},
		{"base_score", `"base_score":"3E-1"`, `"base_score":"abc"`},
		{"base_score out of range", `"base_score":"3E-1"`, `"base_score":"2"`},
		{"num_feature", `"num_feature":"6","num_target"`, `"num_feature":"-1","num_target"`},
		{"feature out of range", `"split_indices":[`, `"split_indices":[99,`},
		{"truncated", `"version"`, ``},
		{"cycle", `"left_children":[1,`, `"left_children":[0,`},
		{"num_nodes", `"num_nodes":"`, `"num_nodes":"9`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !bytes.Contains(good, []byte(tc.old)) {
				t.Fatalf("fixture lacks %q", tc.old)
			}
			bad := bytes.Replace(good, []byte(tc.old), []byte(tc.new), 1)
			if tc.new == "" {
				bad = good[:bytes.Index(good, []byte(tc.old))]
			}
			if _, err := ImportXGBoostJSON(bytes.NewReader(bad), 0); !errors.Is(err, ErrFormat) {
				t.Errorf("got %v, want ErrFormat", err)
			}
		})
	}
	if _, err := ImportXGBoostJSON(bytes.NewReader(good), 100); !errors.Is(err, ErrFormat) {
		t.Errorf("over the size limit: got %v, want ErrFormat", err)
	}
}

func FuzzImportXGBoostJSON(f *testing.F) {
	for _, name := range []string{"tiny", "multiclass"} {
		b, err := os.ReadFile(filepath.Join("testdata", "xgboost", name+".json"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"learner":{"gradient_booster":{"name":"gbtree","model":{"trees":[{"left_children":[-1],"right_children":[-1],"split_indices":[0],"split_conditions":[0.1],"default_left":[0],"tree_param":{"num_nodes":"1"}}]}},"learner_model_param":{"base_score":"[5E-1]","num_feature":"1"},"objective":{"name":"reg:squarederror"}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ImportXGBoostJSON(bytes.NewReader(data), 1<<20)
		if err != nil {
			return
		}
		row := make([]float32, m.NumFeatures())
		if _, err := m.PredictRow(row, OutputValue); err != nil {
			t.Errorf("PredictRow: %v", err)
		}
		row[0] = float32(math.NaN())
		m.PredictRow(row, OutputValue)
		if _, err := m.PredictRowClasses(row, nil, OutputValue); err != nil {
			t.Errorf("PredictRowClasses: %v", err)
		}
	})
}
