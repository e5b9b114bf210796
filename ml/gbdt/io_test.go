package gbdt

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/plinthai/plinth/ml/artifact"
	"github.com/plinthai/plinth/ml/frame"
)

func trainSmall(t testing.TB) (*Model, *frame.Frame) {
	t.Helper()
	x, y := synthetic(t, 2000, 4, 11)
	p := DefaultParams()
	p.NumRounds, p.MaxDepth = 8, 4
	schema := []artifact.Field{{Name: "f0", Type: "float"}, {Name: "f1", Type: "category", Categories: []string{"a", "b"}},
		{Name: "f2", Type: "float"}, {Name: "f3", Type: "int"}}
	m, err := Train(context.Background(), Data{X: x, Y: y, Schema: schema}, nil, p)
	if err != nil {
		t.Fatal(err)
	}
	return m, x
}

func TestSaveLoadRoundTrip(t *testing.T) {
	m, x := trainSmall(t)
	var buf bytes.Buffer
	if err := m.Save(&buf, artifact.Header{Metrics: map[string]float64{"auc": 0.9}}); err != nil {
		t.Fatal(err)
	}
	got, h, err := Load(&buf, artifact.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if h.Kind != Kind || h.Task != TaskBinary || h.Metrics["auc"] != 0.9 || h.Params["max_depth"] != "4" {
		t.Errorf("header: got kind %q task %q metrics %v params[max_depth] %q", h.Kind, h.Task, h.Metrics, h.Params["max_depth"])
	}
	if diff := cmp.Diff(m.Schema(), got.Schema()); diff != "" {
		t.Errorf("schema (-saved +loaded):\n%s", diff)
	}
	if diff := cmp.Diff(m.Importance(), got.Importance()); diff != "" {
		t.Errorf("importance (-saved +loaded):\n%s", diff)
	}
	want, _ := m.PredictFrame(x, nil, OutputMargin)
	have, err := got.PredictFrame(x, nil, OutputMargin)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, have); diff != "" {
		t.Errorf("predictions (-saved +loaded):\n%s", diff)
	}
}

func TestLoadRejectsCorruptPayload(t *testing.T) {
	m, _ := trainSmall(t)
	good := m.encode()
	for _, tc := range []struct {
		name   string
		mutate func(p []byte) []byte
	}{
		{"truncated", func(p []byte) []byte { return p[:len(p)-5] }},
		{"bad magic", func(p []byte) []byte { p[0] = 'X'; return p }},
		{"feature out of range", func(p []byte) []byte { p[nodeOffset(m)+4] = 9; return p }},
		{"child before parent", func(p []byte) []byte { p[nodeOffset(m)+8] = 0; return p }},
		{"huge node count", func(p []byte) []byte {
			copy(p[nodeOffset(m)-4*len(m.roots)-4:], []byte{0xff, 0xff, 0xff, 0x7f})
			return p
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.mutate(bytes.Clone(good))
			if _, err := decode(p, m.Schema()); !errors.Is(err, ErrFormat) {
				t.Errorf("got %v, want ErrFormat", err)
			}
		})
	}
	art, err := artifact.Marshal(artifact.Header{Kind: "linear", KindVersion: 1}, good)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Load(bytes.NewReader(art), artifact.Limits{}); !errors.Is(err, ErrFormat) {
		t.Errorf("wrong kind: got %v, want ErrFormat", err)
	}
}

// nodeOffset is where the first node starts in m's payload.
func nodeOffset(m *Model) int {
	return len(payloadMagic) + 1 + len(m.objective) + 16 + 4*len(m.roots)
}

func FuzzLoad(f *testing.F) {
	m, _ := trainSmall(f)
	var buf bytes.Buffer
	if err := m.Save(&buf, artifact.Header{}); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add(m.encode())
	x, y := synthetic(f, 300, 4, 12) // a 3-class model on m's 4 features
	for i := range y {
		y[i] += float32(b2i(x.Cols[3][i] > 0.5))
	}
	p := DefaultParams()
	p.Objective, p.NumClass, p.NumRounds, p.MaxDepth = ObjectiveSoftprob, 3, 2, 2
	mc, err := Train(context.Background(), Data{X: x, Y: y}, nil, p)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(mc.encode())
	schema := m.Schema()
	row := make([]float32, m.NumFeatures())
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := artifact.Limits{MaxHeader: 1 << 16, MaxPayload: 1 << 20}
		if got, _, err := Load(bytes.NewReader(data), lim); err == nil {
			predictAll(t, got)
		}
		// The payload decoder on its own, past the checksum.
		if got, err := decode(data, schema); err == nil {
			if _, err := got.PredictRow(row, OutputValue); err != nil {
				t.Errorf("PredictRow on a loaded model: %v", err)
			}
		}
	})
}

// predictAll scores a zero row and a NaN row: a loaded model must not fault.
func predictAll(t *testing.T, m *Model) {
	row := make([]float32, m.NumFeatures())
	if _, err := m.PredictRow(row, OutputValue); err != nil {
		t.Errorf("PredictRow: %v", err)
	}
	if _, err := m.PredictRowClasses(row, nil, OutputValue); err != nil {
		t.Errorf("PredictRowClasses: %v", err)
	}
}
