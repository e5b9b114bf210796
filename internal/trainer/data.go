package trainer

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/plinthai/plinth/internal/platform/problem"
	"github.com/plinthai/plinth/internal/registry"
	"github.com/plinthai/plinth/internal/wire"
	"github.com/plinthai/plinth/ml/artifact"
	"github.com/plinthai/plinth/ml/frame"
)

// LabelRow is one ground-truth label from FEEDBACK: the entity, the time of
// the event it labels, and the label; for a recommender, the items the
// user went on to consume.
type LabelRow struct {
	Entity string
	At     time.Time
	Label  float64
	Items  []string
}

// TrainingSets builds point-in-time training sets; the features service
// implements it. TrainingSet returns one row per label, in the labels'
// order, holding the view's features as they were at label.At (never
// later), without the label itself.
type TrainingSets interface {
	TrainingSet(ctx context.Context, view string, labels []LabelRow) (*frame.Frame, error)
}

// Labels reads a model's FEEDBACK labels whose event time is in [from, to),
// in time order.
type Labels interface {
	Labels(ctx context.Context, model string, from, to time.Time) ([]LabelRow, error)
}

// dataset is a job's data, encoded, with labels and the schema of x.
type dataset struct {
	x      *frame.Frame
	y      []float32
	schema []artifact.Field
	// desc names the data for lineage.
	desc string
}

// loadFile reads a CSV data set uploaded to the registry's blob store. Rows
// are put in time order by the time column when the job names one.
func (s *Service) loadFile(ctx context.Context, job wire.TrainJob) (dataset, error) {
	d := job.Data
	if d.Label == "" {
		return dataset{}, problem.Field("data.label", "a file job names its label column")
	}
	rc, _, err := s.registry.OpenArtifact(ctx, d.FileSHA256)
	if err != nil {
		return dataset{}, fmt.Errorf("open data file %s: %w", d.FileSHA256, err)
	}
	defer rc.Close()
	f, enc, err := frame.ReadCSV(rc, frame.CSVOptions{MaxCells: s.cfg.MaxCSVCells})
	if err != nil {
		return dataset{}, problem.FieldKind(problem.ErrUnprocessable, "data.file_sha256", "read CSV: %v", err)
	}
	if tc := job.Params[ParamTimeColumn]; tc != "" {
		if f, err = sortByColumn(f, tc); err != nil {
			return dataset{}, err
		}
	}
	return splitLabel(f, enc.Fields(), d.Label, job.Params[ParamTimeColumn], "sha256:"+d.FileSHA256)
}

// loadView builds a point-in-time training set from the feature store
// joined with FEEDBACK labels over the job's range (open where a bound is
// zero: a retrain template without a look-back trains on every label).
func (s *Service) loadView(ctx context.Context, job wire.TrainJob) (dataset, error) {
	if s.sets == nil || s.labels == nil {
		return dataset{}, problem.Wrap(problem.ErrUnprocessable,
			"job %s names feature view %q, but this trainer has no feature store wired", job.ID, job.Data.View)
	}
	labels, err := s.labels.Labels(ctx, job.Model, job.Data.From, job.Data.To)
	if err != nil {
		return dataset{}, fmt.Errorf("read labels: %w", err)
	}
	if len(labels) == 0 {
		return dataset{}, problem.Wrap(problem.ErrUnprocessable, "no FEEDBACK labels of %q in [%s, %s)", job.Model,
			job.Data.From.Format(time.RFC3339), job.Data.To.Format(time.RFC3339))
	}
	f, err := s.sets.TrainingSet(ctx, job.Data.View, labels)
	if err != nil {
		return dataset{}, fmt.Errorf("build training set of view %q: %w", job.Data.View, err)
	}
	if f.NumRows() != len(labels) {
		return dataset{}, fmt.Errorf("training set of view %q has %d rows for %d labels", job.Data.View, f.NumRows(), len(labels))
	}
	y := make([]float32, len(labels))
	schema := make([]artifact.Field, len(f.Names))
	for i, l := range labels {
		y[i] = float32(l.Label)
	}
	for j, n := range f.Names {
		schema[j] = artifact.Field{Name: n, Type: frame.TypeFloat}
	}
	desc := fmt.Sprintf("view:%s[%s,%s)", job.Data.View, job.Data.From.Format(time.RFC3339), job.Data.To.Format(time.RFC3339))
	return dataset{x: f, y: y, schema: schema, desc: desc}, nil
}

// splitLabel separates the label column (and the time column, if any)
// from the features.
func splitLabel(f *frame.Frame, fields []artifact.Field, label, timeCol, desc string) (dataset, error) {
	yc, err := f.Column(label)
	if err != nil {
		return dataset{}, problem.Field("data.label", "%v", err)
	}
	for i, v := range yc {
		if math.IsNaN(float64(v)) {
			return dataset{}, problem.FieldKind(problem.ErrUnprocessable, "data.label", "row %d has no label", i+1)
		}
	}
	drop := []string{label}
	if timeCol != "" {
		drop = append(drop, timeCol)
	}
	x, err := f.Drop(drop...)
	if err != nil {
		return dataset{}, err
	}
	var schema []artifact.Field
	for _, fd := range fields {
		if !slices.Contains(drop, fd.Name) {
			schema = append(schema, fd)
		}
	}
	return dataset{x: x, y: yc, schema: schema, desc: desc}, nil
}

func sortByColumn(f *frame.Frame, name string) (*frame.Frame, error) {
	c, err := f.Column(name)
	if err != nil {
		return nil, problem.Field("params."+ParamTimeColumn, "%v", err)
	}
	idx := make([]int, len(c))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(c[a], c[b]) })
	return f.Take(idx)
}

// split cuts the data into training rows and holdout rows: the last share
// by time (row order), or a seeded random share.
func split(d dataset, data wire.TrainData, params map[string]string) (train, holdout dataset, err error) {
	n := d.x.NumRows()
	nh := int(math.Round(float64(n) * data.Holdout))
	if nh < 1 || n-nh < 2 {
		return train, holdout, problem.FieldKind(problem.ErrUnprocessable, "data.holdout",
			"%d rows cannot be split %v into training and holdout", n, data.Holdout)
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	if data.Split == registry.SplitRandom {
		seed, _ := strconv.ParseUint(params[ParamSeed], 10, 64)
		rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)).Shuffle(n, func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
	}
	if train, err = d.take(idx[:n-nh]); err != nil {
		return train, holdout, err
	}
	holdout, err = d.take(idx[n-nh:])
	return train, holdout, err
}

func (d dataset) take(rows []int) (dataset, error) {
	x, err := d.x.Take(rows)
	if err != nil {
		return dataset{}, err
	}
	y := make([]float32, len(rows))
	for i, r := range rows {
		y[i] = d.y[r]
	}
	return dataset{x: x, y: y, schema: d.schema, desc: d.desc}, nil
}
