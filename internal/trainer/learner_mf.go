package trainer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/plinthai/plinth/internal/platform/problem"
	"github.com/plinthai/plinth/internal/registry"
	"github.com/plinthai/plinth/internal/wire"
	"github.com/plinthai/plinth/ml/artifact"
	"github.com/plinthai/plinth/ml/frame"
	"github.com/plinthai/plinth/ml/metrics"
	"github.com/plinthai/plinth/ml/mf"
)

// Recommender metrics written on a version: the names the monitor gives
// the same figures on live traffic, so one gate and one canary rule read
// both.
const (
	MetricHRAt10   = "hr_at_10"
	MetricNDCGAt10 = "ndcg_at_10"
	// MetricTrainUsers and MetricTrainItems size the factorization.
	MetricTrainUsers = "train_users"
	MetricTrainItems = "train_items"
)

const (
	// ParamRecent names the user view's last_n feature of items that the
	// model folds users in from; its values are <recent>_1 (the newest)
	// to <recent>_n.
	ParamRecent = "recent"
	// DefaultRecent is ParamRecent's default.
	DefaultRecent = "recent_items"
	// ItemSpaceField names the last field of a recommender artifact's
	// schema. It is not an input: its categories are the model's item
	// space, the item id of model index i being Categories[i], most
	// consumed first. The inputs before it are the recent item features,
	// item ids as numbers, newest first, missing as NaN.
	ItemSpaceField = "item"
	// rankCutoff is k of the holdout's HR@k and NDCG@k.
	rankCutoff = 10
)

// ranker reads a recommender algorithm's params (every key must be known)
// and returns its training function.
type ranker func(p *params) (func(mf.Ratings) (*mf.Model, error), error)

// alsRanker trains implicit ALS: every consumed item counts as one
// interaction of confidence 1 + alpha.
func alsRanker(p *params) (func(mf.Ratings) (*mf.Model, error), error) {
	cfg := mf.DefaultALSConfig()
	p.int("factors", &cfg.Factors)
	p.int("iterations", &cfg.Iterations)
	p.float("reg", &cfg.Reg)
	p.float("alpha", &cfg.Alpha)
	p.int("cg_steps", &cfg.CGSteps)
	p.float("init_std", &cfg.InitStd)
	p.int("threads", &cfg.Workers)
	if v, ok := p.m[ParamSeed]; ok {
		seed, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return nil, problem.Field("params."+ParamSeed, "%q is not an unsigned integer", v)
		}
		cfg.Seed = seed
	}
	if err := p.done(); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, problem.Field("params", "%v", err)
	}
	return func(r mf.Ratings) (*mf.Model, error) { return mf.TrainALS(r, cfg) }, nil
}

// runRanker is one attempt at a recommender job: visits from FEEDBACK,
// time split, factorization of the training visits' interactions, then
// the candidate and the current champion judged on the same holdout
// visits as inference would serve them, and the version registered.
func (s *Service) runRanker(ctx context.Context, job wire.TrainJob, rk ranker, rep *reporter) (int64, error) {
	p := newParams(job.Params)
	recent := DefaultRecent
	p.str(ParamRecent, &recent)
	fit, err := rk(p)
	if err != nil {
		return 0, err
	}
	visits, err := s.loadVisits(ctx, job)
	if err != nil {
		return 0, err
	}
	train, holdout, err := splitVisits(visits, job.Data)
	if err != nil {
		return 0, err
	}
	data, cat := interactionMatrix(train)
	if err := rep.progress(ctx, 0.2, fmt.Sprintf("training %s on %d interactions of %d users with %d items",
		job.Algorithm, data.Len(), data.NumUsers, data.NumItems)); err != nil {
		return 0, err
	}
	mod, err := fit(data)
	if errors.Is(err, mf.ErrInput) {
		return 0, problem.FieldKind(problem.ErrUnprocessable, "data", "%v", err)
	}
	if err != nil {
		return 0, fmt.Errorf("train %s: %w", job.Algorithm, err)
	}
	if err := rep.progress(ctx, 0.6, fmt.Sprintf("evaluating on %d holdout visits", len(holdout))); err != nil {
		return 0, err
	}
	return s.judgeAndRegister(ctx, job, recommender{m: mod, cat: cat}, data, holdout, recent, len(visits), rep)
}

// judgeAndRegister measures the candidate and the champion on the holdout
// and registers the candidate.
func (s *Service) judgeAndRegister(ctx context.Context, job wire.TrainJob, cand recommender, data mf.Ratings,
	holdout []visit, recent string, nvisits int, rep *reporter) (int64, error) {
	qs, names, err := s.holdoutQueries(ctx, job.Data.View, recent, holdout)
	if err != nil {
		return 0, err
	}
	m, err := rankingQuality(cand, qs)
	if err != nil {
		return 0, err
	}
	m[MetricTrainRows], m[MetricHoldoutRows] = float64(data.Len()), float64(len(qs))
	m[MetricTrainUsers], m[MetricTrainItems] = float64(data.NumUsers), float64(data.NumItems)
	if m[registry.MetricPredictP99US], err = p99Micros(s.cfg.LatencySamples, func(i int) error {
		_, err := cand.recommend(qs[i%len(qs)].recent, rankCutoff)
		return err
	}); err != nil {
		return 0, err
	}
	champ, err := s.rankerChampion(ctx, job.Model, qs, m)
	if err != nil {
		return 0, err
	}
	if err := rep.progress(ctx, 0.8, "registering"); err != nil {
		return 0, err
	}
	h := recommenderHeader(names, cand.cat)
	return s.registerArtifact(ctx, job, cand.m.Save, h, describeVisits(job, nvisits), m, champ)
}

