package inference

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/plinthai/plinth/internal/registry"
	"github.com/plinthai/plinth/ml/artifact"
	"github.com/plinthai/plinth/ml/gbdt"
	"github.com/plinthai/plinth/ml/iforest"
	"github.com/plinthai/plinth/ml/linear"
	"github.com/plinthai/plinth/ml/mf"
)

// Output and input tensor names every runtime uses.
const (
	inputFeatures = "features" // [n, width] FP32, or one [n] column per feature
	inputUser     = "user"     // MF: [n] INT64 user indexes
	outputScore   = "score"    // [n, 1] FP32
	outputItems   = "items"    // MF: [n, k] INT64 item indexes, -1 past the last
	outputScores  = "scores"   // MF: [n, k] FP32
)

// defaultTopK is how many items an MF model returns unless the version's
// "k" tag says otherwise.
const defaultTopK = 10

// outputSpec describes one output tensor: width values per row.
type outputSpec struct {
	name  string
	dt    dtype
	width int
}

// signature is what a loaded version takes and returns. A row is width
// float32 values in features order; the runtime writes, per output o,
// width_o values per row into its block of the output buffer (see
// outLayout).
type signature struct {
	input    string
	inputDT  dtype
	features []string
	index    map[string]int // feature name → position
	outputs  []outputSpec
	outWidth int // sum of output widths
	platform string
}

func newSignature(input string, dt dtype, features []string, platform string, outputs ...outputSpec) *signature {
	s := &signature{input: input, inputDT: dt, features: features, platform: platform, outputs: outputs, index: make(map[string]int, len(features))}
	for i, f := range features {
		s.index[f] = i
	}
	for _, o := range outputs {
		s.outWidth += o.width
	}
	return s
}

func (s *signature) width() int { return len(s.features) }

// items returns how many items a row's recommendation holds: the width
// of the items output of a recommender, 0 for a scorer.
func (s *signature) items() int {
	if len(s.outputs) > 0 && s.outputs[0].name == outputItems {
		return s.outputs[0].width
	}
	return 0
}

// outputIndex returns the position of the named output, -1 when none.
func (s *signature) outputIndex(name []byte) int {
	for i, o := range s.outputs {
		if o.name == string(name) {
			return i
		}
	}
	return -1
}

// runtime scores rows. predict writes n rows of output into out
// (len n*outWidth): output o's values for all n rows are contiguous, at
// out[n*offset(o):], offset being the sum of earlier widths. A runtime is
// safe for concurrent use and never retains rows or out.
type runtime interface {
	predict(ctx context.Context, rows []float32, n int, out []float64) error
}

// scorer adapts a one-score-per-row model.
type scorer struct {
	width int
	score func(row []float32) (float64, error)
}

func (s scorer) predict(_ context.Context, rows []float32, n int, out []float64) error {
	for i := range n {
		v, err := s.score(rows[i*s.width : (i+1)*s.width])
		if err != nil {
			return err
		}
		out[i] = v
	}
	return nil
}

func scoreSig(features []string, platform string) *signature {
	return newSignature(inputFeatures, dtFP32, features, platform, outputSpec{outputScore, dtFP32, 1})
}

// gbdtRuntime serves a tree model's one score. Multiclass models, whose
// answer is a vector of class probabilities, are refused rather than
// served as their likeliest class index.
func gbdtRuntime(m *gbdt.Model, platform string) (runtime, *signature, error) {
	if k := m.NumClass(); k > 1 {
		return nil, nil, fmt.Errorf("a multiclass tree model (%d classes) has no single score to serve; inference serves binary and regression trees", k)
	}
	return scorer{m.NumFeatures(), func(row []float32) (float64, error) { return m.PredictRow(row, gbdt.OutputValue) }},
		scoreSig(m.FeatureNames(), platform), nil
}

// topK serves an MF model: a row is one user index; the outputs are the k
// best unseen items and their scores.
type topK struct {
	m *mf.Model
	k int
}

