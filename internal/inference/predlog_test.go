package inference

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/plinthai/plinth/internal/wire"
)

// wireOf is the contract message of an entry, built as a struct for
// json.Marshal: the reference appendLog is checked against.
func wireOf(p *predLog, e *logEntry) wire.PredictionLog {
	l := wire.PredictionLog{
		ID: e.id, Model: e.model, Version: e.version, Arm: e.arm.String(), Entity: e.entity,
		Output: e.out, LatencyUS: e.latency.Microseconds(), Error: e.errText, At: e.at,
	}
	if e.items > 0 {
		l.Items, l.Output = recommendedItems(e)
	}
	switch p.features {
	case LogFeaturesFull:
		l.Features = make(map[string]float64, len(e.row))
		for i, v := range e.row {
			if i < len(e.names) && v == v {
				l.Features[e.names[i]] = float64(v)
			}
		}
	case LogFeaturesHash:
		l.FeaturesHash = rowHash(e.row)
	}
	return l
}

// appendLog writes what json.Marshal of the contract struct writes, and
// fails where it fails.
func TestAppendLogIsTheContract(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.FixedZone("x", 3600))
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	entries := []logEntry{
		{id: "p1", model: "fraud", version: 3, arm: armChampion, names: []string{"a", "b"}, row: []float32{1.5, -2}, out: []float64{0.021634863689541817}, latency: 1234 * time.Microsecond, at: at},
		{id: `q"\` + "\n\x01é\xff", model: "m.x", version: 1, arm: armChallenger, entity: "card 7", names: []string{"a", "b", "c"}, row: []float32{nan, 3e-9, 1e30}, out: []float64{1e-7, 0, -1e21, 123456}, errText: "boom\t!", at: at},
		{id: "r", model: "movies", arm: armShadow, names: []string{"u"}, row: []float32{7}, items: 2, out: []float64{12, -1, 0.9, 0.5}, at: at.UTC()},
		{id: "s", model: "m", arm: armPinned, at: at},
	}
	for _, mode := range []string{LogFeaturesFull, LogFeaturesHash, LogFeaturesNone} {
		p := &predLog{features: mode}
		for i := range entries {
			e := &entries[i]
			got, ok := p.appendLog(nil, e)
			want, err := json.Marshal(wireOf(p, e))
			if !ok || err != nil {
				t.Fatalf("%s entry %d: appendLog ok %v, json.Marshal %v", mode, i, ok, err)
			}
			var g, w wire.PredictionLog
			if err := json.Unmarshal(got, &g); err != nil {
				t.Fatalf("%s entry %d: %s does not decode: %v", mode, i, got, err)
			}
			_ = json.Unmarshal(want, &w)
			if diff := cmp.Diff(w, g); diff != "" {
				t.Errorf("%s entry %d (-json.Marshal +appendLog):\n%s\n%s\n%s", mode, i, diff, want, got)
			}
		}
		for _, bad := range []logEntry{
			{id: "n", model: "m", out: []float64{math.NaN()}, at: at},
			{id: "i", model: "m", out: []float64{math.Inf(-1)}, at: at},
		} {
			if _, ok := p.appendLog(nil, &bad); ok {
				t.Errorf("%s: appendLog of output %v succeeded, want it refused as json.Marshal refuses it", mode, bad.out)
			}
		}
	}
	p := &predLog{features: LogFeaturesFull}
	if _, ok := p.appendLog(nil, &logEntry{names: []string{"a"}, row: []float32{inf}, at: at}); ok {
		t.Error("appendLog of an infinite feature succeeded, want it refused")
	}
}
