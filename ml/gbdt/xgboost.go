package gbdt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/plinthai/plinth/ml/artifact"
	"github.com/plinthai/plinth/ml/frame"
)

// DefaultMaxXGBoostBytes bounds the size of an XGBoost JSON file that
// ImportXGBoostJSON reads when given maxBytes ≤ 0: 512 MiB.
const DefaultMaxXGBoostBytes = 512 << 20

// xgbModel is the part of XGBoost's saved-model JSON schema (1.x, 2.x, 3.x)
// that prediction needs.
type xgbModel struct {
	Learner struct {
		FeatureNames []string `json:"feature_names"`
		FeatureTypes []string `json:"feature_types"`
		Booster      struct {
			Name  string `json:"name"`
			Model struct {
				TreeInfo []int     `json:"tree_info"`
				Trees    []xgbTree `json:"trees"`
			} `json:"model"`
		} `json:"gradient_booster"`
		Param struct {
			BaseScore  string `json:"base_score"`
			NumClass   string `json:"num_class"`
			NumFeature string `json:"num_feature"`
			NumTarget  string `json:"num_target"`
		} `json:"learner_model_param"`
		Objective struct {
			Name string `json:"name"`
		} `json:"objective"`
	} `json:"learner"`
	Version []int `json:"version"`
}

// xgbTree is one tree in struct-of-arrays form, indexed by node id.
type xgbTree struct {
	Left       []int32   `json:"left_children"`
	Right      []int32   `json:"right_children"`
	Indices    []int64   `json:"split_indices"`
	Conditions []float32 `json:"split_conditions"`
	DefLeft    []xgbBool `json:"default_left"`
	SplitType  []int     `json:"split_type"`
	LossChange []float32 `json:"loss_changes"`
	Param      struct {
		NumNodes       string `json:"num_nodes"`
		SizeLeafVector string `json:"size_leaf_vector"`
	} `json:"tree_param"`
}

// xgbBool reads default_left entries, written as 0/1 or false/true
// depending on the XGBoost version.
type xgbBool bool

// UnmarshalJSON accepts true, false, 0 and 1.
func (b *xgbBool) UnmarshalJSON(p []byte) error {
	switch string(bytes.TrimSpace(p)) {
	case "1", "true":
		*b = true
	case "0", "false":
		*b = false
	default:
		return fmt.Errorf("default_left value %.20s, want 0, 1, true or false", p)
	}
	return nil
}

// ImportXGBoostJSON reads a model written by XGBoost's save_model("m.json")
// (XGBoost 1.x and 2.x/3.x schema) with the gbtree booster and objective
// binary:logistic, binary:logitraw, reg:logistic, reg:squarederror,
// reg:linear, reg:pseudohubererror, reg:absoluteerror, multi:softprob or
// multi:softmax (each class the sum of the trees tree_info assigns it, on
// base_score, then XGBoost's softmax). Predictions equal
// XGBoost's to float32 rounding: splits compare x < split_condition in
// float32, NaN follows default_left, and leaves are summed in float32 in
// tree order onto the base margin (the logit of base_score for logistic
// objectives). Categorical splits, multi-target models and the dart
// booster are refused with ErrFormat.
//
// The input is untrusted: at most maxBytes are read (≤ 0 means
// DefaultMaxXGBoostBytes), every array length and index is checked, and a
// tree with a cycle or a shared node is refused.
func ImportXGBoostJSON(r io.Reader, maxBytes int64) (*Model, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxXGBoostBytes
	}
	data, err := io.ReadAll(io.LimitReader(r, maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("gbdt: import xgboost: read: %w", err)
	}
	if int64(len(data)) > maxBytes {
		return nil, fmt.Errorf("%w: xgboost file larger than %d bytes", ErrFormat, maxBytes)
	}
	var x xgbModel
	if err := json.Unmarshal(data, &x); err != nil {
		return nil, fmt.Errorf("%w: xgboost json: %v", ErrFormat, err)
	}
	m, err := x.toModel()
	if err != nil {
		return nil, err
	}
	m.seal()
	return m, nil
}

