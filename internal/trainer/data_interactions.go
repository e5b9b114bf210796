package trainer

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/plinthai/plinth/internal/platform/problem"
	"github.com/plinthai/plinth/internal/registry"
	"github.com/plinthai/plinth/internal/wire"
	"github.com/plinthai/plinth/ml/frame"
	"github.com/plinthai/plinth/ml/mf"
)

// A recommender job trains on interactions, not on rows. Its data are the
// model's FEEDBACK labels over the job's range: each label is one visit of
// a user, stamped with the decision time (when the user was, or would have
// been, recommended items) and naming the items the user went on to
// consume. FEEDBACK rather than the ratings stream's offline log, because
// it is what the platform already reads per model and time range for
// every job (the trainer needs no access to the feature store's storage,
// which a trainer in another process does not have), and because it is
// what the monitor judges the model on: training and live quality count
// the same interactions. The user view (the job's data.view) supplies,
// point in time, the recent items each holdout user had at the decision,
// which is exactly what inference folds the user in from when it serves.

// visit is one recommender label: a user, the decision time, and the
// items the user then consumed, in order.
type visit struct {
	user  string
	at    time.Time
	items []int64
}

// loadVisits reads the job's FEEDBACK labels as visits, in time order.
// Item ids must be integers: the feature store keeps recent items as
// numbers.
func (s *Service) loadVisits(ctx context.Context, job wire.TrainJob) ([]visit, error) {
	d := job.Data
	if d.View == "" {
		return nil, problem.Field("data.view", "a recommender job names the user view its model reads recent items from")
	}
	if s.sets == nil || s.labels == nil {
		return nil, problem.Wrap(problem.ErrUnprocessable,
			"job %s names feature view %q, but this trainer has no feature store wired", job.ID, d.View)
	}
	rows, err := s.labels.Labels(ctx, job.Model, d.From, d.To)
	if err != nil {
		return nil, fmt.Errorf("read labels: %w", err)
	}
	visits, err := toVisits(rows)
	if err != nil {
		return nil, err
	}
	if len(visits) == 0 {
		return nil, problem.Wrap(problem.ErrUnprocessable, "no FEEDBACK labels of %q with items in [%s, %s)", job.Model,
			d.From.Format(time.RFC3339), d.To.Format(time.RFC3339))
	}
	return visits, nil
}

// toVisits converts labels with items (others are skipped) to visits,
// stably sorted by time.
func toVisits(rows []LabelRow) ([]visit, error) {
	out := make([]visit, 0, len(rows))
	for i, r := range rows {
		if len(r.Items) == 0 || r.Entity == "" {
			continue
		}
		v := visit{user: r.Entity, at: r.At, items: make([]int64, len(r.Items))}
		for j, it := range r.Items {
			id, err := strconv.ParseInt(it, 10, 64)
			if err != nil {
				return nil, problem.FieldKind(problem.ErrUnprocessable, "data",
					"label %d of user %q names item %q, which is not an integer id", i, r.Entity, it)
			}
			v.items[j] = id
		}
		out = append(out, v)
	}
	slices.SortStableFunc(out, func(a, b visit) int { return a.at.Compare(b.at) })
	return out, nil
}

// splitVisits cuts visits (in time order) into training and holdout: the
// last holdout share by time is the holdout. A random split would judge
// the model on visits older than some it trained on, so it is refused.
func splitVisits(visits []visit, data wire.TrainData) (train, holdout []visit, err error) {
	if data.Split == registry.SplitRandom {
		return nil, nil, problem.Field("data.split", "a recommender is judged on later visits: use %q", registry.SplitTime)
	}
	n := len(visits)
	nh := int(math.Round(float64(n) * data.Holdout))
	if nh < 1 || n-nh < 1 {
		return nil, nil, problem.FieldKind(problem.ErrUnprocessable, "data.holdout",
			"%d visits cannot be split %v into training and holdout", n, data.Holdout)
	}
	return visits[:n-nh], visits[n-nh:], nil
}

// catalog is a model's item space: model index i is item ids[i]. Items are
// numbered by how often training consumed them, most first (ties by id),
// so a user with no item the model knows, whose scores are all zero, is
// recommended the most consumed items.
type catalog struct {
	ids   []int64
	index map[int64]int32
}

