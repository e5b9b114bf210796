package linear

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/plinthai/plinth/ml/artifact"
)

func TestSaveLoadRoundTrip(t *testing.T) {
	f, y, _ := loadFixture(t)
	m, err := Fit(f, y, Config{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	h := artifact.Header{Metrics: map[string]float64{"roc_auc": 0.9}}
	if err := m.Save(&buf, h); err != nil {
		t.Fatal(err)
	}
	got, gh, err := Load(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(m, got); diff != "" {
		t.Errorf("model changed by save and load (-saved +loaded):\n%s", diff)
	}
	if gh.Kind != Kind || gh.Task != "binary" || len(gh.Schema) != 4 || gh.Metrics["roc_auc"] != 0.9 {
		t.Errorf("header: got %+v, want kind %q, task binary, 4 fields, metrics kept", gh, Kind)
	}
}

func TestSaveRejectsWrongSchema(t *testing.T) {
	f, y, _ := loadFixture(t)
	m, err := Fit(f, y, Config{})
	if err != nil {
		t.Fatal(err)
	}
	h := artifact.Header{Schema: []artifact.Field{{Name: "b"}, {Name: "a"}, {Name: "c"}, {Name: "d"}}}
	if err := m.Save(&bytes.Buffer{}, h); !errors.Is(err, ErrFormat) {
		t.Errorf("got %v, want ErrFormat", err)
	}
}

func TestLoadRejects(t *testing.T) {
	f, y, _ := loadFixture(t)
	m, _ := Fit(f, y, Config{})
	good := m.payload()
	other, _ := artifact.Marshal(artifact.Header{Kind: "gbdt", KindVersion: 1}, good)
	tests := []struct {
		name    string
		payload []byte
	}{
		{"empty", nil},
		{"truncated", good[:len(good)-3]},
		{"trailing", append(append([]byte(nil), good...), 0)},
		{"huge count", append([]byte{0xff, 0xff, 0xff, 0x7f}, good[4:]...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, _ := artifact.Marshal(artifact.Header{Kind: Kind, KindVersion: KindVersion}, tt.payload)
			if _, _, err := Load(bytes.NewReader(data)); err == nil {
				t.Error("got nil error, want one")
			}
		})
	}
	if _, _, err := Load(bytes.NewReader(other)); !errors.Is(err, ErrFormat) {
		t.Errorf("foreign kind: got %v, want ErrFormat", err)
	}
}

func FuzzLoad(f *testing.F) {
	fr, y, _ := loadFixture(&testing.T{})
	m, _ := Fit(fr, y, Config{})
	var buf bytes.Buffer
	_ = m.Save(&buf, artifact.Header{})
	f.Add(buf.Bytes())
	p, _ := artifact.Marshal(artifact.Header{Kind: Kind, KindVersion: KindVersion}, m.payload())
	f.Add(p)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, _, err := Load(bytes.NewReader(data))
		if err != nil {
			return
		}
		row := make([]float32, m.NumFeatures())
		if _, err := m.PredictRow(row); err != nil {
			t.Fatalf("loaded model cannot predict: %v", err)
		}
	})
}

// FuzzDecode fuzzes the payload decoder directly, past the envelope's checksum.
func FuzzDecode(f *testing.F) {
	fr, y, _ := loadFixture(&testing.T{})
	m, _ := Fit(fr, y, Config{})
	f.Add(m.payload())
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := decode(data)
		if err != nil {
			return
		}
		if _, err := m.PredictRow(make([]float32, m.NumFeatures())); err != nil {
			t.Fatalf("decoded model cannot predict: %v", err)
		}
	})
}