// toModel checks the learner's parameters and converts every tree.
func (x *xgbModel) toModel() (*Model, error) {
	l := &x.Learner
	if l.Booster.Name != "gbtree" {
		return nil, fmt.Errorf("%w: booster %q, want gbtree", ErrFormat, l.Booster.Name)
	}
	nf, err := strconv.Atoi(l.Param.NumFeature)
	if err != nil || nf < 1 || nf > maxFeatures {
		return nil, fmt.Errorf("%w: num_feature %q, want 1..%d", ErrFormat, l.Param.NumFeature, maxFeatures)
	}
	if nt := l.Param.NumTarget; nt != "" && nt != "1" {
		return nil, fmt.Errorf("%w: num_target %s: multi-target models are not supported", ErrFormat, nt)
	}
	m := &Model{objective: l.Objective.Name}
	if !knownObjective(m.objective) {
		return nil, fmt.Errorf("%w: objective %q is not supported", ErrFormat, m.objective)
	}
	k, err := x.numClass()
	if err != nil {
		return nil, err
	}
	if m.baseMargin, err = xgbBaseMargin(l.Param.BaseScore, m.objective); err != nil {
		return nil, err
	}
	if err := m.setXGBFeatures(l.FeatureNames, l.FeatureTypes, nf); err != nil {
		return nil, err
	}
	if k > 1 {
		return m.xgbMulti(x, k, nf)
	}
	for i := range l.Booster.Model.Trees {
		if err := m.appendXGBTree(i, &l.Booster.Model.Trees[i], nf); err != nil {
			return nil, err
		}
	}
	if err := m.check(); err != nil {
		return nil, err
	}
	return m, nil
}

// numClass returns the file's class count (1 unless multiclass), checked
// against the objective.
func (x *xgbModel) numClass() (int, error) {
	l := &x.Learner
	k := 1
	if nc := l.Param.NumClass; nc != "" && nc != "0" {
		var err error
		if k, err = strconv.Atoi(nc); err != nil || k < 1 || k > maxClasses {
			return 0, fmt.Errorf("%w: num_class %q, want 1..%d", ErrFormat, nc, maxClasses)
		}
	}
	if isMulti(l.Objective.Name) != (k > 1) {
		return 0, fmt.Errorf("%w: num_class %d with objective %q", ErrFormat, k, l.Objective.Name)
	}
	return k, nil
}

// xgbMulti converts a k-class model: tree i adds to class tree_info[i].
func (m *Model) xgbMulti(x *xgbModel, k, nf int) (*Model, error) {
	mb := &x.Learner.Booster.Model
	if len(mb.TreeInfo) != len(mb.Trees) {
		return nil, fmt.Errorf("%w: %d tree_info entries for %d trees", ErrFormat, len(mb.TreeInfo), len(mb.Trees))
	}
	m.classes = make([]*Model, k)
	for c := range m.classes {
		m.classes[c] = &Model{objective: m.objective, names: m.names, namesGiven: m.namesGiven,
			schema: m.schema, baseMargin: m.baseMargin}
	}
	for i, c := range mb.TreeInfo {
		if c < 0 || c >= k {
			return nil, fmt.Errorf("%w: tree %d: class %d of %d", ErrFormat, i, c, k)
		}
		if err := m.classes[c].appendXGBTree(i, &mb.Trees[i], nf); err != nil {
			return nil, err
		}
	}
	for c, cm := range m.classes {
		if err := cm.check(); err != nil {
			return nil, fmt.Errorf("class %d: %w", c, err)
		}
	}
	m.baseMargin = 0
	return m, m.check()
}

// xgbBaseMargin parses base_score ("5E-1", or "[5E-1]" since 2.0) and
// turns it into a margin as XGBoost's ProbToMargin does, in float32.
func xgbBaseMargin(s, objective string) (float32, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		s = strings.TrimSpace(s[1 : len(s)-1])
		if strings.Contains(s, ",") {
			return 0, fmt.Errorf("%w: base_score %q has several values; multi-output is not supported", ErrFormat, s)
		}
	}
	v, err := strconv.ParseFloat(s, 32)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%w: base_score %q is not a finite number", ErrFormat, s)
	}
	b := float32(v)
	if !isLogistic(objective) {
		return b, nil
	}
	if !(b > 0 && b < 1) {
		return 0, fmt.Errorf("%w: base_score %v for %s, want in (0, 1)", ErrFormat, b, objective)
	}
	return float32(-math.Log(float64(1/b - 1))), nil
}

