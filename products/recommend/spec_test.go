package recommend

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/plinthai/plinth/internal/features/view"
	"github.com/plinthai/plinth/internal/ingest"
	"github.com/plinthai/plinth/internal/monitor"
	"github.com/plinthai/plinth/products/spec"
)

// TestSpecLoads reads the embedded declarations with the platform's own
// loaders, as `plinth serve` and the demo do.
func TestSpecLoads(t *testing.T) {
	dir := t.TempDir()
	if err := Spec.Write(dir); err != nil {
		t.Fatal(err)
	}
	streams, err := ingest.LoadStreams(filepath.Join(dir, spec.StreamsFile))
	if err != nil || streams[Stream] == nil {
		t.Fatalf("streams: %v, %v; want %q", streams, err, Stream)
	}
	views, err := view.Load(filepath.Join(dir, spec.ViewsFile))
	if err != nil || views[View] == nil {
		t.Fatalf("views: %v, %v; want %q", views, err, View)
	}
	v := views[View]
	if v.Source != Stream {
		t.Errorf("view %s reads %q, want %q", View, v.Source, Stream)
	}
	for j := 1; j <= RecentItems; j++ {
		if name := fmt.Sprintf("%s_%d", RecentFeature, j); !slices.Contains(v.Names(), name) {
			t.Errorf("view %s has no feature %s: %v", View, name, v.Names())
		}
	}
	rules, err := monitor.LoadRules(filepath.Join(dir, spec.RulesFile))
	if err != nil {
		t.Fatal(err)
	}
	mr := rules.For(Model)
	if mr.Task != monitor.TaskRecommender || mr.QualityMetric() != monitor.MetricHRAt10 || mr.Retrain.Data.View != View {
		t.Errorf("rules of %s: task %s metric %s retrain view %s", Model, mr.Task, mr.QualityMetric(), mr.Retrain.Data.View)
	}
	tr, err := Spec.Training()
	if err != nil || tr.Algorithm != "mf.als" || tr.Data.View != View || tr.Params["recent"] != RecentFeature {
		t.Errorf("training spec %+v, %v", tr, err)
	}
	if mr.Retrain.Algorithm != tr.Algorithm || mr.Retrain.Params["recent"] != RecentFeature {
		t.Errorf("retrain template %+v differs from the training spec's algorithm and features", mr.Retrain)
	}
	g, err := Spec.Gate()
	if err != nil || g.Floors[monitor.MetricHRAt10] <= 0 || !g.AutoRollout {
		t.Errorf("gate %+v, %v", g, err)
	}
}
