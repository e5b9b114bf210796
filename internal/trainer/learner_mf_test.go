package trainer_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plinthai/plinth/internal/platform/problem"
	"github.com/plinthai/plinth/internal/registry"
	"github.com/plinthai/plinth/internal/trainer"
	"github.com/plinthai/plinth/internal/wire"
	"github.com/plinthai/plinth/ml/frame"
	"github.com/plinthai/plinth/ml/mf"
)

// visitLog is a recommender's FEEDBACK (one label per visit) and the user
// view over it: Labels serves the labels of a range, TrainingSet each
// user's recent items (newest first) from the visits before a moment, as
// the feature store would.
type visitLog struct {
	rows   []trainer.LabelRow
	recent int
}

func (l *visitLog) Labels(_ context.Context, _ string, from, to time.Time) ([]trainer.LabelRow, error) {
	var out []trainer.LabelRow
	for _, r := range l.rows {
		if !r.At.Before(from) && r.At.Before(to) {
			out = append(out, r)
		}
	}
	return out, nil
}

func (l *visitLog) TrainingSet(_ context.Context, view string, labels []trainer.LabelRow) (*frame.Frame, error) {
	if view != "user" {
		return nil, problem.Wrap(problem.ErrNotFound, "no view %q", view)
	}
	names := make([]string, l.recent)
	cols := make([][]float32, l.recent)
	for j := range cols {
		names[j] = "recent_items_" + strconv.Itoa(j+1)
		cols[j] = make([]float32, len(labels))
	}
	for i, lb := range labels {
		var items []string
		for _, r := range l.rows {
			if r.Entity == lb.Entity && r.At.Before(lb.At) {
				items = append(items, r.Items...)
			}
		}
		slices.Reverse(items)
		for j := range cols {
			cols[j][i] = float32(math.NaN())
			if j < len(items) {
				v, _ := strconv.Atoi(items[j])
				cols[j][i] = float32(v)
			}
		}
	}
	return frame.New(names, cols)
}

// twoTastes is a visit log of two kinds of users, each visiting twice:
// users of taste a consume items 1 to 4, users of taste b items 11 to 14,
// two items per visit. Over time the visits hold both halves of a taste,
// so a model must recommend a user's unseen half.
func twoTastes(users int, t0 time.Time) []trainer.LabelRow {
	var rows []trainer.LabelRow
	for u := range users {
		base, name := 1, fmt.Sprintf("a%d", u)
		if u%2 == 1 {
			base, name = 11, fmt.Sprintf("b%d", u)
		}
		first, second := []string{strconv.Itoa(base), strconv.Itoa(base + 1)}, []string{strconv.Itoa(base + 2), strconv.Itoa(base + 3)}
		if u%4 >= 2 { // half the users see the halves the other way round
			first, second = second, first
		}
		at := t0.Add(time.Duration(u) * time.Minute)
		rows = append(rows, trainer.LabelRow{Entity: name, At: at, Label: 1, Items: first},
			trainer.LabelRow{Entity: name, At: at.Add(24 * time.Hour), Label: 1, Items: second})
	}
	slices.SortStableFunc(rows, func(a, b trainer.LabelRow) int { return a.At.Compare(b.At) })
	return rows
}

func (h *harness) submitRecommender(t *testing.T, id string, params map[string]string, data wire.TrainData) registry.Job {
	t.Helper()
	j, err := h.reg.SubmitJob(context.Background(), registry.SubmitJobRequest{ID: id, Model: "rec", Algorithm: mf.KindALS,
		Params: params, Data: data})
	if err != nil {
		t.Fatal(err)
	}
	return h.wait(t, j.ID)
}