// setXGBFeatures names the features (f0, f1, ... when the file has none).
func (m *Model) setXGBFeatures(names, types []string, nf int) error {
	m.namesGiven = len(names) == nf
	if len(names) != 0 && !m.namesGiven {
		return fmt.Errorf("%w: %d feature_names for num_feature %d", ErrFormat, len(names), nf)
	}
	if len(types) != 0 && len(types) != nf {
		return fmt.Errorf("%w: %d feature_types for num_feature %d", ErrFormat, len(types), nf)
	}
	m.names, m.schema = make([]string, nf), make([]artifact.Field, nf)
	for j := range nf {
		m.names[j] = "f" + strconv.Itoa(j)
		if m.namesGiven {
			m.names[j] = names[j]
		}
		typ := frame.TypeFloat
		if len(types) == nf {
			switch types[j] {
			case "int", "i":
				typ = frame.TypeInt
			case "c":
				return fmt.Errorf("%w: feature %q is categorical; categorical splits are not supported", ErrFormat, m.names[j])
			}
		}
		m.schema[j] = artifact.Field{Name: m.names[j], Type: typ}
	}
	return nil
}

// appendXGBTree converts tree k to the flat layout, breadth first, so that
// every split's children are adjacent and after it.
func (m *Model) appendXGBTree(k int, t *xgbTree, nf int) error {
	n, err := t.check(k)
	if err != nil {
		return err
	}
	base := int32(len(m.nodes))
	m.roots = append(m.roots, base)
	seen := make([]bool, n)
	seen[0] = true
	queue := []int32{0} // XGBoost node ids, in the order of their new slots
	for q := 0; q < len(queue); q++ {
		id, at := queue[q], base+int32(q)
		if t.Left[id] == -1 {
			m.addLeaf(t.Conditions[id], at)
			continue
		}
		l, r, f := t.Left[id], t.Right[id], t.Indices[id]
		if l < 0 || r < 0 || int(l) >= n || int(r) >= n || seen[l] || seen[r] || l == r {
			return fmt.Errorf("%w: tree %d node %d: children %d, %d invalid or shared", ErrFormat, k, id, l, r)
		}
		if f < 0 || f >= int64(nf) {
			return fmt.Errorf("%w: tree %d node %d: split feature %d, num_feature %d", ErrFormat, k, id, f, nf)
		}
		if len(t.SplitType) > 0 && t.SplitType[id] != 0 {
			return fmt.Errorf("%w: tree %d node %d: categorical split is not supported", ErrFormat, k, id)
		}
		seen[l], seen[r] = true, true
		m.addSplit(t.Conditions[id], uint32(f), bool(t.DefLeft[id]), base+int32(len(queue)), t.gain(id))
		queue = append(queue, l, r)
	}
	return nil
}

// check verifies the tree's arrays agree with num_nodes and returns it.
func (t *xgbTree) check(k int) (int, error) {
	n, err := strconv.Atoi(t.Param.NumNodes)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%w: tree %d: num_nodes %q", ErrFormat, k, t.Param.NumNodes)
	}
	if s := t.Param.SizeLeafVector; s != "" && s != "0" && s != "1" {
		return 0, fmt.Errorf("%w: tree %d: vector leaves (size_leaf_vector %s) are not supported", ErrFormat, k, s)
	}
	for _, a := range []struct {
		name string
		len  int
	}{{"left_children", len(t.Left)}, {"right_children", len(t.Right)}, {"split_indices", len(t.Indices)},
		{"split_conditions", len(t.Conditions)}, {"default_left", len(t.DefLeft)}} {
		if a.len != n {
			return 0, fmt.Errorf("%w: tree %d: %s has %d entries, num_nodes %d", ErrFormat, k, a.name, a.len, n)
		}
	}
	if len(t.SplitType) != 0 && len(t.SplitType) != n {
		return 0, fmt.Errorf("%w: tree %d: split_type has %d entries, num_nodes %d", ErrFormat, k, len(t.SplitType), n)
	}
	return n, nil
}

// gain returns a node's recorded loss change, or 0 when the file has none.
func (t *xgbTree) gain(id int32) float32 {
	if int(id) < len(t.LossChange) {
		return t.LossChange[id]
	}
	return 0
}