func newCatalog(ids []int64) catalog {
	c := catalog{ids: ids, index: make(map[int64]int32, len(ids))}
	for i, id := range ids {
		c.index[id] = int32(i)
	}
	return c
}

// interactionMatrix builds the training interactions (one per consumed
// item, value 1; repeats add up) and the item space.
func interactionMatrix(train []visit) (mf.Ratings, catalog) {
	counts := map[int64]int{}
	users := map[string]int32{}
	for _, v := range train {
		if _, ok := users[v.user]; !ok {
			users[v.user] = int32(len(users))
		}
		for _, it := range v.items {
			counts[it]++
		}
	}
	ids := make([]int64, 0, len(counts))
	for id := range counts {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b int64) int { return cmp.Or(cmp.Compare(counts[b], counts[a]), cmp.Compare(a, b)) })
	cat := newCatalog(ids)
	r := mf.Ratings{NumUsers: len(users), NumItems: len(ids)}
	for _, v := range train {
		for _, it := range v.items {
			r.Users = append(r.Users, users[v.user])
			r.Items = append(r.Items, cat.index[it])
			r.Values = append(r.Values, 1)
		}
	}
	return r, cat
}

// query is one holdout visit as inference would have served it: the
// user's recent items (newest first) as the view held them at the
// decision, and the items the user then consumed.
type query struct {
	recent []int64
	items  []int64
}

// holdoutQueries reads, point in time, the recent items (view features
// <recent>_1, <recent>_2, …) of every holdout visit's user at its decision
// time. A visit whose user had no items yet is left out: nothing can be
// folded in, and the platform does not recommend before a first visit.
// It returns the queries and the recent feature names in order.
func (s *Service) holdoutQueries(ctx context.Context, view, recent string, holdout []visit) ([]query, []string, error) {
	labels := make([]LabelRow, len(holdout))
	for i, v := range holdout {
		labels[i] = LabelRow{Entity: v.user, At: v.at, Label: 1}
	}
	f, err := s.sets.TrainingSet(ctx, view, labels)
	if err != nil {
		return nil, nil, fmt.Errorf("build the holdout's point-in-time set of view %q: %w", view, err)
	}
	if f.NumRows() != len(holdout) {
		return nil, nil, fmt.Errorf("point-in-time set of view %q has %d rows for %d visits", view, f.NumRows(), len(holdout))
	}
	names, cols := recentColumns(f, recent)
	if len(names) == 0 {
		return nil, nil, problem.Field("params."+ParamRecent, "view %q has no features %s_1, %s_2, …: name its last_n feature of items", view, recent, recent)
	}
	var qs []query
	for i, v := range holdout {
		if q := (query{recent: recentItems(cols, i), items: v.items}); len(q.recent) > 0 {
			qs = append(qs, q)
		}
	}
	if len(qs) == 0 {
		return nil, nil, problem.Wrap(problem.ErrUnprocessable, "no holdout visit of a user with earlier items to fold in")
	}
	return qs, names, nil
}

// recentColumns returns the columns <prefix>_1, <prefix>_2, … of f, in
// order, up to the first one missing.
func recentColumns(f *frame.Frame, prefix string) ([]string, [][]float32) {
	var names []string
	var cols [][]float32
	for j := 1; ; j++ {
		name := prefix + "_" + strconv.Itoa(j)
		c, err := f.Column(name)
		if err != nil {
			return names, cols
		}
		names, cols = append(names, name), append(cols, c)
	}
}

// recentItems reads row i's recent item ids, skipping missing values.
func recentItems(cols [][]float32, i int) []int64 {
	var out []int64
	for _, c := range cols {
		if id, ok := itemID(float64(c[i])); ok {
			out = append(out, id)
		}
	}
	return out
}

// itemID reads a feature value as an item id: a finite whole number.
func itemID(v float64) (int64, bool) {
	if math.IsNaN(v) || math.IsInf(v, 0) || v != math.Trunc(v) {
		return 0, false
	}
	return int64(v), true
}

// describeVisits names a recommender job's data for lineage.
func describeVisits(job wire.TrainJob, n int) string {
	return fmt.Sprintf("feedback:%s+view:%s[%s,%s) %d visits", job.Model, job.Data.View,
		job.Data.From.Format(time.RFC3339), job.Data.To.Format(time.RFC3339), n)
}
