package features

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/plinthai/plinth/internal/features/view"
	"github.com/plinthai/plinth/internal/platform/problem"
)

// Label is one training example's target: an entity at a moment.
type Label struct {
	Entity string    `json:"entity"`
	Time   time.Time `json:"time"`
	Value  float64   `json:"value"`
}

// TrainingSet is one row per label, in the request's order: feature j of
// row i is Values[i*len(Names)+j], NaN when unknown.
type TrainingSet struct {
	View   string    `json:"view"`
	Names  []string  `json:"names"`
	Labels []Label   `json:"labels"`
	Values []float64 `json:"values"`
}

// TrainingSet implements API. It reads the view's offline segments of the
// event-time hours the labels can depend on, and replays each label's
// entity as of the label's time (see the package doc).
func (s *Service) TrainingSet(ctx context.Context, name string, labels []Label) (*TrainingSet, error) {
	v, err := s.View(name)
	if err != nil {
		return nil, err
	}
	if err := s.checkLabels(labels); err != nil {
		return nil, err
	}
	byEntity, err := s.readOffline(ctx, v, labels)
	if err != nil {
		return nil, err
	}
	ts := &TrainingSet{View: v.Name, Names: v.Names(), Labels: labels, Values: make([]float64, len(labels)*v.Width())}
	var sc view.Scratch
	for i, l := range labels {
		asOf(v, byEntity[l.Entity], l.Time, ts.Values[i*v.Width():(i+1)*v.Width()], &sc)
	}
	return ts, nil
}

func (s *Service) checkLabels(labels []Label) error {
	if len(labels) == 0 {
		return problem.Field("labels", "give at least one label")
	}
	if len(labels) > s.cfg.MaxLabels {
		return problem.FieldKind(problem.ErrTooLarge, "labels", "%d labels, more than the limit of %d", len(labels), s.cfg.MaxLabels)
	}
	for i, l := range labels {
		if l.Entity == "" {
			return problem.Field(fmt.Sprintf("labels[%d].entity", i), "must not be empty")
		}
		if l.Time.IsZero() {
			return problem.Field(fmt.Sprintf("labels[%d].time", i), "must be set")
		}
	}
	return nil
}

// asOf writes the features of an entity as of t from its rows, which are
// in arrival order with their arrival times.
func asOf(v *view.View, rows []arrivedRow, t time.Time, out []float64, sc *view.Scratch) {
	st := v.NewState()
	tn := t.UnixNano()
	for i := range rows {
		if rows[i].arrived > tn {
			break // arrival order: nothing later had arrived by t
		}
		if rows[i].row.Time <= tn {
			v.Apply(st, &rows[i].row)
		}
	}
	v.Compute(st, t, out, sc)
}

type arrivedRow struct {
	arrived int64
	row     view.Row
}

// readOffline returns the rows of the labels' entities, deduplicated by
// stream sequence and sorted by it (arrival order), from the segments of
// the hours between the earliest label less the view's horizon and the
// latest label.
func (s *Service) readOffline(ctx context.Context, v *view.View, labels []Label) (map[string][]arrivedRow, error) {
	want := map[string]bool{}
	lo, hi := labels[0].Time, labels[0].Time
	for _, l := range labels {
		want[l.Entity] = true
		lo, hi = minTime(lo, l.Time), maxTime(hi, l.Time)
	}
	from, to := "", partition(hi.UnixNano())
	if h := horizon(v); h > 0 {
		from = partition(lo.Add(-h).UnixNano())
	}
	keys, err := s.deps.Blobs.ListKeys(ctx, offlinePrefix(v.Name))
	if err != nil {
		return nil, fmt.Errorf("list offline log of %q: %w", v.Name, err)
	}
	out := map[string][]arrivedRow{}
	seen := map[uint64]bool{}
	for _, k := range keys {
		p := strings.TrimPrefix(k, offlinePrefix(v.Name))
		if len(p) < 13 || p[:13] < from || p[:13] > to {
			continue
		}
		if err := s.readSegment(ctx, v, k, want, seen, out); err != nil {
			return nil, err
		}
	}
	for e := range out {
		slices.SortFunc(out[e], func(a, b arrivedRow) int { return cmp.Compare(a.row.Seq, b.row.Seq) })
	}
	return out, nil
}

func (s *Service) readSegment(ctx context.Context, v *view.View, key string, want map[string]bool, seen map[uint64]bool, out map[string][]arrivedRow) error {
	data, err := s.deps.Blobs.GetKey(ctx, key)
	if err != nil {
		return fmt.Errorf("read offline segment %s: %w", key, err)
	}
	for line := range bytes.SplitSeq(data, []byte{'\n'}) {
		if len(line) == 0 {
			continue
		}
		var rec record
		if err := json.Unmarshal(line, &rec); err != nil {
			return fmt.Errorf("offline segment %s: %w", key, err)
		}
		if seen[rec.Seq] {
			continue
		}
		row, err := rec.row(v)
		if err != nil || !want[row.Entity] {
			continue
		}
		seen[rec.Seq] = true
		out[row.Entity] = append(out[row.Entity], arrivedRow{arrived: rec.Arrived, row: row})
	}
	return nil
}

// horizon is how far before a label its features may reach: the longest
// window plus the lateness; 0 (the whole log) when the view has lifetime
// features, which reach back to the entity's first event.
func horizon(v *view.View) time.Duration {
	if v.HasLifetime() {
		return 0
	}
	return v.MaxWindow() + v.Lateness
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
