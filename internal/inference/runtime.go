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

func gbdtRuntime(m *gbdt.Model, platform string) (runtime, *signature) {
	return scorer{m.NumFeatures(), func(row []float32) (float64, error) { return m.PredictRow(row, gbdt.OutputValue) }},
		scoreSig(m.FeatureNames(), platform)
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
		data, err := s.readArtifact(ctx, v)
		if err != nil {
			return nil, nil, err
		}
		m, err := gbdt.ImportXGBoostJSON(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return nil, nil, err
		}
		rt, sig := gbdtRuntime(m, "xgboost_json")
		return rt, sig, nil
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
		rt, sig := gbdtRuntime(m, "plinth_gbdt")
		return rt, sig, nil
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
		m, _, err := mf.Load(r)
		if err != nil {
			return nil, nil, err
		}
		k := defaultTopK
		if n, err := strconv.Atoi(tags["k"]); err == nil && n > 0 && n <= 1000 {
			k = n
		}
		sig := newSignature(inputUser, dtInt64, []string{inputUser}, "plinth_"+strings.ReplaceAll(h.Kind, ".", "_"),
			outputSpec{outputItems, dtInt64, k}, outputSpec{outputScores, dtFP32, k})
		return topK{m, k}, sig, nil
	default:
		return nil, nil, fmt.Errorf("artifact kind %q has no runtime", h.Kind)
	}
}

// readArtifact reads a version's artifact, bounded by the configured size.
func (s *Service) readArtifact(ctx context.Context, v registry.Version) ([]byte, error) {
	rc, _, err := s.registry.OpenArtifact(ctx, v.ArtifactSHA256)
	if err != nil {
		return nil, fmt.Errorf("open artifact %s: %w", v.ArtifactSHA256, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, s.cfg.MaxArtifactBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read artifact %s: %w", v.ArtifactSHA256, err)
	}
	if int64(len(data)) > s.cfg.MaxArtifactBytes {
		return nil, fmt.Errorf("artifact %s is larger than %d bytes", v.ArtifactSHA256, s.cfg.MaxArtifactBytes)
	}
	return data, nil
}