func (t topK) predict(_ context.Context, rows []float32, n int, out []float64) error {
	items, scores := out[:n*t.k], out[n*t.k:2*n*t.k]
	for i := range n {
		u := rows[i]
		if u != float32(int32(u)) || u < 0 || int(u) >= t.m.NumUsers() {
			return fmt.Errorf("%w: user %g is not a user index below %d", errBadRow, u, t.m.NumUsers())
		}
		rec, err := t.m.Recommend(int(u), t.k)
		if err != nil {
			return err
		}
		for j := range t.k {
			items[i*t.k+j], scores[i*t.k+j] = -1, 0
			if j < len(rec) {
				items[i*t.k+j], scores[i*t.k+j] = float64(rec[j].Item), rec[j].Score
			}
		}
	}
	return nil
}

// itemSpaceField names the last field of the schema of a recommender
// trained by the platform (see trainer.ItemSpaceField): its categories are
// the model's item space, the id of model index i being Categories[i],
// most consumed first; the fields before it are the model's inputs, the
// user's recent item ids, newest first.
const itemSpaceField = "item"

// foldIn serves such a recommender: a row is the user's recent item ids
// (missing as NaN), which the feature store supplies by entity. The items
// the model knows are folded into a user vector, and excluded; with none
// known the user's scores are all zero and the most consumed items come
// first. The items output holds item ids, -1 past the last.
type foldIn struct {
	m     *mf.Model
	ids   []int64         // model index → item id
	index map[int64]int32 // item id → model index
	zero  []float64       // the user vector of a user with no known item; read only
	width int             // recent items per row
	k     int
}

func newFoldIn(m *mf.Model, schema []artifact.Field, k int) (foldIn, []string, bool, error) {
	n := len(schema)
	if n < 2 || schema[n-1].Name != itemSpaceField {
		return foldIn{}, nil, false, nil
	}
	space := schema[n-1].Categories
	if len(space) != m.NumItems() {
		return foldIn{}, nil, true, fmt.Errorf("item space of %d ids for a model of %d items", len(space), m.NumItems())
	}
	f := foldIn{m: m, ids: make([]int64, len(space)), index: make(map[int64]int32, len(space)),
		zero: make([]float64, m.Factors()), width: n - 1, k: k}
	for i, s := range space {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return foldIn{}, nil, true, fmt.Errorf("item space entry %d: %q is not an integer id", i, s)
		}
		f.ids[i], f.index[id] = id, int32(i)
	}
	names := make([]string, n-1)
	for j := range names {
		names[j] = schema[j].Name
	}
	return f, names, true, nil
}

func (f foldIn) predict(_ context.Context, rows []float32, n int, out []float64) error {
	items, scores := out[:n*f.k], out[n*f.k:2*n*f.k]
	known := make([]int32, 0, f.width)
	for i := range n {
		known = known[:0]
		for _, v := range rows[i*f.width : (i+1)*f.width] {
			if v != float32(int64(v)) { // missing (NaN) or not an id
				continue
			}
			if j, ok := f.index[int64(v)]; ok {
				known = append(known, j)
			}
		}
		u := mf.User{Factors: f.zero}
		if len(known) > 0 {
			var err error
			if u, err = f.m.FoldIn(known, nil); err != nil {
				return err
			}
		}
		rec, err := f.m.RecommendUser(u, f.k)
		if err != nil {
			return err
		}
		for j := range f.k {
			items[i*f.k+j], scores[i*f.k+j] = -1, 0
			if j < len(rec) {
				items[i*f.k+j], scores[i*f.k+j] = float64(f.ids[rec[j].Item]), rec[j].Score
			}
		}
	}
	return nil
}