func TestRecommenderJob(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	log := &visitLog{rows: twoTastes(40, t0), recent: 3}
	h := newHarness(t, trainer.Deps{Labels: log, TrainingSets: log})
	ctx := context.Background()
	h.model(t, "rec", registry.GatePolicy{Floors: map[string]float64{trainer.MetricHRAt10: 0.9}, LatencyP99US: 1e6,
		MaxRegression: map[string]float64{trainer.MetricHRAt10: 0.05}})
	params := map[string]string{"factors": "4", "iterations": "15", "reg": "0.1", "alpha": "5"}
	data := wire.TrainData{View: "user", From: t0, To: t0.Add(72 * time.Hour), Holdout: 0.2}
	first := h.submitRecommender(t, "rec-1", params, data)
	if first.Status != registry.JobSucceeded {
		t.Fatalf("first job %s: %s", first.Status, first.Error)
	}
	v1, err := h.reg.GetVersion(ctx, "rec", first.Version)
	if err != nil {
		t.Fatal(err)
	}
	// The holdout is the last 16 visits, all second visits: each user
	// consumes the unseen half of their taste, which ranks first.
	m := v1.Metrics
	if m[trainer.MetricHRAt10] != 1 || m[trainer.MetricNDCGAt10] < 0.9 || m[trainer.MetricHoldoutRows] != 16 ||
		m[trainer.MetricTrainItems] != 8 || m[registry.MetricPredictP99US] <= 0 {
		t.Errorf("version 1 metrics %v", m)
	}
	if rec, err := h.reg.GetGateRecord(ctx, "rec", 1); err != nil || !rec.Passed {
		t.Errorf("gate of version 1 = %+v, %v; want passed", rec, err)
	}
	checkRecommenderArtifact(t, h.reg, v1)
	if _, err := h.reg.SetAlias(ctx, registry.SetAliasRequest{Model: "rec", Alias: registry.AliasChampion, Version: 1}); err != nil {
		t.Fatal(err)
	}

	// A second job on the same range is compared with the champion on its
	// own holdout.
	second := h.submitRecommender(t, "rec-2", params, data)
	v2, err := h.reg.GetVersion(ctx, "rec", second.Version)
	if err != nil {
		t.Fatal(err)
	}
	if v2.Metrics[registry.MetricChampionVersion] != 1 || v2.Metrics[registry.MetricChampionPrefix+trainer.MetricHRAt10] != 1 ||
		v2.Lineage.ParentVersion != 1 || v2.Lineage.JobID != "rec-2" || !strings.Contains(v2.Lineage.Dataset, "80 visits") {
		t.Errorf("version 2 metrics %v lineage %+v: want the champion's figures on the same holdout", v2.Metrics, v2.Lineage)
	}
}

func checkRecommenderArtifact(t *testing.T, reg registry.API, v registry.Version) {
	t.Helper()
	rc, _, err := reg.OpenArtifact(context.Background(), v.ArtifactSHA256)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	m, hd, err := mf.Load(rc)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range hd.Schema {
		names = append(names, f.Name+":"+f.Type)
	}
	want := []string{"recent_items_1:int", "recent_items_2:int", "recent_items_3:int", trainer.ItemSpaceField + ":category"}
	if !slices.Equal(names, want) {
		t.Errorf("schema %v, want %v", names, want)
	}
	if items := hd.Schema[len(hd.Schema)-1].Categories; len(items) != m.NumItems() {
		t.Errorf("item space of %d ids for %d items", len(items), m.NumItems())
	}
	if hd.Lineage.JobID != v.Lineage.JobID || hd.Metrics[trainer.MetricHRAt10] != v.Metrics[trainer.MetricHRAt10] ||
		hd.Task != "ranking" || hd.Kind != mf.KindALS {
		t.Errorf("artifact %s/%s lineage %+v metrics %v", hd.Kind, hd.Task, hd.Lineage, hd.Metrics)
	}
}

func TestRecommenderJobFailures(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	log := &visitLog{rows: twoTastes(10, t0), recent: 3}
	h := newHarness(t, trainer.Deps{Labels: log, TrainingSets: log})
	h.model(t, "rec", registry.GatePolicy{})
	week := wire.TrainData{View: "user", From: t0, To: t0.Add(7 * 24 * time.Hour)}
	tests := []struct {
		name   string
		params map[string]string
		data   wire.TrainData
		want   string
	}{
		{"no labels in the range", nil, wire.TrainData{View: "user", From: t0.Add(-48 * time.Hour), To: t0}, "no FEEDBACK labels"},
		{"random split", nil, wire.TrainData{View: "user", From: week.From, To: week.To, Split: "random"}, "data.split"},
		{"unknown param", map[string]string{"depth": "3"}, week, "params.depth"},
		{"bad factors", map[string]string{"factors": "0"}, week, "factors"},
		{"no recent feature in the view", map[string]string{trainer.ParamRecent: "last_seen"}, week, "last_seen_1"},
		{"unknown view", nil, wire.TrainData{View: "card", From: week.From, To: week.To}, "no view"},
	}
	for i, tt := range tests {
		j := h.submitRecommender(t, fmt.Sprintf("bad-%d", i), tt.params, tt.data)
		if j.Status != registry.JobFailed || !strings.Contains(j.Error, tt.want) {
			t.Errorf("%s: job %s error %q, want failed mentioning %q", tt.name, j.Status, j.Error, tt.want)
		}
	}
}