// rankerChampion scores the current champion on the candidate's holdout
// queries into m (champion-prefixed) and returns its version, 0 when there
// is none. A champion that is not such a recommender is an error: the gate
// could not compare the two.
func (s *Service) rankerChampion(ctx context.Context, model string, qs []query, m map[string]float64) (int64, error) {
	version, data, err := s.championArtifact(ctx, model)
	if err != nil || version == 0 {
		return 0, err
	}
	champ, err := loadRecommender(data)
	if err != nil {
		return 0, fmt.Errorf("load champion version %d: %w", version, err)
	}
	cm, err := rankingQuality(champ, qs)
	if err != nil {
		return 0, fmt.Errorf("score champion version %d: %w", version, err)
	}
	for k, v := range cm {
		m[registry.MetricChampionPrefix+k] = v
	}
	m[registry.MetricChampionVersion] = float64(version)
	return version, nil
}

// recommender is a factorization with its item space, recommending as
// inference serves it.
type recommender struct {
	m   *mf.Model
	cat catalog
}

// recommend returns the k best item ids for a user whose recent items
// (newest first) are given: the ones the model knows are folded in and
// never recommended; with none known the user's scores are all zero and
// the most consumed items come first.
func (r recommender) recommend(recent []int64, k int) ([]int64, error) {
	known := make([]int32, 0, len(recent))
	for _, id := range recent {
		if i, ok := r.cat.index[id]; ok {
			known = append(known, i)
		}
	}
	u := mf.User{Factors: make([]float64, r.m.Factors())}
	if len(known) > 0 {
		var err error
		if u, err = r.m.FoldIn(known, nil); err != nil {
			return nil, err
		}
	}
	top, err := r.m.RecommendUser(u, k)
	if err != nil {
		return nil, err
	}
	out := make([]int64, len(top))
	for j, sc := range top {
		out[j] = r.cat.ids[sc.Item]
	}
	return out, nil
}

// rankingQuality is HR@10 and NDCG@10 of r's recommendations over the
// queries, each query's relevant items being what the user consumed (items
// the model does not know included: they are misses, as live).
func rankingQuality(r recommender, qs []query) (map[string]float64, error) {
	ranked, relevant := make([][]int, len(qs)), make([][]int, len(qs))
	for i, q := range qs {
		top, err := r.recommend(q.recent, rankCutoff)
		if err != nil {
			return nil, fmt.Errorf("recommend for holdout visit %d: %w", i, err)
		}
		ranked[i], relevant[i] = asInts(top), distinct(asInts(q.items))
	}
	hr, err := metrics.HitRateAtK(ranked, relevant, rankCutoff)
	if err != nil {
		return nil, problem.FieldKind(problem.ErrUnprocessable, "data", "holdout %s: %v", MetricHRAt10, err)
	}
	ndcg, err := metrics.NDCGAtK(ranked, relevant, rankCutoff)
	if err != nil {
		return nil, problem.FieldKind(problem.ErrUnprocessable, "data", "holdout %s: %v", MetricNDCGAt10, err)
	}
	return map[string]float64{MetricHRAt10: hr, MetricNDCGAt10: ndcg}, nil
}

func asInts(ids []int64) []int {
	out := make([]int, len(ids))
	for i, id := range ids {
		out[i] = int(id)
	}
	return out
}

func distinct(ids []int) []int {
	out := ids[:0]
	seen := make(map[int]bool, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// recommenderHeader is a recommender artifact's task and schema: the
// recent item features it reads, then its item space (see
// ItemSpaceField). A recommender has no drift reference profile: its
// inputs are item ids, whose numeric spread means nothing.
func recommenderHeader(recent []string, cat catalog) artifact.Header {
	return artifact.Header{Task: "ranking", Schema: recommenderSchema(recent, cat)}
}

func recommenderSchema(recent []string, cat catalog) []artifact.Field {
	out := make([]artifact.Field, 0, len(recent)+1)
	for _, n := range recent {
		out = append(out, artifact.Field{Name: n, Type: frame.TypeInt})
	}
	ids := make([]string, len(cat.ids))
	for i, id := range cat.ids {
		ids[i] = strconv.FormatInt(id, 10)
	}
	return append(out, artifact.Field{Name: ItemSpaceField, Type: frame.TypeCategory, Categories: ids})
}

// loadRecommender reads a recommender artifact: an mf model whose schema
// ends with its item space.
func loadRecommender(data []byte) (recommender, error) {
	m, h, err := mf.Load(bytes.NewReader(data))
	if err != nil {
		return recommender{}, err
	}
	n := len(h.Schema)
	if n == 0 || h.Schema[n-1].Name != ItemSpaceField || len(h.Schema[n-1].Categories) != m.NumItems() {
		return recommender{}, fmt.Errorf("%s artifact has no item space of %d items (schema field %q)", h.Kind, m.NumItems(), ItemSpaceField)
	}
	ids := make([]int64, m.NumItems())
	for i, s := range h.Schema[n-1].Categories {
		if ids[i], err = strconv.ParseInt(s, 10, 64); err != nil {
			return recommender{}, fmt.Errorf("%s artifact item %d: %q is not an integer id", h.Kind, i, s)
		}
	}
	return recommender{m: m, cat: newCatalog(ids)}, nil
}