// loadRuntime builds the runtime of a registered version.
func (s *Service) loadRuntime(ctx context.Context, v registry.Version) (runtime, *signature, error) {
	if s.testRuntime != nil {
		if rt, sig, ok := s.testRuntime(v); ok {
			return rt, sig, nil
		}
	}
	switch v.Format {
	case registry.FormatRemote:
		return newRemote(ctx, s.httpClient, v)
	case registry.FormatXGBoost:
		// The importer reads the artifact itself: a copy of ours first
		// would double what a load allocates.
		rc, _, err := s.registry.OpenArtifact(ctx, v.ArtifactSHA256)
		if err != nil {
			return nil, nil, fmt.Errorf("open artifact %s: %w", v.ArtifactSHA256, err)
		}
		defer rc.Close()
		m, err := gbdt.ImportXGBoostJSON(rc, s.cfg.MaxArtifactBytes)
		if err != nil {
			return nil, nil, fmt.Errorf("artifact %s: %w", v.ArtifactSHA256, err)
		}
		return gbdtRuntime(m, "xgboost_json")
	case registry.FormatPlinth, "":
		data, err := s.readArtifact(ctx, v)
		if err != nil {
			return nil, nil, err
		}
		return nativeRuntime(data, v.Tags)
	default:
		return nil, nil, fmt.Errorf("unknown artifact format %q", v.Format)
	}
}

// nativeRuntime loads a Plinth artifact; its header's Kind picks the
// learner.
func nativeRuntime(data []byte, tags map[string]string) (runtime, *signature, error) {
	h, _, err := artifact.Unmarshal(data, artifact.Limits{})
	if err != nil {
		return nil, nil, err
	}
	r := bytes.NewReader(data)
	switch h.Kind {
	case gbdt.Kind:
		m, _, err := gbdt.Load(r, artifact.Limits{})
		if err != nil {
			return nil, nil, err
		}
		return gbdtRuntime(m, "plinth_gbdt")
	case linear.Kind:
		m, _, err := linear.Load(r)
		if err != nil {
			return nil, nil, err
		}
		return scorer{m.NumFeatures(), m.PredictRow}, scoreSig(m.Names, "plinth_linear"), nil
	case iforest.Kind:
		m, _, err := iforest.Load(r)
		if err != nil {
			return nil, nil, err
		}
		return scorer{len(m.Names), m.ScoreRow}, scoreSig(m.Names, "plinth_iforest"), nil
	case mf.KindSGD, mf.KindALS:
		m, h, err := mf.Load(r)
		if err != nil {
			return nil, nil, err
		}
		k := defaultTopK
		if n, err := strconv.Atoi(tags["k"]); err == nil && n > 0 && n <= 1000 {
			k = n
		}
		platform := "plinth_" + strings.ReplaceAll(h.Kind, ".", "_")
		outputs := []outputSpec{{outputItems, dtInt64, k}, {outputScores, dtFP32, k}}
		f, inputs, ok, err := newFoldIn(m, h.Schema, k)
		switch {
		case err != nil:
			return nil, nil, err
		case ok:
			return f, newSignature(inputFeatures, dtFP32, inputs, platform, outputs...), nil
		}
		return topK{m, k}, newSignature(inputUser, dtInt64, []string{inputUser}, platform, outputs...), nil
	default:
		return nil, nil, fmt.Errorf("artifact kind %q has no runtime", h.Kind)
	}
}

// readArtifact reads a version's artifact, bounded by the configured size,
// into a buffer of the size the registry reports (no growing copies).
func (s *Service) readArtifact(ctx context.Context, v registry.Version) ([]byte, error) {
	rc, a, err := s.registry.OpenArtifact(ctx, v.ArtifactSHA256)
	if err != nil {
		return nil, fmt.Errorf("open artifact %s: %w", v.ArtifactSHA256, err)
	}
	defer rc.Close()
	buf := bytes.NewBuffer(make([]byte, 0, min(max(a.Size, 0), s.cfg.MaxArtifactBytes)+bytes.MinRead))
	_, err = buf.ReadFrom(io.LimitReader(rc, s.cfg.MaxArtifactBytes+1))
	data := buf.Bytes()
	if err != nil {
		return nil, fmt.Errorf("read artifact %s: %w", v.ArtifactSHA256, err)
	}
	if int64(len(data)) > s.cfg.MaxArtifactBytes {
		return nil, fmt.Errorf("artifact %s is larger than %d bytes", v.ArtifactSHA256, s.cfg.MaxArtifactBytes)
	}
	return data, nil
}
